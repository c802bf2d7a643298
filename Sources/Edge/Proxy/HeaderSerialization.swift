import EdgeRules
import NIOCore
import NIOHPACK
import NIOHTTP1

/// Somewhere headers can be added one by one: `HTTPHeaders` (for the compressor), header lines
/// being written straight into an HTTP/1.1 output buffer, or an HTTP/2 header block. The header
/// rewriting is written once against this and runs unchanged for all of them.
protocol HeaderSink {
    mutating func add(name: String, value: String)
    /// Adds headers known in advance (the edge's own), at once where the sink can.
    mutating func add(prepared: PreparedHeaders)
    /// Adds `X-Request-ID` (unique per message, which an HTTP/2 header block keeps out of its table).
    mutating func add(requestID: String)
}

extension HeaderSink {
    mutating func add(prepared: PreparedHeaders) {
        for (name, value) in prepared.pairs { add(name: name, value: value) }
    }

    mutating func add(requestID: String) {
        add(name: "X-Request-ID", value: requestID)
    }
}

extension HTTPHeaders: HeaderSink {}

/// Headers known before any request (security headers, HSTS, a route's `Cache-Control`), kept
/// both as pairs and as their HTTP/1.1 lines, so that a response head takes them in one copy.
/// Never framing headers: the configuration refuses those.
struct PreparedHeaders: Sendable {
    let pairs: [(name: String, value: String)]
    /// `Name: value\r\n` for each pair.
    let serialized: [UInt8]
    /// The pairs with lowercased names, as HTTP/2 needs them.
    let lowercased: [(name: String, value: String)]

    init(_ pairs: [(name: String, value: String)]) {
        self.pairs = pairs
        self.serialized = Array(pairs.map { "\($0.name): \($0.value)\r\n" }.joined().utf8)
        self.lowercased = pairs.map { ($0.name.lowercased(), $0.value) }
    }
}

/// A response header block for an HTTP/2 stream, built directly (no `HTTPHeaders` converted
/// afterwards): `:status` first, names lowercased (HTTP/2 forbids uppercase), the
/// connection-specific headers HTTP/2 forbids left out (RFC 9113 §8.2.2), and the request ID
/// kept out of the HPACK dynamic table, where a value used once would only push others out.
struct HTTP2ResponseHeaders: HeaderSink {
    private(set) var block: HPACKHeaders

    init(status: HTTPResponseStatus) {
        block = HPACKHeaders()
        block.reserveCapacity(16)
        block.add(name: ":status", value: String(status.code))
    }

    /// Connection-specific headers, which an HTTP/2 message must not carry.
    private static let connectionSpecific = HeaderNameSet([
        "connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade",
    ])

    mutating func add(name: String, value: String) {
        if Self.connectionSpecific.contains(name) { return }
        let lowered = name.utf8.contains { $0 >= 0x41 && $0 <= 0x5A } ? name.lowercased() : name
        block.add(name: lowered, value: value)
    }

    mutating func add(prepared: PreparedHeaders) {
        for (name, value) in prepared.lowercased { block.add(name: name, value: value) }
    }

    mutating func add(requestID: String) {
        block.add(name: "x-request-id", value: requestID, indexing: .nonIndexable)
    }
}

/// Header lines written straight into a `ByteBuffer`: `Name: value\r\n` each.
struct HTTP1HeaderLines: HeaderSink {
    var buffer: ByteBuffer

    init(into buffer: ByteBuffer) { self.buffer = buffer }

    mutating func add(name: String, value: String) {
        buffer.writeString(name)
        buffer.writeStaticString(": ")
        buffer.writeString(value)
        buffer.writeStaticString("\r\n")
    }

    mutating func add(prepared: PreparedHeaders) {
        buffer.writeBytes(prepared.serialized)
    }
}

/// An HTTP/1.x response head written straight into a `ByteBuffer`, header by header, with no
/// `HTTPHeaders` in between.
///
/// Framing is the engine's ``ResponseFraming`` (the same rules as NIO's `HTTPResponseEncoder`).
struct HTTP1ResponseHead: HeaderSink {
    private var lines: HTTP1HeaderLines
    private let framing: ResponseFraming
    private let version: HTTPVersion
    private var hasContentLength = false

    /// Starts a head: writes the status line.
    /// - Parameters:
    ///   - buffer: where to write (appended to).
    ///   - requestMethod: the method of the request it answers (HEAD and CONNECT responses carry no body).
    init(into buffer: ByteBuffer, status: HTTPResponseStatus, version: HTTPVersion, requestMethod: HTTPMethod) {
        var buffer = buffer
        buffer.writeStatusLine(version: version, status: status)
        self.lines = HTTP1HeaderLines(into: buffer)
        self.version = version
        self.framing = ResponseFraming(status: Int(status.code), isHEAD: requestMethod == .HEAD, isCONNECT: requestMethod == .CONNECT)
    }

    mutating func add(name: String, value: String) {
        if Self.isFraming(name) {
            if !framing.keepsFramingFields { return }
            if name.utf8.count == 14 {
                hasContentLength = true
            } else {
                return  // Transfer-Encoding: decided by `finish`, from the Content-Length
            }
        }
        lines.add(name: name, value: value)
    }

    mutating func add(prepared: PreparedHeaders) {
        lines.add(prepared: prepared)
    }

    /// Ends the head (adding `Transfer-Encoding: chunked` where the body needs it).
    /// - Returns: the buffer, and how the body that follows is framed.
    mutating func finish() -> (ByteBuffer, ResponseFraming.Body) {
        let (body, addsChunked) = framing.http1(
            hasContentLength: hasContentLength, clientIsHTTP11: version.major > 1 || (version.major == 1 && version.minor >= 1))
        if addsChunked { lines.buffer.writeStaticString("Transfer-Encoding: chunked\r\n") }
        lines.buffer.writeStaticString("\r\n")
        return (lines.buffer, body)
    }

    /// `Content-Length` and `Transfer-Encoding`: the two differ in length.
    private static let framingNames = HeaderNameSet(["content-length", "transfer-encoding"])

    private static func isFraming(_ name: String) -> Bool { framingNames.contains(name) }
}

extension ByteBuffer {
    /// `HTTP/1.1 200 OK\r\n`.
    mutating func writeStatusLine(version: HTTPVersion, status: HTTPResponseStatus) {
        if version.major == 1 && version.minor == 1 {
            writeStaticString("HTTP/1.1 ")
        } else {
            writeString("HTTP/\(version.major).\(version.minor) ")
        }
        let code = status.code
        writeInteger(UInt8(ascii: "0") + UInt8(truncatingIfNeeded: code / 100 % 10))
        writeInteger(UInt8(ascii: "0") + UInt8(truncatingIfNeeded: code / 10 % 10))
        writeInteger(UInt8(ascii: "0") + UInt8(truncatingIfNeeded: code % 10))
        writeStaticString(" ")
        writeString(status.reasonPhrase)
        writeStaticString("\r\n")
    }

    /// The size line of a chunk: `<hex>\r\n`.
    mutating func writeChunkSize(_ size: Int) {
        var digits = 0
        var rest = size
        repeat {
            digits += 1
            rest >>= 4
        } while rest > 0
        for shift in stride(from: (digits - 1) * 4, through: 0, by: -4) {
            let nibble = UInt8(truncatingIfNeeded: (size >> shift) & 0xF)
            writeInteger(nibble < 10 ? UInt8(ascii: "0") + nibble : UInt8(ascii: "a") + nibble - 10)
        }
        writeStaticString("\r\n")
    }
}
