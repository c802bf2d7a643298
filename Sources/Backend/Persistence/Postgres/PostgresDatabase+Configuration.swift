import Foundation
import NIOSSL
import PostgresNIO

extension PostgresDatabase {
    /// Where the server is, how many connections to keep, and how patiently to wait for it.
    public struct Configuration: Sendable {
        /// How the connection is encrypted, as libpq's `sslmode` names it.
        public enum TLSMode: String, Sendable {
            /// No TLS.
            case disable
            /// TLS when the server offers it, without verifying its certificate (libpq's default).
            case prefer
            /// TLS required, certificate not verified.
            case require
            /// TLS required, certificate and host name verified.
            case verifyFull = "verify-full"
        }

        /// The connection pool: 10 connections, kept open (a fixed-size pool, as HikariCP
        /// recommends: a pool that shrinks when idle has to grow again when load returns).
        ///
        /// Smaller than the seed service's pool of 20 plus 10 overflow, on purpose: a seed worker's
        /// thread held its connection for a whole request, so it needed one per concurrent request;
        /// a worker here holds one only while a statement runs, so it needs about as many as the
        /// server can run statements at once. More only add server processes: each one forked and
        /// set up when a worker opens it, and torn down when the worker is recycled, which is most
        /// of what a recycle cost PostgreSQL (docs/BENCHMARKS.md, session 14).
        ///
        /// `minimumConnections` are kept open while idle: one is opened at start, the others one
        /// at a time once ``PostgresDatabase/fillPool()`` is called (a worker calls it when it is
        /// ready; ``PoolFiller``); demand may open more up to `maximumConnections`, and those extra
        /// ones close after `idleTimeout` unused. Idle
        /// connections run `SELECT 1` every `keepAliveFrequency`, so a connection the server or
        /// network dropped is noticed and replaced before a request leases it. With several
        /// workers per database, keep `workers × maximumConnections` under the server's
        /// `max_connections` (100 by default).
        public struct Pool: Sendable, Hashable {
            public var minimumConnections: Int
            public var maximumConnections: Int
            public var idleTimeout: Duration
            /// `nil` disables keep-alive queries.
            public var keepAliveFrequency: Duration?
            /// The TCP connect timeout for one connection attempt.
            public var connectTimeout: Duration

            public init(
                minimumConnections: Int = 10,
                maximumConnections: Int = 10,
                idleTimeout: Duration = .seconds(60),
                keepAliveFrequency: Duration? = .seconds(30),
                connectTimeout: Duration = .seconds(10)
            ) {
                self.minimumConnections = max(0, minimumConnections)
                self.maximumConnections = max(1, maximumConnections, self.minimumConnections)
                self.idleTimeout = idleTimeout
                self.keepAliveFrequency = keepAliveFrequency
                self.connectTimeout = connectTimeout
            }
        }

        /// How long start-up waits for the server (it may still be starting).
        ///
        /// ``PostgresDatabase/waitUntilReachable()`` tries `attempts` times, each waiting at most
        /// `attemptTimeout` for a connection, sleeping `initialDelay`, then twice that, and so
        /// on up to `maximumDelay` between attempts; about a minute in all by default.
        public struct StartupRetry: Sendable, Hashable {
            public var attempts: Int
            public var initialDelay: Duration
            public var maximumDelay: Duration
            public var attemptTimeout: Duration

            public init(
                attempts: Int = 10,
                initialDelay: Duration = .milliseconds(500),
                maximumDelay: Duration = .seconds(8),
                attemptTimeout: Duration = .seconds(5)
            ) {
                self.attempts = max(1, attempts)
                self.initialDelay = initialDelay
                self.maximumDelay = maximumDelay
                self.attemptTimeout = attemptTimeout
            }
        }

        public var host: String
        public var port: Int
        public var username: String
        public var password: String?
        public var database: String?
        public var tls: TLSMode
        /// The schema search path every pooled connection starts with (`nil`: the server's).
        public var searchPath: String?
        /// The `application_name` every pooled connection reports (`pg_stat_activity`; `nil`: none).
        public var applicationName: String?
        public var pool: Pool
        public var startup: StartupRetry
        /// How long one operation may wait for a pooled connection before failing with
        /// ``StoreError/unavailable`` (rather than hanging while the database is down).
        public var leaseTimeout: Duration

        public init(
            host: String = "127.0.0.1",
            port: Int = 5432,
            username: String,
            password: String? = nil,
            database: String? = nil,
            tls: TLSMode = .prefer,
            searchPath: String? = nil,
            pool: Pool = Pool(),
            startup: StartupRetry = StartupRetry(),
            leaseTimeout: Duration = .seconds(10)
        ) {
            self.host = host
            self.port = port
            self.username = username
            self.password = password
            self.database = database
            self.tls = tls
            self.searchPath = searchPath
            self.pool = pool
            self.startup = startup
            self.leaseTimeout = leaseTimeout
        }

        /// Reads a libpq-style URL: `postgres://user:password@host:port/database?sslmode=…&search_path=…`.
        ///
        /// - Parameters:
        ///   - url: the `DATABASE_URL`; `postgresql://` is accepted too, and percent-escapes in
        ///     the user and password are decoded.
        ///   - pool: the pool sizing (not part of the URL).
        /// - Throws: ``StoreError/invalidValue`` naming what is wrong, never echoing the URL
        ///   (it may hold a password).
        public init(url: String, pool: Pool = Pool()) throws {
            guard let components = URLComponents(string: url),
                let scheme = components.scheme?.lowercased(), ["postgres", "postgresql"].contains(scheme)
            else {
                throw StoreError.invalidValue("DATABASE_URL must be a postgres:// URL")
            }
            guard let host = components.host, !host.isEmpty else {
                throw StoreError.invalidValue("DATABASE_URL has no host")
            }
            guard let user = components.user?.removingPercentEncoding ?? components.user, !user.isEmpty else {
                throw StoreError.invalidValue("DATABASE_URL has no user name")
            }
            var tls = TLSMode.prefer
            var searchPath: String?
            for item in components.queryItems ?? [] {
                switch item.name {
                case "sslmode":
                    switch item.value ?? "" {
                    case "disable", "allow": tls = .disable
                    case "prefer": tls = .prefer
                    case "require", "verify-ca": tls = .require
                    case "verify-full": tls = .verifyFull
                    default: throw StoreError.invalidValue("DATABASE_URL has an unknown sslmode")
                    }
                case "search_path", "currentSchema":
                    searchPath = item.value
                default:
                    continue
                }
            }
            let path = components.path.hasPrefix("/") ? String(components.path.dropFirst()) : components.path
            self.init(
                host: host,
                port: components.port ?? 5432,
                username: user,
                password: components.password.map { $0.removingPercentEncoding ?? $0 },
                database: path.isEmpty ? nil : path,
                tls: tls,
                searchPath: searchPath,
                pool: pool)
        }

        /// The URL with the password replaced by `***`, for logs and the health report.
        public var redactedDescription: String {
            let credentials = password == nil ? username : "\(username):***"
            var text = "postgres://\(credentials)@\(host):\(port)/\(database ?? "")?sslmode=\(tls.rawValue)"
            if let searchPath { text += "&search_path=\(searchPath)" }
            return text
        }

        /// The PostgresNIO client configuration this maps to.
        var clientConfiguration: PostgresClient.Configuration {
            var unverified = TLSConfiguration.makeClientConfiguration()
            unverified.certificateVerification = .none
            let clientTLS: PostgresClient.Configuration.TLS =
                switch tls {
                case .disable: .disable
                case .prefer: .prefer(unverified)
                case .require: .require(unverified)
                case .verifyFull: .require(.makeClientConfiguration())
                }
            var configuration = PostgresClient.Configuration(
                host: host, port: port, username: username, password: password, database: database, tls: clientTLS)
            // PostgresNIO would open its whole minimum at once, before the first query; the pool
            // starts with one connection and PoolFiller opens the rest one by one (fillPool()).
            configuration.options.minimumConnections = min(pool.minimumConnections, 1)
            configuration.options.maximumConnections = pool.maximumConnections
            configuration.options.connectionIdleTimeout = pool.idleTimeout
            configuration.options.keepAliveBehavior = pool.keepAliveFrequency.map {
                PostgresClient.Configuration.Options.KeepAliveBehavior(frequency: $0, query: "SELECT 1;")
            }
            configuration.options.connectTimeout = pool.connectTimeout
            if let searchPath {
                configuration.options.additionalStartupParameters.append(("search_path", searchPath))
            }
            if let applicationName {
                configuration.options.additionalStartupParameters.append(("application_name", applicationName))
            }
            return configuration
        }
    }
}
