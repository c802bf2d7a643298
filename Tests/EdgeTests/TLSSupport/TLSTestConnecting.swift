import NIOCore
import NIOHTTP1
import NIOPosix

/// Runs `body` with a connection to `port`, closing it afterwards whatever happens.
func withTLSConnection<T>(
    port: Int, _ tls: TLSClientOptions?, _ body: (TLSTestConnection) async throws -> T
) async throws -> T {
    let connection = try await TLSTestConnection.connect(port: port, tls: tls)
    do {
        let result = try await body(connection)
        await connection.close()
        return result
    } catch {
        await connection.close()
        throw error
    }
}

/// The error of a connection attempt that must fail in the TLS handshake, or `nil` when the
/// handshake succeeded.
func tlsHandshakeError(port: Int, _ tls: TLSClientOptions) async -> (any Error)? {
    do {
        let connection = try await TLSTestConnection.connect(port: port, tls: tls)
        await connection.close()
        return nil
    } catch {
        return error
    }
}

/// One request on a new connection, closed afterwards.
func tlsRequest(
    port: Int, _ tls: TLSClientOptions?, _ method: HTTPMethod = .GET, _ uri: String, host: String = "a.test",
    headers: [(String, String)] = [], body: String? = nil
) async throws -> TLSTestResponse {
    try await withTLSConnection(port: port, tls) { connection in
        try await connection.request(method, uri, host: host, headers: headers, body: body)
    }
}

/// Sends `text` byte for byte on a new plain TCP connection and returns everything the server
/// sends until it closes the connection (so the request should carry `Connection: close`).
func tlsRawExchange(port: Int, _ text: String, timeout: TimeAmount = .seconds(5)) async throws -> String {
    let loop = MultiThreadedEventLoopGroup.singleton.next()
    let received = loop.makePromise(of: String.self)
    let channel = try await ClientBootstrap(group: loop)
        .connectTimeout(timeout)
        .channelInitializer { channel in
            channel.eventLoop.makeCompletedFuture {
                try channel.pipeline.syncOperations.addHandler(TLSTestRawCollector(promise: received))
            }
        }
        .connect(host: "127.0.0.1", port: port).get(within: timeout, "a TCP connection to port \(port)")
    channel.writeAndFlush(ByteBuffer(string: text)).whenFailure { received.fail($0) }
    do {
        return try await received.futureResult.get(within: timeout, "the server to answer and close")
    } catch {
        try? await channel.close().get(within: timeout, "the raw connection to close")
        throw error
    }
}

/// The status code of a raw HTTP/1.1 response text, or `nil`.
func tlsRawStatus(_ response: String) -> Int? {
    let parts = response.prefix { $0 != "\r" }.split(separator: " ")
    return parts.count >= 2 && parts[0].hasPrefix("HTTP/1.") ? Int(parts[1]) : nil
}

/// Collects every byte the server sends; completes with them when the connection closes.
final class TLSTestRawCollector: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    private let promise: EventLoopPromise<String>
    private var bytes = ByteBuffer()

    init(promise: EventLoopPromise<String>) { self.promise = promise }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var part = unwrapInboundIn(data)
        bytes.writeBuffer(&part)
    }

    func channelInactive(context: ChannelHandlerContext) {
        promise.succeed(String(buffer: bytes))
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)  // a reset still ends the exchange with what arrived
    }
}
