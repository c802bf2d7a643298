import Hummingbird

/// Refuses a query string holding U+0000 in a parameter's name or value (422 naming the
/// parameter), as request bodies already are: neither database stores NUL faithfully, and no
/// parameter of the API has a use for it.
struct QueryValidationMiddleware: RouterMiddleware {
    typealias Context = BackendRequestContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        let parameters = request.uri.queryParameters
        for (name, value) in parameters where name.contains("\u{0}") || value.contains("\u{0}") {
            let field = String(name.unicodeScalars.filter { $0 != "\u{0}" })
            throw APIError.invalidField(
                field.isEmpty ? "query" : field, "Text may not contain the NUL character",
                type: "string_pattern_mismatch")
        }
        return try await next(request, context)
    }
}
