import Hummingbird

/// `GET /api/openapi.json`: the API's OpenAPI 3.1 document (``OpenAPIDocument``).
///
/// The document is the same for every request and every worker, built once on first use; the
/// response says so to caches (`max-age` keeps a client from refetching it on every page load,
/// and a deployment changes it only by restarting).
struct OpenAPIRoutes {
    let services: BackendServices

    func register(on router: Router<BackendRequestContext>) {
        router.get("api/openapi.json") { _, _ in
            Response(
                status: .ok,
                headers: [.contentType: "application/json; charset=utf-8", .cacheControl: "public, max-age=300"],
                body: .init(byteBuffer: ByteBuffer(bytes: OpenAPIDocument.data)))
        }
    }
}
