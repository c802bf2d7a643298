import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// A blocking, thread-per-connection HTTP/1.1 upstream for the proxy tests, on TCP
/// (127.0.0.1, an ephemeral port) or a Unix socket. It reads each request whole (Content-Length
/// or chunked body), and answers by path:
///   - `/len/N`      N body bytes with Content-Length
///   - `/chunked/N`  N body bytes in the chunked coding (chunks of up to 7,000 bytes, a trailer)
///   - `/cut/N`      announces N bytes, sends half of them, closes
///   - `/bye`        a small keep-alive answer, then closes the connection at once
///   - `/hang`       no answer; reads until the proxy closes
///   - `/stale-next` 600 bytes, then the next request on that connection is read and the
///                   connection closed without an answer (a keep-alive connection gone stale)
///   - anything else 600 bytes
/// Every answer carries `X-Seen-Forwarded-Proto` (the request's X-Forwarded-Proto),
/// `X-Request-Body-Length` and `X-Request-Body-Sum` (``checksum(_:)``)
/// of the request body it read, and `X-Upstream-Connection` (its connection number).
final class TestUpstream: Sendable {
    let listener: Int32
    let port: Int
    let unixPath: String?
    private let state = Mutex(State())

    private struct State {
        var connections = 0
        var requestsRead = 0
        var stopped = false
        var clients: [Int32] = []
    }

    /// Connections accepted so far.
    var connections: Int { state.withLock { $0.connections } }
    /// Requests read whole (head and body) so far.
    var requestsRead: Int { state.withLock { $0.requestsRead } }

    init(unixPath: String? = nil) throws {
        self.unixPath = unixPath
        let listener: Int32
        if let unixPath {
            unlink(unixPath)
            listener = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
            var address = sockaddr_un()
            address.sun_family = sa_family_t(AF_UNIX)
            withUnsafeMutableBytes(of: &address.sun_path) { raw in
                let bytes = Array(unixPath.utf8)
                raw.copyBytes(from: bytes)
                raw[bytes.count] = 0
            }
            let result = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    bind(listener, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
                }
            }
            guard result == 0 else { throw TestFailure("bind \(unixPath): errno \(errno)") }
            port = 0
        } else {
            listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var one: Int32 = 1
            setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = 0
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            let result = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    bind(listener, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
            guard result == 0 else { throw TestFailure("bind: errno \(errno)") }
            var bound = sockaddr_in()
            var length = socklen_t(MemoryLayout<sockaddr_in>.size)
            _ = withUnsafeMutablePointer(to: &bound) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(listener, $0, &length) }
            }
            port = Int(UInt16(bigEndian: bound.sin_port))
        }
        guard listen(listener, 128) == 0 else { throw TestFailure("listen: errno \(errno)") }
        self.listener = listener
        let thread = Thread { [self] in acceptLoop() }
        thread.start()
    }

    /// Stops accepting and ends every connection. Descriptors are only shut down here, and
    /// closed by their own threads under the lock, so a number reused by another test's
    /// socket is never touched.
    func stop() {
        state.withLock { state in
            guard !state.stopped else { return }
            state.stopped = true
            Glibc.shutdown(listener, Int32(SHUT_RDWR))  // wakes accept(); its thread closes it
            for fd in state.clients { Glibc.shutdown(fd, Int32(SHUT_RDWR)) }
        }
        if let unixPath { unlink(unixPath) }
    }

    private func acceptLoop() {
        while true {
            let fd = accept(listener, nil, nil)
            guard fd >= 0 else {
                if errno == EINTR { continue }
                _ = state.withLock { _ in Glibc.close(listener) }
                return
            }
            let number = state.withLock { state -> Int? in
                if state.stopped {
                    Glibc.close(fd)
                    return nil
                }
                state.connections += 1
                state.clients.append(fd)
                return state.connections
            }
            guard let number else { continue }
            let thread = Thread { [self] in serve(fd, number: number) }
            thread.start()
        }
    }

    private func serve(_ fd: Int32, number: Int) {
        defer {
            state.withLock { state in
                state.clients.removeAll { $0 == fd }
                Glibc.close(fd)
            }
        }
        var reader = Reader(fd: fd)
        var dropsNext = false
        while let request = reader.readRequest() {
            // `/stale-next` came before on this connection: a server that closed its idle
            // keep-alive connection just as the proxy sent a request on it.
            if dropsNext { return }
            state.withLock { $0.requestsRead += 1 }
            let (path, body, keepAlive, headers) = request
            var extra = "X-Seen-Forwarded-Proto: \(headers["x-forwarded-proto"] ?? "-")\r\nX-Request-Body-Length: \(body.count)\r\nX-Request-Body-Sum: \(checksum(body))\r\nX-Upstream-Connection: \(number)\r\nServer: test-upstream\r\nX-Powered-By: tests\r\n"
            if !keepAlive { extra += "Connection: close\r\n" }
            let parts = path.split(separator: "/")
            let size = parts.count >= 2 ? Int(parts[1]) ?? 0 : 600
            let payload = pattern(count: size)
            switch parts.first ?? "" {
            case "chunked":
                var out = Array("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\(extra)\r\n".utf8)
                var offset = 0
                while offset < payload.count {
                    let n = min(7000, payload.count - offset)
                    out += Array("\(String(n, radix: 16));ext=1\r\n".utf8) + payload[offset..<offset + n] + [13, 10]
                    offset += n
                }
                out += Array("0\r\nX-Trailer: yes\r\n\r\n".utf8)
                guard sendAll(fd, out) else { return }
            case "cut":
                let out = Array("HTTP/1.1 200 OK\r\nContent-Length: \(size)\r\n\(extra)\r\n".utf8) + payload[0..<(size / 2)]
                _ = sendAll(fd, out)
                return
            case "hang":
                // Never answers: waits for the proxy to give up and close.
                var byte: UInt8 = 0
                while recv(fd, &byte, 1, 0) > 0 {}
                return
            case "bye":
                _ = sendAll(fd, Array("HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\(extra)\r\nbye".utf8))
                return
            default:
                let body = parts.first == "len" ? payload : pattern(count: 600)
                guard sendAll(fd, Array("HTTP/1.1 200 OK\r\nContent-Length: \(body.count)\r\n\(extra)\r\n".utf8) + body)
                else { return }
            }
            if parts.first == "stale-next" { dropsNext = true }
            if !keepAlive { return }
        }
    }

    private func sendAll(_ fd: Int32, _ bytes: [UInt8]) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { return false }
            offset += n
        }
        return true
    }

    /// Reads requests from a blocking socket.
    struct Reader {
        let fd: Int32
        var buffer: [UInt8] = []

        mutating func fill() -> Bool {
            var chunk = [UInt8](repeating: 0, count: 65536)
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            guard n > 0 else { return false }
            buffer += chunk[0..<n]
            return true
        }

        mutating func line() -> String? {
            while true {
                if let i = buffer.firstIndex(of: 10) {
                    let text = String(decoding: buffer[0..<i], as: UTF8.self).trimmingCharacters(in: CharacterSet(charactersIn: "\r"))
                    buffer.removeFirst(i + 1)
                    return text
                }
                guard fill() else { return nil }
            }
        }

        mutating func take(_ count: Int) -> [UInt8]? {
            while buffer.count < count { guard fill() else { return nil } }
            let bytes = Array(buffer[0..<count])
            buffer.removeFirst(count)
            return bytes
        }

        /// (path without the leading slash, body, keep-alive, fields by lower-cased name)
        mutating func readRequest() -> (String, [UInt8], Bool, [String: String])? {
            guard let requestLine = line() else { return nil }
            let words = requestLine.split(separator: " ")
            guard words.count == 3 else { return nil }
            var headers: [String: String] = [:]
            while let field = line(), !field.isEmpty {
                let parts = field.split(separator: ":", maxSplits: 1)
                if parts.count == 2 { headers[parts[0].lowercased()] = parts[1].trimmingCharacters(in: .whitespaces) }
            }
            var body: [UInt8] = []
            if headers["transfer-encoding"] == "chunked" {
                while let sizeLine = line() {
                    let size = Int(sizeLine.split(separator: ";")[0], radix: 16) ?? 0
                    if size == 0 {
                        while let trailer = line(), !trailer.isEmpty {}
                        break
                    }
                    guard let data = take(size), take(2) != nil else { return nil }
                    body += data
                }
            } else if let length = Int(headers["content-length"] ?? "0"), length > 0 {
                guard let data = take(length) else { return nil }
                body = data
            }
            let http10 = words[2] == "HTTP/1.0"
            let connection = headers["connection"]?.lowercased()
            let keepAlive = http10 ? connection == "keep-alive" : connection != "close"
            return (String(words[1].dropFirst()), body, keepAlive, headers)
        }
    }
}

/// The body bytes the test upstream sends: a pattern that shows reordering and loss.
func pattern(count: Int) -> [UInt8] {
    (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 >> 11) }
}

/// A position-dependent checksum (Fletcher-like) of a body.
func checksum(_ bytes: [UInt8]) -> UInt64 {
    var a: UInt64 = 1
    var b: UInt64 = 0
    for byte in bytes {
        a = (a &+ UInt64(byte)) % 65521
        b = (b &+ a) % 65521
    }
    return b << 16 | a
}
