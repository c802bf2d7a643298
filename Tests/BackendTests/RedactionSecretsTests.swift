import Backend
import Foundation
import Logging
import Testing

@Suite("Redaction: configured secrets never reach logs or health reports")
struct RedactionSecretsTests {
    static let environment = [
        "DATABASE_URL": "postgres://homerack:pg-hunter2@db.internal:5432/homerack",
        "REDIS_URL": "redis://default:redis-hunter3@cache:6379/0",
        "API_TOKENS": "token-hunter4",
    ]
    static let secrets = ["pg-hunter2", "redis-hunter3", "token-hunter4"]

    @Test func theDetailedHealthReportShowsTheConfigurationWithoutSecrets() async throws {
        let configuration = try BackendConfiguration.load(environment: Self.environment, file: nil)
        try await APITest.withAPI(configure: { $0.diagnostics.configurationSummary = configuration.summary }) {
            api, _ in
            let response = try await api.get("/api/health/detailed")
            #expect(response.status == .ok)
            for secret in Self.secrets { #expect(!response.text.contains(secret)) }
            let shown = response.object["configuration"] as? [String: String]
            #expect(shown?["DATABASE_URL"] == "postgres://homerack:***@db.internal:5432/homerack?sslmode=prefer")
            #expect(shown?["API_TOKENS"] == "1 configured")
        }
    }

    @Test func loggingTheConfigurationOrAFailingURLNeverWritesTheSecret() throws {
        let configuration = try BackendConfiguration.load(environment: Self.environment, file: nil)
        for format in BackendConfiguration.LogFormat.allCases {
            let log = CapturedLog()
            let logger = log.logger(label: "backend", format: format)
            logger.info(
                "starting", metadata: ["backend.config": .dictionary(configuration.summary.mapValues { .string($0) })])
            // Code that logs a raw URL or a header by mistake is still covered.
            logger.error("cannot connect to \(Self.environment["DATABASE_URL"]!)")
            logger.warning("rejected", metadata: ["header": "Authorization: Bearer token-hunter4"])
            logger.debug("ignored below the level: \(Self.environment["REDIS_URL"]!)")
            logger.info(
                "config", metadata: ["line": "REDIS_URL=\(Self.environment["REDIS_URL"]!) API_TOKENS=token-hunter4"])
            #expect(log.lines.count == 4)
            for line in log.lines {
                for secret in Self.secrets { #expect(!line.contains(secret), "\(format): \(line)") }
            }
        }
    }
}
