/// One operation of the API (a method on a path) as the document describes it.
///
/// The operation states only what is particular to it (its query parameters, body, success and
/// the errors its handler raises); what follows from the API's conventions is added in
/// ``json``, so no operation can forget it:
/// - every `{name}` in the path is an integer path parameter, read by `context.id(name)`,
///   which answers 422 when it is not an integer;
/// - any path or query parameter or body can be refused with 422 (`VALIDATION_ERROR`);
/// - a body can be too large (413);
/// - writes (`POST`, `PUT`, `DELETE`) carry the bearer scheme and may answer 401;
/// - any route may answer 500, and a route that reads the store 503 (`DATABASE_ERROR`).
struct OpenAPIOperation: Sendable {
    enum Method: String, Sendable {
        case get, post, put, delete

        /// Whether ``AuthenticationMiddleware`` guards it.
        var isWrite: Bool { self != .get }
    }

    /// What a request carries in its body.
    enum Body: Sendable {
        /// A JSON object matching `schema`; `required: false` when an empty body means defaults.
        case json(OpenAPIJSON, required: Bool = true)
        /// A `multipart/form-data` form matching `schema`.
        case multipart(OpenAPIJSON)
    }

    /// The answer when all goes well.
    enum Success: Sendable {
        /// JSON matching `schema` with `status` (200 unless stated).
        case json(OpenAPIJSON, status: Int = 200, String)
        /// 204, no body.
        case noContent(String)
    }

    var method: Method
    /// The path template, `/api/racks/{id}`.
    var path: String
    var operationID: String
    var summary: String
    var tag: String
    var description: String?
    var query: [OpenAPIParameter] = []
    var body: Body?
    var success: Success
    /// The errors the handler itself raises (404, 409, 400...), each with when it happens.
    var errors: [OpenAPIErrorResponse] = []
    /// Whether the handler reads the store, and so may answer 503 when the database is down.
    var usesStore = true

    init(
        _ method: Method, _ path: String, id operationID: String, _ summary: String, tag: String,
        description: String? = nil, query: [OpenAPIParameter] = [], body: Body? = nil, success: Success,
        errors: [OpenAPIErrorResponse] = [], usesStore: Bool = true
    ) {
        self.method = method
        self.path = path
        self.operationID = operationID
        self.summary = summary
        self.tag = tag
        self.description = description
        self.query = query
        self.body = body
        self.success = success
        self.errors = errors
        self.usesStore = usesStore
    }

    /// The names of the path's `{name}` parameters, in order.
    var pathParameterNames: [String] {
        path.split(separator: "/").compactMap { segment in
            guard segment.first == "{", segment.last == "}" else { return nil }
            return String(segment.dropFirst().dropLast())
        }
    }

    /// Every error response: the handler's own, then the conventional ones, by status.
    var allErrors: [OpenAPIErrorResponse] {
        var conventional: [OpenAPIErrorResponse] = [.internalError]
        if !pathParameterNames.isEmpty || !query.isEmpty || body != nil { conventional.append(.validation()) }
        if body != nil { conventional.append(.payloadTooLarge) }
        if method.isWrite { conventional.append(.unauthorized) }
        if usesStore { conventional.append(.databaseUnavailable) }
        let own = Set(errors.map(\.status))
        return errors + conventional.filter { !own.contains($0.status) }
    }

    /// The operation object.
    var json: OpenAPIJSON {
        var operation: [String: OpenAPIJSON] = [
            "operationId": .string(operationID),
            "summary": .string(summary),
            "tags": [.string(tag)],
        ]
        if let description { operation["description"] = .string(description) }
        let parameters = pathParameterNames.map(OpenAPIParameter.path) + query
        if !parameters.isEmpty { operation["parameters"] = .array(parameters.map(\.json)) }
        if let body { operation["requestBody"] = Self.requestBody(body) }
        var responses: [String: OpenAPIJSON] = [:]
        let (status, response) = Self.response(success)
        responses[status] = response
        for error in allErrors {
            precondition(responses[String(error.status)] == nil, "OpenAPI: \(operationID) lists \(error.status) twice")
            responses[String(error.status)] = error.json
        }
        operation["responses"] = .object(responses)
        if method.isWrite { operation["security"] = [["bearerAuth": []]] }
        return .object(operation)
    }

    private static func requestBody(_ body: Body) -> OpenAPIJSON {
        switch body {
        case .json(let schema, let required):
            ["required": .bool(required), "content": ["application/json": ["schema": schema]]]
        case .multipart(let schema):
            ["required": true, "content": ["multipart/form-data": ["schema": schema]]]
        }
    }

    private static func response(_ success: Success) -> (String, OpenAPIJSON) {
        let headers = OpenAPIResponseHeaders.standard
        return switch success {
        case .json(let schema, let status, let description):
            (
                String(status),
                [
                    "description": .string(description), "headers": headers,
                    "content": ["application/json": ["schema": schema]],
                ]
            )
        case .noContent(let description):
            ("204", ["description": .string(description), "headers": headers])
        }
    }
}
