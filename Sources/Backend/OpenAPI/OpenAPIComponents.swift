private typealias S = OpenAPISchema

/// The document's `components`: every schema, the shared `X-Request-ID` header and the
/// bearer security scheme. Schemas are grouped by area in `OpenAPIComponents+<Area>.swift`.
enum OpenAPIComponents {
    /// Every named schema.
    static var schemas: [String: OpenAPIJSON] {
        union(errors, racks, devices, catalog, connections, analysis, search, health)
    }

    static var json: OpenAPIJSON {
        [
            "schemas": .object(schemas),
            "headers": [
                "RequestID": [
                    "description": "The request's id: the edge's `X-Request-ID` when well formed, else a new UUID.",
                    "schema": S.string(),
                ]
            ],
            "securitySchemes": [
                "bearerAuth": [
                    "type": "http",
                    "scheme": "bearer",
                    "description": .string(
                        "Guards writes (POST, PUT, DELETE). Enforced only when the server is configured with "
                            + "write tokens; without them (the embedded default) writes are open. Reads never need it."),
                ]
            ],
        ]
    }

    /// The one error body every non-2xx response of the API carries (``APIError``).
    static let errors: [String: OpenAPIJSON] = [
        "ErrorEnvelope": S.object(
            [
                "detail": S.string("The message again, for clients of the original API (`{\"detail\": ...}`)."),
                "error": S.object(
                    [
                        "message": S.string(),
                        "code": S.string(
                            "`VALIDATION_ERROR`, `RESOURCE_NOT_FOUND`, `CONFLICT`, `BAD_REQUEST`, `UNAUTHORIZED`, "
                                + "`PAYLOAD_TOO_LARGE`, `DATABASE_ERROR`, `SERVICE_UNAVAILABLE`, `INTERNAL_ERROR`..."),
                        "details": S.object(
                            ["errors": S.array(S.ref("FieldError"))], required: ["errors"],
                            "Present on a 422: every field at fault."),
                        "request_id": S.string("The response's `X-Request-ID`."),
                    ],
                    required: ["message", "code", "request_id"]),
            ],
            required: ["detail", "error"],
            "The error envelope of every failed request."),
        "FieldError": S.object(
            [
                "field": S.string(
                    "The field's JSON name; nested ones dotted (`weights.cable`), `body` for the whole body."),
                "message": S.string(),
                "type": S.string(
                    "A stable kind: `missing`, `greater_than_equal`, `string_too_long`, `int_parsing`, "
                        + "`string_pattern_mismatch` (a string holding U+0000)..."),
            ],
            required: ["field", "message", "type"]),
    ]

    /// The union of schema groups that must not share a name.
    static func union(_ groups: [String: OpenAPIJSON]...) -> [String: OpenAPIJSON] {
        groups.reduce(into: [:]) { all, group in
            all.merge(group) { _, _ in preconditionFailure("OpenAPI: a schema name is defined twice") }
        }
    }
}
