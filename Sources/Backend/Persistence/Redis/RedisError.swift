/// A failure talking to Redis.
///
/// A struct with a private code, so new kinds of failure can be added without breaking callers
/// (a public enum could never gain a case); ask what happened with ``isTimeout`` and friends.
public struct RedisError: Error, Sendable, CustomStringConvertible {
    private enum Code: Sendable, Hashable {
        case invalidURL
        case cannotConnect
        case connectionClosed
        case timeout
        case protocolError
        case server
        case unexpectedReply
        case poolShutdown
    }

    private let code: Code
    /// Details for logs. Never holds a password: URLs are redacted before they get here.
    public let message: String
    public let file: String
    public let line: Int

    private init(_ code: Code, _ message: String, file: String, line: Int) {
        self.code = code
        self.message = message
        self.file = file
        self.line = line
    }

    /// The Redis URL could not be parsed.
    public static func invalidURL(_ message: String, file: String = #fileID, line: Int = #line) -> RedisError {
        RedisError(.invalidURL, message, file: file, line: line)
    }

    /// No connection could be opened (refused, unreachable, the name did not resolve).
    public static func cannotConnect(_ message: String, file: String = #fileID, line: Int = #line) -> RedisError {
        RedisError(.cannotConnect, message, file: file, line: line)
    }

    /// The connection closed (or could not be used) before the reply arrived.
    public static func connectionClosed(
        _ message: String = "connection closed", file: String = #fileID, line: Int = #line
    )
        -> RedisError
    {
        RedisError(.connectionClosed, message, file: file, line: line)
    }

    /// No reply within the command timeout (the connection is then closed, since a late reply
    /// would be matched to the wrong command), or no connection within the connect timeout.
    public static func timeout(_ message: String, file: String = #fileID, line: Int = #line) -> RedisError {
        RedisError(.timeout, message, file: file, line: line)
    }

    /// hiredis's reader refused the bytes; the connection cannot be resynchronised and is closed.
    public static func protocolError(_ message: String, file: String = #fileID, line: Int = #line) -> RedisError {
        RedisError(.protocolError, message, file: file, line: line)
    }

    /// Redis answered with an error reply where a helper expected a value.
    public static func server(_ message: String, file: String = #fileID, line: Int = #line) -> RedisError {
        RedisError(.server, message, file: file, line: line)
    }

    /// Redis answered with a type the helper did not expect.
    public static func unexpectedReply(_ reply: RedisReply, expected: String, file: String = #fileID, line: Int = #line)
        -> RedisError
    {
        RedisError(.unexpectedReply, "expected \(expected), got \(reply)", file: file, line: line)
    }

    /// The pool was shut down.
    public static func poolShutdown(file: String = #fileID, line: Int = #line) -> RedisError {
        RedisError(.poolShutdown, "the connection pool is shut down", file: file, line: line)
    }

    public var isTimeout: Bool { code == .timeout }
    public var isConnectionClosed: Bool { code == .connectionClosed }
    public var isCannotConnect: Bool { code == .cannotConnect }
    public var isProtocolError: Bool { code == .protocolError }
    public var isServerError: Bool { code == .server }
    public var isInvalidURL: Bool { code == .invalidURL }
    public var isPoolShutdown: Bool { code == .poolShutdown }

    public var description: String {
        let kind =
            switch code {
            case .invalidURL: "invalid Redis URL"
            case .cannotConnect: "cannot connect to Redis"
            case .connectionClosed: "Redis connection closed"
            case .timeout: "Redis timeout"
            case .protocolError: "Redis protocol error"
            case .server: "Redis error reply"
            case .unexpectedReply: "unexpected Redis reply"
            case .poolShutdown: "Redis pool shut down"
            }
        return "\(kind): \(message)"
    }
}
