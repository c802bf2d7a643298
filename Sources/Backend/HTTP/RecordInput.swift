import Foundation
import Hummingbird
import NIOCore
import RackPlanning

/// Reads request bodies into records, with one mechanism for creates and partial updates.
///
/// A create body is laid over a record of defaults, and a `PUT` body over the current record:
/// both are JSON objects, the body's keys win, and the result decodes into the record type. So a
/// field the body leaves out keeps its default (create) or its stored value (update, the API's
/// partial `PUT`), `null` clears an optional field, and read-only keys (`id`, timestamps,
/// embedded objects) are ignored whatever the body says. The merged record is then validated
/// field by field; every failure is a 422 listing the fields (``APIError/validation(_:message:)``).
public enum RecordInput {
    /// Keys no body may set.
    public static let readOnlyKeys: Set<String> = ["id", "created_at", "updated_at", "last_updated"]

    /// Reads the whole body, up to the context's limit (413 beyond it).
    public static func collect(_ request: Request, context: BackendRequestContext) async throws -> ByteBuffer {
        do {
            return try await request.body.collect(upTo: context.maxUploadSize)
        } catch let error as HTTPError where error.status == .contentTooLarge {
            throw APIError.payloadTooLarge(limit: context.maxUploadSize)
        } catch is NIOTooManyBytesError {
            throw APIError.payloadTooLarge(limit: context.maxUploadSize)
        }
    }

    /// The body as a JSON object (422 when it is not one).
    public static func object(_ request: Request, context: BackendRequestContext) async throws -> JSONObject {
        let buffer = try await collect(request, context: context)
        return try object(from: buffer)
    }

    static func object(from buffer: ByteBuffer) throws -> JSONObject {
        let data = Data(buffer.readableBytesView)
        guard !data.isEmpty else { throw APIError.invalidField("body", "A JSON object is required", type: "missing") }
        let parsed: Any
        do {
            parsed = try JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed])
        } catch {
            throw APIError.invalidField("body", "The body is not valid JSON", type: "json_invalid")
        }
        guard let object = parsed as? [String: Any] else {
            throw APIError.invalidField("body", "The body must be a JSON object", type: "type_error")
        }
        if let field = firstFieldWithNUL(object, path: "") {
            throw APIError.invalidField(
                field, "Text may not contain the NUL character", type: "string_pattern_mismatch")
        }
        return JSONObject(fields: object)
    }

    /// The dotted path of the first string holding U+0000, which neither database stores
    /// faithfully (SQLite cuts the text there, PostgreSQL refuses it): refused up front instead.
    static func firstFieldWithNUL(_ value: Any, path: String) -> String? {
        switch value {
        case let text as String:
            return text.unicodeScalars.contains("\u{0}") ? (path.isEmpty ? "body" : path) : nil
        case let object as [String: Any]:
            for (key, inner) in object.sorted(by: { $0.key < $1.key }) {
                if let found = firstFieldWithNUL(inner, path: path.isEmpty ? key : "\(path).\(key)") { return found }
            }
            return nil
        case let array as [Any]:
            for (index, inner) in array.enumerated() {
                if let found = firstFieldWithNUL(inner, path: path.isEmpty ? "\(index)" : "\(path).\(index)") {
                    return found
                }
            }
            return nil
        default:
            return nil
        }
    }

    /// Decodes a plain request body (not a stored record), e.g. `{device_id, start_u}`; a 422
    /// lists every field the decoder refuses.
    public static func decode<T: Decodable>(
        _ type: T.Type, from request: Request, context: BackendRequestContext
    ) async throws -> T {
        let buffer = try await collect(request, context: context)
        let body = try object(from: buffer)
        let outcome = BodyDecoding.decode(T.self, from: body.fields)
        guard outcome.errors.isEmpty, let value = outcome.value else {
            throw APIError.validation(outcome.errors.isEmpty ? [Self.undecodable] : outcome.errors)
        }
        return value
    }

    private static let undecodable = FieldError(field: "body", message: "Invalid body", type: "value_error")

    /// A new record: `body` over `defaults`, with `required` keys checked first.
    /// - Parameters:
    ///   - defaults: the record a body that says nothing would create.
    ///   - body: the request's JSON object.
    ///   - required: keys the body must carry (422 `missing` for each absent one).
    ///   - readOnly: keys ignored besides ``readOnlyKeys`` (embedded objects).
    public static func create<T: Codable & FieldValidatable>(
        _ defaults: T, body: JSONObject, required: [String] = [], readOnly: Set<String> = []
    ) throws -> T {
        let missing = required.filter { body[$0] == nil || body[$0] is NSNull }
        return try merge(
            body, over: defaults, readOnly: readOnly,
            missing: missing.map { FieldError(field: $0, message: "Field required", type: "missing") })
    }

    /// An updated record: `body` over `current` (the API's partial `PUT`).
    public static func update<T: Codable & FieldValidatable>(
        _ current: T, body: JSONObject, readOnly: Set<String> = []
    ) throws -> T {
        try merge(body, over: current, readOnly: readOnly)
    }

    /// `body` over `base`, decoded and validated; one 422 lists every field at fault: the
    /// `missing` ones, those of a wrong type or an invalid enum value, and those out of range.
    static func merge<T: Codable & FieldValidatable>(
        _ body: JSONObject, over base: T, readOnly: Set<String>, missing: [FieldError] = []
    ) throws -> T {
        let baseData = try JSONEncoder().encode(base)
        guard let baseObject = try JSONSerialization.jsonObject(with: baseData) as? [String: Any] else {
            throw APIError.internalError
        }
        var merged = baseObject
        let ignored = readOnlyKeys.union(readOnly)
        for (key, value) in body.fields where !ignored.contains(key) {
            merged[key] = value
        }
        let outcome = BodyDecoding.decode(T.self, from: merged, fallback: baseObject)
        guard let record = outcome.value else {
            throw APIError.validation(missing + (outcome.errors.isEmpty ? [undecodable] : outcome.errors))
        }
        // Range checks of the fields that decoded; a refused or missing field is reported once.
        // With one refused or missing, a field the body did not send is not reported either: its
        // fault (a slug derived from a name that is missing) is a consequence, not the client's.
        let reported = outcome.refusedKeys.union(missing.map(\.field))
        let ranges = record.fieldErrors().filter { error in
            let key = String(error.field.split(separator: ".").first ?? "")
            return !reported.contains(key) && (reported.isEmpty || body.contains(key))
        }
        let errors = missing + outcome.errors + ranges
        if !errors.isEmpty { throw APIError.validation(errors) }
        return record
    }
}

/// A request body parsed as a JSON object: what ``RecordInput`` lays over a record.
///
/// `@unchecked Sendable` because the values are what `JSONSerialization` produced (strings,
/// numbers, `NSNull`, arrays and dictionaries of those), never mutated after parsing.
public struct JSONObject: @unchecked Sendable {
    public let fields: [String: Any]

    public init(fields: [String: Any]) {
        self.fields = fields
    }

    public subscript(key: String) -> Any? { fields[key] }

    /// Whether the body carries `key` (even as `null`): a partial update touches only those.
    public func contains(_ key: String) -> Bool { fields[key] != nil }
}
