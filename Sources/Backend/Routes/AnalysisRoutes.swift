import Hummingbird
import RackPlanning

/// Rack analyses (`rack-api.md` §5–§6, §9): `GET /racks/{id}/thermal-analysis` and
/// `POST /racks/{id}/optimize`. Both are computed from the stored layout, cached, and never
/// write anything.
struct AnalysisRoutes {
    let services: BackendServices

    func register(on api: RouterGroup<BackendRequestContext>) {
        let thermal = ThermalAnalysisService(store: services.store, cache: services.cache, now: services.now)
        let optimizer = RackOptimizationService(store: services.store, cache: services.cache)

        api.get("racks/{id}/thermal-analysis") { _, context in
            APIResponse.json(encoded: try await thermal.analysisJSON(rackID: try context.id()))
        }
        api.post("racks/{id}/optimize") { request, context in
            let rackID = try context.id()
            let body = try await OptimizationRequest.read(from: request, context: context)
            return try APIResponse.json(try await optimizer.optimize(rackID: rackID, request: body))
        }
    }
}
