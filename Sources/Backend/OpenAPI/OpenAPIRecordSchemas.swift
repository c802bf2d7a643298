/// The three schemas of a stored record, made from one list of its fields so they cannot drift:
/// `<Name>` (what the API returns), `<Name>Create` (a `POST` body) and `<Name>Update` (a partial
/// `PUT` body).
///
/// This mirrors ``RecordInput``: a create body is laid over the record's defaults with some keys
/// required, an update body over the stored record with none required, and server-set keys
/// (`id`, timestamps, embedded objects, counts) are ignored in both.
struct OpenAPIRecordSchemas {
    var name: String
    var description: String
    /// Fields a body may set, with their ranges and defaults. Optional ones should be
    /// ``OpenAPIJSON/nullable`` (a body may clear them with `null`).
    var writable: [String: OpenAPIJSON]
    /// Fields only the server sets.
    var serverSet: [String: OpenAPIJSON]
    /// Fields every response carries (the model's non-optional ones; optional ones that are
    /// unset are left out of responses).
    var alwaysPresent: [String]
    /// Fields a create body must carry.
    var requiredOnCreate: [String]
    /// Notes on create, e.g. a derived value or a cross-field rule.
    var createNotes: String?

    /// `Name`, `NameCreate` and `NameUpdate`.
    var schemas: [String: OpenAPIJSON] {
        let all = OpenAPIJSON.object(writable).merging(serverSet).members
        return [
            name: OpenAPISchema.object(all, required: alwaysPresent, description),
            "\(name)Create": OpenAPISchema.object(
                writable, required: requiredOnCreate,
                "A new \(name): fields left out take their defaults."
                    + (createNotes.map { " \($0)" } ?? "")),
            "\(name)Update": OpenAPISchema.object(
                writable.mapValues { $0.removing("default") },
                "A partial update: only the fields sent change; `null` clears an optional field."),
        ]
    }
}

extension OpenAPIJSON {
    /// This object without `key`.
    func removing(_ key: String) -> OpenAPIJSON {
        var members = members
        members[key] = nil
        return .object(members)
    }
}
