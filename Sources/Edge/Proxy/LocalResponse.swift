import NIOCore
import NIOHTTP1

/// A response the edge writes itself (errors, limits, redirects, fixed answers): small, complete,
/// with the same security headers and request ID as proxied ones, and no server version.
struct LocalResponse {
    var status: HTTPResponseStatus
    var headers: HTTPHeaders = HTTPHeaders()
    var body: String

    /// An error page: a short JSON body the API's clients can parse as well as a person can read.
    static func error(_ status: HTTPResponseStatus, _ message: String) -> LocalResponse {
        var response = LocalResponse(status: status, body: "{\"error\":\"\(status.code)\",\"message\":\"\(message)\"}\n")
        response.headers.add(name: "Content-Type", value: "application/json")
        return response
    }

    static func badRequest(_ message: String) -> LocalResponse { .error(.badRequest, message) }
    static let forbidden = LocalResponse.error(.forbidden, "forbidden")
    static let notFound = LocalResponse.error(.notFound, "no route for this path")
    static let payloadTooLarge = LocalResponse.error(.payloadTooLarge, "request body too large")
    static let requestTimeout = LocalResponse.error(.requestTimeout, "request not received in time")
    static let badGateway = LocalResponse.error(.badGateway, "no upstream server answered")
    static let gatewayTimeout = LocalResponse.error(.gatewayTimeout, "the upstream server did not answer in time")

    /// Too many requests (or 503 for nginx compatibility), with the exact wait in `Retry-After`.
    static func rateLimited(status: Int, retryAfter: Duration) -> LocalResponse {
        var response = LocalResponse.error(HTTPResponseStatus(statusCode: status), "rate limit exceeded")
        // Whole seconds, rounded up: a client that waits this long will pass.
        let (seconds, attoseconds) = retryAfter.components
        response.headers.add(name: "Retry-After", value: String(max(1, seconds + (attoseconds > 0 ? 1 : 0))))
        return response
    }

    static func connectionLimited(status: Int) -> LocalResponse {
        .error(HTTPResponseStatus(statusCode: status), "too many connections from this address")
    }

    /// The whole response as HTTP/1.1 bytes, closing the connection: for answers written below the
    /// HTTP layer, when no request is in progress there (a request head that never completed).
    func serialized(decorations: ResponseDecorations, requestID: String, allocator: ByteBufferAllocator) -> ByteBuffer {
        let (head, body) = parts(decorations: decorations, requestID: requestID, keepAlive: false, allocator: allocator)
        var serialized = HTTP1ResponseHead(
            into: allocator.buffer(capacity: 512 + body.readableBytes), status: head.status, version: head.version,
            requestMethod: .GET)
        head.headers.write(into: &serialized)
        var (buffer, _) = serialized.finish()
        buffer.writeImmutableBuffer(body)
        return buffer
    }

    /// The response head and body, decorated, with `Content-Length`, and `Connection: close` when closing.
    func parts(decorations: ResponseDecorations, requestID: String, keepAlive: Bool, allocator: ByteBufferAllocator)
        -> (HTTPResponseHead, ByteBuffer)
    {
        var headers = self.headers
        decorations.apply(to: &headers, requestID: requestID)
        let buffer = allocator.buffer(string: body)
        headers.replaceOrAdd(name: "Content-Length", value: String(buffer.readableBytes))
        headers.setKeepAlive(keepAlive)
        return (HTTPResponseHead(version: .http1_1, status: status, headers: headers), buffer)
    }
}
