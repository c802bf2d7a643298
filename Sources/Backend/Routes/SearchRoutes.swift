import Hummingbird

/// (being written)
struct SearchRoutes {
    let services: BackendServices

    func register(on api: RouterGroup<BackendRequestContext>) {}
}
