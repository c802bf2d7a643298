import Foundation

/// A JSON value written as Swift literals: the OpenAPI document is built from these, so its
/// shared parts (parameters, error responses, field lists) are Swift values reused by name
/// rather than JSON text repeated per operation.
///
/// Object keys are unordered here; ``encoded()`` sorts them, so the served bytes are stable.
indirect enum OpenAPIJSON: Sendable, Equatable {
    case object([String: OpenAPIJSON])
    case array([OpenAPIJSON])
    case string(String)
    case integer(Int)
    case number(Double)
    case bool(Bool)
    case null

    /// The members of an object (empty for anything else).
    var members: [String: OpenAPIJSON] {
        if case .object(let members) = self { return members }
        return [:]
    }

    /// This object with `other`'s members added.
    ///
    /// A key present in both is a bug in the document's construction (one field defined
    /// twice), so it stops the program rather than silently picking one.
    func merging(_ other: [String: OpenAPIJSON]) -> OpenAPIJSON {
        .object(
            members.merging(other) { _, _ in
                preconditionFailure("OpenAPI: a key is defined twice in \(other.keys.sorted())")
            })
    }

    /// This object with `key` set to `value` (replacing any earlier value).
    func setting(_ key: String, _ value: OpenAPIJSON) -> OpenAPIJSON {
        var members = members
        members[key] = value
        return .object(members)
    }

    /// The value as UTF-8 JSON with sorted keys and unescaped slashes.
    func encoded() -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // Encoding a tree of plain JSON cases cannot fail.
        return try! encoder.encode(self)
    }
}

extension OpenAPIJSON: Encodable {
    func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .object(let members): try container.encode(members)
        case .array(let elements): try container.encode(elements)
        case .string(let string): try container.encode(string)
        case .integer(let integer): try container.encode(integer)
        case .number(let number): try container.encode(number)
        case .bool(let bool): try container.encode(bool)
        case .null: try container.encodeNil()
        }
    }
}

extension OpenAPIJSON: ExpressibleByDictionaryLiteral {
    /// Duplicate keys in a literal are a construction bug and stop the program.
    init(dictionaryLiteral elements: (String, OpenAPIJSON)...) {
        self = .object(Dictionary(elements) { _, _ in preconditionFailure("OpenAPI: duplicate key in a literal") })
    }
}

extension OpenAPIJSON: ExpressibleByArrayLiteral {
    init(arrayLiteral elements: OpenAPIJSON...) {
        self = .array(elements)
    }
}

extension OpenAPIJSON: ExpressibleByStringLiteral {
    init(stringLiteral value: String) {
        self = .string(value)
    }
}

extension OpenAPIJSON: ExpressibleByIntegerLiteral {
    init(integerLiteral value: Int) {
        self = .integer(value)
    }
}

extension OpenAPIJSON: ExpressibleByFloatLiteral {
    init(floatLiteral value: Double) {
        self = .number(value)
    }
}

extension OpenAPIJSON: ExpressibleByBooleanLiteral {
    init(booleanLiteral value: Bool) {
        self = .bool(value)
    }
}
