import Foundation

/// A `KEY=VALUE` configuration file (the `.env` format): one setting per line, `#` comments,
/// values optionally quoted.
///
/// ```sh
/// # Database
/// export DATABASE_URL="postgres://homerack:s3cret@db/homerack"   # a comment after a quoted value
/// DB_POOL_MIN=8
/// LOG_LEVEL='info'
/// ```
///
/// A leading `export ` is allowed, so the file can also be sourced by a shell. Double quotes
/// understand `\"`, `\\`, `\n` and `\t`; single quotes keep everything literally. An unquoted
/// value ends at ` #` (a comment) and is trimmed. Nothing is substituted: `$HOME` stays as
/// written. A key written twice is an error, as is any line that is not one of these forms.
struct ConfigurationFile: Sendable {
    struct Entry: Sendable, Hashable {
        let key: String
        let value: String
        let line: Int
    }

    /// The path as given, for messages.
    let path: String
    let entries: [Entry]

    /// Reads and parses the file at `path`.
    /// - Returns: the entries, and every line that could not be read as a problem.
    static func read(path: String) -> (file: ConfigurationFile?, problems: [ConfigurationProblem]) {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            let reason = FileManager.default.fileExists(atPath: path) ? "cannot be read" : "does not exist"
            return (nil, [ConfigurationProblem(origin: path, key: nil, message: "the configuration file \(reason)")])
        }
        let (file, problems) = parse(text, path: path)
        return (file, problems)
    }

    /// Parses file text.
    /// - Parameters:
    ///   - text: the file's contents.
    ///   - path: the file's name, for problems.
    /// - Returns: the entries that could be read and a problem for every line that could not.
    static func parse(_ text: String, path: String) -> (file: ConfigurationFile, problems: [ConfigurationProblem]) {
        var entries: [Entry] = []
        var problems: [ConfigurationProblem] = []
        var firstLine: [String: Int] = [:]
        for (index, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let lineNumber = index + 1
            let origin = "\(path):\(lineNumber)"
            switch parseLine(Substring(rawLine.hasSuffix("\r") ? rawLine.dropLast() : rawLine)) {
            case .blank:
                continue
            case .malformed(let message):
                problems.append(ConfigurationProblem(origin: origin, key: nil, message: message))
            case .entry(let key, let value):
                if let first = firstLine[key] {
                    problems.append(
                        ConfigurationProblem(
                            origin: origin, key: key, message: "set twice (first on line \(first)); keep one"))
                    continue
                }
                firstLine[key] = lineNumber
                entries.append(Entry(key: key, value: value, line: lineNumber))
            }
        }
        return (ConfigurationFile(path: path, entries: entries), problems)
    }

    private enum Line {
        case blank
        case entry(key: String, value: String)
        case malformed(String)
    }

    private static func parseLine(_ line: Substring) -> Line {
        var rest = line.drop(while: \.isWhitespace)
        if rest.isEmpty || rest.hasPrefix("#") { return .blank }
        if rest.hasPrefix("export ") { rest = rest.dropFirst("export ".count).drop(while: \.isWhitespace) }
        guard let equals = rest.firstIndex(of: "=") else {
            return .malformed("expected KEY=VALUE")
        }
        let key = String(rest[..<equals].trimmingCharacters(in: .whitespaces))
        guard isValidKey(key) else {
            return .malformed("'\(key)' is not a key name (letters, digits and _, not starting with a digit)")
        }
        let valueText = rest[rest.index(after: equals)...].drop(while: { $0 == " " || $0 == "\t" })
        switch parseValue(valueText) {
        case .success(let value): return .entry(key: key, value: value)
        case .failure(let problem): return .malformed("\(key): \(problem.message)")
        }
    }

    private struct ValueProblem: Error {
        let message: String
    }

    private static func parseValue(_ text: Substring) -> Result<String, ValueProblem> {
        guard let quote = text.first, quote == "\"" || quote == "'" else {
            // Unquoted: up to a comment, trimmed.
            var value = text[...]
            if let hash = commentStart(in: text) { value = text[..<hash] }
            return .success(value.trimmingCharacters(in: .whitespaces))
        }
        var value = ""
        var index = text.index(after: text.startIndex)
        var closed = false
        while index < text.endIndex {
            let character = text[index]
            if character == quote {
                closed = true
                index = text.index(after: index)
                break
            }
            if quote == "\"", character == "\\", text.index(after: index) < text.endIndex {
                let escaped = text[text.index(after: index)]
                switch escaped {
                case "n": value.append("\n")
                case "t": value.append("\t")
                case "\"", "\\": value.append(escaped)
                default: value.append(contentsOf: ["\\", escaped])
                }
                index = text.index(index, offsetBy: 2)
                continue
            }
            value.append(character)
            index = text.index(after: index)
        }
        guard closed else { return .failure(ValueProblem(message: "the value's closing \(quote) is missing")) }
        let trailing = text[index...].trimmingCharacters(in: .whitespaces)
        guard trailing.isEmpty || trailing.hasPrefix("#") else {
            return .failure(ValueProblem(message: "unexpected text after the quoted value"))
        }
        return .success(value)
    }

    /// Where an unquoted value's comment starts: a `#` at the start or after whitespace (so
    /// `#` inside a value, as in a URL fragment or password, is kept).
    private static func commentStart(in text: Substring) -> Substring.Index? {
        var previous: Character?
        for index in text.indices {
            if text[index] == "#", previous == nil || previous!.isWhitespace { return index }
            previous = text[index]
        }
        return nil
    }

    static func isValidKey(_ key: String) -> Bool {
        guard let first = key.utf8.first, !(UInt8(ascii: "0")...UInt8(ascii: "9")).contains(first) else { return false }
        return key.utf8.allSatisfy { byte in
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "_"):
                true
            default: false
            }
        }
    }
}
