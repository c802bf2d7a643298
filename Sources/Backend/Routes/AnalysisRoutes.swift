import Hummingbird

/// (being written)
struct AnalysisRoutes {
    let services: BackendServices

    func register(on api: RouterGroup<BackendRequestContext>) {}
}
