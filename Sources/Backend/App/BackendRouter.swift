import Hummingbird

/// The backend's router: middleware in the order each needs the others, then every route group
/// under `/api`, uploaded files under `/uploads`, and the metrics at `/metrics`.
///
/// Order: the request id first (every later step logs and answers with it), then observability
/// (metrics and the access log, which must see the status the client gets, so it sits outside
/// the error envelope), then the error envelope (so auth failures and unknown routes get it too),
/// then 405s for known paths with other methods and the query's NUL check (both inside the
/// envelope), then authentication.
public enum BackendRouter {
    public static func build(_ services: BackendServices) -> Router<BackendRequestContext> {
        let router = Router(context: BackendRequestContext.self)
        router.middlewares.add(RequestIDMiddleware())
        router.middlewares.add(BodyLimitMiddleware(maxUploadBytes: services.maxUploadBytes))
        router.middlewares.add(ObservabilityMiddleware(metrics: services.metrics))
        router.middlewares.add(ErrorEnvelopeMiddleware())
        let methods = RouteMethodTable()
        router.middlewares.add(MethodNotAllowedMiddleware(table: methods))
        router.middlewares.add(QueryValidationMiddleware())
        router.middlewares.add(AuthenticationMiddleware(tokens: services.tokens))

        let api = router.group("api")
        RackRoutes(services: services).register(on: api)
        PositionRoutes(services: services).register(on: api)
        AnalysisRoutes(services: services).register(on: api)
        DeviceRoutes(services: services).register(on: api)
        SpecificationRoutes(services: services).register(on: api)
        DeviceTypeRoutes(services: services).register(on: api)
        BrandRoutes(services: services).register(on: api)
        ModelRoutes(services: services).register(on: api)
        SearchRoutes(services: services).register(on: api)
        ConnectionRoutes(services: services).register(on: api)
        HealthRoutes(services: services).register(on: api)
        OpenAPIRoutes(services: services).register(on: router)
        UploadRoutes(services: services).register(on: router)
        MetricsRoutes(services: services).register(on: router)
        methods.fill(from: router)
        return router
    }
}
