import NIOCore

/// One reply from Redis (RESP2), as hiredis's reader parsed it.
///
/// An `-ERR ...` reply is a value here, not a thrown error: inside a pipeline one failing command
/// must not hide the replies of the others. Helpers that expect a particular shape throw
/// ``RedisError`` instead.
public enum RedisReply: Sendable, Hashable {
    /// A bulk string (`$`): binary-safe bytes.
    case string(ByteBuffer)
    /// A simple status (`+OK`, `+PONG`).
    case status(String)
    /// An integer (`:`).
    case integer(Int64)
    /// A multi-bulk reply (`*`), possibly empty.
    case array([RedisReply])
    /// A null bulk string (`$-1`) or null array (`*-1`): hiredis reports both as one `NIL` type.
    case null
    /// An error reply (`-ERR ...`, `-WRONGTYPE ...`), with its message.
    case error(String)
}

extension RedisReply {
    /// The bytes of a bulk string, or the text of a status, decoded as UTF-8; `nil` for other types.
    public var string: String? {
        switch self {
        case .string(let buffer): String(buffer: buffer)
        case .status(let text): text
        case .integer, .array, .null, .error: nil
        }
    }

    /// The value of an integer reply, or of a bulk string holding a decimal integer (`GET` of a
    /// counter); `nil` for anything else.
    public var integer: Int64? {
        switch self {
        case .integer(let value): value
        case .string(let buffer): Int64(String(buffer: buffer))
        case .status, .array, .null, .error: nil
        }
    }

    /// The elements of an array reply; `nil` for other types.
    public var array: [RedisReply]? {
        if case .array(let elements) = self { return elements }
        return nil
    }

    /// Whether this is the null reply.
    public var isNull: Bool {
        if case .null = self { return true }
        return false
    }

    /// The reply, unless it is an error reply.
    /// - Throws: ``RedisError`` carrying the server's message when it is one.
    public func checked(file: String = #fileID, line: Int = #line) throws -> RedisReply {
        if case .error(let message) = self { throw RedisError.server(message, file: file, line: line) }
        return self
    }
}

extension RedisReply: CustomStringConvertible {
    public var description: String {
        switch self {
        case .string(let buffer): "\"\(String(buffer: buffer))\""
        case .status(let text): text
        case .integer(let value): "(integer) \(value)"
        case .array(let elements): "[" + elements.map(\.description).joined(separator: ", ") + "]"
        case .null: "(nil)"
        case .error(let message): "(error) \(message)"
        }
    }
}
