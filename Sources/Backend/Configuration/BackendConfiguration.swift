import Foundation
import Logging

/// Everything `homerack-backend` is configured with, from environment variables and an optional
/// `KEY=VALUE` file (``load(environment:file:)``; every key is documented in `docs/CONFIG.md`).
///
/// Secrets stay inside: the database and Redis configurations hold their passwords, and the API
/// tokens are kept only as digests. ``summary`` is the printable form.
public struct BackendConfiguration: Sendable {
    /// Where the rack store lives.
    public enum Database: Sendable {
        /// The embedded default: one SQLite file (in WAL mode), shared by every worker.
        case sqlite(SQLiteDatabase.Configuration)
        /// PostgreSQL, with the pool sizing and start-up retry of this configuration applied.
        case postgres(PostgresDatabase.Configuration)
    }

    /// The Redis result cache and its circuit breaker.
    public struct Cache: Sendable {
        /// The server, pool size and timeouts.
        public var redis: RedisConfiguration
        /// When to stop asking Redis, and for how long.
        public var breaker: CircuitBreaker.StateMachine.Configuration
    }

    /// Where `serve` (and each worker) listens for HTTP.
    public enum ListenAddress: Sendable, Hashable, CustomStringConvertible {
        case tcp(host: String, port: Int)
        case unixSocket(path: String)

        public var description: String {
            switch self {
            case .tcp(let host, let port): host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
            case .unixSocket(let path): "unix:\(path)"
            }
        }
    }

    /// A TCP address written `host:port` (`[::1]:9102` for IPv6).
    public struct HostAndPort: Sendable, Hashable, CustomStringConvertible {
        public var host: String
        public var port: Int

        public init(host: String, port: Int) {
            self.host = host
            self.port = port
        }

        public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
    }

    /// What the worker supervisor (`homerack-backend supervise`) reads.
    public struct Workers: Sendable, Hashable {
        /// How many worker processes to run.
        public var count: Int
        /// A worker is replaced after this many requests (0: never), to bound slow leaks.
        public var maxRequests: Int
        /// Up to this many requests are added at random to each worker's limit, so workers do not
        /// all restart at once.
        public var maxRequestsJitter: Int
        /// A worker silent for this long is killed and replaced.
        public var timeout: Duration
        /// How long a worker may finish its requests after being told to stop.
        public var gracefulTimeout: Duration
        /// The most connections one worker serves at once.
        public var connections: Int
        /// Where the supervisor serves the workers' metrics for Prometheus.
        public var metricsAddress: HostAndPort
        /// `WORKER_SOCKETS=shared`: every worker accepts on one socket, instead of one per worker.
        public var sharedSocket: Bool = false
        /// `WORKER_DRAIN_SPREAD`: a draining worker tells its connections to close evenly over
        /// this time instead of all at once (``WorkerDrain``).
        public var drainSpread: Duration = .milliseconds(50)
    }

    /// How log lines are written.
    public enum LogFormat: String, Sendable, Hashable, CaseIterable {
        /// One JSON object per line (the default: for log collectors).
        case json
        /// `TIME LEVEL LABEL: message key=value ...` (for reading in a terminal).
        case text
    }

    /// `DATA_DIR`: the embedded database and, by default, the uploads live here.
    public var dataDirectory: String
    /// `DATABASE_URL`, or the embedded SQLite file in ``dataDirectory``.
    public var database: Database
    /// `DB_POOL_MIN`, `DB_POOL_MAX`, `DB_CONNECT_TIMEOUT` (applied to PostgreSQL).
    public var databasePool: PostgresDatabase.Configuration.Pool
    /// `DB_STARTUP_ATTEMPTS` (applied to PostgreSQL).
    public var databaseStartup: PostgresDatabase.Configuration.StartupRetry
    /// `DB_TIMEOUT` (applied to PostgreSQL): how long an operation waits for a connection.
    public var databaseTimeout: Duration
    /// `DB_BREAKER_THRESHOLD`, `DB_BREAKER_COOLDOWN` (applied to PostgreSQL).
    public var databaseBreaker: CircuitBreaker.StateMachine.Configuration
    /// `REDIS_URL` and the cache settings; `nil` runs without a cache.
    public var cache: Cache?
    /// `UPLOADS_DIR`.
    public var uploadsDirectory: String
    /// `MAX_UPLOAD_BYTES`: the largest uploaded file (a brand logo).
    public var maxUploadBytes: Int
    /// `API_TOKENS` as digests; `nil` leaves writes open.
    public var apiTokens: APITokens?
    /// How many tokens `API_TOKENS` lists (the summary shows this, never the tokens).
    public var apiTokenCount: Int
    /// `HOST`/`PORT`, or `UNIX_SOCKET`.
    public var listen: ListenAddress
    /// `LOG_LEVEL`.
    public var logLevel: Logger.Level
    /// `LOG_FORMAT`.
    public var logFormat: LogFormat
    /// `WORKERS`, `MAX_REQUESTS`, `MAX_REQUESTS_JITTER`, `WORKER_TIMEOUT`, `GRACEFUL_TIMEOUT`,
    /// `WORKER_DRAIN_SPREAD`, `WORKER_CONNECTIONS`, `METRICS_ADDRESS`, `WORKER_SOCKETS`.
    public var workers: Workers

    /// The configuration file this was loaded from, if any (for the summary).
    public var file: String?
}
