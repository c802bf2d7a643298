/// A header value with parameters, as `Content-Type` and `Content-Disposition` carry them:
/// `form-data; name="file"; filename="logo.png"`.
///
/// Parameter values are tokens or quoted strings (RFC 9110 §5.6.6); inside quotes a backslash
/// escapes the next character and `;` is text. Names are compared ignoring case, so they are
/// stored lowercased; when a name repeats, the first value counts.
public struct HeaderValue: Sendable, Hashable {
    /// The part before the first `;`, trimmed and lowercased (`multipart/form-data`, `form-data`).
    public var value: String
    /// The parameters by lowercased name.
    public var parameters: [String: String]

    /// Parses `text`.
    /// - Parameter text: a header field's value.
    /// - Throws: ``MultipartError/malformed`` for a quoted string without its closing quote, or a
    ///   parameter without a name.
    public init(parsing text: String) throws(MultipartError) {
        var scanner = Substring(text)
        value = Self.readUntilSemicolon(&scanner).lowercased()
        parameters = [:]
        while scanner.first == ";" {
            scanner.removeFirst()
            Self.skipWhitespace(&scanner)
            if scanner.isEmpty { break }  // a trailing `;`
            guard let equals = scanner.firstIndex(where: { $0 == "=" || $0 == ";" }), scanner[equals] == "=" else {
                throw .malformed("The header parameter '\(Self.readUntilSemicolon(&scanner))' has no value")
            }
            let name = scanner[..<equals].trimmingWhitespace().lowercased()
            guard !name.isEmpty else { throw .malformed("A header parameter has no name") }
            scanner = scanner[scanner.index(after: equals)...]
            Self.skipWhitespace(&scanner)
            let parameter: String
            if scanner.first == "\"" {
                parameter = try Self.readQuoted(&scanner)
                Self.skipWhitespace(&scanner)
                guard scanner.isEmpty || scanner.first == ";" else {
                    throw .malformed("Unexpected text after the quoted value of '\(name)'")
                }
            } else {
                parameter = Self.readUntilSemicolon(&scanner)
            }
            if parameters[name] == nil { parameters[name] = parameter }
        }
    }

    /// Reads up to (not past) the next `;`, trimmed.
    private static func readUntilSemicolon(_ scanner: inout Substring) -> String {
        let end = scanner.firstIndex(of: ";") ?? scanner.endIndex
        let text = scanner[..<end].trimmingWhitespace()
        scanner = scanner[end...]
        return text
    }

    /// Reads a quoted string starting at its opening quote, unescaping `\x` to `x`.
    private static func readQuoted(_ scanner: inout Substring) throws(MultipartError) -> String {
        scanner.removeFirst()
        var text = ""
        while let character = scanner.popFirst() {
            switch character {
            case "\"":
                return text
            case "\\":
                guard let escaped = scanner.popFirst() else { break }
                text.append(escaped)
            default:
                text.append(character)
            }
        }
        throw .malformed("A quoted header value has no closing quote")
    }

    private static func skipWhitespace(_ scanner: inout Substring) {
        while let first = scanner.first, first == " " || first == "\t" { scanner.removeFirst() }
    }
}

extension Substring {
    /// Without leading and trailing spaces and tabs.
    fileprivate func trimmingWhitespace() -> String {
        let isWhitespace: (Character) -> Bool = { $0 == " " || $0 == "\t" }
        guard let start = firstIndex(where: { !isWhitespace($0) }), let end = lastIndex(where: { !isWhitespace($0) })
        else { return "" }
        return String(self[start...end])
    }
}
