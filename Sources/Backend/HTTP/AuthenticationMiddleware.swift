import Hummingbird

/// Guards writes: when tokens are configured, every `POST`, `PUT`, `PATCH` and `DELETE` needs
/// `Authorization: Bearer <token>` matching one of them, else `401`. Reads stay open, and
/// without tokens (the embedded default) so do writes.
public struct AuthenticationMiddleware: RouterMiddleware {
    public typealias Context = BackendRequestContext

    let tokens: APITokens?

    public init(tokens: APITokens?) {
        self.tokens = tokens
    }

    public func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        guard let tokens, !tokens.isEmpty, Self.isWrite(request.method) else {
            return try await next(request, context)
        }
        guard let token = Self.bearerToken(request.headers[.authorization]), tokens.accepts(token) else {
            throw APIError.unauthorized()
        }
        var context = context
        context.isAuthenticated = true
        return try await next(request, context)
    }

    static func isWrite(_ method: HTTPRequest.Method) -> Bool {
        switch method {
        case .post, .put, .patch, .delete: true
        default: false
        }
    }

    /// The token of an `Authorization: Bearer <token>` header (scheme case-insensitive).
    static func bearerToken(_ header: String?) -> String? {
        guard let header else { return nil }
        let parts = header.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else { return nil }
        let token = parts[1].trimmingCharacters(in: .whitespaces)
        return token.isEmpty ? nil : token
    }
}
