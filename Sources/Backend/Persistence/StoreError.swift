/// Why the store could not do what was asked, in terms a client may see.
///
/// Both drivers translate their own failures (SQLite result codes, PostgreSQL SQLSTATEs) into
/// this one type, so the store and the services above it never look at driver errors. A struct
/// with a private code rather than a public enum, so kinds can be added without breaking
/// callers; two errors are equal when they are of the same kind, whatever their details
/// (`error == .conflict`). ``detail`` never carries SQL, table internals or bound values;
/// ``underlying`` keeps the driver's error for logs only.
public struct StoreError: Error, Hashable, Sendable, CustomStringConvertible {
    private enum Code: Hashable, Sendable {
        case notFound
        case conflict
        case invalidReference
        case invalidValue
        case unavailable
        case failed
    }

    private let code: Code
    /// A message safe to return to clients.
    public let detail: String
    /// The driver's error, for logging; never shown to clients.
    public let underlying: (any Error)?
    /// Where the error was raised, for logs.
    public let file: String
    public let line: Int
    /// For ``unavailable``: when the database is worth asking again (the `Retry-After` header);
    /// `nil` for every other kind.
    public let retryAfter: Duration?

    private init(
        _ code: Code, _ detail: String, underlying: (any Error)? = nil, retryAfter: Duration? = nil,
        file: String, line: Int
    ) {
        self.code = code
        self.detail = detail
        self.underlying = underlying
        self.retryAfter = retryAfter
        self.file = file
        self.line = line
    }

    /// The HTTP status a route answers with: 404, 409, 404, 422, 503 or 500.
    public var status: Int {
        switch code {
        case .notFound: 404
        case .conflict: 409
        case .invalidReference: 404
        case .invalidValue: 422
        case .unavailable: 503
        case .failed: 500
        }
    }

    /// The error envelope's `code`.
    public var errorCode: String {
        switch code {
        case .notFound, .invalidReference: "RESOURCE_NOT_FOUND"
        case .conflict: "CONFLICT"
        case .invalidValue: "VALIDATION_ERROR"
        case .unavailable: "DATABASE_ERROR"
        case .failed: "INTERNAL_ERROR"
        }
    }

    public var description: String { "StoreError(\(status)): \(detail)" }

    public static func == (lhs: StoreError, rhs: StoreError) -> Bool { lhs.code == rhs.code }
    public func hash(into hasher: inout Hasher) { hasher.combine(code) }

    /// The record asked for does not exist (404).
    public static func notFound(_ detail: String, file: String = #fileID, line: Int = #line) -> StoreError {
        StoreError(.notFound, detail, file: file, line: line)
    }

    /// A unique constraint refused the write, or a record is still in use (409).
    public static func conflict(
        _ detail: String, underlying: (any Error)? = nil, file: String = #fileID, line: Int = #line
    ) -> StoreError {
        StoreError(.conflict, detail, underlying: underlying, file: file, line: line)
    }

    /// A foreign key named a record that does not exist (404).
    public static func invalidReference(
        _ detail: String, underlying: (any Error)? = nil, file: String = #fileID, line: Int = #line
    ) -> StoreError {
        StoreError(.invalidReference, detail, underlying: underlying, file: file, line: line)
    }

    /// A check or not-null constraint refused a value the services should have rejected (422).
    public static func invalidValue(
        _ detail: String, underlying: (any Error)? = nil, file: String = #fileID, line: Int = #line
    ) -> StoreError {
        StoreError(.invalidValue, detail, underlying: underlying, file: file, line: line)
    }

    /// The database cannot be reached, or is busy or closed (503).
    /// - Parameter retryAfter: when to try again, if known (the database breaker's cool-down).
    public static func unavailable(
        _ detail: String = "The database is unavailable", underlying: (any Error)? = nil,
        retryAfter: Duration? = nil, file: String = #fileID, line: Int = #line
    ) -> StoreError {
        StoreError(.unavailable, detail, underlying: underlying, retryAfter: retryAfter, file: file, line: line)
    }

    /// Anything else the database refused; a bug rather than a client mistake (500).
    public static func failed(
        _ detail: String = "The database could not complete the request", underlying: (any Error)? = nil,
        file: String = #fileID, line: Int = #line
    ) -> StoreError {
        StoreError(.failed, detail, underlying: underlying, file: file, line: line)
    }

    /// Matchers for `==` and `catch let error where error == .conflict`.
    public static let notFound = StoreError.notFound("")
    public static let conflict = StoreError.conflict("")
    public static let invalidReference = StoreError.invalidReference("")
    public static let invalidValue = StoreError.invalidValue("")
    public static let unavailable = StoreError.unavailable("")
    public static let failed = StoreError.failed("")
}
