import Foundation

/// A parsed JSON value, as a client reads the served document and the API's responses.
///
/// Decoded with `JSONDecoder` rather than `JSONSerialization`, so `true` and `1` stay apart and
/// whole numbers are told from fractional ones (`integer` vs `number` in a schema).
indirect enum JSONTree: Decodable, Equatable, CustomStringConvertible {
    case object([String: JSONTree])
    case array([JSONTree])
    case string(String)
    case integer(Int)
    case number(Double)
    case bool(Bool)
    case null

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let bool = try? container.decode(Bool.self) {
            self = .bool(bool)
        } else if let integer = try? container.decode(Int.self) {
            self = .integer(integer)
        } else if let number = try? container.decode(Double.self) {
            self = .number(number)
        } else if let string = try? container.decode(String.self) {
            self = .string(string)
        } else if let array = try? container.decode([JSONTree].self) {
            self = .array(array)
        } else {
            self = .object(try container.decode([String: JSONTree].self))
        }
    }

    /// Parses `data`.
    static func parse(_ data: Data) throws -> JSONTree {
        try JSONDecoder().decode(JSONTree.self, from: data)
    }

    subscript(key: String) -> JSONTree? {
        if case .object(let members) = self { return members[key] }
        return nil
    }

    var members: [String: JSONTree] {
        if case .object(let members) = self { return members }
        return [:]
    }

    var elements: [JSONTree] {
        if case .array(let elements) = self { return elements }
        return []
    }

    var string: String? {
        if case .string(let string) = self { return string }
        return nil
    }

    /// The value at a local reference (`#/components/schemas/Rack`), or `nil` when it names nothing.
    func resolve(_ reference: String) -> JSONTree? {
        guard reference.hasPrefix("#/") else { return nil }
        var node: JSONTree? = self
        for token in reference.dropFirst(2).split(separator: "/", omittingEmptySubsequences: false) {
            let key = token.replacingOccurrences(of: "~1", with: "/").replacingOccurrences(of: "~0", with: "~")
            node = node?[key]
        }
        return node
    }

    /// Every `$ref` string anywhere below this value.
    var references: [String] {
        switch self {
        case .object(let members):
            let own = members["$ref"]?.string.map { [$0] } ?? []
            return own + members.values.flatMap(\.references)
        case .array(let elements):
            return elements.flatMap(\.references)
        default:
            return []
        }
    }

    var description: String {
        switch self {
        case .object(let members):
            "{" + members.keys.sorted().map { "\($0): \(members[$0]!)" }.joined(separator: ", ") + "}"
        case .array(let elements): "[" + elements.map(\.description).joined(separator: ", ") + "]"
        case .string(let string): "\"\(string)\""
        case .integer(let integer): String(integer)
        case .number(let number): String(number)
        case .bool(let bool): String(bool)
        case .null: "null"
        }
    }
}
