import Hummingbird

/// (being written)
struct ModelRoutes {
    let services: BackendServices

    func register(on api: RouterGroup<BackendRequestContext>) {}
}
