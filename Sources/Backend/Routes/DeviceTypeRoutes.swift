import Hummingbird

/// (being written)
struct DeviceTypeRoutes {
    let services: BackendServices

    func register(on api: RouterGroup<BackendRequestContext>) {}
}
