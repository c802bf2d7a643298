import COpenSSL
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// One HTTP/2 frame as read off the wire.
struct RawFrame: CustomStringConvertible {
    enum Kind: UInt8 {
        case data = 0, headers, priority, rstStream, settings, pushPromise, ping, goAway, windowUpdate, continuation
    }

    var type: UInt8
    var flags: UInt8
    var stream: UInt32
    var payload: [UInt8]

    var kind: Kind? { Kind(rawValue: type) }
    var endStream: Bool { flags & 0x1 != 0 }
    var isAck: Bool { flags & 0x1 != 0 }

    /// RST_STREAM's error code, or GOAWAY's.
    var errorCode: UInt32? {
        switch kind {
        case .rstStream: payload.count >= 4 ? RawFrame.uint32(payload, at: 0) : nil
        case .goAway: payload.count >= 8 ? RawFrame.uint32(payload, at: 4) : nil
        default: nil
        }
    }

    /// GOAWAY's last stream id.
    var lastStreamID: UInt32? {
        kind == .goAway && payload.count >= 4 ? RawFrame.uint32(payload, at: 0) & 0x7fff_ffff : nil
    }

    /// SETTINGS entries (id → value).
    var settings: [UInt16: UInt32] {
        guard kind == .settings else { return [:] }
        var entries: [UInt16: UInt32] = [:]
        var offset = 0
        while offset + 6 <= payload.count {
            entries[UInt16(payload[offset]) << 8 | UInt16(payload[offset + 1])] = RawFrame.uint32(payload, at: offset + 2)
            offset += 6
        }
        return entries
    }

    /// The `:status` of a response HEADERS frame when the server's encoder put it first, as a
    /// static-table entry or a literal with the static `:status` name and a plain value (what
    /// nghttp2 writes for a first response); `nil` for anything else.
    var status: Int? {
        guard kind == .headers, var offset = payload.isEmpty ? nil : 0 else { return nil }
        if flags & 0x8 != 0 { offset += 1 }  // PADDED
        if flags & 0x20 != 0 { offset += 5 }  // PRIORITY
        guard offset < payload.count else { return nil }
        let first = payload[offset]
        let indexed: [UInt8: Int] = [0x88: 200, 0x89: 204, 0x8a: 206, 0x8b: 304, 0x8c: 400, 0x8d: 404, 0x8e: 500]
        if let status = indexed[first] { return status }
        // Literal with (0x48) or without (0x08) indexing, or never indexed (0x18), name index 8.
        guard [0x48, 0x08, 0x18].contains(first), offset + 2 < payload.count, payload[offset + 1] & 0x80 == 0 else { return nil }
        let length = Int(payload[offset + 1])
        guard offset + 2 + length <= payload.count else { return nil }
        return Int(String(decoding: payload[(offset + 2)..<(offset + 2 + length)], as: UTF8.self))
    }

    var description: String {
        let name = kind.map { "\($0)" } ?? "type\(type)"
        var text = "\(name)(stream \(stream), flags 0x\(String(flags, radix: 16)), \(payload.count) B"
        if let code = errorCode { text += ", error \(code)" }
        if let last = lastStreamID { text += ", last \(last)" }
        return text + ")"
    }

    static func uint32(_ bytes: [UInt8], at offset: Int) -> UInt32 {
        bytes[offset..<(offset + 4)].reduce(0) { $0 << 8 | UInt32($1) }
    }
}

/// HTTP/2 error codes the tests expect (RFC 9113 section 7).
enum H2Error {
    static let noError: UInt32 = 0x0
    static let protocolError: UInt32 = 0x1
    static let internalError: UInt32 = 0x2
    static let refusedStream: UInt32 = 0x7
    static let cancel: UInt32 = 0x8
    static let enhanceYourCalm: UInt32 = 0xb
}

/// Builds raw HTTP/2 frames, including ones a conforming client never sends.
enum H2 {
    static let preface = Array("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".utf8)

    static func frame(type: RawFrame.Kind, flags: UInt8 = 0, stream: UInt32, payload: [UInt8] = []) -> [UInt8] {
        bytes(UInt32(payload.count), count: 3) + [type.rawValue, flags] + bytes(stream & 0x7fff_ffff, count: 4) + payload
    }

    static func bytes(_ value: UInt32, count: Int) -> [UInt8] {
        (0..<count).map { UInt8(truncatingIfNeeded: value >> (8 * UInt32(count - 1 - $0))) }
    }

    /// An HPACK block of literal fields without indexing and with literal names (no Huffman):
    /// the simplest encoding every decoder must accept.
    static func headerBlock(_ fields: [(String, String)]) -> [UInt8] {
        var block: [UInt8] = []
        for (name, value) in fields {
            block.append(0x00)
            block += integer(name.utf8.count, prefix: 7) + Array(name.utf8)
            block += integer(value.utf8.count, prefix: 7) + Array(value.utf8)
        }
        return block
    }

    /// An HPACK integer with an `prefix`-bit prefix (high bits of the first byte left 0).
    static func integer(_ value: Int, prefix: Int) -> [UInt8] {
        let limit = (1 << prefix) - 1
        if value < limit { return [UInt8(value)] }
        var out: [UInt8] = [UInt8(limit)]
        var rest = value - limit
        while rest >= 128 {
            out.append(UInt8(rest & 0x7f | 0x80))
            rest >>= 7
        }
        out.append(UInt8(rest))
        return out
    }

    static func request(_ path: String = "/", extra: [(String, String)] = []) -> [(String, String)] {
        [(":method", "GET"), (":scheme", "https"), (":authority", "a.test"), (":path", path)] + extra
    }

    static func headers(stream: UInt32, _ fields: [(String, String)], endStream: Bool = true, endHeaders: Bool = true) -> [UInt8] {
        headers(stream: stream, block: headerBlock(fields), endStream: endStream, endHeaders: endHeaders)
    }

    static func headers(stream: UInt32, block: [UInt8], endStream: Bool, endHeaders: Bool) -> [UInt8] {
        frame(type: .headers, flags: (endStream ? 0x1 : 0) | (endHeaders ? 0x4 : 0), stream: stream, payload: block)
    }

    static func continuation(stream: UInt32, block: [UInt8], endHeaders: Bool = false) -> [UInt8] {
        frame(type: .continuation, flags: endHeaders ? 0x4 : 0, stream: stream, payload: block)
    }

    static func data(stream: UInt32, _ payload: [UInt8], endStream: Bool = true) -> [UInt8] {
        frame(type: .data, flags: endStream ? 0x1 : 0, stream: stream, payload: payload)
    }

    static func rstStream(stream: UInt32, code: UInt32 = H2Error.cancel) -> [UInt8] {
        frame(type: .rstStream, stream: stream, payload: bytes(code, count: 4))
    }

    static func settings(_ entries: [(id: UInt16, value: UInt32)] = []) -> [UInt8] {
        frame(type: .settings, stream: 0, payload: entries.flatMap { bytes(UInt32($0.id), count: 2) + bytes($0.value, count: 4) })
    }

    static let settingsAck = frame(type: .settings, flags: 0x1, stream: 0)

    static func ping(_ opaque: UInt64 = 0) -> [UInt8] {
        frame(type: .ping, stream: 0, payload: bytes(UInt32(opaque >> 32), count: 4) + bytes(UInt32(truncatingIfNeeded: opaque), count: 4))
    }

    static func windowUpdate(stream: UInt32, increment: UInt32) -> [UInt8] {
        frame(type: .windowUpdate, stream: stream, payload: bytes(increment, count: 4))
    }

    static func priority(stream: UInt32, dependsOn: UInt32, weight: UInt8 = 15) -> [UInt8] {
        frame(type: .priority, stream: stream, payload: bytes(dependsOn, count: 4) + [weight])
    }

    enum Setting {
        static let headerTableSize: UInt16 = 0x1
        static let maxConcurrentStreams: UInt16 = 0x3
        static let initialWindowSize: UInt16 = 0x4
        static let maxFrameSize: UInt16 = 0x5
        static let maxHeaderListSize: UInt16 = 0x6
    }
}

/// A blocking HTTP/2 client over TLS (OpenSSL, ALPN h2) that writes whatever frames a test
/// builds and reads frames back until an expected one arrives, the connection closes or a
/// deadline passes — never for a fixed time. Blocking: use it inside ``offThePool(_:)``.
final class RawHTTP2Client {
    let fd: Int32
    private let context: OpaquePointer
    private let ssl: OpaquePointer
    private var buffer: [UInt8] = []
    private(set) var closed = false

    /// Connects, completes the TLS handshake (ALPN h2 required) and sends the connection
    /// preface with `settings`.
    /// - Parameter receiveBuffer: SO_RCVBUF before connecting (small: the server's writes back
    ///   up quickly when the client stops reading).
    init(port: Int, settings: [(id: UInt16, value: UInt32)] = [], receiveBuffer: Int32? = nil) throws {
        signal(SIGPIPE, SIG_IGN)  // a write after the server closed must fail, not kill the tests
        let fd = try connectLoopback(port: port, receiveBuffer: receiveBuffer)
        self.fd = fd
        guard let context = SSL_CTX_new(TLS_client_method()) else {
            Glibc.close(fd)
            throw TestFailure("SSL_CTX_new")
        }
        self.context = context
        SSL_CTX_set_verify(context, SSL_VERIFY_NONE, nil)  // a throwaway test CA; the tests are about frames
        let protocols: [UInt8] = [2, UInt8(ascii: "h"), UInt8(ascii: "2")]
        _ = SSL_CTX_set_alpn_protos(context, protocols, UInt32(protocols.count))
        guard let ssl = SSL_new(context) else {
            SSL_CTX_free(context)
            Glibc.close(fd)
            throw TestFailure("SSL_new")
        }
        self.ssl = ssl
        SSL_set_fd(ssl, fd)
        Self.setTimeout(fd, SO_SNDTIMEO, seconds: 10)
        Self.setTimeout(fd, SO_RCVTIMEO, seconds: 10)
        guard SSL_connect(ssl) == 1 else { throw TestFailure("TLS handshake failed") }
        var alpn: UnsafePointer<UInt8>?
        var length: UInt32 = 0
        SSL_get0_alpn_selected(ssl, &alpn, &length)
        guard let alpn, length == 2, alpn[0] == UInt8(ascii: "h"), alpn[1] == UInt8(ascii: "2") else {
            throw TestFailure("ALPN did not choose h2")
        }
        // Reads wait in short slices, so a read's own deadline decides how long it waits.
        Self.setTimeout(fd, SO_RCVTIMEO, seconds: 0.05)
        try send(H2.preface + H2.settings(settings))
    }

    deinit {
        SSL_free(ssl)
        SSL_CTX_free(context)
        Glibc.close(fd)
    }

    static func setTimeout(_ fd: Int32, _ option: Int32, seconds: Double) {
        var timeout = timeval(tv_sec: Int(seconds), tv_usec: Int(seconds.truncatingRemainder(dividingBy: 1) * 1e6))
        setsockopt(fd, SOL_SOCKET, option, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    /// Writes `bytes` whole. Throws when the connection is gone (the server closed it).
    func send(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { SSL_write(ssl, $0.baseAddress, Int32($0.count)) }
            guard n > 0 else { throw TestFailure("write failed (SSL error \(SSL_get_error(ssl, n)), errno \(errno))") }
            offset += Int(n)
        }
    }

    /// Writes as much of `bytes` as the connection takes; `false` once the server closed it.
    func trySend(_ bytes: [UInt8]) -> Bool { (try? send(bytes)) != nil }

    /// The next frame, or `nil` once the connection closed (end of stream or reset).
    /// - Throws: when no whole frame arrived within `timeout` seconds.
    func nextFrame(timeout: Double = 10) throws -> RawFrame? {
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            if buffer.count >= 9 {
                let length = Int(buffer[0]) << 16 | Int(buffer[1]) << 8 | Int(buffer[2])
                if buffer.count >= 9 + length {
                    let frame = RawFrame(
                        type: buffer[3], flags: buffer[4], stream: RawFrame.uint32(buffer, at: 5) & 0x7fff_ffff,
                        payload: Array(buffer[9..<(9 + length)]))
                    buffer.removeFirst(9 + length)
                    return frame
                }
            }
            if closed { return nil }
            guard Date() < deadline else { throw TestFailure("no frame within \(timeout) s (\(buffer.count) bytes buffered)") }
            readSome()
        }
    }

    /// Reads frames until `predicate` holds for one (returned last), the connection closes, or
    /// `timeout` seconds pass (throws).
    func frames(until predicate: (RawFrame) -> Bool, timeout: Double = 10) throws -> [RawFrame] {
        let deadline = Date().addingTimeInterval(timeout)
        var frames: [RawFrame] = []
        while let frame = try nextFrame(timeout: max(0, deadline.timeIntervalSinceNow)) {
            frames.append(frame)
            if predicate(frame) { return frames }
        }
        return frames
    }

    /// Reads every frame until the connection closes (throws after `timeout` seconds).
    func framesUntilClosed(timeout: Double = 10) throws -> [RawFrame] {
        try frames(until: { _ in false }, timeout: timeout)
    }

    /// Reads one slice (up to the socket's short receive timeout); marks the end of the
    /// connection.
    private func readSome() {
        var chunk = [UInt8](repeating: 0, count: 16384)
        let n = chunk.withUnsafeMutableBytes { SSL_read(ssl, $0.baseAddress, Int32($0.count)) }
        if n > 0 {
            buffer += chunk[0..<Int(n)]
            return
        }
        let error = SSL_get_error(ssl, n)
        if error == SSL_ERROR_WANT_READ || error == SSL_ERROR_WANT_WRITE { return }  // the slice's timeout
        if error == SSL_ERROR_SYSCALL && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) { return }
        closed = true  // close_notify, end of stream, reset
    }

    /// Closes the TCP connection (no close_notify: an abrupt client).
    func close() { Glibc.shutdown(fd, Int32(SHUT_RDWR)) }
}
