import Foundation
import Logging
import ServerSupport

/// Renders one log message as a JSON object or a text line, every string passed through
/// ``Redaction`` (message, metadata values, error descriptions), so a password that reaches a
/// log call in a URL or an error message is masked before it is written.
///
/// JSON: `{"time":"2025-05-01T12:00:00.123456Z","level":"info","logger":"backend.http",
/// "message":"request","method":"GET","route":"/api/racks/{id}","status":200,...}`: the four
/// fixed keys first, then the metadata by key. Integers, floating-point numbers and booleans
/// given as `.stringConvertible` stay numbers and booleans; nested metadata stays nested. A
/// metadata key that would overwrite a fixed key is written as `metadata.KEY`.
///
/// Text: `2025-05-01T12:00:00.123456Z info backend.http: request method=GET status=200`.
enum LogLineFormatter {
    static let fixedKeys: Set<String> = ["time", "level", "logger", "message"]

    static func json(
        time: Date, level: Logger.Level, label: String, message: String, metadata: Logger.Metadata
    ) -> String {
        var line = "{"
        line += "\"time\":"
        appendJSONString(Timestamp.string(from: time), to: &line)
        line += ",\"level\":"
        appendJSONString(level.rawValue, to: &line)
        line += ",\"logger\":"
        appendJSONString(label, to: &line)
        line += ",\"message\":"
        appendJSONString(Redaction.redact(message), to: &line)
        for key in metadata.keys.sorted() {
            line += ","
            appendJSONString(fixedKeys.contains(key) ? "metadata.\(key)" : key, to: &line)
            line += ":"
            appendValue(metadata[key]!, to: &line)
        }
        line += "}"
        return line
    }

    static func text(
        time: Date, level: Logger.Level, label: String, message: String, metadata: Logger.Metadata
    ) -> String {
        var line = "\(Timestamp.string(from: time)) \(level.rawValue) \(label): \(Redaction.redact(message))"
        for key in metadata.keys.sorted() {
            line += " \(key)=\(textValue(metadata[key]!))"
        }
        return line
    }

    // MARK: JSON

    private static func appendValue(_ value: Logger.MetadataValue, to line: inout String) {
        switch value {
        case .string(let text):
            appendJSONString(Redaction.redact(text), to: &line)
        case .stringConvertible(let convertible):
            if let literal = jsonLiteral(convertible) {
                line += literal
            } else {
                appendJSONString(Redaction.redact(convertible.description), to: &line)
            }
        case .dictionary(let dictionary):
            line += "{"
            for (index, key) in dictionary.keys.sorted().enumerated() {
                if index > 0 { line += "," }
                appendJSONString(key, to: &line)
                line += ":"
                appendValue(dictionary[key]!, to: &line)
            }
            line += "}"
        case .array(let values):
            line += "["
            for (index, element) in values.enumerated() {
                if index > 0 { line += "," }
                appendValue(element, to: &line)
            }
            line += "]"
        }
    }

    /// Numbers and booleans as JSON literals; `nil` for anything else (written as a string).
    private static func jsonLiteral(_ value: any CustomStringConvertible & Sendable) -> String? {
        switch value {
        case let value as Bool: return value ? "true" : "false"
        case is Int, is Int8, is Int16, is Int32, is Int64, is UInt, is UInt8, is UInt16, is UInt32, is UInt64:
            return value.description
        case let value as Double: return value.isFinite ? value.description : nil
        case let value as Float: return value.isFinite ? value.description : nil
        default: return nil
        }
    }

    // MARK: Text

    private static func textValue(_ value: Logger.MetadataValue) -> String {
        switch value {
        case .string(let text):
            return quotedIfNeeded(Redaction.redact(text))
        case .stringConvertible(let convertible):
            return quotedIfNeeded(Redaction.redact(convertible.description))
        case .dictionary(let dictionary):
            return "{" + dictionary.keys.sorted().map { "\($0)=\(textValue(dictionary[$0]!))" }.joined(separator: ",")
                + "}"
        case .array(let values):
            return "[" + values.map(textValue).joined(separator: ",") + "]"
        }
    }

    /// A value with spaces, quotes, `=` or line breaks is written as a JSON string, so one log
    /// line stays one line and its pairs stay separable.
    private static func quotedIfNeeded(_ text: String) -> String {
        let plain = !text.isEmpty && !text.unicodeScalars.contains { " \"=\n\r\t".unicodeScalars.contains($0) }
        if plain { return text }
        var quoted = ""
        appendJSONString(text, to: &quoted)
        return quoted
    }
}
