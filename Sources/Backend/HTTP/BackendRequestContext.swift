import Hummingbird
import Logging

/// The per-request context every backend route and middleware sees.
///
/// Carries the request id (the edge's `X-Request-ID` when well formed, else a new UUID; see
/// ``RequestIDMiddleware``) so error envelopes and log lines name the same request, and the
/// largest body a route may read.
public struct BackendRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// Set by ``RequestIDMiddleware`` before anything else runs.
    public var requestID: String = ""
    /// Whether ``AuthenticationMiddleware`` accepted a bearer token for this request.
    public var isAuthenticated = false

    public init(source: Source) {
        self.coreContext = .init(source: source)
    }

    /// The largest body a route reads (`MAX_UPLOAD_BYTES` plus 1 MiB for a multipart form's
    /// framing, set by the router for each request); larger bodies get 413.
    public var maxUploadSize: Int = 6 * 1024 * 1024
}
