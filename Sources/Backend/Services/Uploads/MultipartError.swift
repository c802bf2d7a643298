/// Why a `multipart/form-data` body could not be read, in words a client can act on.
///
/// A struct with a private code so kinds can be added without breaking callers (as
/// ``StoreError``); two errors are equal when they are of the same kind. The upload routes
/// answer these with 400.
public struct MultipartError: Error, Hashable, Sendable, CustomStringConvertible {
    private enum Code: Hashable, Sendable {
        case notMultipart
        case invalidBoundary
        case malformed
        case tooManyParts
        case headersTooLarge
    }

    private let code: Code
    /// A message safe to return to clients.
    public let message: String

    private init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "MultipartError: \(message)" }

    public static func == (lhs: MultipartError, rhs: MultipartError) -> Bool { lhs.code == rhs.code }
    public func hash(into hasher: inout Hasher) { hasher.combine(code) }

    /// The request's `Content-Type` is not `multipart/form-data`.
    public static func notMultipart(_ message: String) -> MultipartError { .init(.notMultipart, message) }
    /// The `boundary` parameter is missing or not one RFC 2046 allows.
    public static func invalidBoundary(_ message: String) -> MultipartError { .init(.invalidBoundary, message) }
    /// The body does not follow the multipart syntax.
    public static func malformed(_ message: String) -> MultipartError { .init(.malformed, message) }
    /// More parts than the parser accepts.
    public static func tooManyParts(limit: Int) -> MultipartError {
        .init(.tooManyParts, "The form has more than \(limit) parts")
    }
    /// A part's header block is longer than the parser accepts.
    public static func headersTooLarge(limit: Int) -> MultipartError {
        .init(.headersTooLarge, "A form part's headers are longer than \(limit) bytes")
    }

    /// Matchers for `==` and `#expect(throws:)`.
    public static let notMultipart = MultipartError.notMultipart("")
    public static let invalidBoundary = MultipartError.invalidBoundary("")
    public static let malformed = MultipartError.malformed("")
    public static let tooManyParts = MultipartError.tooManyParts(limit: 0)
    public static let headersTooLarge = MultipartError.headersTooLarge(limit: 0)
}
