import CEdgeIO
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// How an ``EventLoopGroup`` listens and sizes its loops.
public struct EventLoopConfiguration: Sendable {
    /// Numeric address to listen on (loopback in tests).
    public var host: String
    /// Port to listen on; 0 picks one (read it from ``EventLoopGroup/port``).
    public var port: UInt16
    /// A Unix-domain socket path to listen on instead of `host` and `port` (the path must not
    /// exist). `SO_REUSEPORT` does not spread Unix connections, so the loops share one
    /// listening socket (each its own descriptor of it; whichever loop wakes first accepts).
    public var unixPath: String?
    /// Loop threads, each with its own `SO_REUSEPORT` listener.
    public var loopCount: Int
    /// The listen backlog of each listener.
    public var backlog: Int32
    /// Pooled buffer size: also the largest input a handler is shown at once.
    public var chunkSize: Int
    /// Whether the loops listen at all (a group for outbound connections only does not).
    public var listens: Bool
    /// Accepted connections speak TLS with this context (shared by the loops); `nil`: plain.
    public var tls: TLSContext?
    /// Milliseconds a TLS handshake may take before the connection is dropped.
    public var handshakeTimeout: UInt64
    /// Milliseconds a closed connection keeps reading and dropping input until the peer
    /// closes, so a close never resets a response in flight (0: close at once).
    public var lingeringTimeout: UInt64

    public init(
        host: String = "127.0.0.1", port: UInt16 = 0, loopCount: Int = 1, backlog: Int32 = 1024,
        chunkSize: Int = 16 * 1024, listens: Bool = true, tls: TLSContext? = nil, handshakeTimeout: UInt64 = 10_000,
        lingeringTimeout: UInt64 = 2_000
    ) {
        self.lingeringTimeout = lingeringTimeout
        self.tls = tls
        self.handshakeTimeout = handshakeTimeout
        self.host = host
        self.port = port
        self.loopCount = loopCount
        self.backlog = backlog
        self.chunkSize = chunkSize
        self.listens = listens
    }
}

/// A set of event-loop threads sharing one port through `SO_REUSEPORT` (the kernel spreads
/// new connections across the loops' listeners); each loop runs its own handler value.
///
/// Messages reach a loop through its ``Mailbox``; ``stop()`` stops every loop (each closes its
/// connections and listener) and joins the threads.
public final class EventLoopGroup<Handler: EventLoopHandler>: Sendable {
    /// The port the loops listen on (0 when they do not listen).
    public let port: Int
    /// The loops' mailboxes, by loop index.
    public let mailboxes: [Mailbox<Handler.Message>]
    @usableFromInline let threads: Mutex<[UInt64]>

    /// Opens the listeners and starts the loop threads.
    /// - Parameters:
    ///   - configuration: address, loops, buffer size.
    ///   - makeHandler: called on each loop's thread with the loop's index, to make its handler.
    /// - Throws: ``EdgeIOError`` when a listener, epoll, eventfd or thread cannot be made.
    @inlinable
    public convenience init(
        configuration: EventLoopConfiguration,
        makeHandler: @escaping @Sendable (_ loopIndex: Int) -> Handler
    ) throws {
        try self.init(configuration: configuration) { index, _ in makeHandler(index) }
    }

    /// Opens the listeners and starts the loop threads, giving each handler its loop's mailbox
    /// (for work it hands to other threads whose answers come back as messages).
    /// - Parameters:
    ///   - configuration: address, loops, buffer size.
    ///   - makeHandler: called on each loop's thread with the loop's index and mailbox.
    /// - Throws: ``EdgeIOError`` when a listener, epoll, eventfd or thread cannot be made.
    @inlinable
    public init(
        configuration: EventLoopConfiguration,
        makeHandler: @escaping @Sendable (_ loopIndex: Int, _ mailbox: Mailbox<Handler.Message>) -> Handler
    ) throws {
        ceio_ignore_sigpipe()
        let loopCount = max(1, configuration.loopCount)
        let setup = try LoopResources.open(configuration, loopCount: loopCount)
        var mailboxes: [Mailbox<Handler.Message>] = []
        do {
            for _ in 0..<loopCount { mailboxes.append(try Mailbox()) }
        } catch {
            setup.closeAll()
            throw error
        }
        port = setup.port
        self.mailboxes = mailboxes
        threads = Mutex([])
        let chunkSize = configuration.chunkSize
        let tls = configuration.tls
        let handshakeTimeout = configuration.handshakeTimeout
        let lingeringTimeout = configuration.lingeringTimeout
        for index in 0..<loopCount {
            let mailbox = mailboxes[index]
            let listener = setup.listeners[index]
            let epoll = setup.epolls[index]
            do {
                let handle = try startLoopThread(name: "edge-loop-\(index)") {
                    var io = LoopIO(
                        loopIndex: index, epoll: epoll, chunkSize: chunkSize, tls: tls, handshakeTimeout: handshakeTimeout,
                        lingeringTimeout: lingeringTimeout)
                    var handler = makeHandler(index, mailbox)
                    EventLoop<Handler>.run(handler: &handler, io: &io, listener: listener, mailbox: mailbox)
                }
                threads.withLock { $0.append(handle) }
            } catch {
                setup.closeAll(from: index)
                stop()
                throw error
            }
        }
    }

    deinit { stop() }

    /// How many loops the group runs.
    public var loopCount: Int { mailboxes.count }

    /// Posts a message to one loop.
    /// - Returns: `false` when that loop has stopped.
    @discardableResult
    public func post(_ message: Handler.Message, toLoop index: Int) -> Bool {
        mailboxes[index].post(message)
    }

    /// Stops every loop and waits for their threads. Idempotent; must not be called from a loop.
    public func stop() {
        let handles = threads.withLock { handles in
            defer { handles = [] }
            return handles
        }
        guard !handles.isEmpty else { return }
        for mailbox in mailboxes { mailbox.requestStop() }
        for handle in handles { _ = ceio_thread_join(handle) }
    }
}

/// The file descriptors a group's loops start with.
@usableFromInline
struct LoopResources: Sendable {
    @usableFromInline let port: Int
    @usableFromInline let listeners: [Int32]
    @usableFromInline let epolls: [Int32]

    /// Opens one listener per loop (the first picks the port when it is 0, the others bind the
    /// same port with `SO_REUSEPORT`) and one epoll per loop.
    @usableFromInline
    static func open(_ configuration: EventLoopConfiguration, loopCount: Int) throws -> LoopResources {
        var listeners: [Int32] = []
        var epolls: [Int32] = []
        var port = Int(configuration.port)
        func cleanUp() {
            for fd in listeners + epolls { Glibc.close(fd) }
        }
        for _ in 0..<loopCount {
            if configuration.listens {
                let fd: Int32
                if let path = configuration.unixPath {
                    fd = listeners.first.map { ceio_dup($0) } ?? path.withCString { ceio_listen_unix($0, configuration.backlog) }
                } else {
                    fd = configuration.host.withCString { ceio_listen_tcp($0, UInt16(port), configuration.backlog, 1) }
                }
                guard fd >= 0 else {
                    let error = ceio_errno()
                    cleanUp()
                    let address = configuration.unixPath.map { "unix:\($0)" } ?? "\(configuration.host):\(port)"
                    throw EdgeIOError.listen(errno: error, context: "listen \(address)")
                }
                listeners.append(fd)
                if port == 0 && configuration.unixPath == nil { port = Int(ceio_local_port(fd)) }
            } else {
                listeners.append(-1)
            }
            let epoll = ceio_epoll_create()
            guard epoll >= 0 else {
                let error = ceio_errno()
                cleanUp()
                throw EdgeIOError.epoll(errno: error)
            }
            epolls.append(epoll)
        }
        return LoopResources(port: configuration.listens ? port : 0, listeners: listeners, epolls: epolls)
    }

    @usableFromInline
    init(port: Int, listeners: [Int32], epolls: [Int32]) {
        self.port = port
        self.listeners = listeners
        self.epolls = epolls
    }

    /// Closes the descriptors of loops `from...` (those whose threads never started).
    @usableFromInline
    func closeAll(from first: Int = 0) {
        for index in first..<listeners.count {
            if listeners[index] >= 0 { Glibc.close(listeners[index]) }
            Glibc.close(epolls[index])
        }
    }
}

/// The boxed body of a loop thread.
private final class ThreadBody {
    let run: @Sendable () -> Void
    init(_ run: @escaping @Sendable () -> Void) { self.run = run }
}

/// Starts a joinable thread running `body`. A plain nonisolated function: a closure formed
/// inside `@main` code would inherit `@MainActor` isolation and trap on this thread.
/// - Returns: the thread's handle for ``ceio_thread_join``.
@usableFromInline
func startLoopThread(name: String, _ body: @escaping @Sendable () -> Void) throws -> UInt64 {
    let box = Unmanaged.passRetained(ThreadBody {
        name.withCString { ceio_set_thread_name($0) }
        body()
    })
    var handle: UInt64 = 0
    let result = ceio_thread_start(&handle, { argument in
        let body = Unmanaged<ThreadBody>.fromOpaque(argument!).takeRetainedValue()
        body.run()
        return nil
    }, box.toOpaque())
    guard result == 0 else {
        box.release()
        throw EdgeIOError.thread(errno: result)
    }
    return handle
}
