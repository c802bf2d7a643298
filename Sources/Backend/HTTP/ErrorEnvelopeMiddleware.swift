import Hummingbird
import Logging

/// Turns every error a route throws (and Hummingbird's own 404/405/413) into the one JSON
/// envelope of ``APIError``, so nothing else ever reaches a client: no driver message, no SQL,
/// no stack. Server errors (5xx) are logged with the underlying error, for operators only.
public struct ErrorEnvelopeMiddleware: RouterMiddleware {
    public typealias Context = BackendRequestContext

    public init() {}

    public func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        do {
            return try await next(request, context)
        } catch {
            let apiError = APIError(error)
            if apiError.isServerError {
                // A deliberate answer (a readiness probe's 503) is worth a warning; anything
                // unexpected is an error, with the underlying error for the operator.
                let level: Logger.Level = error is APIError ? .warning : .error
                context.logger.log(
                    level: level, "request failed",
                    metadata: ["error": .string(Redaction.redact(String(reflecting: error)))])
            }
            return apiError.response(requestID: context.requestID)
        }
    }
}
