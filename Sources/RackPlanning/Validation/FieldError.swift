/// One field's problem, as the API's 422 body lists it: `{field, message, type}`.
///
/// `type` is a stable machine-readable kind (`greater_than_equal`, `string_too_long`...),
/// `message` the sentence a person reads.
public struct FieldError: Codable, Sendable, Hashable, CustomStringConvertible {
    /// The field's JSON name; nested fields are dotted (`weights.cable`).
    public var field: String
    public var message: String
    public var type: String

    public init(field: String, message: String, type: String) {
        self.field = field
        self.message = message
        self.type = type
    }

    public var description: String { "\(field): \(message)" }
}
