import Hummingbird

/// Sets the largest body a route of this request may read: `MAX_UPLOAD_BYTES` plus 1 MiB for
/// the multipart framing around an uploaded file (``BackendRequestContext/maxUploadSize``).
struct BodyLimitMiddleware: RouterMiddleware {
    typealias Context = BackendRequestContext
    let maxUploadBytes: Int

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        var context = context
        context.maxUploadSize = maxUploadBytes + 1024 * 1024
        return try await next(request, context)
    }
}
