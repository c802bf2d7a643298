import Foundation
import Logging

/// The backend's swift-log handler: one line per message, JSON or text as `LOG_FORMAT` says,
/// secrets masked (see ``LogLineFormatter``).
///
/// Metadata is merged as swift-log documents: the handler's own, then the metadata provider's,
/// then the call's, later ones winning; an error passed to the call is written as `error`.
public struct BackendLogHandler: LogHandler {
    public var logLevel: Logger.Level
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?
    /// The logger's label (`backend.http`, `backend.persistence.postgres`, ...).
    public let label: String
    let format: BackendConfiguration.LogFormat
    let output: LogOutput
    let clock: @Sendable () -> Date

    /// - Parameters:
    ///   - label: the logger's label.
    ///   - level: the least severe level written.
    ///   - format: JSON or text.
    ///   - output: where lines go (standard error by default).
    ///   - metadataProvider: adds metadata to every line (swift-log's global one by default).
    ///   - clock: stamps each line (tests pass a fixed one).
    public init(
        label: String,
        level: Logger.Level,
        format: BackendConfiguration.LogFormat,
        output: LogOutput = .standardError,
        metadataProvider: Logger.MetadataProvider? = LoggingSystem.metadataProvider,
        clock: @escaping @Sendable () -> Date = Date.init
    ) {
        self.label = label
        self.logLevel = level
        self.format = format
        self.output = output
        self.metadataProvider = metadataProvider
        self.clock = clock
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var merged = metadata
        if let provided = metadataProvider?.get(), !provided.isEmpty {
            merged.merge(provided) { _, new in new }
        }
        if let explicit = event.metadata, !explicit.isEmpty {
            merged.merge(explicit) { _, new in new }
        }
        if let error = event.error {
            merged["error"] = .string(String(describing: error))
        }
        let line =
            switch format {
            case .json:
                LogLineFormatter.json(
                    time: clock(), level: event.level, label: label, message: event.message.description,
                    metadata: merged)
            case .text:
                LogLineFormatter.text(
                    time: clock(), level: event.level, label: label, message: event.message.description,
                    metadata: merged)
            }
        output.write(line)
    }
}

/// Sets up logging for a `homerack-backend` process.
public enum BackendLogging {
    /// Makes every logger in the process a ``BackendLogHandler`` with this level and format.
    /// Call it once, first thing in the executable (swift-log allows one bootstrap per process).
    /// - Parameters:
    ///   - level: `LOG_LEVEL`.
    ///   - format: `LOG_FORMAT`.
    ///   - output: standard error by default.
    public static func bootstrap(
        level: Logger.Level, format: BackendConfiguration.LogFormat, output: LogOutput = .standardError
    ) {
        LoggingSystem.bootstrap { label in
            BackendLogHandler(label: label, level: level, format: format, output: output)
        }
    }
}
