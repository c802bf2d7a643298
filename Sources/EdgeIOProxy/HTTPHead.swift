/// An HTTP/1.x request head parsed in place: offsets into the caller's input, no copy, no
/// allocation (picohttpparser's approach). Offsets are absolute positions in the buffer
/// passed to ``parse(_:from:)``.
public struct HTTPRequestHead: Sendable {
    /// Where the head starts and its length up to and including the blank line.
    public var start: Int
    public var length: Int
    /// The method: `start..<methodEnd`.
    public var methodEnd: Int
    /// The request target (path and query).
    public var targetStart: Int
    public var targetEnd: Int
    /// 0 for HTTP/1.0, 1 for HTTP/1.1.
    public var minorVersion: UInt8
    /// The Host header's value, or an empty range.
    public var hostStart: Int
    public var hostEnd: Int
    /// Content-Length, or -1 when absent.
    public var contentLength: Int
    public var chunked: Bool
    public var connectionClose: Bool
    public var connectionKeepAlive: Bool
    /// `Connection` names other fields (dropped when the head is forwarded).
    public var connectionNamesFields: Bool
    public var isHEAD: Bool
    /// Set when the head is not valid HTTP/1.x or its framing is ambiguous (Content-Length
    /// with Transfer-Encoding, differing lengths, an unknown transfer coding): answer 400.
    public var malformed: Bool

    /// Whether the client wants the connection kept after this exchange.
    public var keepAlive: Bool {
        HTTPScan.keepsAlive(minorVersion: minorVersion, close: connectionClose, keepAlive: connectionKeepAlive)
    }

    /// Whether a body follows the head.
    public var hasBody: Bool { chunked || contentLength > 0 }

    /// Whether the connection closes after a local answer to this request: when the client
    /// does not keep it, or when a body follows that has not all arrived with the head (a local
    /// answer reads no more of it, so the next request could not be found). A sized body that
    /// came whole is skipped, and the connection kept.
    /// - Parameter received: the bytes of input from the head's start.
    public func answerCloses(received: Int) -> Bool {
        !keepAlive || chunked || (contentLength > 0 && received - start < length + contentLength)
    }

    /// Parses the head starting at `offset`.
    /// - Returns: the head, or `nil` when the blank line has not arrived yet.
    public static func parse(_ input: UnsafeRawBufferPointer, from offset: Int) -> HTTPRequestHead? {
        guard let end = HTTPScan.headEnd(input, from: offset) else { return nil }
        var head = HTTPRequestHead(
            start: offset, length: end - offset, methodEnd: offset, targetStart: offset, targetEnd: offset,
            minorVersion: 1, hostStart: offset, hostEnd: offset, contentLength: -1, chunked: false,
            connectionClose: false, connectionKeepAlive: false, connectionNamesFields: false, isHEAD: false, malformed: false)
        var lineEnd = offset
        while input[lineEnd] != 13 { lineEnd += 1 }
        var firstSpace = offset
        while firstSpace < lineEnd && input[firstSpace] != 32 { firstSpace += 1 }
        var secondSpace = firstSpace + 1
        while secondSpace < lineEnd && input[secondSpace] != 32 { secondSpace += 1 }
        guard firstSpace > offset, firstSpace < lineEnd, secondSpace < lineEnd, secondSpace > firstSpace + 1,
            lineEnd - secondSpace - 1 == 8, HTTPScan.matches(input, secondSpace + 1, lineEnd - 1, "HTTP/1."),
            input[lineEnd - 1] == UInt8(ascii: "0") || input[lineEnd - 1] == UInt8(ascii: "1")
        else {
            head.malformed = true
            return head
        }
        head.methodEnd = firstSpace
        head.targetStart = firstSpace + 1
        head.targetEnd = secondSpace
        head.minorVersion = input[lineEnd - 1] &- UInt8(ascii: "0")
        head.isHEAD = HTTPScan.matches(input, offset, firstSpace, "HEAD")
        var fields = HTTPScan.Fields()
        var conflicting = false
        let wellFormed = HTTPScan.walkFields(input, from: lineEnd + 2, to: end - 2) { name, colon, value, valueEnd in
            if HTTPScan.matches(input, name, colon, "host") {
                head.hostStart = value
                head.hostEnd = valueEnd
            } else if !fields.note(input, name, colon, value, valueEnd) {
                conflicting = true
                return false
            }
            return true
        }
        guard wellFormed && !conflicting else {
            head.malformed = true
            return head
        }
        head.contentLength = fields.contentLength
        head.chunked = fields.chunked
        head.connectionClose = fields.connectionClose
        head.connectionKeepAlive = fields.connectionKeepAlive
        head.connectionNamesFields = fields.connectionNamesFields
        if fields.otherCoding || (fields.chunked && fields.contentLength >= 0) { head.malformed = true }
        return head
    }

    /// Calls `body` with each header field's name and value (without surrounding whitespace),
    /// in order, as views into `input`, until it returns `false`. For a head that parsed
    /// without being `malformed`, from the same `input`; nothing is allocated.
    public func forEachField(
        in input: UnsafeRawBufferPointer, _ body: (_ name: UnsafeRawBufferPointer, _ value: UnsafeRawBufferPointer) -> Bool
    ) {
        var line = start
        while input[line] != 13 { line += 1 }
        _ = HTTPScan.walkFields(input, from: line + 2, to: start + length - 2) { name, colon, value, valueEnd in
            body(UnsafeRawBufferPointer(rebasing: input[name..<colon]), UnsafeRawBufferPointer(rebasing: input[value..<valueEnd]))
        }
    }
}

/// An HTTP/1.x response head parsed in place (offsets as in ``HTTPRequestHead``).
public struct HTTPResponseHead: Sendable {
    public var start: Int
    public var length: Int
    public var status: Int
    public var minorVersion: UInt8
    public var contentLength: Int
    public var chunked: Bool
    public var connectionClose: Bool
    public var connectionKeepAlive: Bool
    /// `Connection` names other fields (dropped when the head is relayed).
    public var connectionNamesFields: Bool
    public var malformed: Bool

    /// Whether the upstream keeps the connection after this response (framing aside).
    public var upstreamKeepsAlive: Bool {
        HTTPScan.keepsAlive(minorVersion: minorVersion, close: connectionClose, keepAlive: connectionKeepAlive)
    }
    public static func parse(_ input: UnsafeRawBufferPointer, from offset: Int) -> HTTPResponseHead? {
        guard let end = HTTPScan.headEnd(input, from: offset) else { return nil }
        var head = HTTPResponseHead(
            start: offset, length: end - offset, status: 0, minorVersion: 1, contentLength: -1, chunked: false,
            connectionClose: false, connectionKeepAlive: false, connectionNamesFields: false, malformed: false)
        var lineEnd = offset
        while input[lineEnd] != 13 { lineEnd += 1 }
        // HTTP/1.x SSS[ reason]
        guard lineEnd - offset >= 12, HTTPScan.matches(input, offset, offset + 7, "HTTP/1."),
            input[offset + 8] == 32
        else {
            head.malformed = true
            return head
        }
        head.minorVersion = input[offset + 7] == UInt8(ascii: "0") ? 0 : 1
        var status = 0
        for i in (offset + 9)..<(offset + 12) {
            let digit = Int(input[i]) &- 48
            guard digit >= 0 && digit <= 9 else {
                head.malformed = true
                return head
            }
            status = status * 10 + digit
        }
        head.status = status
        var fields = HTTPScan.Fields()
        var conflicting = false
        let wellFormed = HTTPScan.walkFields(input, from: lineEnd + 2, to: end - 2) { name, colon, value, valueEnd in
            conflicting = !fields.note(input, name, colon, value, valueEnd)
            return !conflicting
        }
        guard wellFormed && !conflicting else {
            head.malformed = true
            return head
        }
        head.contentLength = fields.contentLength
        head.chunked = fields.chunked
        head.connectionClose = fields.connectionClose
        head.connectionKeepAlive = fields.connectionKeepAlive
        head.connectionNamesFields = fields.connectionNamesFields
        if fields.otherCoding { head.malformed = true }
        if fields.chunked { head.contentLength = -1 }  // RFC 9112 6.3: chunked wins
        return head
    }
}

/// Byte scanning shared by the head parsers and the head rewriting.
enum HTTPScan {
    /// The framing and connection fields of a head.
    struct Fields {
        var contentLength = -1
        var chunked = false
        var otherCoding = false
        var connectionClose = false
        var connectionKeepAlive = false
        /// A `Connection` token other than `close` and `keep-alive`: it names fields that are
        /// hop-by-hop for this message (RFC 9110 §7.6.1).
        var connectionNamesFields = false

        init() {}

        /// Notes one field. - Returns: `false` for an invalid or conflicting Content-Length.
        mutating func note(_ input: UnsafeRawBufferPointer, _ name: Int, _ colon: Int, _ value: Int, _ valueEnd: Int)
            -> Bool
        {
            let nameLength = colon - name
            if nameLength == 14 && matches(input, name, colon, "content-length") {
                guard valueEnd > value else { return false }
                var length = 0
                for j in value..<valueEnd {
                    let digit = Int(input[j]) &- 48
                    guard digit >= 0 && digit <= 9, length < 1 << 50 else { return false }
                    length = length * 10 + digit
                }
                if contentLength >= 0 && contentLength != length { return false }
                contentLength = length
            } else if nameLength == 17 && matches(input, name, colon, "transfer-encoding") {
                // Only "chunked" (last) is understood; anything else is refused.
                if valueEnd - value == 7 && matches(input, value, valueEnd, "chunked") && !chunked {
                    chunked = true
                } else {
                    otherCoding = true
                }
            } else if nameLength == 10 && matches(input, name, colon, "connection") {
                var token = value
                while token < valueEnd {
                    var stop = token
                    while stop < valueEnd && input[stop] != UInt8(ascii: ",") { stop += 1 }
                    let tokenEnd = trimEnd(input, token, stop)
                    if matches(input, token, tokenEnd, "close") {
                        connectionClose = true
                    } else if matches(input, token, tokenEnd, "keep-alive") {
                        connectionKeepAlive = true
                    } else if tokenEnd > token {
                        connectionNamesFields = true
                    }
                    token = skipSpace(input, stop + 1, valueEnd)
                }
            }
            return true
        }
    }

    /// Whether a connection is kept after a message: HTTP/1.1 unless `Connection: close`,
    /// HTTP/1.0 only with `Connection: keep-alive`.
    @inline(__always)
    static func keepsAlive(minorVersion: UInt8, close: Bool, keepAlive: Bool) -> Bool {
        minorVersion == 1 ? !close : (keepAlive && !close)
    }

    /// Walks a head's field lines from `line` (just past the start line) to `end` (the blank
    /// line's CR), calling `body` with each field's name (`name..<colon`) and its value without
    /// surrounding whitespace (`value..<valueEnd`), until it returns `false`. The one walk for
    /// both parsers and ``HTTPRequestHead/forEachField(in:_:)``.
    /// - Returns: `false` when a line is not `name: value` ended by CRLF (no colon, whitespace
    ///   in the name, a bare CR).
    @inline(__always)
    static func walkFields(
        _ input: UnsafeRawBufferPointer, from line: Int, to end: Int,
        _ body: (_ name: Int, _ colon: Int, _ value: Int, _ valueEnd: Int) -> Bool
    ) -> Bool {
        var line = line
        while line < end {
            var lineStop = line
            while input[lineStop] != 13 { lineStop += 1 }
            guard input[lineStop + 1] == 10, let colon = colon(input, line, lineStop) else { return false }
            let value = skipSpace(input, colon + 1, lineStop)
            if !body(line, colon, value, trimEnd(input, value, lineStop)) { return true }
            line = lineStop + 2
        }
        return true
    }

    /// Whether the field name `input[name..<nameEnd]` is listed in a `Connection` field of the
    /// head's field lines `from..<to` (RFC 9110 §7.6.1: such fields are hop-by-hop). Never for
    /// the fields that frame or route the message (`Content-Length`, `Transfer-Encoding`,
    /// `Host`): `Connection: Content-Length` must not turn a body into a second request.
    /// Walks the head again: only asked when the head's `Connection` names a field.
    static func isNamedByConnection(
        _ input: UnsafeRawBufferPointer, from: Int, to: Int, name: Int, nameEnd: Int
    ) -> Bool {
        let length = nameEnd - name
        if (length == 14 && matches(input, name, nameEnd, "content-length"))
            || (length == 17 && matches(input, name, nameEnd, "transfer-encoding"))
            || (length == 4 && matches(input, name, nameEnd, "host"))
        {
            return false
        }
        var named = false
        _ = walkFields(input, from: from, to: to) { field, colon, value, valueEnd in
            guard colon - field == 10 && matches(input, field, colon, "connection") else { return true }
            var token = value
            while token < valueEnd {
                var stop = token
                while stop < valueEnd && input[stop] != UInt8(ascii: ",") { stop += 1 }
                let tokenEnd = trimEnd(input, token, stop)
                if tokenEnd - token == length && equalIgnoringCase(input, token, name, length) {
                    named = true
                    return false
                }
                token = skipSpace(input, stop + 1, valueEnd)
            }
            return true
        }
        return named
    }

    /// Whether `input[a..<a+count]` and `input[b..<b+count]` are equal, ASCII case aside.
    static func equalIgnoringCase(_ input: UnsafeRawBufferPointer, _ a: Int, _ b: Int, _ count: Int) -> Bool {
        for i in 0..<count where input[a + i] | 0x20 != input[b + i] | 0x20 { return false }
        return true
    }

    /// The offset just past the blank line ending a head, or `nil`.
    static func headEnd(_ input: UnsafeRawBufferPointer, from offset: Int) -> Int? {
        let count = input.count
        var i = offset
        while i + 3 < count {
            // Step by the byte at i+3: only a LF there can end the head at i+4.
            let c = input[i + 3]
            if c == 10 {
                if input[i + 2] == 13 && input[i + 1] == 10 && input[i] == 13 { return i + 4 }
                i += 1
            } else if c == 13 {
                i += 1
            } else {
                i += 4
            }
        }
        return nil
    }
    static func colon(_ input: UnsafeRawBufferPointer, _ from: Int, _ to: Int) -> Int? {
        var i = from
        while i < to {
            let c = input[i]
            if c == UInt8(ascii: ":") { return i > from ? i : nil }
            if c == 32 || c == 9 { return nil }  // no whitespace in a field name (smuggling)
            i += 1
        }
        return nil
    }
    static func skipSpace(_ input: UnsafeRawBufferPointer, _ from: Int, _ to: Int) -> Int {
        var i = from
        while i < to && (input[i] == 32 || input[i] == 9) { i += 1 }
        return i
    }
    static func trimEnd(_ input: UnsafeRawBufferPointer, _ from: Int, _ to: Int) -> Int {
        var i = to
        while i > from && (input[i - 1] == 32 || input[i - 1] == 9) { i -= 1 }
        return i
    }

    /// Whether `input[from..<to]` equals `word` (ASCII, case-insensitive).
    static func matches(_ input: UnsafeRawBufferPointer, _ from: Int, _ to: Int, _ word: StaticString) -> Bool {
        guard to - from == word.utf8CodeUnitCount else { return false }
        let bytes = word.utf8Start
        var j = 0
        while j < to - from {
            if input[from + j] | 0x20 != bytes[j] | 0x20 { return false }
            j += 1
        }
        return true
    }
}

extension HTTPScan {
    /// Whether the field name at `name..<colon` is one of the hop-by-hop fields every copy of a
    /// head leaves out (RFC 9110 §7.6.1): `Connection`, `Keep-Alive`, `Proxy-Connection`, `TE`,
    /// `Upgrade` (a tunnel writes its own `Connection` and `Upgrade`).
    @inline(__always)
    static func isHopByHop(_ input: UnsafeRawBufferPointer, _ name: Int, _ colon: Int) -> Bool {
        let length = colon - name
        return (length == 10 && matches(input, name, colon, "connection"))
            || (length == 10 && matches(input, name, colon, "keep-alive"))
            || (length == 16 && matches(input, name, colon, "proxy-connection"))
            || (length == 2 && matches(input, name, colon, "te"))
            || (length == 7 && matches(input, name, colon, "upgrade"))
    }
}
