/// JSON Schema (OpenAPI 3.1 dialect) fragments for the document's components and operations.
///
/// Ranges are passed as Swift ranges so they read like `rack-api.md` §2, and enums are taken
/// from the model's own `CaseIterable` types, so a new case reaches the document without an edit.
enum OpenAPISchema {
    /// A reference to `#/components/schemas/<name>`.
    static func ref(_ name: String) -> OpenAPIJSON {
        ["$ref": .string("#/components/schemas/\(name)")]
    }

    static func string(
        length: ClosedRange<Int>? = nil, maxLength: Int? = nil, format: String? = nil, default value: String? = nil,
        _ description: String? = nil
    ) -> OpenAPIJSON {
        var schema: [String: OpenAPIJSON] = ["type": "string"]
        if let length {
            schema["minLength"] = .integer(length.lowerBound)
            schema["maxLength"] = .integer(length.upperBound)
        }
        if let maxLength { schema["maxLength"] = .integer(maxLength) }
        if let format { schema["format"] = .string(format) }
        if let value { schema["default"] = .string(value) }
        if let description { schema["description"] = .string(description) }
        return .object(schema)
    }

    /// A string limited to the raw values of `type` (the model's enum).
    static func enumeration<E: CaseIterable & RawRepresentable>(
        _ type: E.Type, default value: E? = nil, _ description: String? = nil
    ) -> OpenAPIJSON where E.RawValue == String {
        constant(type.allCases.map(\.rawValue), default: value?.rawValue, description)
    }

    /// A string that is one of `values`.
    static func constant(_ values: [String], default value: String? = nil, _ description: String? = nil) -> OpenAPIJSON
    {
        var schema: [String: OpenAPIJSON] = ["type": "string", "enum": .array(values.map(OpenAPIJSON.string))]
        if let value { schema["default"] = .string(value) }
        if let description { schema["description"] = .string(description) }
        return .object(schema)
    }

    static func integer(
        _ range: ClosedRange<Int>? = nil, minimum: Int? = nil, default value: Int? = nil, _ description: String? = nil
    ) -> OpenAPIJSON {
        // Every integer the API reads or writes is a Swift `Int`: larger values are refused (422).
        var schema: [String: OpenAPIJSON] = ["type": "integer", "format": "int64"]
        if let range {
            schema["minimum"] = .integer(range.lowerBound)
            schema["maximum"] = .integer(range.upperBound)
        }
        if let minimum { schema["minimum"] = .integer(minimum) }
        if let value { schema["default"] = .integer(value) }
        if let description { schema["description"] = .string(description) }
        return .object(schema)
    }

    /// An integer with only a description.
    static func integer(_ description: String) -> OpenAPIJSON {
        integer(nil, description)
    }

    /// A number with only a description.
    static func number(_ description: String) -> OpenAPIJSON {
        number(nil, description)
    }

    static func number(
        _ range: ClosedRange<Double>? = nil, minimum: Double? = nil, default value: Double? = nil,
        _ description: String? = nil
    ) -> OpenAPIJSON {
        var schema: [String: OpenAPIJSON] = ["type": "number"]
        if let range {
            schema["minimum"] = .number(range.lowerBound)
            schema["maximum"] = .number(range.upperBound)
        }
        if let minimum { schema["minimum"] = .number(minimum) }
        if let value { schema["default"] = .number(value) }
        if let description { schema["description"] = .string(description) }
        return .object(schema)
    }

    static func boolean(default value: Bool? = nil, _ description: String? = nil) -> OpenAPIJSON {
        var schema: [String: OpenAPIJSON] = ["type": "boolean"]
        if let value { schema["default"] = .bool(value) }
        if let description { schema["description"] = .string(description) }
        return .object(schema)
    }

    static func array(_ items: OpenAPIJSON, maxItems: Int? = nil, _ description: String? = nil) -> OpenAPIJSON {
        var schema: [String: OpenAPIJSON] = ["type": "array", "items": items]
        if let maxItems { schema["maxItems"] = .integer(maxItems) }
        if let description { schema["description"] = .string(description) }
        return .object(schema)
    }

    /// An object with `properties`, of which `required` must be present.
    ///
    /// Extra properties stay allowed: clients must tolerate fields added later.
    static func object(
        _ properties: [String: OpenAPIJSON], required: [String] = [], _ description: String? = nil
    ) -> OpenAPIJSON {
        let unknown = required.filter { properties[$0] == nil }
        precondition(unknown.isEmpty, "OpenAPI: required fields \(unknown) are not properties")
        var schema: [String: OpenAPIJSON] = ["type": "object", "properties": .object(properties)]
        if !required.isEmpty { schema["required"] = .array(required.sorted().map(OpenAPIJSON.string)) }
        if let description { schema["description"] = .string(description) }
        return .object(schema)
    }

    /// An object whose keys are free and whose values all match `values` (`{"1GbE": 24}`).
    static func map(_ values: OpenAPIJSON, _ description: String? = nil) -> OpenAPIJSON {
        var schema: [String: OpenAPIJSON] = ["type": "object", "additionalProperties": values]
        if let description { schema["description"] = .string(description) }
        return .object(schema)
    }

    /// A record id, assigned by the server.
    static let id = integer(minimum: 1)
    /// A server-set ISO-8601 UTC time (`2025-05-01T12:00:00.123456Z`).
    static let timestamp = string(format: "date-time")
}

extension OpenAPIJSON {
    /// This schema, also accepting `null` (a `PUT` may clear an optional field with `null`).
    var nullable: OpenAPIJSON {
        let members = members
        if case .string(let type) = members["type"] {
            var schema = members
            schema["type"] = [.string(type), "null"]
            if case .array(let values) = members["enum"] { schema["enum"] = .array(values + [.null]) }
            return .object(schema)
        }
        return ["anyOf": [self, ["type": "null"]]]
    }

    /// This schema with a description.
    func described(_ text: String) -> OpenAPIJSON {
        setting("description", .string(text))
    }
}
