import Hummingbird

/// (being written)
struct HealthRoutes {
    let services: BackendServices

    func register(on api: RouterGroup<BackendRequestContext>) {}
}
