import Foundation
import HTTPTypes
import Hummingbird

/// Gives every request an id, first thing: the edge's `X-Request-ID` when it is well formed
/// (1–128 characters of letters, digits, `.`, `_`, `-`), else a new UUID. The id goes into the
/// context (error envelopes), the logger's metadata (every log line) and the response header,
/// errors included.
public struct RequestIDMiddleware: RouterMiddleware {
    public typealias Context = BackendRequestContext

    public init() {}

    public func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        var context = context
        let id = Self.acceptedID(request.headers[.requestID]) ?? UUID().uuidString.lowercased()
        context.requestID = id
        context.logger[metadataKey: "request_id"] = .string(id)
        var response: Response
        do {
            response = try await next(request, context)
        } catch {
            // Inner middleware turns errors into responses; this is the last resort.
            response = APIError(error).response(requestID: id)
        }
        response.headers[.requestID] = id
        return response
    }

    /// The incoming id, if a client or the edge sent one worth keeping.
    static func acceptedID(_ value: String?) -> String? {
        guard let value, (1...128).contains(value.utf8.count) else { return nil }
        let allowed = value.utf8.allSatisfy { byte in
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."):
                true
            default: false
            }
        }
        return allowed ? value : nil
    }
}

extension HTTPField.Name {
    static let requestID = HTTPField.Name("X-Request-ID")!
}
