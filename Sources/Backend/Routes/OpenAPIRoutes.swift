import Hummingbird

/// (being written)
struct OpenAPIRoutes {
    let services: BackendServices

    func register(on router: Router<BackendRequestContext>) {}
}
