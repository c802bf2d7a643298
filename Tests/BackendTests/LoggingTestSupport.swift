import Backend
import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import Synchronization

/// Log lines collected in memory, for asserting what the backend logs.
final class CapturedLog: Sendable {
    private let storage = Mutex<[String]>([])

    /// An output that appends here.
    var output: LogOutput { LogOutput { [self] line in storage.withLock { $0.append(line) } } }

    var lines: [String] { storage.withLock { $0 } }

    /// Every line parsed as a JSON object (lines that are not are dropped, and fail the caller's
    /// count checks).
    var objects: [[String: Any]] {
        lines.compactMap { (try? JSONSerialization.jsonObject(with: Data($0.utf8))) as? [String: Any] }
    }

    /// A logger writing here with ``BackendLogHandler``.
    func logger(label: String, format: BackendConfiguration.LogFormat = .json, level: Logger.Level = .info) -> Logger {
        Logger(label: label) { label in
            BackendLogHandler(label: label, level: level, format: format, output: self.output, metadataProvider: nil)
        }
    }
}

/// The backend's router over a fresh SQLite store, like ``APITest/withAPI(_:tokens:cache:configure:_:)``,
/// with the application logging to a ``CapturedLog`` (APITest's application logs to the
/// process's default handler, which tests cannot read).
enum ObservedAPI {
    static func withAPI<T: Sendable>(
        log: CapturedLog,
        format: BackendConfiguration.LogFormat = .json,
        configure: @Sendable (inout BackendServices) -> Void = { _ in },
        _ body: @Sendable (APIClient, BackendServices) async throws -> T
    ) async throws -> T {
        try await TestDatabases.withTemporaryDirectory { uploads in
            try await TestDatabases.withStore(.sqlite) { store in
                var services = BackendServices(store: store, uploadsDirectory: uploads)
                configure(&services)
                let finalServices = services
                let app = Application(
                    router: BackendRouter.build(finalServices),
                    logger: log.logger(label: "backend.http", format: format))
                return try await app.test(.router) { client in
                    try await body(APIClient(client: client), finalServices)
                }
            }
        }
    }
}
