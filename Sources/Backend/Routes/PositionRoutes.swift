import Hummingbird

/// (being written)
struct PositionRoutes {
    let services: BackendServices

    func register(on api: RouterGroup<BackendRequestContext>) {}
}
