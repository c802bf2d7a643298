import Hummingbird
import RackPlanning

/// `/api/devices`: list, read, create (by reference, quick-add by brand and model, in bulk, from
/// a catalog model), partial update and delete (`rack-api.md` §2, §3). `POST /devices/{id}/move`
/// belongs to ``PositionRoutes``.
///
/// Every device references exactly one of a specification or a catalog model (400 otherwise;
/// 404 for one that does not exist) and embeds it. `access_frequency` is `low`, `medium` or
/// `high`, lowercase (anything else is a 422). Updates and deletes invalidate the cached results
/// of the rack the device is placed in (see ``DeviceWrites``).
struct DeviceRoutes {
    let services: BackendServices

    func register(on api: RouterGroup<BackendRequestContext>) {
        let writes = DeviceWrites(services: services)

        api.get("devices") { request, _ in
            let filter = DeviceFilter(
                specificationID: try request.intQuery("specification_id"),
                modelID: try request.intQuery("model_id"),
                accessFrequency: try request.enumQuery("access_frequency", as: AccessFrequency.self))
            return try APIResponse.json(try await services.store.devices(filter: filter, page: try request.page()))
        }
        api.get("devices/{id}") { _, context in
            try APIResponse.json(try await services.store.device(id: try context.id()))
        }
        api.post("devices") { request, context in
            let body = try await RecordInput.object(request, context: context)
            let device = try RecordInput.create(Device(id: 0), body: body, readOnly: DeviceWrites.embeddedKeys)
            return try APIResponse.created(try await writes.create(device))
        }
        // Quick-add: the device's own fields and the brand and model terms, from one body.
        api.post("devices/quick-add") { request, context in
            let body = try await RecordInput.object(request, context: context)
            let terms = try RecordInput.create(
                SpecificationTerms.defaults, body: body, required: SpecificationTerms.requiredKeys)
            var device = try RecordInput.create(
                Device(id: 0), body: body, readOnly: DeviceWrites.embeddedKeys.union(["specification_id", "model_id"]))
            device.specificationID = try await QuickAddMatch(store: services.store).specification(for: terms).id
            return try APIResponse.created(try await writes.create(device))
        }
        // Bulk: all devices or none (one transaction in the store).
        api.post("devices/bulk") { request, _ in
            let bulk = try BulkDeviceRequest(request: request)
            let specification = try await services.store.specification(id: bulk.specificationID)
            return try APIResponse.created(try await services.store.createDevices(bulk.devices(of: specification)))
        }
        // From a catalog model: `POST /devices` with `model_id` required, so naming a
        // specification as well is the same 400.
        api.post("devices/from-model") { request, context in
            let body = try await RecordInput.object(request, context: context)
            let device = try RecordInput.create(
                Device(id: 0), body: body, required: ["model_id"], readOnly: DeviceWrites.embeddedKeys)
            return try APIResponse.created(try await writes.create(device))
        }
        api.put("devices/{id}") { request, context in
            let id = try context.id()
            let body = try await RecordInput.object(request, context: context)
            return try APIResponse.json(try await writes.update(id: id, body: body))
        }
        api.delete("devices/{id}") { _, context in
            try await writes.delete(id: try context.id())
            return APIResponse.noContent
        }
    }
}
