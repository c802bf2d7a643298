import Hummingbird
import RackPlanning

/// `/api/device-types`: list, read, create, partial update, delete (`rack-api.md` §3).
///
/// A create may leave `slug` out to have it made from the name; duplicate names or slugs are
/// 409s, and so is deleting a type models still use. Every write invalidates the cached
/// ``CacheScope/catalog`` after the commit, before answering.
struct DeviceTypeRoutes {
    let services: BackendServices

    func register(on api: RouterGroup<BackendRequestContext>) {
        api.get("device-types") { request, _ in
            try APIResponse.json(try await services.store.deviceTypes(page: try request.page()))
        }
        api.post("device-types") { request, context in
            let body = try CatalogInput.withDerivedSlug(try await RecordInput.object(request, context: context))
            let deviceType = try RecordInput.create(
                DeviceType(id: 0, name: "", slug: ""), body: body, required: ["name"],
                readOnly: CatalogInput.deviceTypeReadOnly)
            let created = try await services.store.createDeviceType(deviceType)
            await services.cache.invalidate(.catalog)
            return try APIResponse.created(created)
        }
        api.get("device-types/{id}") { _, context in
            try APIResponse.json(try await services.store.deviceType(id: try context.id()))
        }
        api.put("device-types/{id}") { request, context in
            let id = try context.id()
            let body = try await RecordInput.object(request, context: context)
            let updated = try await services.store.transaction { store in
                let current = try await store.deviceType(id: id)
                return try await store.updateDeviceType(
                    try RecordInput.update(current, body: body, readOnly: CatalogInput.deviceTypeReadOnly))
            }
            await services.cache.invalidate(.catalog)
            return try APIResponse.json(updated)
        }
        api.delete("device-types/{id}") { _, context in
            try await services.store.deleteDeviceType(id: try context.id())
            await services.cache.invalidate(.catalog)
            return APIResponse.noContent
        }
    }
}
