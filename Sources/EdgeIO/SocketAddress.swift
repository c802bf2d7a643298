import CEdgeIO

#if canImport(Glibc)
    import Glibc
#endif

/// An upstream's address, resolved once into a `sockaddr` kept by value: a numeric IPv4/IPv6
/// address and port, or a Unix-domain socket path. Connecting to it
/// (``LoopIO/connect(to:)``) handles no strings.
public struct SocketAddress: Sendable, CustomStringConvertible {
    @usableFromInline var raw: ceio_address
    public let description: String
    /// The numeric IP address of a TCP address (`nil` for a Unix socket).
    public let host: String?
    /// The port of a TCP address (`nil` for a Unix socket).
    public let port: Int?
    /// The path of a Unix-domain socket address (`nil` for TCP).
    public let unixPath: String?

    /// A TCP address.
    /// - Parameters:
    ///   - host: a numeric IPv4 or IPv6 address (no name resolution here).
    ///   - port: the port.
    /// - Throws: ``EdgeIOError`` when `host` is not a numeric address.
    public init(host: String, port: UInt16) throws {
        var raw = ceio_address()
        guard host.withCString({ ceio_address_tcp($0, port, &raw) }) == 0 else {
            throw EdgeIOError.connect(errno: ceio_errno(), context: "address \(host):\(port)")
        }
        self.raw = raw
        description = host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
        self.host = host
        self.port = Int(port)
        unixPath = nil
    }

    /// A TCP address for a host name or numeric address, resolved now (`getaddrinfo`, the
    /// first address it gives): for configuration loads, never per connection.
    /// - Throws: ``EdgeIOError`` saying why the name did not resolve.
    public init(resolving name: String, port: UInt16) throws {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(name, nil, &hints, &list)
        guard status == 0, let first = list, let address = first.pointee.ai_addr else {
            throw EdgeIOError.resolve(name: name, reason: status == 0 ? "no address" : String(cString: gai_strerror(status)))
        }
        defer { freeaddrinfo(list) }
        var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        let converted: UnsafePointer<CChar>?
        switch Int32(address.pointee.sa_family) {
        case AF_INET6:
            converted = address.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { v6 in
                withUnsafePointer(to: v6.pointee.sin6_addr) { inet_ntop(AF_INET6, $0, &text, socklen_t(text.count)) }
            }
        case AF_INET:
            converted = address.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { v4 in
                withUnsafePointer(to: v4.pointee.sin_addr) { inet_ntop(AF_INET, $0, &text, socklen_t(text.count)) }
            }
        default:
            converted = nil
        }
        guard converted != nil else { throw EdgeIOError.resolve(name: name, reason: "no IPv4 or IPv6 address") }
        try self.init(host: String(cString: text), port: port)
    }

    /// A Unix-domain socket address.
    /// - Parameter unixPath: the socket's path (at most 107 bytes).
    /// - Throws: ``EdgeIOError`` when the path is empty or too long.
    public init(unixPath: String) throws {
        var raw = ceio_address()
        guard unixPath.withCString({ ceio_address_unix($0, &raw) }) == 0 else {
            throw EdgeIOError.connect(errno: ceio_errno(), context: "address unix:\(unixPath)")
        }
        self.raw = raw
        description = "unix:\(unixPath)"
        self.unixPath = unixPath
        host = nil
        port = nil
    }
}
