/// An error response of an operation: a status, when it happens, and always the one
/// `ErrorEnvelope` body of ``APIError``.
struct OpenAPIErrorResponse: Sendable {
    var status: Int
    var description: String

    /// 400 `BAD_REQUEST`: a rule no single field expresses.
    static func badRequest(_ when: String) -> OpenAPIErrorResponse {
        OpenAPIErrorResponse(status: 400, description: "Bad request: \(when).")
    }

    /// 404 `RESOURCE_NOT_FOUND`.
    static func notFound(_ what: String) -> OpenAPIErrorResponse {
        OpenAPIErrorResponse(status: 404, description: "Not found: \(what).")
    }

    /// 409 `CONFLICT`.
    static func conflict(_ when: String) -> OpenAPIErrorResponse {
        OpenAPIErrorResponse(status: 409, description: "Conflict: \(when).")
    }

    /// 422 `VALIDATION_ERROR`, listing every field at fault under `error.details.errors`.
    static func validation(_ when: String? = nil) -> OpenAPIErrorResponse {
        let base = "Validation error: a parameter or body field is missing, of the wrong type or out of range"
        return OpenAPIErrorResponse(status: 422, description: when.map { "\(base); \($0)." } ?? "\(base).")
    }

    /// 503: the dependency a route reports on is down.
    static func unavailable(_ when: String) -> OpenAPIErrorResponse {
        OpenAPIErrorResponse(status: 503, description: "Service unavailable: \(when).")
    }

    /// 401 `UNAUTHORIZED`, with `WWW-Authenticate: Bearer`.
    static let unauthorized = OpenAPIErrorResponse(
        status: 401, description: "Unauthorized: write tokens are configured and no valid bearer token was sent.")
    /// 413 `PAYLOAD_TOO_LARGE`.
    static let payloadTooLarge = OpenAPIErrorResponse(
        status: 413, description: "Payload too large: the body exceeds the request size limit.")
    /// 500 `INTERNAL_ERROR`; details go to the server log only.
    static let internalError = OpenAPIErrorResponse(status: 500, description: "Internal error.")
    /// 503 `DATABASE_ERROR`.
    static let databaseUnavailable = OpenAPIErrorResponse(
        status: 503, description: "Service unavailable: the database cannot be reached (`DATABASE_ERROR`).")

    var json: OpenAPIJSON {
        [
            "description": .string(description),
            "headers": OpenAPIResponseHeaders.standard,
            "content": ["application/json": ["schema": OpenAPISchema.ref("ErrorEnvelope")]],
        ]
    }
}

/// The headers every response carries.
enum OpenAPIResponseHeaders {
    /// `X-Request-ID`, the id the error envelope's `request_id` repeats.
    static let standard: OpenAPIJSON = ["X-Request-ID": ["$ref": "#/components/headers/RequestID"]]
}
