import Hummingbird

/// (being written)
struct ConnectionRoutes {
    let services: BackendServices

    func register(on api: RouterGroup<BackendRequestContext>) {}
}
