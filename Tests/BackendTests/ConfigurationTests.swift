import Foundation
import Logging
import Testing

@testable import Backend

@Suite("Configuration: loading, defaults, errors, summary")
struct ConfigurationTests {
    @Test func defaultsApplyWithNothingSet() throws {
        let configuration = try BackendConfiguration.load(environment: [:], file: nil)
        #expect(configuration.dataDirectory == "./data")
        guard case .sqlite(let sqlite) = configuration.database else {
            Issue.record("expected the embedded SQLite database")
            return
        }
        #expect(sqlite.path.hasSuffix("data/homerack.sqlite"))
        #expect(configuration.databasePool.minimumConnections == 10)
        #expect(configuration.databasePool.maximumConnections == 10)
        #expect(configuration.databasePool.connectTimeout == .seconds(10))
        #expect(configuration.databaseStartup.attempts == 10)
        #expect(configuration.cache == nil)
        #expect(configuration.uploadsDirectory == "./data/uploads")
        #expect(configuration.apiTokens == nil)
        #expect(configuration.listen == .tcp(host: "127.0.0.1", port: 8000))
        #expect(configuration.logLevel == .info)
        #expect(configuration.logFormat == .json)
        #expect(configuration.workers.count == max(1, ProcessInfo.processInfo.activeProcessorCount))
        #expect(configuration.workers.maxRequests == 10_000)
        #expect(configuration.workers.maxRequestsJitter == 1000)
        #expect(configuration.workers.timeout == .seconds(120))
        #expect(configuration.workers.gracefulTimeout == .seconds(30))
        #expect(configuration.workers.connections == 1000)
        #expect(configuration.workers.metricsAddress == .init(host: "127.0.0.1", port: 9102))
    }

    @Test func everySettingIsRead() throws {
        let configuration = try BackendConfiguration.load(
            environment: [
                "DATA_DIR": "/var/lib/homerack", "DATABASE_URL": "postgres://app:pw@db.internal:6432/homerack",
                "DB_POOL_MIN": "5", "DB_POOL_MAX": "8", "DB_CONNECT_TIMEOUT": "2500ms", "DB_STARTUP_ATTEMPTS": "3",
                "REDIS_URL": "redis://:pw@cache:6380/2", "REDIS_POOL_SIZE": "6", "REDIS_TIMEOUT": "250ms",
                "CACHE_BREAKER_THRESHOLD": "3", "CACHE_BREAKER_COOLDOWN": "10s", "UPLOADS_DIR": "/srv/uploads",
                "API_TOKENS": "one, two ,", "HOST": "0.0.0.0", "PORT": "9000", "WORKERS": "3",
                "MAX_REQUESTS": "0", "MAX_REQUESTS_JITTER": "50", "WORKER_TIMEOUT": "2m", "GRACEFUL_TIMEOUT": "0",
                "WORKER_DRAIN_SPREAD": "20ms", "WORKER_CONNECTIONS": "10_000", "METRICS_ADDRESS": "[::1]:9200", "LOG_LEVEL": "DEBUG",
                "LOG_FORMAT": "text",
            ], file: nil)
        guard case .postgres(let postgres) = configuration.database else {
            Issue.record("expected PostgreSQL")
            return
        }
        #expect(postgres.host == "db.internal" && postgres.port == 6432 && postgres.database == "homerack")
        #expect(postgres.pool.minimumConnections == 5 && postgres.pool.maximumConnections == 8)
        #expect(postgres.pool.connectTimeout == .milliseconds(2500))
        #expect(postgres.startup.attempts == 3)
        let cache = try #require(configuration.cache)
        #expect(cache.redis.host == "cache" && cache.redis.port == 6380 && cache.redis.database == 2)
        #expect(cache.redis.poolSize == 6 && cache.redis.commandTimeout == .milliseconds(250))
        #expect(cache.breaker.failureThreshold == 3 && cache.breaker.coolDown == .seconds(10))
        #expect(configuration.uploadsDirectory == "/srv/uploads")
        #expect(configuration.apiTokenCount == 2)
        #expect(configuration.apiTokens?.accepts("two") == true)
        #expect(configuration.apiTokens?.accepts("three") == false)
        #expect(configuration.listen == .tcp(host: "0.0.0.0", port: 9000))
        #expect(configuration.workers.count == 3 && configuration.workers.maxRequests == 0)
        #expect(configuration.workers.maxRequestsJitter == 50 && configuration.workers.timeout == .seconds(120))
        #expect(configuration.workers.gracefulTimeout == .zero && configuration.workers.connections == 10_000)
        #expect(configuration.workers.drainSpread == .milliseconds(20))
        #expect(configuration.workers.metricsAddress == .init(host: "::1", port: 9200))
        #expect(configuration.logLevel == .debug && configuration.logFormat == .text)
    }

    @Test func aUnixSocketReplacesHostAndPort() throws {
        let configuration = try BackendConfiguration.load(
            environment: ["UNIX_SOCKET": "/run/homerack/api.sock", "PORT": "9000"], file: nil)
        #expect(configuration.listen == .unixSocket(path: "/run/homerack/api.sock"))
    }

    @Test func sqliteURLsFollowSQLAlchemysSlashes() throws {
        let relative = try BackendConfiguration.load(environment: ["DATABASE_URL": "sqlite:///./db/rack.db"], file: nil)
        let absolute = try BackendConfiguration.load(environment: ["DATABASE_URL": "sqlite:////var/rack.db"], file: nil)
        guard case .sqlite(let first) = relative.database, case .sqlite(let second) = absolute.database else {
            Issue.record("expected SQLite")
            return
        }
        #expect(first.path == "./db/rack.db")
        #expect(second.path == "/var/rack.db")
    }

    @Test func digestTokensAreAcceptedAndMatchTheirToken() throws {
        let digest = APITokens.digestEntry(for: "deploy-token")
        let configuration = try BackendConfiguration.load(environment: ["API_TOKENS": digest], file: nil)
        #expect(configuration.apiTokens?.accepts("deploy-token") == true)
        #expect(configuration.apiTokens?.accepts(digest) == false)
    }

    @Test func theEnvironmentWinsOverTheFile() throws {
        try withFile(
            """
            # production
            export PORT=9000
            LOG_LEVEL = "warning"   # quoted, with a comment
            HOST='10.0.0.5'
            DATA_DIR=/srv/data # trailing comment
            """
        ) { path in
            let configuration = try BackendConfiguration.load(
                environment: ["PORT": "9100", "LOG_LEVEL": ""], file: path)
            #expect(configuration.listen == .tcp(host: "10.0.0.5", port: 9100))
            // An empty variable does not hide the file's value.
            #expect(configuration.logLevel == .warning)
            #expect(configuration.dataDirectory == "/srv/data")
            #expect(configuration.file == path)
        }
    }

    @Test func theFileCanBeNamedByHOMERACK_CONFIG() throws {
        try withFile("PORT=9300\n") { path in
            let configuration = try BackendConfiguration.load(environment: ["HOMERACK_CONFIG": path], file: nil)
            #expect(configuration.listen == .tcp(host: "127.0.0.1", port: 9300))
        }
    }

    @Test func anUnknownKeyInTheFileNamesItsLineAndTheClosestKey() throws {
        try withFile("PORT=9000\nDATABSE_URL=postgres://a@b/c\nTOTALLY_UNRELATED=1\n") { path in
            let error = try #require(throws: BackendConfigurationError.self) {
                try BackendConfiguration.load(environment: [:], file: path)
            }
            #expect(error.problems.count == 2)
            #expect(
                error.problems.first?.description == "\(path):2: DATABSE_URL: unknown key; did you mean DATABASE_URL?")
            #expect(error.problems.last?.description == "\(path):3: TOTALLY_UNRELATED: unknown key")
        }
    }

    @Test func malformedFileLinesAreReportedWithTheirLine() throws {
        try withFile("PORT 9000\nHOST=\"unterminated\n1ABC=x\nPORT=1\nPORT=2\n") { path in
            let error = try #require(throws: BackendConfigurationError.self) {
                try BackendConfiguration.load(environment: [:], file: path)
            }
            let lines = error.problems.map(\.origin)
            #expect(lines == ["\(path):1", "\(path):2", "\(path):3", "\(path):5"])
            #expect(error.description.contains("expected KEY=VALUE"))
            #expect(error.description.contains("closing \" is missing"))
            #expect(error.description.contains("set twice (first on line 4)"))
        }
    }

    @Test func aMissingFileIsAnError() throws {
        let error = try #require(throws: BackendConfigurationError.self) {
            try BackendConfiguration.load(environment: [:], file: "/nonexistent/homerack.env")
        }
        #expect(error.description == "/nonexistent/homerack.env: the configuration file does not exist")
    }

    @Test(arguments: [
        ("DB_POOL_MIN", "-1", "an integer from 0 to 1000"),
        ("DB_POOL_MAX", "zero", "an integer from 1 to 1000"),
        ("DB_CONNECT_TIMEOUT", "fast", "a duration"),
        ("DB_STARTUP_ATTEMPTS", "0", "an integer from 1 to 1000"),
        ("DATABASE_URL", "mysql://u:p@h/db", "postgres://"),
        ("DATABASE_URL", "postgres://", "postgres://USER"),
        ("DATABASE_URL", "sqlite://", "a file path"),
        ("REDIS_URL", "http://cache", "redis://"),
        ("REDIS_POOL_SIZE", "0", "an integer from 1 to 256"),
        ("REDIS_TIMEOUT", "1.5s", "a duration"),
        ("CACHE_BREAKER_THRESHOLD", "0", "an integer from 1 to 1000"),
        ("CACHE_BREAKER_COOLDOWN", "10x", "a duration"),
        ("API_TOKENS", "sha256:abc", "sha256:<64 hex digits>"),
        ("HOST", "my host", "an IP address or host name"),
        ("PORT", "70000", "an integer from 0 to 65535"),
        ("UNIX_SOCKET", "/" + String(repeating: "s", count: 120), "at most 107 bytes"),
        ("WORKERS", "0", "an integer from 1 to 1024"),
        ("MAX_REQUESTS", "-5", "an integer of at least 0"),
        ("MAX_REQUESTS_JITTER", "lots", "an integer of at least 0"),
        ("WORKER_TIMEOUT", "0", "a duration from 1s"),
        ("GRACEFUL_TIMEOUT", "2h", "a duration from 0s to 1h"),
        ("WORKER_CONNECTIONS", "0", "an integer from 1 to 1000000"),
        ("METRICS_ADDRESS", "9102", "HOST:PORT"),
        ("LOG_LEVEL", "verbose", "one of trace, debug, info, notice, warning, error, critical"),
        ("LOG_FORMAT", "xml", "one of json, text"),
    ])
    func badValuesNameTheKeyAndWhatIsAccepted(key: String, value: String, accepted: String) throws {
        let error = try #require(throws: BackendConfigurationError.self) {
            try BackendConfiguration.load(environment: [key: value], file: nil)
        }
        #expect(error.problems.count == 1)
        let problem = try #require(error.problems.first)
        #expect(problem.key == key)
        #expect(problem.origin == "environment")
        #expect(problem.message.contains(accepted), "\(problem.message)")
    }

    @Test func secretValuesAreNeverRepeatedInErrors() throws {
        for (key, value) in [
            ("DATABASE_URL", "postgres://app:hunter2@/db"), ("REDIS_URL", "rediss://:hunter2@cache"),
            ("API_TOKENS", "hunter2,sha256:hunter2"),
        ] {
            let error = try #require(throws: BackendConfigurationError.self) {
                try BackendConfiguration.load(environment: [key: value], file: nil)
            }
            #expect(!error.description.contains("hunter2"), "\(error)")
        }
    }

    @Test func everyProblemIsReportedAtOnce() throws {
        let error = try #require(throws: BackendConfigurationError.self) {
            try BackendConfiguration.load(environment: ["PORT": "x", "WORKERS": "y", "LOG_FORMAT": "z"], file: nil)
        }
        #expect(Set(error.problems.compactMap(\.key)) == ["PORT", "WORKERS", "LOG_FORMAT"])
    }

    @Test func thePoolMinimumCannotExceedTheMaximum() throws {
        let error = try #require(throws: BackendConfigurationError.self) {
            try BackendConfiguration.load(environment: ["DB_POOL_MIN": "40"], file: nil)
        }
        #expect(
            error.problems.map(\.description) == ["environment: DB_POOL_MIN: must be at most DB_POOL_MAX (10), got 40"])
    }

    @Test func theDrainSpreadEndsBeforeTheGracefulTimeout() throws {
        let error = try #require(throws: BackendConfigurationError.self) {
            try BackendConfiguration.load(
                environment: ["GRACEFUL_TIMEOUT": "1s", "WORKER_DRAIN_SPREAD": "1s"], file: nil)
        }
        #expect(
            error.problems.map(\.description) == [
                "environment: WORKER_DRAIN_SPREAD: must be shorter than GRACEFUL_TIMEOUT (1s), got 1s: "
                    + "a connection told to close after that would have its request cut"
            ])
        // Unset, it stays within a short graceful timeout.
        let short = try BackendConfiguration.load(environment: ["GRACEFUL_TIMEOUT": "60ms"], file: nil)
        #expect(short.workers.drainSpread == .milliseconds(30))
        #expect(try BackendConfiguration.load(environment: [:], file: nil).workers.drainSpread == .milliseconds(50))
    }

    @Test func theSummaryListsEverySettingWithSecretsMasked() throws {
        let configuration = try BackendConfiguration.load(
            environment: [
                "DATABASE_URL": "postgres://app:hunter2@db/homerack", "REDIS_URL": "redis://default:hunter3@cache:6379",
                "API_TOKENS": "tok-one,tok-two,\(APITokens.digestEntry(for: "x"))",
            ], file: nil)
        let summary = configuration.summary
        let text = summary.map { "\($0)=\($1)" }.joined(separator: "\n")
        for secret in ["hunter2", "hunter3", "tok-one", "tok-two", "sha256:"] {
            #expect(!text.contains(secret), "summary shows \(secret)")
        }
        #expect(summary["DATABASE_URL"] == "postgres://app:***@db:5432/homerack?sslmode=prefer")
        #expect(summary["REDIS_URL"] == "redis://default:***@cache:6379/0")
        #expect(summary["API_TOKENS"] == "3 configured")
        let expectedKeys = Set(BackendConfiguration.keys).subtracting(["UNIX_SOCKET"])
        #expect(Set(summary.keys) == expectedKeys)
    }

    @Test func durationsAreReadInEveryNotation() {
        #expect(ConfigurationReader.parseDuration("500ms") == .milliseconds(500))
        #expect(ConfigurationReader.parseDuration("30s") == .seconds(30))
        #expect(ConfigurationReader.parseDuration("30") == .seconds(30))
        #expect(ConfigurationReader.parseDuration("2m") == .seconds(120))
        #expect(ConfigurationReader.parseDuration("1h") == .seconds(3600))
        #expect(ConfigurationReader.parseDuration("1.5s") == nil)
        #expect(ConfigurationReader.parseDuration("s") == nil)
        #expect(ConfigurationReader.parseDuration("-1s") == nil)
        #expect(ConfigurationReader.parseDuration("") == nil)
    }

    /// Writes `text` to a temporary file for `body`, removing it afterwards.
    private func withFile(_ text: String, _ body: (String) throws -> Void) throws {
        let path = FileManager.default.temporaryDirectory
            .appendingPathComponent("homerack-config-\(UUID().uuidString.prefix(8)).env").path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        try body(path)
    }
}

@Suite("Configuration: the shipped production file")
struct ConfigurationProductionFileTests {
    /// `.env.production` at the repository root.
    static let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent(".env.production").path

    @Test func itRefusesToLoadWithItsPlaceholders() throws {
        let error = try #require(throws: BackendConfigurationError.self) {
            try BackendConfiguration.load(environment: [:], file: Self.path)
        }
        #expect(Set(error.problems.compactMap(\.key)) == ["DATABASE_URL", "REDIS_URL", "API_TOKENS"])
    }

    @Test func itSetsEveryKeyAndLoadsOnceThePlaceholdersAreFilled() throws {
        var text = try String(contentsOfFile: Self.path, encoding: .utf8)
        text = text.replacingOccurrences(of: "<db-password>", with: "pw").replacingOccurrences(
            of: "<db-host>", with: "db"
        )
        .replacingOccurrences(of: "<redis-password>", with: "pw").replacingOccurrences(
            of: "<redis-host>", with: "cache"
        )
        .replacingOccurrences(
            of: "sha256:<64-hex-digest-from-hash-token>", with: APITokens.digestEntry(for: "production-token"))
        let filled = FileManager.default.temporaryDirectory
            .appendingPathComponent("homerack-production-\(UUID().uuidString.prefix(8)).env").path
        try text.write(toFile: filled, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: filled) }

        let configuration = try BackendConfiguration.load(environment: [:], file: filled)
        guard case .postgres = configuration.database else {
            Issue.record("production uses PostgreSQL")
            return
        }
        #expect(configuration.cache != nil)
        #expect(configuration.apiTokens?.accepts("production-token") == true)
        #expect(configuration.logFormat == .json)
        // Every key appears in the file, set or commented out.
        for key in BackendConfiguration.keys {
            #expect(text.contains("\(key)="), "\(key) is missing from .env.production")
        }
    }
}
