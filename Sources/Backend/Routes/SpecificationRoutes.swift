import Hummingbird

/// (being written)
struct SpecificationRoutes {
    let services: BackendServices

    func register(on api: RouterGroup<BackendRequestContext>) {}
}
