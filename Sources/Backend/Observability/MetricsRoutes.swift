import Hummingbird

/// `GET /metrics`: the worker's ``BackendMetrics`` in Prometheus's text format, outside `/api`
/// (the edge does not route it; Prometheus, or the supervisor, scrapes workers directly).
struct MetricsRoutes {
    let services: BackendServices

    func register(on router: Router<BackendRequestContext>) {
        let services = self.services
        router.get("metrics") { _, _ in
            await services.metrics.refresh(cache: services.cache)
            return Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(string: services.metrics.exposition())))
        }
    }
}
