/// What one of the edge's own answers says (status, fields, body), decided from a
/// ``LocalAnswer`` with no I/O type (``EngineProxyPolicy`` writes it into the core's buffers;
/// tests check it as a value). The security headers, the request ID,
/// `Content-Length` and `Connection` are added where it is written.
///
/// Errors carry the API's envelope (`detail` plus an `error` object with `code`, `message` and
/// `request_id`), so a client parses the edge's 404 or 429 the way it parses the API's own; the
/// request ID is only known when the answer is written, so the body stays a code and a message
/// until then.
struct AnswerContent: Equatable {
    /// A header field of the answer.
    struct Field: Equatable {
        var name: String
        var value: String
    }

    enum Body: Equatable {
        /// As it is (a route's fixed answer; empty for a redirect).
        case text(String)
        /// The error envelope, completed with the request ID when written.
        case envelope(code: String, message: String)
    }

    var status: Int
    var fields: [Field]
    var body: Body

    init(status: Int, fields: [Field], body: Body) {
        self.status = status
        self.fields = fields
        self.body = body
    }

    /// An error answer in the envelope.
    /// - Parameter code: the envelope's `code`; by default the one for `status`.
    static func error(_ status: Int, _ message: String, code: String? = nil) -> AnswerContent {
        AnswerContent(
            status: status, fields: [Field(name: "Content-Type", value: "application/json")],
            body: .envelope(code: code ?? envelopeCode(for: status), message: message))
    }

    /// The envelope code of an edge error by its status, named as the API names its own.
    static func envelopeCode(for status: Int) -> String {
        switch status {
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
        default: status >= 500 ? "INTERNAL_ERROR" : "BAD_REQUEST"
        }
    }

    /// `Retry-After` for a wait: whole seconds, rounded up, at least 1 (a client that waits
    /// this long will pass).
    static func retryAfterSeconds(_ wait: Duration) -> Int {
        let (seconds, attoseconds) = wait.components
        return max(1, Int(seconds) + (attoseconds > 0 ? 1 : 0))
    }

    /// The content of an answer the filter chain decided on.
    /// - Parameters:
    ///   - limits: the statuses configured for the limits' answers.
    ///   - httpsRedirect: the `Location` of the plain-HTTP listener's redirect, made only when
    ///     the answer is that redirect (it depends on the request's host and target).
    init(
        _ answer: LocalAnswer, limits: LimitsConfig = LimitsConfig(),
        httpsRedirect: () -> (status: Int, location: String) = { preconditionFailure("no HTTPS redirect here") }
    ) {
        switch answer {
        case .connectionLimited:
            self = .error(limits.connectionLimitStatus, "too many connections from this address", code: "TOO_MANY_CONNECTIONS")
        case .badRequest(let reason): self = .error(400, reason)
        case .forbidden: self = .error(403, "forbidden")
        case .payloadTooLarge: self = .error(413, "request body too large")
        case .notFound: self = .error(404, "no route for this path")
        case .rateLimited(let retryAfter):
            self = .error(limits.rateLimitStatus, "rate limit exceeded", code: "RATE_LIMITED")
            fields.append(Field(name: "Retry-After", value: String(Self.retryAfterSeconds(retryAfter))))
        case .methodNotAllowed(let allow, let message):
            self = .error(405, message)
            fields.append(Field(name: "Allow", value: allow))
        case .httpsRedirect:
            let (status, location) = httpsRedirect()
            self = AnswerContent(status: status, fields: [Field(name: "Location", value: location)], body: .text(""))
        case .respond(let status, let body, let contentType):
            self = AnswerContent(status: status, fields: [Field(name: "Content-Type", value: contentType)], body: .text(body))
        case .redirect(let location, let status):
            self = AnswerContent(status: status, fields: [Field(name: "Location", value: location)], body: .text(""))
        }
    }
}
