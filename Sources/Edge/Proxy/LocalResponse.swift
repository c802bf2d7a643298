import NIOCore
import ServerSupport
import NIOHTTP1

/// A response the edge writes itself (errors, limits, redirects, fixed answers): small, complete,
/// with the same security headers and request ID as proxied ones, and no server version.
struct LocalResponse {
    var status: HTTPResponseStatus
    var headers: HTTPHeaders = HTTPHeaders()
    /// The body of a plain answer (a `respond` route, a redirect).
    var body: String
    /// For an error answer: the code and message of its JSON envelope, written with the
    /// request's ID when the answer is made (see ``ServerSupport/errorEnvelopeJSON(code:message:requestID:)``).
    private var error: (code: String, message: String)?

    init(status: HTTPResponseStatus, body: String) {
        self.status = status
        self.body = body
    }

    /// An error answer in the API's envelope, so a client parses the edge's 404 or 429 the way
    /// it parses the API's own errors.
    /// - Parameter code: the envelope's `code`; by default the one for `status`.
    static func error(_ status: HTTPResponseStatus, _ message: String, code: String? = nil) -> LocalResponse {
        var response = LocalResponse(status: status, body: "")
        response.error = (code ?? Self.code(for: status), message)
        response.headers.add(name: "Content-Type", value: "application/json")
        return response
    }

    /// The envelope code of an edge error by its status, named as the API names its own.
    static func code(for status: HTTPResponseStatus) -> String {
        switch status.code {
        case 400: "BAD_REQUEST"
        case 403: "FORBIDDEN"
        case 404: "RESOURCE_NOT_FOUND"
        case 405: "METHOD_NOT_ALLOWED"
        case 408: "REQUEST_TIMEOUT"
        case 413: "PAYLOAD_TOO_LARGE"
        case 416: "RANGE_NOT_SATISFIABLE"
        case 429: "RATE_LIMITED"
        case 502: "BAD_GATEWAY"
        case 503: "SERVICE_UNAVAILABLE"
        case 504: "GATEWAY_TIMEOUT"
        default: status.code >= 500 ? "INTERNAL_ERROR" : "BAD_REQUEST"
        }
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
        var response = LocalResponse.error(HTTPResponseStatus(statusCode: status), "rate limit exceeded", code: "RATE_LIMITED")
        // Whole seconds, rounded up: a client that waits this long will pass.
        let (seconds, attoseconds) = retryAfter.components
        response.headers.add(name: "Retry-After", value: String(max(1, seconds + (attoseconds > 0 ? 1 : 0))))
        return response
    }

    static func connectionLimited(status: Int) -> LocalResponse {
        .error(HTTPResponseStatus(statusCode: status), "too many connections from this address", code: "TOO_MANY_CONNECTIONS")
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
        let text = error.map { errorEnvelopeJSON(code: $0.code, message: $0.message, requestID: requestID) } ?? body
        let buffer = allocator.buffer(string: text)
        headers.replaceOrAdd(name: "Content-Length", value: String(buffer.readableBytes))
        headers.setKeepAlive(keepAlive)
        return (HTTPResponseHead(version: .http1_1, status: status, headers: headers), buffer)
    }
}

extension LocalResponse {
    /// The response for an answer the engine decided on (see ``FilterChain``).
    init(_ answer: LocalAnswer, head: HTTPRequestHead, limits: LimitsConfig, httpsRedirect: HTTPSRedirect?) {
        switch answer {
        case .connectionLimited: self = .connectionLimited(status: limits.connectionLimitStatus)
        case .badRequest(let reason): self = .badRequest(reason)
        case .forbidden: self = .forbidden
        case .payloadTooLarge: self = .payloadTooLarge
        case .notFound: self = .notFound
        case .rateLimited(let retryAfter): self = .rateLimited(status: limits.rateLimitStatus, retryAfter: retryAfter)
        case .methodNotAllowed(let allow, let message):
            self = .error(.methodNotAllowed, message)
            headers.add(name: "Allow", value: allow)
        case .httpsRedirect:
            guard let httpsRedirect else { preconditionFailure("an HTTPS redirect decided on a listener without one") }
            self = httpsRedirect.redirect(head)
        case .respond(let status, let body, let contentType):
            self = LocalResponse(status: HTTPResponseStatus(statusCode: status), body: body)
            headers.add(name: "Content-Type", value: contentType)
        case .redirect(let location, let status):
            self = LocalResponse(status: HTTPResponseStatus(statusCode: status), body: "")
            headers.add(name: "Location", value: location)
        }
    }
}
