import EdgeIO
import EdgeIOHello
import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// A blocking loopback TCP client with a receive timeout on every read, for driving the
/// core's servers byte by byte. In async tests its calls run off the cooperative pool (the
/// async overloads below); it is used by one test at a time, hence `@unchecked Sendable`.
final class TestClient: @unchecked Sendable {
    let fd: Int32

    /// - Parameter receiveBuffer: SO_RCVBUF before connecting (small: the server's writes
    ///   back up quickly).
    /// - Parameter receiveTimeout: seconds a read may wait (long: the whole suite shares two
    ///   cores, and a 10 MB exchange once waited past 10 s there).
    init(port: Int, receiveTimeout: Double = 30, receiveBuffer: Int32? = nil) throws {
        fd = try connectLoopback(port: port, receiveBuffer: receiveBuffer)
        var timeout = timeval(tv_sec: Int(receiveTimeout), tv_usec: Int((receiveTimeout.truncatingRemainder(dividingBy: 1)) * 1e6))
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    deinit { if !closed { Glibc.close(fd) } }

    func send(_ text: String) throws {
        try send(Array(text.utf8))
    }

    func send(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard n > 0 else { throw TestFailure("send: errno \(errno)") }
            offset += n
        }
    }

    /// Reads once: the bytes, or an empty array at end of stream. Throws on timeout.
    func receive(max: Int = 65536) throws -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: max)
        let n = buffer.withUnsafeMutableBytes { Glibc.recv(fd, $0.baseAddress, max, 0) }
        if n < 0 {
            let error = errno
            throw TestFailure(error == EAGAIN ? "recv: nothing within the receive timeout" : "recv: errno \(error)")
        }
        return Array(buffer[0..<n])
    }

    /// Reads until end of stream.
    func receiveAll() throws -> [UInt8] {
        var all: [UInt8] = []
        while true {
            let chunk = try receive()
            if chunk.isEmpty { return all }
            all += chunk
        }
    }

    /// Reads exactly `count` HTTP responses (each framed by Content-Length).
    func receiveResponses(_ count: Int) throws -> [Response] {
        var data: [UInt8] = []
        var responses: [Response] = []
        while responses.count < count {
            if let (response, used) = Response.parse(data) {
                responses.append(response)
                data.removeFirst(used)
                continue
            }
            let chunk = try receive()
            guard !chunk.isEmpty else { throw TestFailure("end of stream after \(responses.count) responses") }
            data += chunk
        }
        guard data.isEmpty else { throw TestFailure("\(data.count) bytes after the last response") }
        return responses
    }

    func shutdownWrite() { Glibc.shutdown(fd, Int32(SHUT_WR)) }

    private var closed = false

    /// Closes the socket now (the deinit then does nothing).
    func close() {
        guard !closed else { return }
        closed = true
        Glibc.close(fd)
    }

    /// Sends up to `bytes` filler bytes without blocking, giving up when the peer stops
    /// taking them for `seconds` or an error occurs.
    func sendWithoutBlocking(bytes: Int, forAtMost seconds: Double) {
        let filler = [UInt8](repeating: UInt8(ascii: "x"), count: 16384)
        var sent = 0
        let deadline = Date().addingTimeInterval(seconds)
        while sent < bytes && Date() < deadline {
            let n = filler.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, min($0.count, bytes - sent), Int32(MSG_DONTWAIT | MSG_NOSIGNAL)) }
            if n > 0 {
                sent += n
            } else if n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) {
                usleep(1000)
            } else {
                return
            }
        }
    }
}

/// A blocking TCP socket connected to 127.0.0.1:`port`.
/// - Parameter receiveBuffer: SO_RCVBUF, set before connecting so the window is small from the
///   start (the server's writes back up quickly when the client does not read).
/// A loopback port that refuses connections for as long as the returned socket stays open: it
/// is bound but not listening (the kernel answers a SYN with a reset), and bound, no other
/// test's server can take it, as it could a port closed after a probe. Close `fd` when done.
func refusingLoopbackPort() throws -> (fd: Int32, port: Int) {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw TestFailure("socket: errno \(errno)") }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            Glibc.bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0
        }
    }
    guard bound else {
        let error = errno
        Glibc.close(fd)
        throw TestFailure("bind: errno \(error)")
    }
    return (fd, Int(UInt16(bigEndian: address.sin_port)))
}

func connectLoopback(port: Int, receiveBuffer: Int32? = nil) throws -> Int32 {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw TestFailure("socket: errno \(errno)") }
    if var size = receiveBuffer {
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
    }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = UInt16(port).bigEndian
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    let result = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard result == 0 else {
        let error = errno
        Glibc.close(fd)
        throw TestFailure("connect: errno \(error)")
    }
    return fd
}

extension TestClient {
    // The blocking calls, each on a thread of its own (``offThePool(_:)``): on Swift's
    // cooperative pool (two threads here) a read waiting for the server would stall every
    // other test's awaits. In an async test these overloads are the ones chosen.

    func send(_ text: String) async throws { try await offThePool { try self.send(text) } }
    func send(_ bytes: [UInt8]) async throws { try await offThePool { try self.send(bytes) } }
    func receive(max: Int = 65536) async throws -> [UInt8] { try await offThePool { try self.receive(max: max) } }
    func receiveAll() async throws -> [UInt8] { try await offThePool { try self.receiveAll() } }
    func receiveResponses(_ count: Int) async throws -> [Response] {
        try await offThePool { try self.receiveResponses(count) }
    }
    func sendWithoutBlocking(bytes: Int, forAtMost seconds: Double) async throws {
        try await offThePool { self.sendWithoutBlocking(bytes: bytes, forAtMost: seconds) }
    }
}

struct Response {
    var status: Int
    var headers: [String: String]
    var body: [UInt8]

    static func parse(_ data: [UInt8]) -> (Response, Int)? {
        let separator: [UInt8] = [13, 10, 13, 10]
        guard data.count >= 4, let end = (0...(data.count - 4)).first(where: { Array(data[$0..<$0 + 4]) == separator })
        else { return nil }
        let head = String(decoding: data[0..<end], as: UTF8.self)
        var lines = head.components(separatedBy: "\r\n")
        let status = Int(lines.removeFirst().split(separator: " ")[1]) ?? 0
        var headers: [String: String] = [:]
        for line in lines {
            let parts = line.split(separator: ":", maxSplits: 1)
            headers[parts[0].lowercased()] = parts[1].trimmingCharacters(in: .whitespaces)
        }
        let length = Int(headers["content-length"] ?? "0") ?? 0
        guard data.count >= end + 4 + length else { return nil }
        return (Response(status: status, headers: headers, body: Array(data[(end + 4)..<(end + 4 + length)])), end + 4 + length)
    }
}

struct TestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// A running ``HelloHandler`` group on 127.0.0.1 and an ephemeral port.
final class HelloServer {
    let group: EventLoopGroup<HelloHandler>

    init(
        loops: Int = 1, configuration: HelloHandler.Configuration = HelloHandler.Configuration(), tls: TLSContext? = nil,
        handshakeTimeout: UInt64 = 10_000
    ) throws {
        group = try EventLoopGroup(
            configuration: EventLoopConfiguration(loopCount: loops, tls: tls, handshakeTimeout: handshakeTimeout)
        ) { _ in
            HelloHandler(configuration: configuration)
        }
    }

    var port: Int { group.port }

    /// Each loop's statistics, asked through its mailbox.
    func statistics() async -> [HelloHandler.Statistics] {
        var all: [HelloHandler.Statistics] = []
        for loop in 0..<group.loopCount {
            let statistics = await withCheckedContinuation { continuation in
                group.post(.statistics(reply: { continuation.resume(returning: $0) }), toLoop: loop)
            }
            all.append(statistics)
        }
        return all
    }

    /// Polls the statistics until `condition` holds, for at most `timeout` seconds; after the
    /// deadline it asks once more, so a poller that got no thread for a while (blocking test
    /// clients occupy the cooperative pool) still reports the loops' state now, not a stale one.
    func waitFor(timeout: Double = 30, _ condition: ([HelloHandler.Statistics]) -> Bool) async -> [HelloHandler.Statistics] {
        let deadline = Date().addingTimeInterval(timeout)
        var last = await statistics()
        while !condition(last) {
            if Date() >= deadline { return await statistics() }
            try? await Task.sleep(for: .milliseconds(10))
            last = await statistics()
        }
        return last
    }

    /// Asks the loops to drain (``HelloHandler/Message/drain``).
    /// - Returns: whether every loop took the message.
    func drain() -> Bool {
        (0..<group.loopCount).allSatisfy { group.post(.drain, toLoop: $0) }
    }

    func stop() { group.stop() }
}
