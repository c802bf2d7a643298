import Foundation
import Hummingbird

/// The API's JSON responses: one encoder (``JSONEncoder/api``) and the statuses of
/// `rack-api.md` §1 (200, 201 on create, 204 on delete).
public enum APIResponse {
    /// `value` as JSON with `status`.
    public static func json<T: Encodable>(_ value: T, status: HTTPResponse.Status = .ok) throws -> Response {
        json(encoded: ByteBuffer(bytes: try JSONEncoder.api.encode(value)), status: status)
    }

    /// JSON already encoded by ``JSONEncoder/api`` (a cached result), sent as it is.
    public static func json(encoded json: ByteBuffer, status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status, headers: [.contentType: "application/json; charset=utf-8"], body: .init(byteBuffer: json))
    }

    /// 201 with the created record.
    public static func created<T: Encodable>(_ value: T) throws -> Response {
        try json(value, status: .created)
    }

    /// 204, no body.
    public static var noContent: Response { Response(status: .noContent) }
}
