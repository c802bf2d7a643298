import Hummingbird

/// (being written)
struct DeviceRoutes {
    let services: BackendServices

    func register(on api: RouterGroup<BackendRequestContext>) {}
}
