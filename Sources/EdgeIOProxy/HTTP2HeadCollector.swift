/// Turns an HTTP/2 request's header fields, as nghttp2 decoded and checked them (pseudo-fields
/// first, names lower case, no connection-specific fields, no CR, LF or NUL in values), into
/// the HTTP/1.1 head that the proxy path parses, decides on and forwards: one path for both
/// protocols, as nginx builds an HTTP/1.1 request to its upstreams from an HTTP/2 stream.
///
/// `:method` and `:path` make the request line, `:authority` the `Host` field (a `host`
/// field beside it is dropped: RFC 9113 §8.3.1 makes `:authority` win), the `cookie` fields
/// one field joined with "; " (§8.2.3), `te` and `expect` are dropped (HTTP/2 has no
/// trailers negotiation for the upstream's HTTP/1.1, and flow control is its go-ahead), and a
/// body without `content-length` goes up in the chunked coding.
///
/// Fields arrive one event at a time and may span reads, so they are gathered in three
/// regions of memory the loop owns (pseudo-field values, cookies, other fields) and written
/// out whole at the end of the head; a read that ends mid-head saves them (``save()``).
struct HTTP2HeadCollector {
    let pseudo: UnsafeMutableRawPointer
    let cookies: UnsafeMutableRawPointer
    let fields: UnsafeMutableRawPointer
    let capacity: Int

    /// Gathering a head (between `begin` and the head's end).
    var active = false
    var stream: Int32 = 0
    var pseudoCount = 0
    var cookieCount = 0
    var fieldCount = 0
    /// `(offset, length)` in `pseudo`; length -1: absent.
    var method = (0, -1)
    var path = (0, -1)
    var authority = (0, -1)
    var hasContentLength = false
    /// The head did not fit: the request is answered 431.
    var overflowed = false

    init(capacity: Int) {
        self.capacity = capacity
        pseudo = .allocate(byteCount: capacity, alignment: 16)
        cookies = .allocate(byteCount: capacity, alignment: 16)
        fields = .allocate(byteCount: capacity, alignment: 16)
    }

    func deallocate() {
        pseudo.deallocate()
        cookies.deallocate()
        fields.deallocate()
    }

    mutating func begin(stream: Int32) {
        active = true
        self.stream = stream
        pseudoCount = 0
        cookieCount = 0
        fieldCount = 0
        method = (0, -1)
        path = (0, -1)
        authority = (0, -1)
        hasContentLength = false
        overflowed = false
    }

    mutating func add(name: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer) {
        if name.first == UInt8(ascii: ":") {
            let kept = (pseudoCount, value.count)
            guard Self.append(value, to: pseudo, at: &pseudoCount, capacity: capacity) else {
                overflowed = true
                return
            }
            if Self.equals(name, ":method") {
                method = kept
            } else if Self.equals(name, ":path") {
                path = kept
            } else if Self.equals(name, ":authority") {
                authority = kept
            }
            // :scheme is the client's; the upstream learns it from X-Forwarded-Proto.
            return
        }
        if Self.equals(name, "cookie") {
            if cookieCount > 0 && !Self.append("; ", to: cookies, at: &cookieCount, capacity: capacity) {
                overflowed = true
            }
            if !Self.append(value, to: cookies, at: &cookieCount, capacity: capacity) { overflowed = true }
            return
        }
        if Self.equals(name, "te") || Self.equals(name, "expect") || (authority.1 >= 0 && Self.equals(name, "host")) {
            return
        }
        if Self.equals(name, "content-length") { hasContentLength = true }
        if !(Self.append(name, to: fields, at: &fieldCount, capacity: capacity)
            && Self.append(": ", to: fields, at: &fieldCount, capacity: capacity)
            && Self.append(value, to: fields, at: &fieldCount, capacity: capacity)
            && Self.append("\r\n", to: fields, at: &fieldCount, capacity: capacity))
        {
            overflowed = true
        }
    }

    /// Writes the HTTP/1.1 head (blank line included) into `out`.
    /// - Parameter bodyFollows: the request's HEADERS did not end the stream.
    /// - Returns: its length, or `nil` when it does not fit or lacks `:method` or `:path`
    ///   (a CONNECT request: not proxied).
    func write(into out: UnsafeMutableRawPointer, capacity outCapacity: Int, bodyFollows: Bool) -> Int? {
        guard !overflowed, method.1 > 0, path.1 > 0 else { return nil }
        var count = 0
        func put(_ base: UnsafeRawPointer, _ range: (Int, Int)) -> Bool {
            Self.append(
                UnsafeRawBufferPointer(start: base + range.0, count: range.1), to: out, at: &count, capacity: outCapacity)
        }
        var fits =
            put(pseudo, method) && Self.append(" ", to: out, at: &count, capacity: outCapacity) && put(pseudo, path)
            && Self.append(" HTTP/1.1\r\n", to: out, at: &count, capacity: outCapacity)
        if authority.1 >= 0 {
            fits =
                fits && Self.append("host: ", to: out, at: &count, capacity: outCapacity) && put(pseudo, authority)
                && Self.append("\r\n", to: out, at: &count, capacity: outCapacity)
        }
        fits = fits && put(fields, (0, fieldCount))
        if cookieCount > 0 {
            fits =
                fits && Self.append("cookie: ", to: out, at: &count, capacity: outCapacity) && put(cookies, (0, cookieCount))
                && Self.append("\r\n", to: out, at: &count, capacity: outCapacity)
        }
        if bodyFollows && !hasContentLength {
            fits = fits && Self.append("transfer-encoding: chunked\r\n", to: out, at: &count, capacity: outCapacity)
        }
        fits = fits && Self.append("\r\n", to: out, at: &count, capacity: outCapacity)
        return fits ? count : nil
    }

    // MARK: - A head split across reads

    /// A head gathered so far, kept off the loop's memory until the client's next read.
    struct Saved {
        var stream: Int32
        var pseudo: [UInt8]
        var cookies: [UInt8]
        var fields: [UInt8]
        var method: (Int, Int)
        var path: (Int, Int)
        var authority: (Int, Int)
        var hasContentLength: Bool
        var overflowed: Bool
    }

    func save() -> Saved {
        Saved(
            stream: stream, pseudo: Array(UnsafeRawBufferPointer(start: pseudo, count: pseudoCount)),
            cookies: Array(UnsafeRawBufferPointer(start: cookies, count: cookieCount)),
            fields: Array(UnsafeRawBufferPointer(start: fields, count: fieldCount)), method: method, path: path,
            authority: authority, hasContentLength: hasContentLength, overflowed: overflowed)
    }

    mutating func restore(_ saved: Saved) {
        begin(stream: saved.stream)
        saved.pseudo.withUnsafeBytes { _ = Self.append($0, to: pseudo, at: &pseudoCount, capacity: capacity) }
        saved.cookies.withUnsafeBytes { _ = Self.append($0, to: cookies, at: &cookieCount, capacity: capacity) }
        saved.fields.withUnsafeBytes { _ = Self.append($0, to: fields, at: &fieldCount, capacity: capacity) }
        method = saved.method
        path = saved.path
        authority = saved.authority
        hasContentLength = saved.hasContentLength
        overflowed = saved.overflowed
    }

    // MARK: - Helpers

    static func append(
        _ bytes: UnsafeRawBufferPointer, to base: UnsafeMutableRawPointer, at count: inout Int, capacity: Int
    ) -> Bool {
        guard count + bytes.count <= capacity else { return false }
        if let source = bytes.baseAddress { (base + count).copyMemory(from: source, byteCount: bytes.count) }
        count += bytes.count
        return true
    }

    static func append(_ text: StaticString, to base: UnsafeMutableRawPointer, at count: inout Int, capacity: Int) -> Bool {
        append(UnsafeRawBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount), to: base, at: &count, capacity: capacity)
    }

    /// Whether `name` is `word` (HTTP/2 names are lower case already).
    static func equals(_ name: UnsafeRawBufferPointer, _ word: StaticString) -> Bool {
        guard name.count == word.utf8CodeUnitCount else { return false }
        let bytes = word.utf8Start
        for i in 0..<name.count where name[i] != bytes[i] { return false }
        return true
    }
}
