/// Rewrites the store's `?` placeholders into PostgreSQL's numbered `$1, $2, …`.
///
/// A `?` inside a string literal (`'…'`), a quoted identifier (`"…"`) or a comment is left
/// alone, so text such as `'19"'` or `'what?'` passes through unchanged.
enum PostgresPlaceholders {
    private enum State {
        case code
        case singleQuoted
        case doubleQuoted
        case lineComment
        case blockComment
    }

    /// - Parameter sql: a statement with `?` placeholders.
    /// - Returns: the statement with `$n` placeholders, numbered from 1 in order of appearance.
    static func rewrite(_ sql: String) -> String {
        let bytes = Array(sql.utf8)
        guard bytes.contains(UInt8(ascii: "?")) else { return sql }
        var output: [UInt8] = []
        output.reserveCapacity(bytes.count + 16)
        var state = State.code
        var number = 0
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            let next: UInt8? = index + 1 < bytes.count ? bytes[index + 1] : nil
            switch state {
            case .code:
                if byte == UInt8(ascii: "?") {
                    number += 1
                    output.append(UInt8(ascii: "$"))
                    output.append(contentsOf: String(number).utf8)
                    index += 1
                    continue
                }
                if byte == UInt8(ascii: "'") {
                    state = .singleQuoted
                } else if byte == UInt8(ascii: "\"") {
                    state = .doubleQuoted
                } else if byte == UInt8(ascii: "-"), next == UInt8(ascii: "-") {
                    state = .lineComment
                } else if byte == UInt8(ascii: "/"), next == UInt8(ascii: "*") {
                    state = .blockComment
                    output.append(contentsOf: [byte, next!])
                    index += 2
                    continue
                }
            case .singleQuoted:
                // A doubled quote ('') is an escaped quote: the next quote re-enters the literal.
                if byte == UInt8(ascii: "'") { state = .code }
            case .doubleQuoted:
                if byte == UInt8(ascii: "\"") { state = .code }
            case .lineComment:
                if byte == UInt8(ascii: "\n") { state = .code }
            case .blockComment:
                if byte == UInt8(ascii: "*"), next == UInt8(ascii: "/") {
                    state = .code
                    output.append(contentsOf: [byte, next!])
                    index += 2
                    continue
                }
            }
            output.append(byte)
            index += 1
        }
        return String(decoding: output, as: UTF8.self)
    }

    /// Whether a statement only reads, so running it again after a dropped connection is safe:
    /// its first keyword is `SELECT`.
    static func isRead(_ sql: String) -> Bool {
        let trimmed = sql.drop { $0 == " " || $0 == "\n" || $0 == "\t" || $0 == "\r" || $0 == "(" }
        return trimmed.prefix(6).uppercased() == "SELECT"
    }
}
