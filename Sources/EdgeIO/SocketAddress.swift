import CEdgeIO

/// An upstream's address, resolved once into a `sockaddr` kept by value: a numeric IPv4/IPv6
/// address and port, or a Unix-domain socket path. Connecting to it
/// (``LoopIO/connect(to:)``) handles no strings.
public struct SocketAddress: Sendable, CustomStringConvertible {
    @usableFromInline var raw: ceio_address
    public let description: String

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
    }
}
