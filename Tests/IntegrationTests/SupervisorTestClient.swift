import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// Why a request to a supervised worker (or the edge) did not get a response.
enum SupervisorClientError: Error, CustomStringConvertible {
    case refused
    case connectFailed(errno: Int32)
    case reset
    /// The connection ended before a whole response arrived; `afterBytes` of it had.
    case closed(afterBytes: Int)
    case timedOut
    case malformed(String)

    var description: String {
        switch self {
        case .refused: "connection refused"
        case .connectFailed(let code): "connect failed: \(String(cString: strerror(code)))"
        case .reset: "connection reset"
        case .closed(let bytes): "connection closed after \(bytes) bytes of the response"
        case .timedOut: "timed out"
        case .malformed(let what): "malformed response: \(what)"
        }
    }
}

/// A response as the tests need it.
struct SupervisorClientResponse {
    var status: Int
    var body: String
    var closes: Bool
    /// Header fields by lower-cased name.
    var headers: [String: String] = [:]
}

/// A blocking HTTP/1.1 client over one loopback TCP connection, with a deadline on every read:
/// the load the supervisor tests put on workers runs on plain threads, never on the two
/// threads of Swift's cooperative pool that the test itself needs.
final class SupervisorHTTPConnection {
    private let fd: Int32
    private var buffer: [UInt8] = []
    private(set) var requestsSent = 0

    init(port: Int, timeoutSeconds: Int = 15) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw SupervisorClientError.connectFailed(errno: errno) }
        var timeout = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard result == 0 else {
            let code = errno
            Glibc.close(fd)
            throw code == ECONNREFUSED
                ? SupervisorClientError.refused : SupervisorClientError.connectFailed(errno: code)
        }
    }

    deinit { Glibc.close(fd) }

    /// Sends one request and reads its response.
    func request(
        _ method: String, _ path: String, body: String? = nil, close: Bool = false
    ) throws -> SupervisorClientResponse {
        var head = "\(method) \(path) HTTP/1.1\r\nHost: localhost\r\n"
        if let body {
            head += "Content-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n"
        }
        if close { head += "Connection: close\r\n" }
        try write(Array((head + "\r\n" + (body ?? "")).utf8))
        requestsSent += 1
        return try readResponse()
    }

    private func write(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard written > 0 else {
                throw errno == ECONNRESET || errno == EPIPE ? SupervisorClientError.reset : .timedOut
            }
            offset += written
        }
    }

    private func readResponse() throws -> SupervisorClientResponse {
        let headEnd = try readUntil([13, 10, 13, 10])
        let headText = String(decoding: buffer[..<headEnd], as: UTF8.self)
        buffer.removeFirst(headEnd + 4)
        let lines = headText.components(separatedBy: "\r\n")
        let statusParts = lines[0].split(separator: " ")
        guard statusParts.count >= 2, let status = Int(statusParts[1]) else {
            throw SupervisorClientError.malformed(lines[0])
        }
        var headers: [String: String] = [:]
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(
                in: .whitespaces)
        }
        var body: [UInt8] = []
        if headers["transfer-encoding"]?.lowercased() == "chunked" {
            while true {
                let lineEnd = try readUntil([13, 10])
                let sizeText = String(decoding: buffer[..<lineEnd], as: UTF8.self).split(separator: ";").first ?? ""
                buffer.removeFirst(lineEnd + 2)
                guard let size = Int(sizeText.trimmingCharacters(in: .whitespaces), radix: 16) else {
                    throw SupervisorClientError.malformed("chunk size '\(sizeText)'")
                }
                try fill(size + 2)
                body += buffer[..<size]
                buffer.removeFirst(size + 2)
                if size == 0 { break }
            }
        } else if let length = headers["content-length"].flatMap(Int.init) {
            try fill(length)
            body = Array(buffer[..<length])
            buffer.removeFirst(length)
        }
        return SupervisorClientResponse(
            status: status, body: String(decoding: body, as: UTF8.self),
            closes: headers["connection"]?.lowercased() == "close", headers: headers)
    }

    /// The index where `marker` starts, reading until it arrives.
    private func readUntil(_ marker: [UInt8]) throws -> Int {
        var searchFrom = 0
        while true {
            if buffer.count >= marker.count {
                for index in searchFrom...(buffer.count - marker.count) where buffer[index] == marker[0] {
                    if Array(buffer[index..<(index + marker.count)]) == marker { return index }
                }
                searchFrom = buffer.count - marker.count + 1
            }
            try readMore()
        }
    }

    private func fill(_ count: Int) throws {
        while buffer.count < count { try readMore() }
    }

    private func readMore() throws {
        var chunk = [UInt8](repeating: 0, count: 16 * 1024)
        let got = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        if got > 0 {
            buffer += chunk[..<got]
            return
        }
        if got == 0 { throw SupervisorClientError.closed(afterBytes: buffer.count) }
        switch errno {
        case ECONNRESET: throw SupervisorClientError.reset
        case EAGAIN, EWOULDBLOCK: throw SupervisorClientError.timedOut
        default: throw SupervisorClientError.connectFailed(errno: errno)
        }
    }
}

/// Continuous requests from plain threads until stopped, counting what failed and why.
///
/// With `keepAlive`, each thread reuses its connection, and a request on a reused connection
/// that the server closed before answering a single byte is sent again on a new one, as every
/// HTTP client does for an idempotent request (the close raced the request). Every other error,
/// and every status other than the expected one, is a failure.
final class SupervisorLoad: Sendable {
    struct Result {
        var succeeded: Int
        var failures: [String]
        var refused: Int
    }

    private struct State {
        var succeeded = 0
        var failures: [String] = []
        var refused = 0
    }

    private let state = Mutex(State())
    private let stopping = Atomic<Bool>(false)
    private let running = Atomic<Int>(0)

    /// Starts `threads` threads sending `request` to `port` in a loop.
    /// - Parameters:
    ///   - request: given the thread and a sequence number, the method, path, body and the
    ///     expected status; `onSuccess` sees each successful response.
    init(
        threads: Int, port: Int, keepAlive: Bool,
        request: @escaping @Sendable (_ thread: Int, _ sequence: Int) -> (String, String, String?, Int) = { _, _ in
            ("GET", "/api/racks", nil, 200)
        },
        onSuccess: @escaping @Sendable (_ thread: Int, _ sequence: Int, SupervisorClientResponse) -> Void = { _, _, _ in
        }
    ) {
        for thread in 0..<threads {
            running.add(1, ordering: .relaxed)
            Thread.detachNewThread { [self] in
                var connection: SupervisorHTTPConnection?
                var sequence = 0
                while !stopping.load(ordering: .relaxed) {
                    sequence += 1
                    let (method, path, body, expected) = request(thread, sequence)
                    do {
                        let response = try send(
                            method, path, body: body, keepAlive: keepAlive, port: port, connection: &connection)
                        if response.status == expected {
                            state.withLock { $0.succeeded += 1 }
                            onSuccess(thread, sequence, response)
                        } else {
                            record("\(method) \(path): status \(response.status): \(response.body.prefix(200))")
                        }
                    } catch {
                        connection = nil
                        if case SupervisorClientError.refused = error { state.withLock { $0.refused += 1 } }
                        record("\(method) \(path): \(error)")
                    }
                }
                running.subtract(1, ordering: .relaxed)
            }
        }
    }

    /// Requests that succeeded so far.
    var succeeded: Int { state.withLock { $0.succeeded } }

    /// Stops the threads and waits (at most 30 s) for their last requests.
    func stop() async throws -> Result {
        stopping.store(true, ordering: .relaxed)
        try await waitUntil("the load threads to stop", timeout: .seconds(30)) { running.load(ordering: .relaxed) == 0 }
        return state.withLock { Result(succeeded: $0.succeeded, failures: $0.failures, refused: $0.refused) }
    }

    /// Waits until `count` more requests have succeeded (load is flowing).
    func waitForSuccesses(_ count: Int, timeout: Duration = .seconds(60)) async throws {
        let target = succeeded + count
        try await waitUntil("\(count) successful requests", timeout: timeout) { succeeded >= target }
    }

    private func record(_ failure: String) {
        state.withLock { $0.failures.append(failure) }
    }

    private func send(
        _ method: String, _ path: String, body: String?, keepAlive: Bool, port: Int,
        connection: inout SupervisorHTTPConnection?
    ) throws -> SupervisorClientResponse {
        if keepAlive, let reused = connection, reused.requestsSent > 0, method == "GET" {
            do {
                let response = try reused.request(method, path, body: body)
                if response.closes { connection = nil }
                return response
            } catch SupervisorClientError.closed(afterBytes: 0) {
                connection = nil
            } catch SupervisorClientError.reset {
                connection = nil
            }
        }
        let fresh = try connection ?? SupervisorHTTPConnection(port: port)
        let response = try fresh.request(method, path, body: body, close: !keepAlive)
        connection = keepAlive && !response.closes ? fresh : nil
        return response
    }
}

/// Polls `condition` every 20 ms until it holds, failing after `timeout`.
func waitUntil(_ what: String, timeout: Duration, _ condition: () throws -> Bool) async throws {
    let deadline = ContinuousClock.now + timeout
    while try !condition() {
        guard ContinuousClock.now < deadline else {
            throw SupervisorTestFailure("timed out after \(timeout) waiting for \(what)")
        }
        try await Task.sleep(for: .milliseconds(20))
    }
}

struct SupervisorTestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Runs blocking `body` on a thread of its own (not on Swift's small cooperative pool).
func onThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread.detachNewThread {
            continuation.resume(with: Result { try body() })
        }
    }
}

/// The sum of every sample of counter `name` whose labels contain all of `labels`
/// (`route="/api/racks"`), from Prometheus text.
func metricSum(_ text: String, _ name: String, labels: [String] = []) -> Double {
    var total = 0.0
    for line in text.split(separator: "\n") where line.hasPrefix(name + "{") || line.hasPrefix(name + " ") {
        guard labels.allSatisfy({ line.contains($0) }),
            let value = line.split(separator: " ").last.flatMap({ Double($0) })
        else { continue }
        total += value
    }
    return total
}
