/// Checks a JSON value against a schema of the OpenAPI document: `$ref`, `anyOf`, `type` (one
/// or a list), `enum`, `required`, `properties`, `additionalProperties` and `items`.
///
/// Enough to catch a response that drops a documented field, changes a type or answers a value
/// outside a documented enum; deliberately not a full JSON Schema validator (ranges and formats
/// are not checked).
struct SchemaChecker {
    /// The document `$ref`s resolve in.
    let document: JSONTree

    /// Every mismatch, each prefixed with where in `value` it is (`$.positions[0].device`).
    func problems(_ value: JSONTree, against schema: JSONTree, at path: String = "$") -> [String] {
        if let reference = schema["$ref"]?.string {
            guard let target = document.resolve(reference) else { return ["\(path): unresolvable \(reference)"] }
            return problems(value, against: target, at: path)
        }
        if let branches = schema["anyOf"]?.elements {
            let matches = branches.contains { problems(value, against: $0, at: path).isEmpty }
            return matches ? [] : ["\(path): \(value) matches no branch of anyOf"]
        }
        if let types = Self.types(schema), !types.contains(where: { Self.value(value, is: $0) }) {
            return ["\(path): \(value) is not of type \(types.joined(separator: "|"))"]
        }
        if let allowed = schema["enum"]?.elements, !allowed.contains(value) {
            return ["\(path): \(value) is not one of \(allowed)"]
        }
        switch value {
        case .object(let members):
            return objectProblems(members, against: schema, at: path)
        case .array(let elements):
            guard let items = schema["items"] else { return [] }
            return elements.enumerated().flatMap { problems($1, against: items, at: "\(path)[\($0)]") }
        default:
            return []
        }
    }

    private func objectProblems(_ members: [String: JSONTree], against schema: JSONTree, at path: String) -> [String] {
        let required = schema["required"]?.elements.compactMap(\.string) ?? []
        var found = required.filter { members[$0] == nil }.map { "\(path): missing required \($0)" }
        let properties = schema["properties"]?.members ?? [:]
        for (key, member) in members.sorted(by: { $0.key < $1.key }) {
            if let property = properties[key] {
                found += problems(member, against: property, at: "\(path).\(key)")
            } else if let additional = schema["additionalProperties"], case .object = additional {
                found += problems(member, against: additional, at: "\(path).\(key)")
            }
        }
        return found
    }

    private static func types(_ schema: JSONTree) -> [String]? {
        switch schema["type"] {
        case .string(let type)?: [type]
        case .array(let types)?: types.compactMap(\.string)
        default: nil
        }
    }

    private static func value(_ value: JSONTree, is type: String) -> Bool {
        switch (type, value) {
        case ("object", .object), ("array", .array), ("string", .string), ("boolean", .bool), ("null", .null),
            ("integer", .integer), ("number", .integer), ("number", .number):
            true
        default:
            false
        }
    }
}
