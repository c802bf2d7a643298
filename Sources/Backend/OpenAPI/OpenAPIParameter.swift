/// A path or query parameter of an operation.
struct OpenAPIParameter: Sendable {
    enum Location: String, Sendable {
        case path, query
    }

    var name: String
    var location: Location
    var schema: OpenAPIJSON
    var required: Bool
    var description: String?

    /// An optional query parameter (they all are, except search terms).
    static func query(
        _ name: String, _ schema: OpenAPIJSON, required: Bool = false, _ description: String? = nil
    ) -> OpenAPIParameter {
        OpenAPIParameter(name: name, location: .query, schema: schema, required: required, description: description)
    }

    /// An integer path parameter: every `{name}` in this API is a record id, and one that is
    /// not an integer is a 422 (``BackendRequestContext/id(_:)``).
    static func path(_ name: String) -> OpenAPIParameter {
        OpenAPIParameter(name: name, location: .path, schema: OpenAPISchema.integer(), required: true, description: nil)
    }

    /// `skip` and `limit`, the paging of every list (`rack-api.md` §1, ``Request/page()``).
    static let paging: [OpenAPIParameter] = [
        .query("skip", OpenAPISchema.integer(minimum: 0, default: 0), "How many records to pass over."),
        .query("limit", OpenAPISchema.integer(1...1000, default: 100), "How many records to return at most."),
    ]

    /// An optional integer filter naming another record.
    static func reference(_ name: String, _ description: String) -> OpenAPIParameter {
        .query(name, OpenAPISchema.integer(), description)
    }

    /// A required search term (`q`); a missing or empty one is a 422.
    static func searchTerm(_ description: String) -> OpenAPIParameter {
        .query("q", OpenAPISchema.string().setting("minLength", 1), required: true, description)
    }

    var json: OpenAPIJSON {
        var parameter: [String: OpenAPIJSON] = [
            "name": .string(name), "in": .string(location.rawValue), "required": .bool(required), "schema": schema,
        ]
        if let description { parameter["description"] = .string(description) }
        return .object(parameter)
    }
}
