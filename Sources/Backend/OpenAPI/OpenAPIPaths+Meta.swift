/// The document itself (``OpenAPIRoutes``).
extension OpenAPIPaths {
    static let meta: [OpenAPIOperation] = [
        .init(
            .get, "/api/openapi.json", id: "getOpenAPIDocument", "This OpenAPI document", tag: "Meta",
            success: .json(["type": "object"], "The OpenAPI 3.1 document."), usesStore: false)
    ]
}
