import Foundation
import Logging

extension BackendConfiguration {
    /// Every key the configuration reads, in the order `docs/CONFIG.md` and `.env.production`
    /// list them.
    public static let keys = [
        "DATA_DIR", "DATABASE_URL", "DB_POOL_MIN", "DB_POOL_MAX", "DB_CONNECT_TIMEOUT", "DB_STARTUP_ATTEMPTS",
        "DB_TIMEOUT", "DB_BREAKER_THRESHOLD", "DB_BREAKER_COOLDOWN",
        "REDIS_URL", "REDIS_POOL_SIZE", "REDIS_TIMEOUT", "CACHE_BREAKER_THRESHOLD", "CACHE_BREAKER_COOLDOWN",
        "UPLOADS_DIR", "MAX_UPLOAD_BYTES", "API_TOKENS", "HOST", "PORT", "UNIX_SOCKET", "WORKERS", "MAX_REQUESTS",
        "MAX_REQUESTS_JITTER", "WORKER_TIMEOUT", "GRACEFUL_TIMEOUT", "WORKER_DRAIN_SPREAD", "WORKER_CONNECTIONS",
        "METRICS_ADDRESS",
        "WORKER_SOCKETS",
        "LOG_LEVEL", "LOG_FORMAT",
    ]

    /// The environment variable naming a configuration file when `--config` is not given.
    public static let fileVariable = "HOMERACK_CONFIG"

    /// Loads the configuration.
    ///
    /// - Parameters:
    ///   - environment: the process environment; its values win over the file's.
    ///   - file: a `KEY=VALUE` file (``ConfigurationFile``), e.g. from `--config`; when `nil`,
    ///     the file `HOMERACK_CONFIG` names, if any.
    /// - Returns: the configuration, every unset key at its default.
    /// - Throws: ``BackendConfigurationError`` listing every problem: an unreadable file, a
    ///   malformed line, an unknown key (with the closest known one), a bad value (naming the key
    ///   and what it accepts).
    public static func load(environment: [String: String], file: String?) throws -> BackendConfiguration {
        let path = file ?? environment[fileVariable].flatMap { $0.isEmpty ? nil : $0 }
        var parsedFile: ConfigurationFile?
        var fileProblems: [ConfigurationProblem] = []
        if let path {
            (parsedFile, fileProblems) = ConfigurationFile.read(path: path)
        }
        var reader = ConfigurationReader(
            environment: environment, file: parsedFile, knownKeys: keys, fileProblems: fileProblems)
        let configuration = read(&reader, file: path)
        guard reader.problems.isEmpty else { throw BackendConfigurationError(problems: reader.problems) }
        return configuration
    }

    /// `WORKER_DRAIN_SPREAD`, which must end before `GRACEFUL_TIMEOUT` does: a connection told to
    /// close after the worker was killed would have its request cut instead. Unset, it is 50 ms,
    /// or half a shorter graceful timeout. With `GRACEFUL_TIMEOUT=0` (no drain) it is not used.
    private static func readDrainSpread(_ reader: inout ConfigurationReader, gracefulTimeout: Duration) -> Duration {
        let spread = reader.duration(
            "WORKER_DRAIN_SPREAD", default: min(.milliseconds(50), gracefulTimeout / 2), in: .zero ... .seconds(60))
        if gracefulTimeout > .zero, spread >= gracefulTimeout, let setting = reader.setting("WORKER_DRAIN_SPREAD") {
            reader.problem(
                "WORKER_DRAIN_SPREAD", at: setting.origin,
                "must be shorter than GRACEFUL_TIMEOUT (\(DurationText.format(gracefulTimeout))), got \(DurationText.format(spread)): "
                    + "a connection told to close after that would have its request cut")
        }
        return spread
    }

    private static func read(_ reader: inout ConfigurationReader, file: String?) -> BackendConfiguration {
        let dataDirectory = reader.setting("DATA_DIR")?.value ?? "./data"

        let defaultPool = PostgresDatabase.Configuration.Pool()
        let minimum = reader.integer("DB_POOL_MIN", default: defaultPool.minimumConnections, in: 0...1000)
        let maximum = reader.integer("DB_POOL_MAX", default: defaultPool.maximumConnections, in: 1...1000)
        if minimum > maximum {
            if let setting = reader.setting("DB_POOL_MAX") {
                reader.problem(
                    "DB_POOL_MAX", at: setting.origin, "must be at least DB_POOL_MIN (\(minimum)), got \(maximum)")
            } else if let setting = reader.setting("DB_POOL_MIN") {
                reader.problem(
                    "DB_POOL_MIN", at: setting.origin, "must be at most DB_POOL_MAX (\(maximum)), got \(minimum)")
            }
        }
        let connectTimeout = reader.duration(
            "DB_CONNECT_TIMEOUT", default: .seconds(10), in: .milliseconds(100) ... .seconds(600))
        let pool = PostgresDatabase.Configuration.Pool(
            minimumConnections: minimum, maximumConnections: max(minimum, maximum), connectTimeout: connectTimeout)
        let startup = PostgresDatabase.Configuration.StartupRetry(
            attempts: reader.integer("DB_STARTUP_ATTEMPTS", default: 10, in: 1...1000))
        let databaseTimeout = reader.duration(
            "DB_TIMEOUT", default: .seconds(1), in: .milliseconds(50) ... .seconds(60))
        let databaseBreaker = CircuitBreaker.StateMachine.Configuration(
            failureThreshold: reader.integer("DB_BREAKER_THRESHOLD", default: 3, in: 1...1000),
            coolDown: reader.duration(
                "DB_BREAKER_COOLDOWN", default: .milliseconds(500), in: .milliseconds(50) ... .seconds(3600)),
            // A probe waits at most DB_TIMEOUT for its connection; one silent for longer was lost.
            probeTimeout: databaseTimeout + .seconds(1),
            timeoutOpensImmediately: false)
        let database = readDatabase(
            &reader, dataDirectory: dataDirectory, pool: pool, startup: startup, timeout: databaseTimeout)

        let cache = readCache(&reader)
        let uploadsDirectory =
            reader.setting("UPLOADS_DIR")?.value
            ?? (dataDirectory.hasSuffix("/") ? dataDirectory + "uploads" : dataDirectory + "/uploads")
        let maxUploadBytes = reader.integer("MAX_UPLOAD_BYTES", default: 5 * 1024 * 1024, in: 1024...(1 << 30))
        let (tokens, tokenCount) = readTokens(&reader)
        let listen = readListenAddress(&reader)

        let gracefulTimeout = reader.duration("GRACEFUL_TIMEOUT", default: .seconds(30), in: .zero ... .seconds(3600))
        let drainSpread = readDrainSpread(&reader, gracefulTimeout: gracefulTimeout)
        let workers = Workers(
            count: reader.integer(
                "WORKERS", default: max(1, ProcessInfo.processInfo.activeProcessorCount), in: 1...1024),
            maxRequests: reader.integer("MAX_REQUESTS", default: 10_000, in: 0...Int.max),
            maxRequestsJitter: reader.integer("MAX_REQUESTS_JITTER", default: 1000, in: 0...Int.max),
            timeout: reader.duration("WORKER_TIMEOUT", default: .seconds(120), in: .seconds(1) ... .seconds(86_400)),
            gracefulTimeout: gracefulTimeout,
            connections: reader.integer("WORKER_CONNECTIONS", default: 1000, in: 1...1_000_000),
            metricsAddress: readHostAndPort(
                &reader, "METRICS_ADDRESS", default: HostAndPort(host: "127.0.0.1", port: 9102)),
            sharedSocket: reader.choice("WORKER_SOCKETS", default: false, [("per-worker", false), ("shared", true)]),
            drainSpread: drainSpread)

        let logLevel = reader.choice(
            "LOG_LEVEL", default: Logger.Level.info, Logger.Level.allCases.map { ($0.rawValue, $0) })
        let logFormat = reader.choice(
            "LOG_FORMAT", default: LogFormat.json, LogFormat.allCases.map { ($0.rawValue, $0) })

        return BackendConfiguration(
            dataDirectory: dataDirectory, database: database, databasePool: pool, databaseStartup: startup,
            databaseTimeout: databaseTimeout, databaseBreaker: databaseBreaker,
            cache: cache, uploadsDirectory: uploadsDirectory, maxUploadBytes: maxUploadBytes, apiTokens: tokens,
            apiTokenCount: tokenCount,
            listen: listen, logLevel: logLevel, logFormat: logFormat, workers: workers, file: file)
    }

    /// `DATABASE_URL`: `postgres://…` or `sqlite:///PATH`; unset means `DATA_DIR/homerack.sqlite`.
    private static func readDatabase(
        _ reader: inout ConfigurationReader, dataDirectory: String,
        pool: PostgresDatabase.Configuration.Pool, startup: PostgresDatabase.Configuration.StartupRetry,
        timeout: Duration
    ) -> Database {
        let embedded = Database.sqlite(.dataDirectory(dataDirectory))
        guard let setting = reader.setting("DATABASE_URL") else { return embedded }
        let accepted = "expected postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE or sqlite:///PATH"
        let url = setting.value
        let scheme = url.split(separator: ":", maxSplits: 1).first.map { $0.lowercased() } ?? ""
        switch scheme {
        case "sqlite":
            // SQLAlchemy's form: sqlite:///relative/path, sqlite:////absolute/path.
            guard url.hasPrefix("sqlite:///"), url.count > "sqlite:///".count else {
                reader.problem("DATABASE_URL", at: setting.origin, "\(accepted) (a SQLite URL needs a file path)")
                return embedded
            }
            return .sqlite(SQLiteDatabase.Configuration(path: String(url.dropFirst("sqlite:///".count))))
        case "postgres", "postgresql":
            do {
                var configuration = try PostgresDatabase.Configuration(url: url, pool: pool)
                configuration.startup = startup
                configuration.leaseTimeout = timeout
                return .postgres(configuration)
            } catch let error as StoreError {
                // The driver's message never repeats the URL (it may hold a password).
                let reason = error.detail.hasPrefix("DATABASE_URL ") ? String(error.detail.dropFirst(13)) : error.detail
                reader.problem("DATABASE_URL", at: setting.origin, "\(reason); \(accepted)")
            } catch {
                reader.problem("DATABASE_URL", at: setting.origin, accepted)
            }
            return embedded
        default:
            reader.problem("DATABASE_URL", at: setting.origin, "unsupported scheme; \(accepted)")
            return embedded
        }
    }

    /// `REDIS_URL` with the pool, timeout and breaker settings; `nil` without a URL.
    private static func readCache(_ reader: inout ConfigurationReader) -> Cache? {
        let poolSize = reader.integer("REDIS_POOL_SIZE", default: 4, in: 1...256)
        let timeout = reader.duration(
            "REDIS_TIMEOUT", default: .milliseconds(500), in: .milliseconds(10) ... .seconds(60))
        let threshold = reader.integer("CACHE_BREAKER_THRESHOLD", default: 5, in: 1...1000)
        let coolDown = reader.duration(
            "CACHE_BREAKER_COOLDOWN", default: .seconds(5), in: .milliseconds(100) ... .seconds(3600))
        guard let setting = reader.setting("REDIS_URL") else { return nil }
        var redis: RedisConfiguration
        do {
            redis = try RedisConfiguration(url: setting.value)
        } catch let error as RedisError {
            reader.problem(
                "REDIS_URL", at: setting.origin,
                "\(error.message); expected redis://[[USER]:PASSWORD@]HOST[:PORT][/DB]")
            return nil
        } catch {
            reader.problem("REDIS_URL", at: setting.origin, "expected redis://[[USER]:PASSWORD@]HOST[:PORT][/DB]")
            return nil
        }
        redis.poolSize = poolSize
        redis.commandTimeout = timeout
        redis.clientName = "homerack-backend"
        return Cache(
            redis: redis,
            breaker: .init(failureThreshold: threshold, coolDown: coolDown, probeTimeout: max(timeout, .seconds(1))))
    }

    /// `API_TOKENS`: comma-separated plain tokens or `sha256:<hex>` digests.
    private static func readTokens(_ reader: inout ConfigurationReader) -> (APITokens?, Int) {
        guard let setting = reader.setting("API_TOKENS") else { return (nil, 0) }
        let entries = setting.value.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty }
        do {
            let tokens = try APITokens(entries: entries)
            return tokens.isEmpty ? (nil, 0) : (tokens, entries.count)
        } catch {
            reader.problem(
                "API_TOKENS", at: setting.origin,
                "a digest must be written sha256:<64 hex digits> (homerack-backend hash-token prints one); "
                    + "other entries are plain tokens, separated by commas")
            return (nil, 0)
        }
    }

    /// `UNIX_SOCKET` when set, else `HOST`:`PORT`.
    private static func readListenAddress(_ reader: inout ConfigurationReader) -> ListenAddress {
        let port = reader.integer("PORT", default: 8000, in: 0...65535)
        var host = "127.0.0.1"
        if let setting = reader.setting("HOST") {
            if isPlausibleHost(setting.value) {
                host = setting.value
            } else {
                reader.problem(
                    "HOST", at: setting.origin,
                    "expected an IP address or host name such as 127.0.0.1, 0.0.0.0 or ::1, got '\(setting.value)'")
            }
        }
        if let setting = reader.setting("UNIX_SOCKET") {
            guard setting.value.utf8.count <= 107 else {
                reader.problem("UNIX_SOCKET", at: setting.origin, "a socket path is at most 107 bytes")
                return .tcp(host: host, port: port)
            }
            return .unixSocket(path: setting.value)
        }
        return .tcp(host: host, port: port)
    }

    /// A `host:port` setting (`[::1]:9102` for IPv6).
    private static func readHostAndPort(
        _ reader: inout ConfigurationReader, _ key: String, default defaultValue: HostAndPort
    ) -> HostAndPort {
        guard let setting = reader.setting(key) else { return defaultValue }
        guard let address = parseHostAndPort(setting.value) else {
            reader.problem(
                key, at: setting.origin,
                "expected HOST:PORT such as 127.0.0.1:9102 or [::1]:9102 (port 0-65535), got '\(setting.value)'")
            return defaultValue
        }
        return address
    }

    static func parseHostAndPort(_ text: String) -> HostAndPort? {
        let host: Substring
        let portText: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]"), text[text.index(after: close)...].hasPrefix(":") else {
                return nil
            }
            host = text[text.index(after: text.startIndex)..<close]
            portText = text[text.index(close, offsetBy: 2)...]
        } else {
            guard let colon = text.lastIndex(of: ":") else { return nil }
            host = text[..<colon]
            portText = text[text.index(after: colon)...]
            if host.contains(":") { return nil }
        }
        guard isPlausibleHost(String(host)), let port = Int(portText), (0...65535).contains(port) else { return nil }
        return HostAndPort(host: String(host), port: port)
    }

    /// An IP address or DNS name: no spaces, slashes or brackets.
    private static func isPlausibleHost(_ host: String) -> Bool {
        !host.isEmpty && host.utf8.count <= 253
            && host.unicodeScalars.allSatisfy { scalar in
                scalar.isASCII && !" \t/[]@?#".unicodeScalars.contains(scalar) && scalar.value > 0x20
            }
    }
}
