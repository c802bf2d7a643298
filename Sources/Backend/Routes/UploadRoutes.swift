import Hummingbird

/// (being written)
struct UploadRoutes {
    let services: BackendServices

    func register(on router: Router<BackendRequestContext>) {}
}
