import Foundation
import Hummingbird
import RackPlanning

/// Every error the API answers with, in one envelope:
///
/// ```json
/// {"detail": "Rack 7 not found",
///  "error": {"message": "Rack 7 not found", "code": "RESOURCE_NOT_FOUND",
///            "details": {"errors": [{"field": "name", "message": "...", "type": "missing"}]},
///            "request_id": "..."}}
/// ```
///
/// `detail` keeps the original API's `{"detail": ...}` readable by old clients; `error` is the
/// typed envelope of `rack-api.md` §8, the same shape for every status. Messages are written for
/// clients: ``init(_:)`` never copies SQL, driver errors or stack traces into them.
public struct APIError: Error, Sendable, Equatable, CustomStringConvertible {
    public var status: HTTPResponse.Status
    /// `VALIDATION_ERROR`, `RESOURCE_NOT_FOUND`, `CONFLICT`, `BAD_REQUEST`, `UNAUTHORIZED`,
    /// `PAYLOAD_TOO_LARGE`, `DATABASE_ERROR`, `INTERNAL_ERROR`, ...
    public var code: String
    public var message: String
    /// For a 422: every field at fault.
    public var fieldErrors: [FieldError]
    /// Extra response headers (`WWW-Authenticate` on a 401).
    public var headers: HTTPFields

    public init(
        status: HTTPResponse.Status, code: String, message: String, fieldErrors: [FieldError] = [],
        headers: HTTPFields = [:]
    ) {
        self.status = status
        self.code = code
        self.message = message
        self.fieldErrors = fieldErrors
        self.headers = headers
    }

    public var description: String {
        guard !fieldErrors.isEmpty else { return "\(status.code) \(code): \(message)" }
        return "\(status.code) \(code): \(message) (\(fieldErrors.map(\.description).joined(separator: "; ")))"
    }

    // MARK: Kinds

    /// 422 listing every field at fault.
    public static func validation(_ errors: [FieldError], message: String = "Request validation failed") -> APIError {
        APIError(status: .unprocessableContent, code: "VALIDATION_ERROR", message: message, fieldErrors: errors)
    }

    /// 422 for one field.
    public static func invalidField(_ field: String, _ message: String, type: String = "value_error") -> APIError {
        .validation([FieldError(field: field, message: message, type: type)])
    }

    public static func notFound(_ message: String) -> APIError {
        APIError(status: .notFound, code: "RESOURCE_NOT_FOUND", message: message)
    }

    public static func badRequest(_ message: String) -> APIError {
        APIError(status: .badRequest, code: "BAD_REQUEST", message: message)
    }

    public static func conflict(_ message: String) -> APIError {
        APIError(status: .conflict, code: "CONFLICT", message: message)
    }

    public static func payloadTooLarge(limit: Int) -> APIError {
        APIError(
            status: .contentTooLarge, code: "PAYLOAD_TOO_LARGE",
            message: "The request body is larger than \(limit) bytes")
    }

    public static func unauthorized(_ message: String = "A valid bearer token is required for this request") -> APIError {
        APIError(
            status: .unauthorized, code: "UNAUTHORIZED", message: message,
            headers: [.wwwAuthenticate: "Bearer realm=\"homerack\""])
    }

    public static func unavailable(_ message: String) -> APIError {
        APIError(status: .serviceUnavailable, code: "SERVICE_UNAVAILABLE", message: message)
    }

    public static let internalError = APIError(
        status: .internalServerError, code: "INTERNAL_ERROR", message: "Internal server error")

    // MARK: From other errors

    /// The envelope for any error a route throws. Known kinds keep their status and client-safe
    /// message; anything else is a 500 whose details go to the log only.
    public init(_ error: any Error) {
        switch error {
        case let error as APIError:
            self = error
        case let error as RackPlanningError:
            self.init(
                status: .init(code: error.status), code: error.errorCode, message: error.detail,
                fieldErrors: error.fieldErrors)
        case let error as StoreError:
            self.init(status: .init(code: error.status), code: error.errorCode, message: error.detail)
            if error == .unavailable {
                // Whole seconds, at least 1: when the breaker lets requests through again.
                let (seconds, attoseconds) = (error.retryAfter ?? .seconds(1)).components
                headers[.retryAfter] = String(max(1, seconds + (attoseconds > 0 ? 1 : 0)))
            }
        case let error as DecodingError:
            self = .validation([FieldError(decodingError: error)])
        case let error as HTTPError:
            self.init(httpError: error)
        default:
            self = .internalError
        }
    }

    private init(httpError: HTTPError) {
        let code: String =
            switch httpError.status {
            case .notFound: "RESOURCE_NOT_FOUND"
            case .methodNotAllowed: "METHOD_NOT_ALLOWED"
            case .contentTooLarge: "PAYLOAD_TOO_LARGE"
            case .unauthorized: "UNAUTHORIZED"
            case .badRequest: "BAD_REQUEST"
            case .unprocessableContent: "VALIDATION_ERROR"
            default: httpError.status.code >= 500 ? "INTERNAL_ERROR" : "HTTP_ERROR"
            }
        let message =
            httpError.body
            ?? (httpError.status == .notFound ? "Not found" : httpError.status.reasonPhrase)
        self.init(status: httpError.status, code: code, message: message, headers: httpError.headers)
    }

    /// Whether this error hides a failure an operator should see in the log (5xx).
    public var isServerError: Bool { status.code >= 500 }

    // MARK: Body

    struct Body: Encodable {
        struct Envelope: Encodable {
            struct Details: Encodable {
                var errors: [FieldError]
            }

            var message: String
            var code: String
            var details: Details?
            var request_id: String
        }

        var detail: String
        var error: Envelope
    }

    /// The response: the envelope as JSON, with the request id and any extra headers.
    public func response(requestID: String) -> Response {
        let body = Body(
            detail: message,
            error: .init(
                message: message, code: code,
                details: fieldErrors.isEmpty ? nil : .init(errors: fieldErrors), request_id: requestID))
        let data = (try? JSONEncoder.api.encode(body)) ?? Data("{}".utf8)
        var headers = headers
        headers[.contentType] = "application/json; charset=utf-8"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}

extension FieldError {
    /// The field a JSON decoding error points at, as the 422 body lists it.
    init(decodingError: DecodingError) {
        func path(_ codingPath: [any CodingKey], appending key: (any CodingKey)? = nil) -> String {
            let keys = codingPath + (key.map { [$0] } ?? [])
            let names = keys.map { $0.intValue.map(String.init) ?? $0.stringValue }
            return names.isEmpty ? "body" : names.joined(separator: ".")
        }
        switch decodingError {
        case .keyNotFound(let key, let context):
            self.init(field: path(context.codingPath, appending: key), message: "Field required", type: "missing")
        case .valueNotFound(_, let context):
            self.init(field: path(context.codingPath), message: "Field required", type: "missing")
        case .typeMismatch(let type, let context):
            self.init(field: path(context.codingPath), message: "Expected \(Self.typeName(type))", type: "type_error")
        case .dataCorrupted(let context):
            if context.codingPath.isEmpty {
                self.init(field: "body", message: "The body is not valid JSON", type: "json_invalid")
            } else {
                self.init(field: path(context.codingPath), message: "Invalid value", type: "value_error")
            }
        @unknown default:
            self.init(field: "body", message: "Invalid body", type: "value_error")
        }
    }

    private static func typeName(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: "a string"
        case is Int.Type: "an integer"
        case is Double.Type: "a number"
        case is Bool.Type: "a boolean"
        default: "a \(type)"
        }
    }
}

extension JSONEncoder {
    /// The API's encoder: keys as the models name them, sorted so responses are stable.
    static var api: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }
}
