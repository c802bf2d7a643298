import Hummingbird

/// (being written)
struct BrandRoutes {
    let services: BackendServices

    func register(on api: RouterGroup<BackendRequestContext>) {}
}
