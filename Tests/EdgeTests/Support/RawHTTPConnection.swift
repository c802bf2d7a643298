import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Why a raw exchange did not produce what the test wanted.
enum RawHTTPError: Error, CustomStringConvertible {
    case connectFailed(errno: Int32)
    case timedOut(waitingFor: String)
    case closed(waitingFor: String)
    case reset(waitingFor: String)
    case malformed(String)
    case io(String, errno: Int32)

    var description: String {
        switch self {
        case .connectFailed(let code): return "connect failed: \(String(cString: strerror(code)))"
        case .timedOut(let what): return "timed out waiting for \(what)"
        case .closed(let what): return "connection closed while waiting for \(what)"
        case .reset(let what): return "connection reset while waiting for \(what)"
        case .malformed(let what): return "malformed response: \(what)"
        case .io(let what, let code): return "\(what) failed: \(String(cString: strerror(code)))"
        }
    }

    /// The connection was refused, or reset while connecting: a listener closing with the
    /// connection still in its accept queue resets it rather than refusing it.
    var isConnectionRefused: Bool {
        if case .connectFailed(let code) = self { return code == ECONNREFUSED || code == ECONNRESET }
        return false
    }
}

/// A response as read off the wire.
struct RawResponse {
    var status: Int
    var headers: [(name: String, value: String)]
    /// The body (empty when read with `discardBody`).
    var body: [UInt8]
    /// The body's length in bytes, whether kept or discarded.
    var bodyLength: Int

    /// Every value of header `name` (case-insensitive).
    func values(_ name: String) -> [String] {
        headers.filter { $0.name.lowercased() == name.lowercased() }.map(\.value)
    }

    /// The first value of header `name`, if any.
    func header(_ name: String) -> String? { values(name).first }

    var text: String { String(decoding: body, as: UTF8.self) }

    /// The upstream's `/echo` report carried in the body.
    func echo() throws -> EchoReport {
        do {
            return try JSONDecoder().decode(EchoReport.self, from: Data(body))
        } catch {
            throw TestFailure("not an echo report (status \(status)): \(text.prefix(300))")
        }
    }
}

/// A blocking HTTP/1.1 client over one TCP socket, byte for byte: the test writes the exact
/// request bytes (so malformed and ambiguous requests can be sent) and reads responses with a
/// deadline on every wait. It never hangs: each read waits at most until its deadline.
final class RawHTTPConnection: @unchecked Sendable {  // used by one task at a time
    private let fd: Int32
    private var buffer: [UInt8] = []
    private var start = 0
    private var socketClosed = false
    private var scratch = [UInt8](repeating: 0, count: 256 * 1024)

    /// Connects to `host:port`.
    /// - Throws: ``RawHTTPError/connectFailed(errno:)`` (e.g. refused when nothing listens).
    convenience init(port: Int, host: String = "127.0.0.1") throws {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        inet_pton(AF_INET, host, &address.sin_addr)
        try self.init(connectedTo: &address)
    }

    /// Connects to the Unix-domain socket at `path`.
    convenience init(unixPath path: String) throws {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        precondition(bytes.count < MemoryLayout.size(ofValue: address.sun_path), "a Unix socket path of \(bytes.count) bytes")
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: bytes) }
        try self.init(connectedTo: &address)
    }

    /// Connects a stream socket of the address's family (`sockaddr_in` or `sockaddr_un`).
    private init<Address>(connectedTo address: inout Address) throws {
        let family = withUnsafeBytes(of: &address) { Int32($0.load(as: sa_family_t.self)) }
        fd = socket(family, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw RawHTTPError.io("socket()", errno: errno) }
        // Writes block at most this long (the reads have their own deadlines).
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        let fd = self.fd
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.connect(fd, $0, socklen_t(MemoryLayout<Address>.size))
            }
        }
        guard result == 0 else {
            let code = errno
            Glibc.close(fd)
            throw RawHTTPError.connectFailed(errno: code)
        }
    }

    deinit { close() }

    func close() {
        guard !socketClosed else { return }
        socketClosed = true
        Glibc.close(fd)
    }

    // MARK: Writing

    func send(_ text: String) throws { try send(Array(text.utf8)) }

    func send(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if written < 0 {
                if errno == EINTR { continue }
                throw RawHTTPError.io("send", errno: errno)
            }
            offset += written
        }
    }

    /// Sends a request with the usual framing: `Host`, `Content-Length` when there is a body.
    func sendRequest(
        _ method: String = "GET", _ target: String, headers: [(String, String)] = [], body: [UInt8] = [],
        host: String = "edge.test"
    ) throws {
        var text = "\(method) \(target) HTTP/1.1\r\n"
        if !headers.contains(where: { $0.0.lowercased() == "host" }) { text += "Host: \(host)\r\n" }
        for (name, value) in headers { text += "\(name): \(value)\r\n" }
        let framed = headers.contains { ["content-length", "transfer-encoding"].contains($0.0.lowercased()) }
        if !framed, !body.isEmpty || method == "POST" || method == "PUT" { text += "Content-Length: \(body.count)\r\n" }
        text += "\r\n"
        try send(Array(text.utf8) + body)
    }

    /// Sends a request and reads its response.
    func request(
        _ method: String = "GET", _ target: String, headers: [(String, String)] = [], body: [UInt8] = [],
        timeout: Duration = .seconds(5)
    ) throws -> RawResponse {
        try sendRequest(method, target, headers: headers, body: body)
        return try readResponse(timeout: timeout, isHead: method == "HEAD")
    }

    // MARK: Reading

    /// Reads one complete response (1xx responses are skipped): status line, headers, and a body
    /// framed by `Content-Length`, chunked encoding or the connection's end.
    /// - Parameters:
    ///   - timeout: the deadline for the whole response.
    ///   - discardBody: count body bytes without keeping them (large downloads).
    ///   - isHead: the response answers a HEAD request (no body whatever the headers say).
    ///   - skipInterim: skip 1xx responses (otherwise a 1xx is returned like any other).
    func readResponse(
        timeout: Duration = .seconds(5), discardBody: Bool = false, isHead: Bool = false, skipInterim: Bool = true
    ) throws -> RawResponse {
        let deadline = ContinuousClock.now + timeout
        while true {
            let headText = try readHead(deadline: deadline)
            var lines = headText.components(separatedBy: "\r\n")
            let statusLine = lines.removeFirst()
            let parts = statusLine.split(separator: " ", maxSplits: 2)
            guard parts.count >= 2, parts[0].hasPrefix("HTTP/1."), let status = Int(parts[1]) else {
                throw RawHTTPError.malformed("status line '\(statusLine)'")
            }
            var headers: [(name: String, value: String)] = []
            for line in lines where !line.isEmpty {
                guard let colon = line.firstIndex(of: ":") else { throw RawHTTPError.malformed("header line '\(line)'") }
                headers.append((String(line[..<colon]), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)))
            }
            var response = RawResponse(status: status, headers: headers, body: [], bodyLength: 0)
            if (100..<200).contains(status) {
                if skipInterim { continue }
                return response
            }
            if isHead || status == 204 || status == 304 { return response }
            if response.values("transfer-encoding").contains(where: { $0.lowercased().contains("chunked") }) {
                try readChunkedBody(into: &response, discard: discardBody, deadline: deadline)
            } else if let lengthText = response.header("content-length") {
                guard let length = Int(lengthText) else { throw RawHTTPError.malformed("Content-Length '\(lengthText)'") }
                try readBody(count: length, into: &response, discard: discardBody, deadline: deadline)
            } else {
                try readBodyToEnd(into: &response, discard: discardBody, deadline: deadline)
            }
            return response
        }
    }

    /// Waits for the peer to close the connection (EOF or reset).
    /// - Returns: the time it took.
    /// - Throws: ``RawHTTPError/timedOut(waitingFor:)`` when it stays open past `timeout`, or
    ///   ``RawHTTPError/malformed(_:)`` if bytes arrive instead.
    @discardableResult
    func waitForClose(timeout: Duration) throws -> Duration {
        let started = ContinuousClock.now
        let deadline = started + timeout
        while true {
            do {
                if try !fill(deadline: deadline, waitingFor: "the connection to close") {
                    return ContinuousClock.now - started
                }
            } catch RawHTTPError.reset {
                return ContinuousClock.now - started
            }
            if buffer.count > start {
                let text = String(decoding: buffer[start...], as: UTF8.self)
                throw RawHTTPError.malformed("unexpected bytes while waiting for close: \(text.prefix(200))")
            }
        }
    }

    /// Whether the peer closed the connection within `timeout`; bytes arriving meanwhile are discarded.
    func isClosed(within timeout: Duration) -> Bool {
        let deadline = ContinuousClock.now + timeout
        while true {
            do {
                if try !fill(deadline: deadline, waitingFor: "close") { return true }
                start = buffer.count
            } catch RawHTTPError.reset {
                return true
            } catch {
                return false
            }
        }
    }

    private func readHead(deadline: ContinuousClock.Instant) throws -> String {
        while true {
            var index = start
            while index + 4 <= buffer.count {
                if buffer[index] == 13, buffer[index + 1] == 10, buffer[index + 2] == 13, buffer[index + 3] == 10 {
                    let head = String(decoding: buffer[start..<index], as: UTF8.self)
                    start = index + 4
                    return head
                }
                index += 1
            }
            guard try fill(deadline: deadline, waitingFor: "a response head") else {
                throw RawHTTPError.closed(waitingFor: buffer.count > start ? "the rest of a response head" : "a response")
            }
        }
    }

    /// One CRLF-terminated line, for the few peers a test talks to that are not HTTP (Redis's PING).
    func readLine(timeout: Duration) throws -> String {
        try readLine(deadline: ContinuousClock.now + timeout)
    }

    private func readLine(deadline: ContinuousClock.Instant) throws -> String {
        while true {
            if let index = buffer[start...].firstIndex(of: 10), index > start, buffer[index - 1] == 13 {
                let line = String(decoding: buffer[start..<(index - 1)], as: UTF8.self)
                start = index + 1
                return line
            }
            guard try fill(deadline: deadline, waitingFor: "a chunk line") else {
                throw RawHTTPError.closed(waitingFor: "a chunk line")
            }
        }
    }

    private func readBody(count: Int, into response: inout RawResponse, discard: Bool, deadline: ContinuousClock.Instant) throws {
        var remaining = count
        while remaining > 0 {
            if buffer.count == start {
                guard try fill(deadline: deadline, waitingFor: "\(remaining) more body bytes") else {
                    throw RawHTTPError.closed(waitingFor: "\(remaining) more body bytes of \(count)")
                }
            }
            let take = min(remaining, buffer.count - start)
            if !discard { response.body.append(contentsOf: buffer[start..<(start + take)]) }
            start += take
            remaining -= take
            response.bodyLength += take
        }
    }

    private func readChunkedBody(into response: inout RawResponse, discard: Bool, deadline: ContinuousClock.Instant) throws {
        while true {
            let line = try readLine(deadline: deadline)
            let sizeText = line.prefix { $0 != ";" }.trimmingCharacters(in: .whitespaces)
            guard let size = Int(sizeText, radix: 16) else { throw RawHTTPError.malformed("chunk size '\(line)'") }
            if size == 0 {
                while try !readLine(deadline: deadline).isEmpty {}  // trailers
                return
            }
            try readBody(count: size, into: &response, discard: discard, deadline: deadline)
            guard try readLine(deadline: deadline).isEmpty else { throw RawHTTPError.malformed("no CRLF after a chunk") }
        }
    }

    private func readBodyToEnd(into response: inout RawResponse, discard: Bool, deadline: ContinuousClock.Instant) throws {
        while true {
            let take = buffer.count - start
            if !discard { response.body.append(contentsOf: buffer[start...]) }
            response.bodyLength += take
            start = buffer.count
            guard try fill(deadline: deadline, waitingFor: "the end of a close-delimited body") else { return }
        }
    }

    /// Reads what is available, waiting until `deadline`.
    /// - Returns: `false` at end of stream.
    private func fill(deadline: ContinuousClock.Instant, waitingFor what: String) throws -> Bool {
        if start > 1 << 20 || start == buffer.count {
            buffer.removeFirst(start)
            start = 0
        }
        while true {
            let remaining = deadline - ContinuousClock.now
            guard remaining > .zero else { throw RawHTTPError.timedOut(waitingFor: what) }
            let milliseconds = Int32(clamping: max(1, remaining.components.seconds * 1000 + remaining.components.attoseconds / 1_000_000_000_000_000))
            var descriptor = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let ready = poll(&descriptor, 1, milliseconds)
            if ready < 0 {
                if errno == EINTR { continue }
                throw RawHTTPError.io("poll", errno: errno)
            }
            if ready == 0 { continue }  // the deadline check above ends the wait
            let count = scratch.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count < 0 {
                if errno == EINTR || errno == EAGAIN { continue }
                if errno == ECONNRESET { throw RawHTTPError.reset(waitingFor: what) }
                throw RawHTTPError.io("recv", errno: errno)
            }
            if count == 0 { return false }
            buffer.append(contentsOf: scratch[0..<count])
            return true
        }
    }
}

/// A loopback port with nothing listening on it: bound, then closed.
func deadPort() throws -> Int {
    try boundAndClosed(port: 0, host: "127.0.0.1")
}

/// A free port below Linux's ephemeral range (32768-60999), for a server a test stops and starts
/// again on the same port: port 0 hands out ports from the ephemeral range, so while the server
/// is down another test's socket could take an ephemeral port, but never one of these.
func portBelowEphemeralRange(host: String = "127.0.0.1") throws -> Int {
    var random = SystemRandomNumberGenerator()
    for _ in 0..<100 {
        if let port = try? boundAndClosed(port: Int.random(in: 20_000..<32_000, using: &random), host: host) { return port }
    }
    throw RawHTTPError.io("no free port between 20000 and 32000 on \(host)", errno: EADDRINUSE)
}

/// Binds `host:port` (0: any) and closes it again.
/// - Returns: the port bound.
private func boundAndClosed(port: Int, host: String) throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw RawHTTPError.io("socket()", errno: errno) }
    defer { Glibc.close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = UInt16(port).bigEndian
    inet_pton(AF_INET, host, &address.sin_addr)
    let bound = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard bound == 0 else { throw RawHTTPError.io("bind", errno: errno) }
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let named = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
    }
    guard named == 0 else { throw RawHTTPError.io("getsockname", errno: errno) }
    return Int(UInt16(bigEndian: address.sin_port))
}
