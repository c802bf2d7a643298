/// A failure to set up an event loop or a socket, with the system's errno.
public struct EdgeIOError: Error, CustomStringConvertible, Sendable {
    private enum Code: Sendable {
        case listen
        case connect
        case epoll
        case eventFD
        case thread
        case resolve
    }

    private let code: Code
    /// The errno (or pthread error number) reported by the system.
    public let errno: Int32
    /// What was being done, for messages.
    public let context: String
    private let file: String
    private let line: Int

    private init(_ code: Code, errno: Int32, context: String, file: String, line: Int) {
        self.code = code
        self.errno = errno
        self.context = context
        self.file = file
        self.line = line
    }

    /// A listening socket could not be created, bound or put in listening state.
    public static func listen(errno: Int32, context: String, file: String = #fileID, line: Int = #line) -> Self {
        Self(.listen, errno: errno, context: context, file: file, line: line)
    }
    /// An outbound connection could not be started.
    public static func connect(errno: Int32, context: String, file: String = #fileID, line: Int = #line) -> Self {
        Self(.connect, errno: errno, context: context, file: file, line: line)
    }
    static func epoll(errno: Int32, file: String = #fileID, line: Int = #line) -> Self {
        Self(.epoll, errno: errno, context: "epoll_create1", file: file, line: line)
    }
    static func eventFD(errno: Int32, file: String = #fileID, line: Int = #line) -> Self {
        Self(.eventFD, errno: errno, context: "eventfd", file: file, line: line)
    }
    static func thread(errno: Int32, file: String = #fileID, line: Int = #line) -> Self {
        Self(.thread, errno: errno, context: "pthread_create", file: file, line: line)
    }

    /// A host name did not resolve (`getaddrinfo`'s reason in `context`).
    public static func resolve(name: String, reason: String, file: String = #fileID, line: Int = #line) -> Self {
        Self(.resolve, errno: 0, context: "\(name): \(reason)", file: file, line: line)
    }

    public var description: String {
        if code == .resolve { return "cannot resolve \(context)" }
        return "EdgeIOError(\(code), \(context), errno \(errno)) at \(file):\(line)"
    }
}

/// Why ``LoopIO/connect(to:)`` could not start a connection (the errno of `socket`,
/// `connect` or `epoll_ctl`): no strings, so a failing upstream costs no allocation.
public struct ConnectError: Error, Hashable, Sendable {
    public let errno: Int32
    @inlinable public init(errno: Int32) { self.errno = errno }
}
