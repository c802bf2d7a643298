import NIOCore
import NIOHTTP1
import NIOHTTP2
import NIOPosix
import NIOSSL
import NIOTLS
import Synchronization

/// How a test client speaks TLS: versions, suites, SNI and ALPN. Certificates are not verified
/// (they are self-signed); tests compare the leaf they were given instead.
struct TLSClientOptions: Sendable {
    /// The SNI name; `nil` sends none.
    var serverName: String? = "a.test"
    var minimumVersion: TLSVersion = .tlsv12
    var maximumVersion: TLSVersion? = nil
    /// TLS 1.2 (and older) suites offered; `nil` for swift-nio-ssl's defaults.
    var cipherSuites: [NIOTLSCipher]? = nil
    var alpn: [String] = ["http/1.1"]

    static func version(_ version: TLSVersion, serverName: String? = "a.test") -> TLSClientOptions {
        TLSClientOptions(serverName: serverName, minimumVersion: version, maximumVersion: version)
    }

    func makeContext() throws -> NIOSSLContext {
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.certificateVerification = .none
        configuration.minimumTLSVersion = minimumVersion
        configuration.maximumTLSVersion = maximumVersion
        if let cipherSuites { configuration.cipherSuiteValues = cipherSuites }
        configuration.applicationProtocols = alpn
        return try NIOSSLContext(configuration: configuration)
    }
}

/// A response as the test client read it.
struct TLSTestResponse: Sendable {
    var status: Int
    var headers: HTTPHeaders
    var body: String

    /// The first value of header `name` (case-insensitive).
    func header(_ name: String) -> String? { headers.first(name: name) }
    func values(_ name: String) -> [String] { headers[name] }
}

/// One request handed to the pipeline, with the promise its response completes.
struct TLSTestRequest: Sendable {
    var head: HTTPRequestHead
    var body: ByteBuffer?
    var promise: EventLoopPromise<TLSTestResponse>
}

/// What the server's HTTP/2 connection-level frames said (and, on a raw connection, the bytes
/// it sent), recorded for the test to read.
final class TLSTestConnectionLog: Sendable {
    private struct State {
        var settings: [HTTP2Setting]?
        var goAway: HTTP2ErrorCode?
        var errors: [String] = []
        var raw = ""
    }

    private let state = Mutex(State())

    /// The server's first SETTINGS frame, once received.
    var settings: [HTTP2Setting]? { state.withLock { $0.settings } }
    /// The error code of the server's GOAWAY, once received.
    var goAway: HTTP2ErrorCode? { state.withLock { $0.goAway } }
    var errors: [String] { state.withLock { $0.errors } }

    func received(_ frame: HTTP2Frame) {
        switch frame.payload {
        case .settings(.settings(let settings)):
            state.withLock { if $0.settings == nil { $0.settings = settings } }
        case .goAway(_, let code, _):
            state.withLock { $0.goAway = code }
        default:
            break
        }
    }

    func caught(_ error: any Error) { state.withLock { $0.errors.append("\(error)") } }

    /// Bytes received on a raw connection, as text.
    var raw: String { state.withLock { $0.raw } }
    func receivedRaw(_ text: String) { state.withLock { $0.raw += text } }
}

/// A client connection to the edge over loopback: plain or TLS, then HTTP/1.1 or (when ALPN
/// picks it) HTTP/2, each request answered in order. Built with swift-nio / swift-nio-ssl /
/// swift-nio-http2, so the test sees exactly what the handshake negotiated.
final class TLSTestConnection: Sendable {
    let channel: any Channel
    /// The ALPN protocol the server chose (`nil`: none, or plain TCP).
    let negotiatedProtocol: String?
    /// Set when the connection speaks HTTP/2.
    let http2: NIOHTTP2Handler.StreamMultiplexer?
    /// The server's connection-level HTTP/2 frames, and the bytes of a raw connection.
    let log: TLSTestConnectionLog

    private init(
        channel: any Channel, negotiatedProtocol: String?, http2: NIOHTTP2Handler.StreamMultiplexer?, log: TLSTestConnectionLog
    ) {
        self.channel = channel
        self.negotiatedProtocol = negotiatedProtocol
        self.http2 = http2
        self.log = log
    }

    /// Connects to `127.0.0.1:port` and completes the TLS handshake (when `tls` is given).
    /// - Parameters:
    ///   - tls: the client's TLS settings; `nil` for plain TCP.
    ///   - raw: install no HTTP codec: the test writes bytes with ``writeRaw(_:)`` and reads
    ///     what arrived from ``rawReceived``.
    ///   - timeout: for the TCP connection, the handshake and the pipeline each.
    /// - Throws: the handshake's error when it fails (the server refused the version, the suites…).
    static func connect(
        port: Int, tls: TLSClientOptions?, raw: Bool = false, timeout: TimeAmount = .seconds(5)
    ) async throws -> TLSTestConnection {
        let loop = MultiThreadedEventLoopGroup.singleton.next()
        let handshake = loop.makePromise(of: String?.self)
        let ready = loop.makePromise(of: NIOHTTP2Handler.StreamMultiplexer?.self)
        let log = TLSTestConnectionLog()
        let context = try tls.map { try $0.makeContext() }
        let serverName = tls?.serverName
        let channel: any Channel
        do {
            channel = try await ClientBootstrap(group: loop)
                .connectTimeout(timeout)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        let sync = channel.pipeline.syncOperations
                        guard let context else {
                            try configureHTTP1(channel, raw: raw ? log : nil)
                            handshake.succeed(nil)
                            ready.succeed(nil)
                            return
                        }
                        try sync.addHandler(try NIOSSLClientHandler(context: context, serverHostname: serverName))
                        try sync.addHandler(TLSTestHandshakeWatcher(promise: handshake))
                        try sync.addHandler(
                            ApplicationProtocolNegotiationHandler { result, channel in
                                channel.eventLoop.makeCompletedFuture {
                                    if raw {
                                        try configureHTTP1(channel, raw: log)
                                        ready.succeed(nil)
                                    } else if case .negotiated("h2") = result {
                                        ready.succeed(try configureHTTP2(channel, log: log))
                                    } else {
                                        try configureHTTP1(channel, raw: nil)
                                        ready.succeed(nil)
                                    }
                                }
                            })
                    }
                }
                .connect(host: "127.0.0.1", port: port).get(within: timeout, "a TCP connection to port \(port)")
        } catch {
            handshake.fail(error)
            ready.fail(error)
            throw error
        }
        do {
            let negotiated = try await handshake.futureResult.get(within: timeout, "the TLS handshake")
            let multiplexer = try await ready.futureResult.get(within: timeout, "the HTTP pipeline")
            return TLSTestConnection(channel: channel, negotiatedProtocol: negotiated, http2: multiplexer, log: log)
        } catch {
            ready.fail(error)
            try? await channel.close().get(within: timeout, "the failed connection to close")
            throw error
        }
    }

    private static func configureHTTP1(_ channel: any Channel, raw: TLSTestConnectionLog?) throws {
        let sync = channel.pipeline.syncOperations
        if let raw {
            try sync.addHandler(TLSTestRawRecorder(log: raw))
            return
        }
        try sync.addHTTPClientHandlers()
        try sync.addHandler(TLSTestRequestHandler())
    }

    private static func configureHTTP2(_ channel: any Channel, log: TLSTestConnectionLog) throws -> NIOHTTP2Handler.StreamMultiplexer {
        let sync = channel.pipeline.syncOperations
        let multiplexer = try sync.configureHTTP2Pipeline(
            mode: .client, connectionConfiguration: .init(), streamConfiguration: .init()
        ) { stream in
            stream.close()  // the server pushes nothing the tests want
        }
        try sync.addHandler(TLSTestHTTP2FrameRecorder(log: log))
        return multiplexer
    }

    /// The leaf certificate the server presented, DER-encoded.
    func peerCertificateDER() async throws -> [UInt8] {
        guard let certificate = try await channel.nioSSL_peerCertificate().get(within: .seconds(5), "the peer certificate") else {
            throw TLSTestFailure("the server presented no certificate")
        }
        return try certificate.toDERBytes()
    }

    /// The TLS version the handshake settled on.
    func tlsVersion() async throws -> TLSVersion? {
        try await channel.nioSSL_tlsVersion().get(within: .seconds(5), "the TLS version")
    }

    /// Sends one request and waits for its response: on this connection (HTTP/1.1), or on a new
    /// stream (HTTP/2).
    func request(
        _ method: HTTPMethod = .GET, _ uri: String, host: String = "a.test", headers: [(String, String)] = [],
        body: String? = nil, timeout: TimeAmount = .seconds(5)
    ) async throws -> TLSTestResponse {
        var head = HTTPRequestHead(version: .http1_1, method: method, uri: uri)
        head.headers.add(name: "Host", value: host)
        for (name, value) in headers { head.headers.add(name: name, value: value) }
        let buffer = body.map { ByteBuffer(string: $0) }
        if let buffer { head.headers.add(name: "Content-Length", value: String(buffer.readableBytes)) }
        let target: any Channel
        if let http2 {
            target = try await http2.createStreamChannel { stream in
                stream.eventLoop.makeCompletedFuture {
                    try stream.pipeline.syncOperations.addHandler(HTTP2FramePayloadToHTTP1ClientCodec(httpProtocol: .https))
                    try stream.pipeline.syncOperations.addHandler(TLSTestRequestHandler())
                }
            }.get(within: timeout, "a new HTTP/2 stream")
        } else {
            target = channel
        }
        let promise = target.eventLoop.makePromise(of: TLSTestResponse.self)
        target.writeAndFlush(TLSTestRequest(head: head, body: buffer, promise: promise)).whenFailure { promise.fail($0) }
        return try await promise.futureResult.get(within: timeout, "the response to \(method) \(uri)")
    }

    /// Opens an HTTP/2 stream, sends a request head (no END_STREAM) and resets the stream at once
    /// (RST_STREAM CANCEL): one round of the "rapid reset" attack.
    func openAndResetStream(_ uri: String, timeout: TimeAmount = .seconds(5)) async throws {
        guard let http2 else { throw TLSTestFailure("not an HTTP/2 connection") }
        let stream = try await http2.createStreamChannel { stream in
            stream.eventLoop.makeCompletedFuture {
                try stream.pipeline.syncOperations.addHandler(HTTP2FramePayloadToHTTP1ClientCodec(httpProtocol: .https))
            }
        }.get(within: timeout, "a new HTTP/2 stream")
        var head = HTTPRequestHead(version: .http1_1, method: .GET, uri: uri)
        head.headers.add(name: "Host", value: "a.test")
        try await stream.writeAndFlush(HTTPClientRequestPart.head(head)).get(within: timeout, "HEADERS to be written")
        // Closing an open stream sends RST_STREAM (CANCEL); the close itself reports that as an error.
        stream.close(promise: nil)
        try await stream.closeFuture.get(within: timeout, "the stream to be reset")
    }

    /// Writes `text` as it is (a connection made with `raw: true`).
    func writeRaw(_ text: String) async throws {
        try await channel.writeAndFlush(ByteBuffer(string: text)).get(within: .seconds(5), "raw bytes to be written")
    }

    /// What the server sent so far (a connection made with `raw: true`).
    var rawReceived: String { log.raw }

    /// Whether the server has closed the connection (or it was closed here).
    var isClosed: Bool { !channel.isActive }

    func close() async {
        try? await channel.close().get(within: .seconds(5), "the client connection to close")
    }
}

/// Completes a promise when the TLS handshake completes (with the ALPN protocol) or fails.
final class TLSTestHandshakeWatcher: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = NIOAny

    private let promise: EventLoopPromise<String?>
    private var done = false

    init(promise: EventLoopPromise<String?>) { self.promise = promise }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if !done, let event = event as? TLSUserEvent, case .handshakeCompleted(let negotiated) = event {
            done = true
            promise.succeed(negotiated)
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if !done {
            done = true
            promise.fail(error)
        }
        context.fireErrorCaught(error)
    }

    func channelInactive(context: ChannelHandlerContext) {
        if !done {
            done = true
            promise.fail(TLSTestFailure("the connection closed during the TLS handshake"))
        }
        context.fireChannelInactive()
    }
}

/// Writes ``TLSTestRequest``s as HTTP/1 request parts and completes their promises, in order,
/// with the responses; fails the waiting ones when the connection closes or errs.
final class TLSTestRequestHandler: ChannelDuplexHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundIn = TLSTestRequest
    typealias OutboundOut = HTTPClientRequestPart

    private var waiting: [EventLoopPromise<TLSTestResponse>] = []
    private var head: HTTPResponseHead?
    private var body = ByteBuffer()

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let request = unwrapOutboundIn(data)
        waiting.append(request.promise)
        context.write(wrapOutboundOut(.head(request.head)), promise: nil)
        if let body = request.body { context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil) }
        context.write(wrapOutboundOut(.end(nil)), promise: promise)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            if head.status.code >= 200 {
                self.head = head
                body.clear()
            }
        case .body(var part):
            body.writeBuffer(&part)
        case .end:
            guard let head, !waiting.isEmpty else { return }
            self.head = nil
            let response = TLSTestResponse(
                status: Int(head.status.code), headers: head.headers, body: String(buffer: body))
            waiting.removeFirst().succeed(response)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        failAll(error)
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        failAll(TLSTestFailure("the connection closed before the response"))
        context.fireChannelInactive()
    }

    private func failAll(_ error: any Error) {
        let promises = waiting
        waiting = []
        for promise in promises { promise.fail(error) }
    }
}

/// Records the server's connection-level HTTP/2 frames (stream 0: SETTINGS, GOAWAY…) and errors.
final class TLSTestHTTP2FrameRecorder: ChannelInboundHandler {
    typealias InboundIn = HTTP2Frame

    private let log: TLSTestConnectionLog

    init(log: TLSTestConnectionLog) { self.log = log }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        log.received(unwrapInboundIn(data))
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        log.caught(error)
    }
}

/// Records the bytes a raw connection receives.
final class TLSTestRawRecorder: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    private let log: TLSTestConnectionLog

    init(log: TLSTestConnectionLog) { self.log = log }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        log.receivedRaw(String(buffer: unwrapInboundIn(data)))
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        log.caught(error)
        context.close(promise: nil)
    }
}
