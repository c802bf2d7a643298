import NIOCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A listening socket the supervisor owns for one worker slot, for the slot's whole life.
///
/// Each worker the slot runs gets a copy of the descriptor; while one worker is replaced by the
/// next, the supervisor's copy keeps the socket listening, so the kernel accepts and queues
/// connections (up to the backlog) instead of refusing them.
public struct ListeningSocket: Sendable {
    /// Always 10 or more, close-on-exec: a worker gets it only as the descriptor it is told of.
    public let descriptor: CInt
    /// `127.0.0.1:8001`, `[::1]:8001` or `unix:/run/homerack/backend-0.sock`.
    public let address: String
    /// The socket file to remove on close (`nil` for TCP and for inherited sockets).
    private let unixPath: String?

    /// The listen backlog: connections the kernel queues while no worker accepts (a worker
    /// being replaced). `listen` caps it at `net.core.somaxconn`.
    public static let backlog: CInt = 4096

    /// Opens a TCP socket on `host:port` (port 0: any free port) with `SO_REUSEADDR`.
    /// - Throws: ``SupervisorError`` when the address does not resolve or cannot be bound.
    public static func tcp(host: String, port: Int) throws -> ListeningSocket {
        let address: SocketAddress
        do {
            address = try SocketAddress.makeAddressResolvingHost(host, port: port)
        } catch {
            throw SupervisorError("cannot resolve \(host): \(error)")
        }
        let family = address.protocol.rawValue
        let descriptor = try open(family: family, what: "\(host):\(port)")
        var one: CInt = 1
        setsockopt(descriptor, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<CInt>.size))
        try bindAndListen(descriptor, address, what: "\(host):\(port)")
        let boundPort = localPort(descriptor) ?? port
        let printable = host.contains(":") ? "[\(host)]:\(boundPort)" : "\(host):\(boundPort)"
        return ListeningSocket(descriptor: descriptor, address: printable, unixPath: nil)
    }

    /// Opens a Unix-domain socket at `path`, replacing a stale socket file left by a previous run.
    /// - Throws: ``SupervisorError`` when the path is too long or cannot be bound.
    public static func unix(path: String) throws -> ListeningSocket {
        let address: SocketAddress
        do {
            address = try SocketAddress(unixDomainSocketPath: path)
        } catch {
            throw SupervisorError("cannot use \(path) as a socket path: \(error)")
        }
        var status = stat()
        if lstat(path, &status) == 0, (status.st_mode & S_IFMT) == S_IFSOCK {
            unlink(path)
        }
        let descriptor = try open(family: AF_UNIX, what: path)
        try bindAndListen(descriptor, address, what: path)
        return ListeningSocket(descriptor: descriptor, address: "unix:\(path)", unixPath: path)
    }

    /// Adopts a listening socket this process inherited (systemd socket activation).
    /// - Throws: ``SupervisorError`` when `descriptor` is not a listening stream socket.
    public static func inherited(descriptor inheritedDescriptor: CInt) throws -> ListeningSocket {
        var listening: CInt = 0
        var size = socklen_t(MemoryLayout<CInt>.size)
        guard getsockopt(inheritedDescriptor, SOL_SOCKET, SO_ACCEPTCONN, &listening, &size) == 0, listening != 0 else {
            throw SupervisorError("descriptor \(inheritedDescriptor) (LISTEN_FDS) is not a listening socket")
        }
        let descriptor = try highDescriptor(inheritedDescriptor, what: "descriptor \(inheritedDescriptor)")
        return ListeningSocket(descriptor: descriptor, address: describe(descriptor), unixPath: nil)
    }

    /// Closes the supervisor's descriptor (the workers' copies are theirs) and removes the
    /// socket file of a Unix socket it created.
    public func close() {
        _ = systemClose(descriptor)
        if let unixPath { unlink(unixPath) }
    }

    /// Whether `descriptor` is an IPv4 or IPv6 socket (where `TCP_NODELAY` applies).
    public static func isTCP(_ descriptor: CInt) -> Bool {
        var storage = sockaddr_storage()
        var size = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let result = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &size) }
        }
        guard result == 0 else { return false }
        let family = CInt(storage.ss_family)
        return family == AF_INET || family == AF_INET6
    }

    // MARK: Helpers

    private static func open(family: CInt, what: String) throws -> CInt {
        #if canImport(Glibc)
            let type = CInt(SOCK_STREAM.rawValue) | CInt(SOCK_CLOEXEC.rawValue)
        #else
            let type = SOCK_STREAM
        #endif
        let raw = socket(family, type, 0)
        guard raw >= 0 else { throw SupervisorError("socket() for \(what): \(errnoText())") }
        return try highDescriptor(raw, what: what, closingOriginal: true)
    }

    /// A copy of `descriptor` numbered 10 or more, close-on-exec. Workers receive their socket
    /// as descriptor 3; a source already numbered 3 would make that `dup2` a no-op that keeps
    /// the close-on-exec flag, and the worker would start without its socket.
    private static func highDescriptor(_ descriptor: CInt, what: String, closingOriginal: Bool = true) throws -> CInt {
        let copy = fcntl(descriptor, F_DUPFD_CLOEXEC, CInt(10))
        let failure = errnoText()
        if closingOriginal { _ = systemClose(descriptor) }
        guard copy >= 0 else { throw SupervisorError("cannot duplicate the socket for \(what): \(failure)") }
        return copy
    }

    private static func bindAndListen(_ descriptor: CInt, _ address: SocketAddress, what: String) throws {
        let bound = address.withSockAddr { pointer, size in bind(descriptor, pointer, socklen_t(size)) }
        guard bound == 0 else {
            let failure = errnoText()
            _ = systemClose(descriptor)
            throw SupervisorError("cannot listen on \(what): \(failure)")
        }
        guard listen(descriptor, backlog) == 0 else {
            let failure = errnoText()
            _ = systemClose(descriptor)
            throw SupervisorError("listen() on \(what): \(failure)")
        }
    }

    private static func localPort(_ descriptor: CInt) -> Int? {
        var storage = sockaddr_storage()
        var size = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let result = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &size) }
        }
        guard result == 0 else { return nil }
        switch CInt(storage.ss_family) {
        case AF_INET:
            return withUnsafePointer(to: &storage) {
                $0.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { Int(UInt16(bigEndian: $0.pointee.sin_port)) }
            }
        case AF_INET6:
            return withUnsafePointer(to: &storage) {
                $0.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) {
                    Int(UInt16(bigEndian: $0.pointee.sin6_port))
                }
            }
        default:
            return nil
        }
    }

    /// The printable local address of an inherited socket.
    private static func describe(_ descriptor: CInt) -> String {
        var storage = sockaddr_storage()
        var size = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let result = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &size) }
        }
        guard result == 0 else { return "fd:\(descriptor)" }
        let address: SocketAddress? =
            switch CInt(storage.ss_family) {
            case AF_INET:
                withUnsafePointer(to: &storage) {
                    $0.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { SocketAddress($0.pointee, host: "") }
                }
            case AF_INET6:
                withUnsafePointer(to: &storage) {
                    $0.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { SocketAddress($0.pointee, host: "") }
                }
            case AF_UNIX:
                withUnsafePointer(to: &storage) {
                    $0.withMemoryRebound(to: sockaddr_un.self, capacity: 1) { SocketAddress($0.pointee) }
                }
            default:
                nil
            }
        guard let address else { return "fd:\(descriptor)" }
        if let path = address.pathname { return "unix:\(path)" }
        guard let ip = address.ipAddress, let port = address.port else { return "fd:\(descriptor)" }
        return ip.contains(":") ? "[\(ip)]:\(port)" : "\(ip):\(port)"
    }
}

/// `close(2)`, named apart from ``ListeningSocket/close()``.
@discardableResult
func systemClose(_ descriptor: CInt) -> CInt {
    #if canImport(Glibc)
        Glibc.close(descriptor)
    #else
        Darwin.close(descriptor)
    #endif
}

/// `strerror(errno)`.
func errnoText(_ code: CInt = errno) -> String {
    String(cString: strerror(code))
}

/// The supervisor could not do something it needs (open a socket, spawn a worker, read its
/// configuration).
public struct SupervisorError: Error, CustomStringConvertible {
    public let description: String

    public init(_ description: String) {
        self.description = description
    }
}
