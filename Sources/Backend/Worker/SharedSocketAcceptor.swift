import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Accepts connections on a listening socket that another process (the worker this one
/// replaces, or its replacement) may be accepting on at the same time, on a thread of its own.
///
/// NIO's server channel assumes it is the only reader of its socket: when two processes wait on
/// one socket and the other takes the connection, NIO finds nothing to accept and trips an
/// assertion (debug builds), and it re-`listen`s the socket with its own backlog. This loop
/// treats "nothing to accept" as normal, leaves the socket's backlog alone, and hands each
/// accepted descriptor to NIO as a connected socket.
///
/// It stops accepting above `maximumConnections` open connections (`WORKER_CONNECTIONS`;
/// further connections wait in the kernel's queue) and for good on ``stop()``, after which it
/// closes only its own descriptor of the socket: the supervisor's copy keeps it listening.
final class SharedSocketAcceptor: Sendable {
    private let listeningSocket: CInt
    private let maximumConnections: Int
    private let open = Atomic<Int>(0)
    private let stopping = Atomic<Bool>(false)
    /// Written to wake the thread from `poll` (stop, or a connection closed while at the cap).
    private let wakeRead: CInt
    private let wakeWrite: CInt

    /// - Throws: ``SupervisorError`` when the wake-up pipe cannot be made.
    init(listeningSocket: CInt, maximumConnections: Int) throws {
        var ends: [CInt] = [-1, -1]
        guard pipe(&ends) == 0 else { throw SupervisorError("pipe: \(errnoText())") }
        for end in ends {
            _ = fcntl(end, F_SETFL, fcntl(end, F_GETFL) | O_NONBLOCK)
            _ = fcntl(end, F_SETFD, FD_CLOEXEC)
        }
        self.listeningSocket = listeningSocket
        self.maximumConnections = max(maximumConnections, 1)
        self.wakeRead = ends[0]
        self.wakeWrite = ends[1]
    }

    /// Starts the accept thread.
    /// - Returns: the accepted connections' descriptors (non-blocking, close-on-exec), until
    ///   ``stop()``; each must be reported with ``connectionClosed()`` once closed.
    func start() -> AsyncStream<CInt> {
        let (connections, continuation) = AsyncStream.makeStream(of: CInt.self)
        Thread.detachNewThread { [self] in
            acceptLoop(continuation)
            continuation.finish()
            systemClose(listeningSocket)
            systemClose(wakeRead)
            systemClose(wakeWrite)
        }
        return connections
    }

    /// Stops accepting (once; later calls do nothing).
    func stop() {
        guard !stopping.exchange(true, ordering: .acquiringAndReleasing) else { return }
        wake()
    }

    /// A connection handed out by ``start()`` closed.
    func connectionClosed() {
        let before = open.wrappingSubtract(1, ordering: .acquiringAndReleasing).oldValue
        if before >= maximumConnections { wake() }
    }

    private func wake() {
        var byte: UInt8 = 1
        _ = write(wakeWrite, &byte, 1)
    }

    private func acceptLoop(_ continuation: AsyncStream<CInt>.Continuation) {
        let tcp = ListeningSocket.isTCP(listeningSocket)
        // Whoever loses a race for a connection must get EAGAIN, not block until the next one.
        _ = fcntl(listeningSocket, F_SETFL, fcntl(listeningSocket, F_GETFL) | O_NONBLOCK)
        while !stopping.load(ordering: .acquiring) {
            let atCap = open.load(ordering: .acquiring) >= maximumConnections
            var descriptors = [pollfd(fd: wakeRead, events: Int16(POLLIN), revents: 0)]
            if !atCap { descriptors.append(pollfd(fd: listeningSocket, events: Int16(POLLIN), revents: 0)) }
            guard poll(&descriptors, nfds_t(descriptors.count), -1) >= 0 else { continue }  // EINTR
            if descriptors[0].revents != 0 { drainWakeups() }
            guard descriptors.count > 1, descriptors[1].revents != 0, !stopping.load(ordering: .acquiring) else {
                continue
            }
            let connection = accept(listeningSocket, nil, nil)
            guard connection >= 0 else {
                switch errno {
                case EAGAIN, EWOULDBLOCK, EINTR, ECONNABORTED, EPROTO:
                    // Another process took it, or the client gave up: wait for the next one.
                    continue
                default:
                    // Out of descriptors (EMFILE, ENFILE) or memory: let closes free some.
                    usleep(50_000)
                    continue
                }
            }
            _ = fcntl(connection, F_SETFD, FD_CLOEXEC)
            _ = fcntl(connection, F_SETFL, fcntl(connection, F_GETFL) | O_NONBLOCK)
            if tcp {
                var one: CInt = 1
                setsockopt(connection, CInt(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<CInt>.size))
            }
            open.wrappingAdd(1, ordering: .acquiringAndReleasing)
            continuation.yield(connection)
        }
    }

    private func drainWakeups() {
        var bytes = [UInt8](repeating: 0, count: 64)
        while read(wakeRead, &bytes, bytes.count) > 0 {}
    }
}
