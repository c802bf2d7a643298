import Hummingbird
import RackPlanning

/// `/api/racks`: list, read, create, partial update, delete, and the layout view
/// (`rack-api.md` §3). Updates and deletes invalidate the rack's cached results after the
/// commit, before answering.
struct RackRoutes {
    let services: BackendServices

    func register(on api: RouterGroup<BackendRequestContext>) {
        api.get("racks") { request, _ in
            try APIResponse.json(try await services.store.racks(page: try request.page()))
        }
        api.post("racks") { request, context in
            let body = try await RecordInput.object(request, context: context)
            let rack = try RecordInput.create(Rack(id: 0, name: ""), body: body, required: ["name"])
            return try APIResponse.created(try await services.store.createRack(rack))
        }
        api.get("racks/{id}") { _, context in
            try APIResponse.json(try await services.store.rack(id: try context.id()))
        }
        api.put("racks/{id}") { request, context in
            let id = try context.id()
            let body = try await RecordInput.object(request, context: context)
            let updated = try await services.store.transaction { store in
                try await store.updateRack(try RecordInput.update(try await store.rack(id: id), body: body))
            }
            await services.cache.invalidate(.rack(id))
            return try APIResponse.json(updated)
        }
        api.delete("racks/{id}") { _, context in
            let id = try context.id()
            try await services.store.deleteRack(id: id)
            await services.cache.invalidate(.rack(id))
            return APIResponse.noContent
        }
        api.get("racks/{id}/layout") { _, context in
            let id = try context.id()
            // Written directly (``RackLayout/apiJSON()``): JSONEncoder was a fifth of an uncached read.
            let json = try await services.cache.cachedJSON(.layout(rack: id)) {
                try await services.store.layout(rackID: id).apiJSON()
            }
            return APIResponse.json(encoded: json)
        }
    }
}
