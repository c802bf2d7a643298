import NIOCore
import ServerSupport
import NIOHTTP1

/// A response the edge writes itself (errors, limits, redirects, fixed answers), as SwiftNIO
/// writes it: small, complete, with the same security headers and request ID as proxied ones,
/// and no server version. What it says is the engine's ``AnswerContent``.
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

    init(_ content: AnswerContent) {
        status = HTTPResponseStatus(statusCode: content.status)
        headers = HTTPHeaders(content.fields.map { ($0.name, $0.value) })
        switch content.body {
        case .text(let text):
            body = text
        case .envelope(let code, let message):
            body = ""
            error = (code, message)
        }
    }

    /// An error answer in the API's envelope (see ``AnswerContent/error(_:_:code:)``).
    static func error(_ status: HTTPResponseStatus, _ message: String, code: String? = nil) -> LocalResponse {
        LocalResponse(.error(Int(status.code), message, code: code))
    }

    static func badRequest(_ message: String) -> LocalResponse { .error(.badRequest, message) }
    static let forbidden = LocalResponse(AnswerContent(.forbidden))
    static let notFound = LocalResponse(AnswerContent(.notFound))
    static let payloadTooLarge = LocalResponse(AnswerContent(.payloadTooLarge))
    static let requestTimeout = LocalResponse.error(.requestTimeout, "request not received in time")
    static let badGateway = LocalResponse.error(.badGateway, "no upstream server answered")
    static let gatewayTimeout = LocalResponse.error(.gatewayTimeout, "the upstream server did not answer in time")

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
        self.init(
            AnswerContent(answer, limits: limits) {
                guard let httpsRedirect else { preconditionFailure("an HTTPS redirect decided on a listener without one") }
                return httpsRedirect.redirect(head)
            })
    }
}
