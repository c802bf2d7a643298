import NIOCore
import NIOHPACK
import NIOPosix
import NIOSSL
import Synchronization

/// One HTTP/2 frame as it crossed the wire.
struct RawFrame: CustomStringConvertible {
    enum Kind: UInt8 {
        case data = 0, headers = 1, priority = 2, rstStream = 3, settings = 4, pushPromise = 5, ping = 6, goAway = 7,
            windowUpdate = 8, continuation = 9
    }

    var type: UInt8
    var flags: UInt8
    var streamID: UInt32
    var payload: [UInt8]

    var kind: Kind? { Kind(rawValue: type) }
    var endStream: Bool { flags & 0x1 != 0 }
    /// The error code of a RST_STREAM, or of a GOAWAY.
    var errorCode: UInt32? {
        switch kind {
        case .rstStream: Self.uint32(payload, at: 0)
        case .goAway: Self.uint32(payload, at: 4)
        default: nil
        }
    }
    /// A GOAWAY's last stream ID.
    var lastStreamID: UInt32? { kind == .goAway ? Self.uint32(payload, at: 0) & 0x7FFF_FFFF : nil }

    var description: String { "\(kind.map { "\($0)" } ?? "type \(type)") stream \(streamID) flags \(flags) \(payload.count) B" }

    static func uint32(_ bytes: [UInt8], at offset: Int) -> UInt32 {
        guard bytes.count >= offset + 4 else { return 0 }
        return bytes[offset..<(offset + 4)].reduce(0) { $0 << 8 | UInt32($1) }
    }
}

/// An HTTP/2 client that writes frames byte for byte over TLS (ALPN `h2`), so a test can send
/// what a conforming client never would (uppercase names, bodies shorter than their length,
/// streams beyond the limit) and see every frame the edge answers with. Header blocks are
/// written as literals without Huffman coding or indexing; answers are decoded with NIOHPACK.
final class RawHTTP2Connection: Sendable {
    private let channel: any Channel
    private let received: RawBytes
    private let decoder = Mutex(HeaderDecoding())

    private init(channel: any Channel, received: RawBytes) {
        self.channel = channel
        self.received = received
    }

    /// Connects, completes TLS with ALPN `h2`, and sends the preface and `settings`.
    static func connect(port: Int, settings: [(id: UInt16, value: UInt32)] = []) async throws -> RawHTTP2Connection {
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.certificateVerification = .none
        configuration.applicationProtocols = ["h2"]
        let context = try NIOSSLContext(configuration: configuration)
        let received = RawBytes()
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connectTimeout(.seconds(5))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(try NIOSSLClientHandler(context: context, serverHostname: "a.test"))
                    try channel.pipeline.syncOperations.addHandler(RawBytesCollector(received: received))
                }
            }
            .connect(host: "127.0.0.1", port: port).get()
        let connection = RawHTTP2Connection(channel: channel, received: received)
        var preface = Array("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".utf8)
        var payload: [UInt8] = []
        for (id, value) in settings { payload += Self.bytes(UInt32(id), count: 2) + Self.bytes(value, count: 4) }
        preface += Self.frame(type: 4, flags: 0, stream: 0, payload: payload)
        try await connection.send(preface)
        return connection
    }

    func send(_ bytes: [UInt8]) async throws {
        try await channel.writeAndFlush(ByteBuffer(bytes: bytes)).get()
    }

    func close() async { try? await channel.close().get() }

    // MARK: Frames to send

    static func frame(type: UInt8, flags: UInt8, stream: UInt32, payload: [UInt8]) -> [UInt8] {
        bytes(UInt32(payload.count), count: 3) + [type, flags] + bytes(stream, count: 4) + payload
    }

    static func bytes(_ value: UInt32, count: Int) -> [UInt8] {
        (0..<count).reversed().map { UInt8(truncatingIfNeeded: value >> (8 * UInt32($0))) }
    }

    /// A header block of literal fields (RFC 7541 §6.2.2, "without indexing", no Huffman), in
    /// the order given: names are sent exactly as written, valid or not.
    static func headerBlock(_ fields: [(String, String)]) -> [UInt8] {
        var block: [UInt8] = []
        for (name, value) in fields {
            block.append(0x00)
            block += integer(name.utf8.count) + Array(name.utf8)
            block += integer(value.utf8.count) + Array(value.utf8)
        }
        return block
    }

    /// A string length as HPACK's 7-bit-prefix integer, Huffman bit clear.
    private static func integer(_ value: Int) -> [UInt8] {
        guard value >= 127 else { return [UInt8(value)] }
        var rest = value - 127
        var out: [UInt8] = [127]
        while rest >= 128 {
            out.append(UInt8(rest % 128 + 128))
            rest /= 128
        }
        out.append(UInt8(rest))
        return out
    }

    /// A request's HEADERS frame (END_HEADERS set).
    static func headers(stream: UInt32, _ fields: [(String, String)], endStream: Bool) -> [UInt8] {
        frame(type: 1, flags: 0x4 | (endStream ? 0x1 : 0), stream: stream, payload: headerBlock(fields))
    }

    static func data(stream: UInt32, _ payload: [UInt8], endStream: Bool) -> [UInt8] {
        frame(type: 0, flags: endStream ? 0x1 : 0, stream: stream, payload: payload)
    }

    static let settingsAck = frame(type: 4, flags: 0x1, stream: 0, payload: [])

    static func ping(_ opaque: UInt8) -> [UInt8] { frame(type: 6, flags: 0, stream: 0, payload: [UInt8](repeating: opaque, count: 8)) }

    /// The pseudo-headers of a request to the edge.
    static func request(_ method: String, _ path: String) -> [(String, String)] {
        [(":method", method), (":scheme", "https"), (":authority", "a.test"), (":path", path)]
    }

    // MARK: Frames received

    /// Waits until `condition` holds over the frames received so far (in order), or fails after
    /// `timeout` listing them.
    @discardableResult
    func frames(
        until what: String, timeout: Duration = .seconds(10), _ condition: ([RawFrame]) -> Bool
    ) async throws -> [RawFrame] {
        let deadline = ContinuousClock.now + timeout
        while true {
            let frames = received.frames()
            if condition(frames) { return frames }
            guard ContinuousClock.now < deadline else {
                throw TestFailure("timed out after \(timeout) waiting for \(what); received: \(frames)")
            }
            try await Task.sleep(for: .milliseconds(5))
        }
    }

    /// Every complete frame received so far.
    func receivedFrames() -> [RawFrame] { received.frames() }

    /// Whether the edge closed the TCP connection.
    var isClosed: Bool { received.isClosed }

    /// The `:status` of each stream's response HEADERS received so far, by stream ID. Header
    /// blocks are decoded once each, in arrival order, as HPACK's shared table requires.
    func statuses() throws -> [UInt32: Int] {
        let frames = received.frames()
        return try decoder.withLock { state in
            for frame in frames.dropFirst(state.decodedFrames) {
                state.decodedFrames += 1
                guard frame.kind == .headers else { continue }
                var block = ByteBuffer(bytes: frame.payload)
                let headers = try state.decoder.decodeHeaders(from: &block)
                if let status = headers.first(name: ":status").flatMap({ Int($0) }) { state.statuses[frame.streamID] = status }
            }
            return state.statuses
        }
    }
}

/// A connection's HPACK decoder and what it decoded.
struct HeaderDecoding {
    var decoder = HPACKDecoder(allocator: ByteBufferAllocator())
    var decodedFrames = 0
    var statuses: [UInt32: Int] = [:]
}

/// What a ``RawHTTP2Connection`` has received: the decrypted bytes, split into frames on demand.
final class RawBytes: Sendable {
    private let state = Mutex<(bytes: [UInt8], closed: Bool)>(([], false))

    func append(_ bytes: [UInt8]) { state.withLock { $0.bytes += bytes } }
    func markClosed() { state.withLock { $0.closed = true } }
    var isClosed: Bool { state.withLock { $0.closed } }

    /// Every complete frame received so far.
    func frames() -> [RawFrame] {
        let bytes = state.withLock { $0.bytes }
        var frames: [RawFrame] = []
        var offset = 0
        while offset + 9 <= bytes.count {
            let length = Int(bytes[offset]) << 16 | Int(bytes[offset + 1]) << 8 | Int(bytes[offset + 2])
            guard offset + 9 + length <= bytes.count else { break }
            frames.append(
                RawFrame(
                    type: bytes[offset + 3], flags: bytes[offset + 4],
                    streamID: RawFrame.uint32(bytes, at: offset + 5) & 0x7FFF_FFFF,
                    payload: Array(bytes[(offset + 9)..<(offset + 9 + length)])))
            offset += 9 + length
        }
        return frames
    }
}

private final class RawBytesCollector: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    let received: RawBytes

    init(received: RawBytes) { self.received = received }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buffer = unwrapInboundIn(data)
        received.append(buffer.readBytes(length: buffer.readableBytes) ?? [])
    }

    func channelInactive(context: ChannelHandlerContext) {
        received.markClosed()
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}
