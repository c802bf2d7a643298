import EdgeIO

/// The fixture's policy: every request to upstream 0, with what the benchmark's nginx, HAProxy
/// and edge configurations add (bench/conf/): X-Real-IP, X-Forwarded-For, X-Forwarded-Proto and
/// X-Request-ID upstream; the HomeRack security headers and X-Request-ID on every response;
/// the upstream's Server and X-Powered-By removed. A stand-in for the engine, not a router.
public struct FixturePolicy: ProxyPolicy {
    /// xorshift64* state for request IDs (nginx's $request_id is random too).
    var random: UInt64
    /// Where requests go: the first one (the others are there for tests that name them).
    let upstreams: [SocketAddress]
    /// Each connection's peer address as text (``addressRoom`` bytes a slot, then its length
    /// in ``addressLengths``), kept from ``connectionOpened(_:)``.
    var addresses: [UInt8] = []
    var addressLengths: [UInt8] = []
    static var addressRoom: Int { 48 }
    /// Gzip text responses for clients that take it (as the edge's `compress: true` route):
    /// the request's answer is kept in its tag's lowest bit.
    public var compresses = false

    public init(seed: UInt64, upstreams: [SocketAddress]) {
        random = seed | 1
        self.upstreams = upstreams
    }

    public func upstreamAddress(_ index: Int) -> SocketAddress { upstreams[index] }

    public mutating func connectionOpened(_ client: ClientContext) {
        let slot = Int(client.connection.index)
        if addressLengths.count <= slot {
            addressLengths += [UInt8](repeating: 0, count: slot + 1 - addressLengths.count)
            addresses += [UInt8](repeating: 0, count: addressLengths.count * Self.addressRoom - addresses.count)
        }
        let length = min(client.address.count, Self.addressRoom)
        addresses.withUnsafeMutableBytes { table in
            table.baseAddress!.advanced(by: slot * Self.addressRoom).copyMemory(from: client.address.baseAddress!, byteCount: length)
        }
        addressLengths[slot] = UInt8(length)
    }

    /// Appends the connection's peer address.
    func writeAddress(of client: ClientContext, into writer: inout HeadWriter) {
        let slot = Int(client.connection.index)
        guard slot < addressLengths.count else { return }
        addresses.withUnsafeBytes { table in
            writer.append(UnsafeRawBufferPointer(rebasing: table[(slot * Self.addressRoom)..<(slot * Self.addressRoom + Int(addressLengths[slot]))]))
        }
    }

    public mutating func decide(
        _ request: HTTPRequestHead, in input: UnsafeRawBufferPointer, client: ClientContext, answer: inout HeadWriter
    ) -> ProxyDecision {
        random ^= random >> 12
        random ^= random << 25
        random ^= random >> 27
        let tag = random &* 0x2545_F491_4F6C_DD1D
        guard compresses else { return .forward(upstream: 0, tag: tag) }
        return .forward(upstream: 0, tag: tag & ~1 | (request.acceptsGzip(in: input) ? 1 : 0))
    }

    public func compressesResponse(_ response: HTTPResponseHead, in input: UnsafeRawBufferPointer, tag: UInt64) -> Bool {
        compresses && tag & 1 != 0 && response.gzipEligible(in: input)
    }

    public mutating func writeRequestFields(
        _ request: HTTPRequestHead, in input: UnsafeRawBufferPointer, client: ClientContext, tag: UInt64,
        into writer: inout HeadWriter
    ) {
        writer.append("X-Real-IP: ")
        writeAddress(of: client, into: &writer)
        writer.append("\r\nX-Forwarded-For: ")
        writeAddress(of: client, into: &writer)
        writer.append(client.secure ? "\r\nX-Forwarded-Proto: https\r\nX-Request-ID: " : "\r\nX-Forwarded-Proto: http\r\nX-Request-ID: ")
        writeRequestID(tag, into: &writer)
        writer.append("\r\n")
    }

    public func dropsResponseField(_ name: UnsafeRawBufferPointer, tag: UInt64) -> Bool {
        (name.count == 6 && HTTPScan.matches(name, 0, 6, "server"))
            || (name.count == 12 && HTTPScan.matches(name, 0, 12, "x-powered-by"))
    }

    public mutating func writeResponseFields(status: Int, client: ClientContext, tag: UInt64, into writer: inout HeadWriter) {
        writer.append(
            "X-Frame-Options: SAMEORIGIN\r\nX-Content-Type-Options: nosniff\r\nX-XSS-Protection: 1; mode=block\r\nReferrer-Policy: no-referrer-when-downgrade\r\nContent-Security-Policy: default-src 'self' https: data: blob: 'unsafe-inline'; frame-ancestors 'self';\r\nPermissions-Policy: geolocation=(), microphone=(), camera=()\r\n"
        )
        if client.secure { writer.append("Strict-Transport-Security: max-age=31536000; includeSubDomains\r\n") }
        writer.append("X-Request-ID: ")
        writeRequestID(tag, into: &writer)
        writer.append("\r\n")
    }

    /// 32 hex digits, like nginx's $request_id.
    func writeRequestID(_ tag: UInt64, into writer: inout HeadWriter) {
        writer.appendHex(tag)
        writer.appendHex(tag &* 0x9E37_79B9_7F4A_7C15)
    }
}
