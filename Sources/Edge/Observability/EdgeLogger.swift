import Foundation
import ServerSupport

/// The error log: JSON lines with a level, a time, a message and flat metadata.
public struct EdgeLogger: Sendable {
    let sink: LogSink
    let level: LoggingConfig.Level
    let label: String

    func log(_ level: LoggingConfig.Level, _ message: String, _ metadata: [(String, String)] = []) {
        guard level >= self.level, sink.isEnabled else { return }
        var json = JSONLine()
        json.add("time", Timestamp.now())
        json.add("level", level.rawValue)
        json.add("logger", label)
        json.add("message", message)
        for (key, value) in metadata { json.add(key, value) }
        sink.write(json.finish())
    }

    func debug(_ message: String, _ metadata: [(String, String)] = []) { log(.debug, message, metadata) }
    func info(_ message: String, _ metadata: [(String, String)] = []) { log(.info, message, metadata) }
    func warning(_ message: String, _ metadata: [(String, String)] = []) { log(.warning, message, metadata) }
    func error(_ message: String, _ metadata: [(String, String)] = []) { log(.error, message, metadata) }

    func with(label: String) -> EdgeLogger { EdgeLogger(sink: sink, level: level, label: label) }
}

/// Builds one JSON object on one line, escaping strings as RFC 8259 requires
/// (``appendJSONString(_:to:)``, straight into the line).
struct JSONLine {
    private var text = "{"
    private var first = true

    mutating func add(_ key: String, _ value: String) {
        separator()
        text += "\"\(key)\":"
        appendJSONString(value, to: &text)
    }

    mutating func add(_ key: String, _ value: Int) {
        separator()
        text += "\"\(key)\":\(value)"
    }

    mutating func add(_ key: String, _ value: Double) {
        separator()
        text += "\"\(key)\":\(value)"
    }

    mutating func finish() -> String {
        text += "}"
        return text
    }

    private mutating func separator() {
        if first { first = false } else { text += "," }
    }
}

/// RFC 3339 timestamps in UTC with milliseconds, formatted without Foundation's slow formatters.
enum Timestamp {
    static func now() -> String {
        var time = timespec()
        clock_gettime(CLOCK_REALTIME, &time)
        var parts = tm()
        var seconds = time.tv_sec
        gmtime_r(&seconds, &parts)
        func pad(_ value: Int32, _ width: Int) -> String {
            let text = String(value)
            return String(repeating: "0", count: max(0, width - text.count)) + text
        }
        return "\(pad(parts.tm_year + 1900, 4))-\(pad(parts.tm_mon + 1, 2))-\(pad(parts.tm_mday, 2))T"
            + "\(pad(parts.tm_hour, 2)):\(pad(parts.tm_min, 2)):\(pad(parts.tm_sec, 2)).\(pad(Int32(time.tv_nsec / 1_000_000), 3))Z"
    }
}
