import NIOCore
import NIOHTTP1

/// Reads HTTP/1.x responses off an upstream connection, one per request sent, without copying
/// their bodies: body events are slices of the bytes read.
///
/// Pure and pull-driven: the connection hands it what it read, then takes events until it says
/// it needs more (`nil`). It is the edge's own because the proxy needs so little of a general
/// decoder (no request heads to observe on the way out, no callbacks per header), and this path
/// runs once per proxied request. The upstreams are the edge's own backends, but nothing they
/// send is trusted: a head that is too large, a malformed status line or header, conflicting
/// framing or a bad chunk ends the exchange with ``Failure`` (a 502 when nothing was sent yet).
///
/// Framing (RFC 9112 §6.3): no body after a response to HEAD, or after 1xx, 204 and 304; a
/// chunked `Transfer-Encoding`, or any other transfer coding read until the close; a
/// `Content-Length`; otherwise until the close. Interim 1xx responses other than 101 are
/// dropped. After a 101 the parser stops: what follows belongs to the tunnel.
struct UpstreamResponseParser {
    enum Event: Equatable {
        case head(HTTPResponseHead)
        case body(ByteBuffer)
        case end
    }

    /// What was wrong with the upstream's bytes.
    struct Failure: Error, Equatable, CustomStringConvertible {
        let reason: String
        var description: String { "invalid response from the upstream: \(reason)" }
    }

    /// The largest response head accepted (NIO's decoder allows 80 KiB of header fields).
    static let maxHeadBytes = 80 * 1024
    /// The largest chunk-size or trailer line accepted.
    static let maxLineBytes = 4 * 1024

    private enum State {
        /// No request is waiting for an answer: bytes now are out of step.
        case idle
        case head
        case fixedBody(remaining: Int)
        case chunkSize
        case chunkData(remaining: Int)
        case chunkDataEnd
        case trailers
        case untilClose
        /// The head (or the last byte of the body) was delivered; `.end` comes next.
        case ending(then: State.AfterEnd)
        /// A 101 was answered: nothing more is parsed.
        case switched

        enum AfterEnd { case idle, switched }
    }

    private var state: State = .idle
    private var respondingToHead = false
    private var trailerBytes = 0
    /// Whether the connection may carry another request after the current response.
    private(set) var keepAlive = true

    /// Whether a 101 turned the connection into a tunnel.
    var isSwitched: Bool {
        if case .switched = state { return true }
        return false
    }

    /// Whether no response is expected or in progress.
    var isIdle: Bool {
        if case .idle = state { return true }
        return false
    }

    /// A request went out: its response comes next.
    mutating func requestSent(method: HTTPMethod) {
        state = .head
        respondingToHead = method == .HEAD
        keepAlive = true
    }

    /// The next event from `buffer` (its reader index moves past what was used), or `nil` when
    /// more bytes are needed.
    mutating func next(_ buffer: inout ByteBuffer) throws -> Event? {
        while true {
            switch state {
            case .idle:
                if buffer.readableBytes > 0 { throw Failure(reason: "bytes arrived with no request outstanding") }
                return nil
            case .switched:
                return nil
            case .ending(let then):
                state = then == .switched ? .switched : .idle
                return .end
            case .head:
                guard let head = try parseHead(&buffer) else { return nil }
                if head.status.code >= 100 && head.status.code < 200 && head.status != .switchingProtocols {
                    continue  // interim response: dropped, the final one follows
                }
                return .head(head)
            case .fixedBody(let remaining):
                guard buffer.readableBytes > 0 else { return nil }
                let length = min(remaining, buffer.readableBytes)
                let slice = buffer.readSlice(length: length)!
                state = remaining == length ? .ending(then: .idle) : .fixedBody(remaining: remaining - length)
                return .body(slice)
            case .chunkSize:
                guard let line = try readLine(&buffer) else { return nil }
                let size = try Self.chunkSize(line)
                state = size == 0 ? .trailers : .chunkData(remaining: size)
                trailerBytes = 0
            case .chunkData(let remaining):
                guard buffer.readableBytes > 0 else { return nil }
                let length = min(remaining, buffer.readableBytes)
                let slice = buffer.readSlice(length: length)!
                state = remaining == length ? .chunkDataEnd : .chunkData(remaining: remaining - length)
                return .body(slice)
            case .chunkDataEnd:
                guard buffer.readableBytes >= 2 else { return nil }
                guard buffer.readInteger(as: UInt16.self) == 0x0D0A else { throw Failure(reason: "chunk data not followed by CRLF") }
                state = .chunkSize
            case .trailers:
                guard let line = try readLine(&buffer) else { return nil }
                if line.readableBytes == 0 {
                    state = .ending(then: .idle)  // trailers are dropped, as the edge forwards none
                } else {
                    trailerBytes += line.readableBytes
                    if trailerBytes > Self.maxHeadBytes { throw Failure(reason: "trailers too large") }
                }
            case .untilClose:
                guard buffer.readableBytes > 0 else { return nil }
                return .body(buffer.readSlice(length: buffer.readableBytes)!)
            }
        }
    }

    /// The upstream closed its side. Ends a body read until the close; anything else cut short
    /// is a failure (`nil` when no response was in progress).
    mutating func inputClosed() throws -> Event? {
        switch state {
        case .untilClose:
            state = .idle
            return .end
        case .ending:
            var empty = ByteBuffer()
            return try next(&empty)
        case .idle, .switched:
            return nil
        case .head, .fixedBody, .chunkSize, .chunkData, .chunkDataEnd, .trailers:
            throw Failure(reason: "connection closed before the response was complete")
        }
    }

    // MARK: Head

    private mutating func parseHead(_ buffer: inout ByteBuffer) throws -> HTTPResponseHead? {
        guard let end = Self.headEnd(in: buffer) else {
            if buffer.readableBytes > Self.maxHeadBytes { throw Failure(reason: "response head larger than \(Self.maxHeadBytes) bytes") }
            return nil
        }
        let (head, framing) = try buffer.withUnsafeReadableBytes { bytes in
            try Self.parseHead(UnsafeRawBufferPointer(rebasing: bytes[..<end]))
        }
        buffer.moveReaderIndex(forwardBy: end + 4)
        try frame(head, framing)
        return head
    }

    /// What a head's headers say about the body and the connection, gathered while parsing them.
    struct Framing {
        var contentLength: String?
        var contentLengthsDiffer = false
        var transferCodings: [String] = []
        /// `Connection` values, lowercased (only when a `Connection` header is present).
        var connection: [String] = []

        mutating func note(name: UnsafeRawBufferPointer, value: String) {
            switch name.count {
            case 14 where Self.equals(name, "content-length"):
                if let contentLength, contentLength != value { contentLengthsDiffer = true }
                contentLength = value
            case 17 where Self.equals(name, "transfer-encoding"):
                transferCodings.append(value)
            case 10 where Self.equals(name, "connection"):
                connection.append(value.lowercased())
            default:
                break
            }
        }

        /// Whether the connection stays open after this message (RFC 9112 §9.3).
        func keepAlive(version: HTTPVersion) -> Bool {
            var close = false
            var keep = false
            for value in connection {
                switch value {
                case "keep-alive": keep = true  // the usual whole values, without splitting
                case "close": close = true
                default:
                    for token in value.split(separator: ",") {
                        let option = token.trimmingSpaces
                        if option == "close" { close = true } else if option == "keep-alive" { keep = true }
                    }
                }
            }
            return version.minor >= 1 ? !close : keep
        }

        private static func equals(_ bytes: UnsafeRawBufferPointer, _ lowercased: StaticString) -> Bool {
            lowercased.withUTF8Buffer { expected in
                for index in 0..<expected.count {
                    let byte = bytes[index]
                    let folded = byte >= 0x41 && byte <= 0x5A ? byte | 0x20 : byte
                    if folded != expected[index] { return false }
                }
                return true
            }
        }
    }

    /// Sets the state for the body that follows `head`.
    private mutating func frame(_ head: HTTPResponseHead, _ framing: Framing) throws {
        let code = head.status.code
        keepAlive = framing.keepAlive(version: head.version)
        if head.status == .switchingProtocols {
            state = .ending(then: .switched)
            keepAlive = false
            return
        }
        if code < 200 { return }  // interim: the state stays `.head`
        if respondingToHead || code == 204 || code == 304 {
            state = .ending(then: .idle)
            return
        }
        if let codings = framing.transferCodings.last {
            guard framing.contentLength == nil else { throw Failure(reason: "both Content-Length and Transfer-Encoding") }
            let last = codings.split(separator: ",").last.map { $0.trimmingSpaces.lowercased() }
            if last == "chunked" {
                state = .chunkSize
            } else {
                state = .untilClose
                keepAlive = false
            }
            return
        }
        if let value = framing.contentLength {
            guard !framing.contentLengthsDiffer, let length = Self.decimal(value) else {
                throw Failure(reason: "invalid Content-Length")
            }
            state = length == 0 ? .ending(then: .idle) : .fixedBody(remaining: length)
            return
        }
        state = .untilClose
        keepAlive = false
    }

    /// The offset of the `\r\n\r\n` that ends a head, if the buffer holds one.
    static func headEnd(in buffer: ByteBuffer) -> Int? {
        buffer.withUnsafeReadableBytes { bytes -> Int? in
            guard bytes.count >= 4 else { return nil }
            var index = 0
            let last = bytes.count - 4
            while index <= last {
                // Look for the LF of "\r\n\r\n" at index + 3 first: most positions fail there.
                let probe = bytes[index + 3]
                if probe != 0x0A {
                    index += probe == 0x0D ? 1 : 4
                    continue
                }
                if bytes[index] == 0x0D && bytes[index + 1] == 0x0A && bytes[index + 2] == 0x0D { return index }
                index += 1
            }
            return nil
        }
    }

    /// Parses a head without its final CRLF CRLF: the status line and header lines.
    static func parseHead(_ bytes: UnsafeRawBufferPointer) throws -> (HTTPResponseHead, Framing) {
        var lines = LineIterator(bytes: bytes)
        guard let statusLine = lines.next() else { throw Failure(reason: "empty response head") }
        let (version, status) = try parseStatusLine(statusLine)
        var headers = HTTPHeaders()
        var framing = Framing()
        while let line = lines.next() {
            guard let first = line.first, first != 0x20, first != 0x09 else {
                throw Failure(reason: "header line folded or empty")
            }
            guard let colon = line.firstIndex(of: UInt8(ascii: ":")), colon > line.startIndex else {
                throw Failure(reason: "header line without a name")
            }
            let name = UnsafeRawBufferPointer(rebasing: line[line.startIndex..<colon])
            guard name.allSatisfy(isTokenByte) else { throw Failure(reason: "invalid header name") }
            var valueStart = colon + 1
            var valueEnd = line.endIndex
            while valueStart < valueEnd, line[valueStart] == 0x20 || line[valueStart] == 0x09 { valueStart += 1 }
            while valueEnd > valueStart, line[valueEnd - 1] == 0x20 || line[valueEnd - 1] == 0x09 { valueEnd -= 1 }
            let value = UnsafeRawBufferPointer(rebasing: line[valueStart..<valueEnd])
            guard !value.contains(where: { $0 == 0x00 || $0 == 0x0D || $0 == 0x0A }) else {
                throw Failure(reason: "invalid byte in a header value")
            }
            let text = String(decoding: value, as: UTF8.self)
            framing.note(name: name, value: text)
            headers.add(name: String(decoding: name, as: UTF8.self), value: text)
        }
        return (HTTPResponseHead(version: version, status: status, headers: headers), framing)
    }

    /// `HTTP/1.1 200 OK`: the version and status (the reason phrase kept for unknown codes).
    private static func parseStatusLine(_ line: Slice<UnsafeRawBufferPointer>) throws -> (HTTPVersion, HTTPResponseStatus) {
        let bytes = UnsafeRawBufferPointer(rebasing: line)
        guard bytes.count >= 12, bytes.starts(with: "HTTP/1.".utf8), bytes[8] == 0x20,
            bytes[7] == UInt8(ascii: "0") || bytes[7] == UInt8(ascii: "1")
        else { throw Failure(reason: "malformed status line") }
        var code = 0
        for index in 9..<12 {
            let digit = bytes[index] &- UInt8(ascii: "0")
            guard digit < 10 else { throw Failure(reason: "malformed status code") }
            code = code * 10 + Int(digit)
        }
        guard code >= 100, bytes.count == 12 || bytes[12] == 0x20 else { throw Failure(reason: "malformed status code") }
        let reason = bytes.count > 13 ? String(decoding: UnsafeRawBufferPointer(rebasing: bytes[13...]), as: UTF8.self) : ""
        let version = HTTPVersion(major: 1, minor: bytes[7] == UInt8(ascii: "1") ? 1 : 0)
        return (version, HTTPResponseStatus(statusCode: code, reasonPhrase: reason))
    }

    /// tchar (RFC 9110 §5.6.2).
    private static func isTokenByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            return true
        default:
            return "!#$%&'*+-.^_`|~".utf8.contains(byte)
        }
    }

    /// A non-negative decimal of at most 18 digits (no sign, no spaces).
    static func decimal(_ text: String) -> Int? {
        guard !text.isEmpty, text.utf8.count <= 18, text.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return nil }
        return Int(text)
    }

    // MARK: Chunks

    /// One CRLF-terminated line (without the CRLF), or `nil` when it is not complete yet.
    private func readLine(_ buffer: inout ByteBuffer) throws -> ByteBuffer? {
        let view = buffer.readableBytesView
        guard let lf = view.firstIndex(of: 0x0A) else {
            if buffer.readableBytes > Self.maxLineBytes { throw Failure(reason: "chunk line too long") }
            return nil
        }
        let length = lf - view.startIndex
        guard length >= 1, view[lf - 1] == 0x0D else { throw Failure(reason: "line not ended by CRLF") }
        guard length <= Self.maxLineBytes else { throw Failure(reason: "chunk line too long") }
        let line = buffer.readSlice(length: length - 1)!
        buffer.moveReaderIndex(forwardBy: 2)
        return line
    }

    /// The size on a chunk-size line (extensions after `;` ignored).
    private static func chunkSize(_ line: ByteBuffer) throws -> Int {
        var size = 0
        var digits = 0
        for byte in line.readableBytesView {
            let value: Int
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): value = Int(byte - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): value = Int(byte - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): value = Int(byte - UInt8(ascii: "A") + 10)
            case UInt8(ascii: ";"), 0x20, 0x09:
                guard digits > 0 else { throw Failure(reason: "invalid chunk size") }
                return size
            default:
                throw Failure(reason: "invalid chunk size")
            }
            digits += 1
            guard digits <= 15 else { throw Failure(reason: "chunk size too large") }
            size = size * 16 + value
        }
        guard digits > 0 else { throw Failure(reason: "invalid chunk size") }
        return size
    }
}

/// The CRLF-separated lines of a response head.
private struct LineIterator: IteratorProtocol {
    let bytes: UnsafeRawBufferPointer
    var position = 0

    mutating func next() -> Slice<UnsafeRawBufferPointer>? {
        guard position < bytes.count else { return nil }
        var end = position
        while end < bytes.count, bytes[end] != 0x0A { end += 1 }
        let lineEnd = end > position && bytes[end - 1] == 0x0D ? end - 1 : end
        let line = bytes[position..<lineEnd]
        position = end + 1
        return line
    }
}
