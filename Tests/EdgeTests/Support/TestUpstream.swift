import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// What `/echo` answers: the request as the upstream received it.
struct EchoReport: Codable, Sendable {
    var upstream: String
    var method: String
    var uri: String
    var headers: [[String]]
    var bodyLength: Int
    /// The offset of the first body byte that is not ``TestPattern``'s, if any (a body sent as
    /// the pattern arrived whole and in order when this is `nil` and the length is right).
    var bodyPatternMismatch: Int?

    /// Every value of header `name` (case-insensitive), in order.
    func values(_ name: String) -> [String] {
        headers.filter { $0[0].lowercased() == name.lowercased() }.map { $0[1] }
    }

    /// The first value of header `name`, if any.
    func header(_ name: String) -> String? { values(name).first }
}

/// One request as a ``TestUpstream`` saw its head.
struct RecordedRequest: Sendable {
    var method: String
    var uri: String
    var path: String { String(uri.prefix { $0 != "?" }) }
}

/// A small HTTP/1.1 server on `127.0.0.1:0` for the edge to proxy to. The path picks the behaviour:
///
/// - `/echo`: the request head and body length as JSON (``EchoReport``), with hop-by-hop and
///   identifying headers (`Keep-Alive`, `Connection: X-Upstream-Hop`, `X-Upstream-Hop`) the edge must strip;
/// - `/slow?ms=N`: answers after N milliseconds;
/// - `/chunked?bytes=N`: N bytes without `Content-Length` (so chunked);
/// - `/big?bytes=N`: streams N bytes (with `Content-Length`) in 64 KiB chunks, only while the
///   connection is writable, so the edge's backpressure is what paces it;
/// - `/pattern?bytes=N`: as `/big`, but the bytes are ``TestPattern``'s (so a client can check
///   every byte and its place); with `&chunked=1` without `Content-Length` (chunked), with
///   `&close=1` framed by the upstream closing its connection; `&type=T` sets its `Content-Type`
///   (`application/octet-stream` by default), `&encoding=E` adds `Content-Encoding: E`, `&etag=T`
///   adds `ETag: "T"` (`&etag=W/T`: `ETag: W/"T"`);
/// - `/close`: closes the connection without answering (unless `dropsOnClose` is false, when it
///   answers 200 like any other path);
/// - `/csp`: 200 with `Content-Security-Policy: sandbox`;
/// - `/close-if-reused`: closes without answering when the connection served a request before
///   (a keep-alive connection the server dropped while the edge still pooled it), else 200;
/// - `/status/N`: answers status N;
/// - anything else: 200 with a short body naming the upstream.
///
/// Every response carries `Server: upstream/1.0`, `X-Powered-By: test`, `X-Frame-Options: ALLOWALL`
/// (which the edge must replace) and `X-Upstream: <name>`. The whole request body is read
/// before answering. Requests are recorded (at their head) so tests can count them.
final class TestUpstream: Sendable {
    let name: String
    let host: String
    let port: Int
    private let recorder: UpstreamRecorder
    private let channel: any Channel

    private init(name: String, host: String, port: Int, recorder: UpstreamRecorder, channel: any Channel) {
        self.name = name
        self.host = host
        self.port = port
        self.recorder = recorder
        self.channel = channel
    }

    /// Starts an upstream on the shared event loop group, on `host` (a loopback address, so a
    /// test can stand in for several hosts with 127.0.0.2, 127.0.0.3, ...) and `port` (0: any).
    static func start(name: String, dropsOnClose: Bool = true, host: String = "127.0.0.1", port: Int = 0) async throws -> TestUpstream {
        let recorder = UpstreamRecorder(name: name, dropsOnClose: dropsOnClose)
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(TestUpstreamHandler(recorder: recorder))
                }
            }
            .bind(host: host, port: port).get()
        guard let port = channel.localAddress?.port else {
            try? await channel.close()
            throw TestFailure("the test upstream has no port")
        }
        return TestUpstream(name: name, host: host, port: port, recorder: recorder, channel: channel)
    }

    /// `HOST:PORT`, for a configuration.
    var address: String { "\(host):\(port)" }

    /// Stops accepting and closes open connections.
    func stop() async {
        try? await channel.close()
        recorder.closeAll()
    }

    /// Every request head received so far.
    var requests: [RecordedRequest] { recorder.requests }
    var requestCount: Int { recorder.requests.count }
    func requestCount(path: String) -> Int { recorder.requests.filter { $0.path == path }.count }
    /// TCP connections accepted so far.
    var connectionsAccepted: Int { recorder.connectionsAccepted.load(ordering: .relaxed) }
    /// Requests whose body arrived complete (their end was read).
    var requestsEnded: Int { recorder.requestsEnded.load(ordering: .relaxed) }
    /// Requests whose connection ended before their body did.
    var requestsCutShort: Int { recorder.requestsCutShort.load(ordering: .relaxed) }
    /// Connections that ended with a TCP reset.
    var resetsSeen: Int { recorder.resetsSeen.load(ordering: .relaxed) }
    /// Every request's head as received (header names and values in order), by arrival.
    var receivedHeads: [[(name: String, value: String)]] { recorder.heads }
}

/// The bytes `/pattern` serves and tests compare against: not periodic at any buffer or record
/// size, so a lost, repeated or reordered stretch shows as well as a short body.
///
/// Byte `k` is `k + 3⌊k/2⁸⌋ + 7⌊k/2¹⁶⌋ + 11⌊k/2²⁴⌋` (mod 256): within each aligned 256-byte block
/// that is a ramp starting at the block's offset, so whole blocks are copied from a table and
/// compared with `memcmp`-speed slices (tests move tens of megabytes through a debug build).
enum TestPattern {
    /// 0, 1, …, 255, 0, 1, …, 255: any 256-byte ramp is a slice of it.
    private static let ramp: [UInt8] = (0..<512).map { UInt8(truncatingIfNeeded: $0) }

    static func byte(at offset: Int) -> UInt8 {
        UInt8(truncatingIfNeeded: offset &+ (offset >> 8) &* 3 &+ (offset >> 16) &* 7 &+ (offset >> 24) &* 11)
    }

    /// Where the ramp of the block holding `offset` starts.
    private static func rampStart(ofBlockAt offset: Int) -> Int { Int(byte(at: offset & ~255)) }

    static func bytes(_ range: Range<Int>) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(range.count)
        var offset = range.lowerBound
        while offset < range.upperBound {
            let blockEnd = min((offset | 255) + 1, range.upperBound)
            let start = rampStart(ofBlockAt: offset) + (offset & 255)
            out.append(contentsOf: ramp[start..<(start + blockEnd - offset)])
            offset = blockEnd
        }
        return out
    }

    /// The index of the first byte of `body` that differs from the pattern (or `nil`).
    static func firstMismatch(_ body: [UInt8]) -> Int? {
        var offset = 0
        while offset < body.count {
            let blockEnd = min((offset | 255) + 1, body.count)
            let start = rampStart(ofBlockAt: offset) + (offset & 255)
            let count = blockEnd - offset
            let same = body.withUnsafeBytes { got in
                ramp.withUnsafeBytes { want in memcmp(got.baseAddress! + offset, want.baseAddress! + start, count) == 0 }
            }
            if !same {
                return (offset..<blockEnd).first { body[$0] != byte(at: $0) }
            }
            offset = blockEnd
        }
        return nil
    }
}

/// Runs `body` with upstreams named `names`, stopping them afterwards.
func withUpstreams<T>(
    _ names: [String], dropsOnClose: Bool = true, _ body: ([TestUpstream]) async throws -> T
) async throws -> T {
    var upstreams: [TestUpstream] = []
    do {
        for name in names { upstreams.append(try await TestUpstream.start(name: name, dropsOnClose: dropsOnClose)) }
        let result = try await body(upstreams)
        for upstream in upstreams { await upstream.stop() }
        return result
    } catch {
        for upstream in upstreams { await upstream.stop() }
        throw error
    }
}

/// The shared, lock-protected record of what an upstream saw.
final class UpstreamRecorder: Sendable {
    let name: String
    let dropsOnClose: Bool
    let connectionsAccepted = Atomic<Int>(0)
    let requestsEnded = Atomic<Int>(0)
    let requestsCutShort = Atomic<Int>(0)
    let resetsSeen = Atomic<Int>(0)
    private let headsSeen = Mutex<[[(name: String, value: String)]]>([])
    private let state = Mutex<(requests: [RecordedRequest], channels: [ObjectIdentifier: any Channel])>(([], [:]))

    init(name: String, dropsOnClose: Bool) {
        self.name = name
        self.dropsOnClose = dropsOnClose
    }

    var requests: [RecordedRequest] { state.withLock { $0.requests } }

    func record(_ head: HTTPRequestHead) {
        state.withLock { $0.requests.append(RecordedRequest(method: head.method.rawValue, uri: head.uri)) }
        headsSeen.withLock { $0.append(head.headers.map { ($0.name, $0.value) }) }
    }

    var heads: [[(name: String, value: String)]] { headsSeen.withLock { $0 } }

    func opened(_ channel: any Channel) {
        connectionsAccepted.add(1, ordering: .relaxed)
        state.withLock { $0.channels[ObjectIdentifier(channel)] = channel }
    }

    func closed(_ channel: any Channel) {
        _ = state.withLock { $0.channels.removeValue(forKey: ObjectIdentifier(channel)) }
    }

    func closeAll() {
        let channels = state.withLock { $0.channels.values }
        for channel in channels { channel.close(promise: nil) }
    }
}

final class TestUpstreamHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private static let chunk = ByteBuffer(repeating: UInt8(ascii: "x"), count: 64 * 1024)

    private let recorder: UpstreamRecorder
    private var head: HTTPRequestHead?
    private var bodyBytes = 0
    private var bodyPatternMismatch: Int?
    /// Bytes of a `/big` response still to write, while one is streaming.
    private var streamRemaining: Int?
    private var streamKeepAlive = true
    /// For `/pattern`: the offset of the next byte, and whether the body ends with a close.
    private var patternOffset: Int?
    private var streamEndsWithClose = false
    /// Requests this connection answered before the current one.
    private var served = 0

    init(recorder: UpstreamRecorder) { self.recorder = recorder }

    func channelActive(context: ChannelHandlerContext) {
        recorder.opened(context.channel)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        if head != nil { recorder.requestsCutShort.add(1, ordering: .relaxed) }
        recorder.closed(context.channel)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if let error = error as? IOError, error.errnoCode == ECONNRESET { recorder.resetsSeen.add(1, ordering: .relaxed) }
        context.close(promise: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            self.head = head
            bodyBytes = 0
            bodyPatternMismatch = nil
            recorder.record(head)
        case .body(let body):
            if bodyPatternMismatch == nil, let index = body.readableBytesView.enumerated().first(where: {
                $0.element != TestPattern.byte(at: bodyBytes + $0.offset)
            })?.offset {
                bodyPatternMismatch = bodyBytes + index
            }
            bodyBytes += body.readableBytes
        case .end:
            guard let head else { return }
            self.head = nil
            recorder.requestsEnded.add(1, ordering: .relaxed)
            respond(to: head, context: context)
            served += 1
        }
    }

    private func respond(to head: HTTPRequestHead, context: ChannelHandlerContext) {
        let path = String(head.uri.prefix { $0 != "?" })
        let query = Self.query(head.uri)
        let keepAlive = head.isKeepAlive
        switch path {
        case "/echo":
            let report = EchoReport(
                upstream: recorder.name, method: head.method.rawValue, uri: head.uri,
                headers: head.headers.map { [$0.name, $0.value] }, bodyLength: bodyBytes,
                bodyPatternMismatch: bodyPatternMismatch)
            let body = (try? JSONEncoder().encode(report)) ?? Data()
            var headers = HTTPHeaders()
            headers.add(name: "Content-Type", value: "application/json")
            headers.add(name: "Keep-Alive", value: "timeout=5")
            headers.add(name: "Connection", value: "X-Upstream-Hop")
            headers.add(name: "X-Upstream-Hop", value: "must not reach the client")
            send(status: .ok, body: String(decoding: body, as: UTF8.self), extra: headers, keepAlive: keepAlive, context: context)
        case "/slow":
            let milliseconds = Int64(query["ms"] ?? "") ?? 1000
            let loop = context.eventLoop.assumeIsolated()
            loop.scheduleTask(in: .milliseconds(milliseconds)) { [self] in
                guard context.channel.isActive else { return }
                send(status: .ok, body: "slow from \(recorder.name)\n", keepAlive: keepAlive, context: context)
            }
        case "/big":
            let bytes = Int(query["bytes"] ?? "") ?? 0
            var headers = standardHeaders()
            headers.add(name: "Content-Type", value: "application/octet-stream")
            headers.add(name: "Content-Length", value: String(bytes))
            if !keepAlive { headers.add(name: "Connection", value: "close") }
            context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: .ok, headers: headers))), promise: nil)
            streamRemaining = bytes
            streamKeepAlive = keepAlive
            writeMore(context: context)
        case "/pattern":
            let bytes = Int(query["bytes"] ?? "") ?? 0
            var headers = standardHeaders()
            headers.add(name: "Content-Type", value: query["type"] ?? "application/octet-stream")
            if let coding = query["encoding"] { headers.add(name: "Content-Encoding", value: coding) }
            if let tag = query["etag"] {
                headers.add(name: "ETag", value: tag.hasPrefix("W/") ? "W/\"\(tag.dropFirst(2))\"" : "\"\(tag)\"")
            }
            streamEndsWithClose = query["close"] == "1"
            if query["chunked"] != "1" && !streamEndsWithClose { headers.add(name: "Content-Length", value: String(bytes)) }
            if !keepAlive || streamEndsWithClose { headers.add(name: "Connection", value: "close") }
            // An HTTP/1.0 head keeps NIO's encoder from framing an unsized body as chunked.
            let version: HTTPVersion = streamEndsWithClose ? .http1_0 : .http1_1
            context.write(wrapOutboundOut(.head(HTTPResponseHead(version: version, status: .ok, headers: headers))), promise: nil)
            streamRemaining = bytes
            patternOffset = 0
            streamKeepAlive = keepAlive && !streamEndsWithClose
            writeMore(context: context)
        case "/chunked":
            // No Content-Length: NIO frames the body with chunked encoding.
            let bytes = Int(query["bytes"] ?? "") ?? 0
            var headers = standardHeaders()
            headers.add(name: "Content-Type", value: "text/plain")
            if !keepAlive { headers.add(name: "Connection", value: "close") }
            context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: .ok, headers: headers))), promise: nil)
            context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(repeating: UInt8(ascii: "c"), count: bytes)))), promise: nil)
            finish(keepAlive: keepAlive, context: context)
        case "/close" where recorder.dropsOnClose:
            context.close(promise: nil)
        case "/csp":
            var headers = HTTPHeaders()
            headers.add(name: "Content-Security-Policy", value: "sandbox")
            send(status: .ok, body: "sandboxed\n", extra: headers, keepAlive: keepAlive, context: context)
        case "/close-if-reused" where served > 0:
            context.close(promise: nil)
        default:
            if path.hasPrefix("/status/"), let code = Int(path.dropFirst("/status/".count)) {
                send(status: HTTPResponseStatus(statusCode: code), body: "status \(code) from \(recorder.name)\n", keepAlive: keepAlive, context: context)
            } else {
                send(status: .ok, body: "hello from \(recorder.name)\n", keepAlive: keepAlive, context: context)
            }
        }
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if streamRemaining != nil, context.channel.isWritable { writeMore(context: context) }
        context.fireChannelWritabilityChanged()
    }

    /// Writes `/big` chunks while the channel takes them; resumes on writability.
    private func writeMore(context: ChannelHandlerContext) {
        guard var remaining = streamRemaining else { return }
        while remaining > 0, context.channel.isWritable {
            let size = min(remaining, Self.chunk.readableBytes)
            if let offset = patternOffset {
                context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(bytes: TestPattern.bytes(offset..<(offset + size)))))), promise: nil)
                patternOffset = offset + size
            } else {
                context.write(wrapOutboundOut(.body(.byteBuffer(Self.chunk.getSlice(at: 0, length: size)!))), promise: nil)
            }
            remaining -= size
        }
        if remaining == 0 {
            streamRemaining = nil
            patternOffset = nil
            if streamEndsWithClose {
                // The body ends when the connection does (no length, no chunks).
                streamEndsWithClose = false
                let loopBound = context.loopBound
                context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in loopBound.value.close(promise: nil) }
                return
            }
            finish(keepAlive: streamKeepAlive, context: context)
        } else {
            streamRemaining = remaining
            context.flush()
        }
    }

    private func standardHeaders() -> HTTPHeaders {
        var headers = HTTPHeaders()
        headers.add(name: "Server", value: "upstream/1.0")
        headers.add(name: "X-Powered-By", value: "test")
        headers.add(name: "X-Frame-Options", value: "ALLOWALL")
        headers.add(name: "X-Upstream", value: recorder.name)
        return headers
    }

    private func send(
        status: HTTPResponseStatus, body: String, extra: HTTPHeaders = HTTPHeaders(), keepAlive: Bool,
        context: ChannelHandlerContext
    ) {
        var headers = standardHeaders()
        headers.add(contentsOf: extra)
        if !headers.contains(name: "Content-Type") { headers.add(name: "Content-Type", value: "text/plain") }
        let buffer = context.channel.allocator.buffer(string: body)
        headers.add(name: "Content-Length", value: String(buffer.readableBytes))
        if !keepAlive { headers.add(name: "Connection", value: "close") }
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: status, headers: headers))), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil)
        finish(keepAlive: keepAlive, context: context)
    }

    private func finish(keepAlive: Bool, context: ChannelHandlerContext) {
        let done = context.writeAndFlush(wrapOutboundOut(.end(nil)))
        if !keepAlive {
            let loopBound = context.loopBound
            done.whenComplete { _ in loopBound.value.close(promise: nil) }
        }
    }

    private static func query(_ uri: String) -> [String: String] {
        guard let mark = uri.firstIndex(of: "?") else { return [:] }
        var result: [String: String] = [:]
        for pair in uri[uri.index(after: mark)...].split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1)
            result[String(parts[0])] = parts.count > 1 ? String(parts[1]) : ""
        }
        return result
    }
}

/// A test precondition that did not hold, with a message saying which.
struct TestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
