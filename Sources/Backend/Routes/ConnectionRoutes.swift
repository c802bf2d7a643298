import Hummingbird
import RackPlanning

/// `/api/connections` and the rack's bill of materials (`rack-api.md` §2, §3, §7, §10):
/// list (filtered by rack, either end placed there, and by end device), read, create, partial
/// update, delete; one connection's check and service loop; a bulk check; `GET /racks/{id}/bom`.
///
/// Writes go through ``ConnectionWriter`` (end checks, auto length, one transaction) and then
/// invalidate the cached results of the racks holding either end, after the commit and before
/// answering. The reports come from ``CableReports``.
struct ConnectionRoutes {
    let services: BackendServices

    func register(on api: RouterGroup<BackendRequestContext>) {
        let writer = ConnectionWriter(store: services.store)
        let reports = CableReports(store: services.store)

        api.get("connections") { request, _ in
            let filter = ConnectionFilter(
                rackID: try request.intQuery("rack_id"),
                fromDeviceID: try request.intQuery("from_device_id"),
                toDeviceID: try request.intQuery("to_device_id"))
            return try APIResponse.json(try await services.store.connections(filter: filter, page: try request.page()))
        }
        api.post("connections") { request, context in
            let outcome = try await writer.create(body: try await RecordInput.object(request, context: context))
            await outcome.invalidate(in: services.cache)
            return try APIResponse.created(outcome.connection)
        }
        api.post("connections/validate-bulk") { request, _ in
            try APIResponse.json(try await reports.checkAll(rackID: try request.intQuery("rack_id")))
        }
        api.get("connections/{id}") { _, context in
            try APIResponse.json(try await services.store.connection(id: try context.id()))
        }
        api.put("connections/{id}") { request, context in
            let id = try context.id()
            let outcome = try await writer.update(id: id, body: try await RecordInput.object(request, context: context))
            await outcome.invalidate(in: services.cache)
            return try APIResponse.json(outcome.connection)
        }
        api.delete("connections/{id}") { _, context in
            let outcome = try await writer.delete(id: try context.id())
            await outcome.invalidate(in: services.cache)
            return APIResponse.noContent
        }
        api.get("connections/{id}/validate") { _, context in
            try APIResponse.json(try await reports.check(connectionID: try context.id()))
        }
        api.get("connections/{id}/service-loop") { _, context in
            try APIResponse.json(try await reports.serviceLoop(connectionID: try context.id()))
        }
        api.get("racks/{id}/bom") { _, context in
            try APIResponse.json(try await reports.billOfMaterials(rackID: try context.id()))
        }
    }
}
