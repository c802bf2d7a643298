import Foundation
import NIOCore
import NIOPosix
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// A raw-byte upstream for protocol-switching tests: it reads one request head (no HTTP codec)
/// and then, by path:
///
/// - `/ws` with `Upgrade` and `Connection: Upgrade`: `101 Switching Protocols` (with
///   `Upgrade: websocket`, `Connection: Upgrade`, a `Sec-WebSocket-Accept` echoing the key), then
///   echoes every byte it receives;
/// - `/ws-greet`: the same, with ``greeting`` in the same write as the 101;
/// - anything else (or no upgrade asked): `200` with the body ``refusal`` and `Content-Length`,
///   keeping the connection open.
final class WebSocketUpstream: Sendable {
    static let greeting = "GREETING-BEHIND-101"
    static let refusal = "no upgrade here\n"

    let port: Int
    private let channel: any Channel
    private let counters: WebSocketUpstreamCounters

    private init(port: Int, channel: any Channel, counters: WebSocketUpstreamCounters) {
        self.port = port
        self.channel = channel
        self.counters = counters
    }

    static func start() async throws -> WebSocketUpstream {
        let counters = WebSocketUpstreamCounters()
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(WebSocketUpstreamHandler(counters: counters))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        guard let port = channel.localAddress?.port else {
            try? await channel.close()
            throw TestFailure("the WebSocket upstream has no port")
        }
        return WebSocketUpstream(port: port, channel: channel, counters: counters)
    }

    var address: String { "127.0.0.1:\(port)" }
    /// Connections accepted so far.
    var connectionsAccepted: Int { counters.accepted.load(ordering: .relaxed) }
    /// Connections accepted and since closed.
    var connectionsClosed: Int { counters.closed.load(ordering: .relaxed) }
    /// Connections switched to echoing.
    var upgrades: Int { counters.upgrades.load(ordering: .relaxed) }
    /// Request heads received, as text.
    var requestHeads: [String] { counters.heads.withLock { $0 } }

    func stop() async {
        try? await channel.close()
        counters.closeAll()
    }
}

/// Runs `body` with a ``WebSocketUpstream``, stopping it afterwards.
func withWebSocketUpstream<T>(_ body: (WebSocketUpstream) async throws -> T) async throws -> T {
    let upstream = try await WebSocketUpstream.start()
    do {
        let result = try await body(upstream)
        await upstream.stop()
        return result
    } catch {
        await upstream.stop()
        throw error
    }
}

final class WebSocketUpstreamCounters: Sendable {
    let accepted = Atomic<Int>(0)
    let closed = Atomic<Int>(0)
    let upgrades = Atomic<Int>(0)
    let heads = Mutex<[String]>([])
    private let channels = Mutex<[ObjectIdentifier: any Channel]>([:])

    func opened(_ channel: any Channel) {
        accepted.add(1, ordering: .relaxed)
        channels.withLock { $0[ObjectIdentifier(channel)] = channel }
    }

    func closed(_ channel: any Channel) {
        closed.add(1, ordering: .relaxed)
        _ = channels.withLock { $0.removeValue(forKey: ObjectIdentifier(channel)) }
    }

    func closeAll() {
        for channel in channels.withLock({ Array($0.values) }) { channel.close(promise: nil) }
    }
}

final class WebSocketUpstreamHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let counters: WebSocketUpstreamCounters
    private var pending: [UInt8] = []
    private var echoing = false

    init(counters: WebSocketUpstreamCounters) { self.counters = counters }

    func channelActive(context: ChannelHandlerContext) {
        counters.opened(context.channel)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        counters.closed(context.channel)
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = unwrapInboundIn(data)
        if echoing {
            context.write(wrapOutboundOut(buffer), promise: nil)
            return
        }
        pending.append(contentsOf: buffer.readableBytesView)
        guard let end = Self.headEnd(pending) else { return }
        let head = String(decoding: pending[..<end], as: UTF8.self)
        let rest = Array(pending[(end + 4)...])
        pending = []
        counters.heads.withLock { $0.append(head) }
        var lines = head.components(separatedBy: "\r\n")
        let requestLine = lines.removeFirst().split(separator: " ")
        let path = requestLine.count > 1 ? String(requestLine[1]) : "/"
        var headers: [(String, String)] = []
        for line in lines {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers.append(
                (String(line[..<colon]).lowercased(), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)))
        }
        let upgrade = headers.contains { $0.0 == "upgrade" }
            && headers.contains { $0.0 == "connection" && $0.1.lowercased().contains("upgrade") }
        if upgrade, path == "/ws" || path == "/ws-greet" {
            let key = headers.first { $0.0 == "sec-websocket-key" }?.1 ?? "none"
            var text = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            text += "Sec-WebSocket-Accept: \(key)\r\nServer: upstream/1.0\r\n\r\n"
            if path == "/ws-greet" { text += WebSocketUpstream.greeting }
            echoing = true
            counters.upgrades.add(1, ordering: .relaxed)
            context.write(wrapOutboundOut(context.channel.allocator.buffer(string: text)), promise: nil)
            if !rest.isEmpty { context.write(wrapOutboundOut(context.channel.allocator.buffer(bytes: rest)), promise: nil) }
            context.flush()
        } else {
            let body = WebSocketUpstream.refusal
            let text = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)"
            context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(string: text)), promise: nil)
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        context.flush()
        context.fireChannelReadComplete()
    }

    private static func headEnd(_ bytes: [UInt8]) -> Int? {
        guard bytes.count >= 4 else { return nil }
        for index in 0...(bytes.count - 4)
        where bytes[index] == 13 && bytes[index + 1] == 10 && bytes[index + 2] == 13 && bytes[index + 3] == 10 {
            return index
        }
        return nil
    }
}

/// A blocking raw TCP client for a tunnel: writes bytes, reads a response head and then exact
/// byte counts, each wait bounded by a deadline.
final class RawTunnelClient {
    private let fd: Int32
    private var buffer: [UInt8] = []
    private var closed = false

    init(port: Int) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw RawHTTPError.io("socket()", errno: errno) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        inet_pton(AF_INET, "127.0.0.1", &address.sin_addr)
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
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
        guard !closed else { return }
        closed = true
        Glibc.close(fd)
    }

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

    /// Reads a response head (status line and headers); bytes behind it stay buffered.
    func readHead(timeout: Duration = .seconds(5)) throws -> RawResponse {
        let deadline = ContinuousClock.now + timeout
        while true {
            if buffer.count >= 4 {
                for index in 0...(buffer.count - 4)
                where buffer[index] == 13 && buffer[index + 1] == 10 && buffer[index + 2] == 13 && buffer[index + 3] == 10 {
                    let text = String(decoding: buffer[..<index], as: UTF8.self)
                    buffer.removeFirst(index + 4)
                    var lines = text.components(separatedBy: "\r\n")
                    let statusLine = lines.removeFirst()
                    let parts = statusLine.split(separator: " ", maxSplits: 2)
                    guard parts.count >= 2, let status = Int(parts[1]) else {
                        throw RawHTTPError.malformed("status line '\(statusLine)'")
                    }
                    var headers: [(name: String, value: String)] = []
                    for line in lines where !line.isEmpty {
                        guard let colon = line.firstIndex(of: ":") else { throw RawHTTPError.malformed("header '\(line)'") }
                        headers.append(
                            (String(line[..<colon]), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)))
                    }
                    return RawResponse(status: status, headers: headers, body: [], bodyLength: 0)
                }
            }
            guard try fill(deadline: deadline, waitingFor: "a response head") else {
                throw RawHTTPError.closed(waitingFor: "a response head")
            }
        }
    }

    /// Reads exactly `count` bytes.
    func read(count: Int, timeout: Duration = .seconds(5)) throws -> [UInt8] {
        let deadline = ContinuousClock.now + timeout
        while buffer.count < count {
            guard try fill(deadline: deadline, waitingFor: "\(count - buffer.count) more bytes of \(count)") else {
                throw RawHTTPError.closed(waitingFor: "\(count - buffer.count) more bytes of \(count)")
            }
        }
        let bytes = Array(buffer[..<count])
        buffer.removeFirst(count)
        return bytes
    }

    /// Whether the peer closed (EOF or reset) within `timeout`; bytes arriving meanwhile are discarded.
    func isClosed(within timeout: Duration) -> Bool {
        let deadline = ContinuousClock.now + timeout
        while true {
            do {
                if try !fill(deadline: deadline, waitingFor: "close") { return true }
                buffer.removeAll()
            } catch RawHTTPError.reset {
                return true
            } catch {
                return false
            }
        }
    }

    private func fill(deadline: ContinuousClock.Instant, waitingFor what: String) throws -> Bool {
        var scratch = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let remaining = deadline - ContinuousClock.now
            guard remaining > .zero else { throw RawHTTPError.timedOut(waitingFor: what) }
            let milliseconds = Int32(
                clamping: max(1, remaining.components.seconds * 1000 + remaining.components.attoseconds / 1_000_000_000_000_000))
            var descriptor = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let ready = poll(&descriptor, 1, milliseconds)
            if ready < 0 {
                if errno == EINTR { continue }
                throw RawHTTPError.io("poll", errno: errno)
            }
            if ready == 0 { continue }
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
