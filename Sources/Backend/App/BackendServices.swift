import Foundation

/// Everything the routes work with, built once per worker by ``BackendRuntime`` (or by a test)
/// and shared by every request.
public struct BackendServices: Sendable {
    /// The rack store (SQLite by default, PostgreSQL with `DATABASE_URL`).
    public var store: any RackRepository
    /// The cross-worker result cache (Redis with `REDIS_URL`, else no cache).
    public var cache: any ResultCache
    /// Where uploaded files live; served at `/uploads/...`. Brand logos go under `brand_logos/`.
    public var uploadsDirectory: String
    /// `MAX_UPLOAD_BYTES`: the largest uploaded file (a brand logo); request bodies may be 1 MiB
    /// larger, for the multipart form around it.
    public var maxUploadBytes: Int
    /// The clock every timestamp the routes produce comes from (tests pass a fixed one).
    public var now: @Sendable () -> Date
    /// Bearer tokens that may write; `nil` leaves writes open (the embedded default).
    public var tokens: APITokens?
    /// Start-up progress for `/api/health/startup` and readiness.
    public var startup: StartupState
    /// The worker's Prometheus metrics: recorded per request, served at `/metrics`.
    public var metrics: BackendMetrics
    /// Version, uptime, configuration summary and resource readings for the health endpoints.
    public var diagnostics: ServiceDiagnostics

    /// - Parameters:
    ///   - diagnostics: `nil` reports the file system of `uploadsDirectory` and no configuration.
    public init(
        store: any RackRepository,
        cache: any ResultCache = NoResultCache(),
        uploadsDirectory: String,
        maxUploadBytes: Int = 5 * 1024 * 1024,
        now: @escaping @Sendable () -> Date = Date.init,
        tokens: APITokens? = nil,
        startup: StartupState = StartupState(migrationsDone: true),
        metrics: BackendMetrics = BackendMetrics(),
        diagnostics: ServiceDiagnostics? = nil
    ) {
        self.store = store
        self.cache = cache
        self.uploadsDirectory = uploadsDirectory
        self.maxUploadBytes = maxUploadBytes
        self.now = now
        self.tokens = tokens
        self.startup = startup
        self.metrics = metrics
        self.diagnostics = diagnostics ?? ServiceDiagnostics(startedAt: now(), dataDirectory: uploadsDirectory)
    }
}
