import Hummingbird
import RackPlanning

/// `/api/brands`: list (`?search` by name, `?device_type` by id or slug), read, create, partial
/// update, delete, a brand's models, and its logo (`rack-api.md` §3).
///
/// A create may leave `slug` out to have it made from the name; duplicate names or slugs are
/// 409s, and so is deleting a brand models still use. `logo_url` is set only by the logo
/// endpoints (see ``CatalogInput/brandReadOnly``), and deleting a brand removes its logo file.
/// Every write invalidates the cached ``CacheScope/catalog`` after the commit, before answering.
struct BrandRoutes {
    let services: BackendServices

    private var logos: BrandLogos {
        BrandLogos(store: services.store, directory: UploadDirectory(root: services.uploadsDirectory))
    }

    func register(on api: RouterGroup<BackendRequestContext>) {
        api.get("brands") { request, _ in
            let page = try request.page()
            var filter = BrandFilter(search: request.stringQuery("search"))
            // `device_type` is the type's id when it is a number, else its slug.
            if let deviceType = request.stringQuery("device_type") {
                if let id = Int(deviceType) { filter.deviceTypeID = id } else { filter.deviceTypeSlug = deviceType }
            }
            return try APIResponse.json(try await services.store.brands(filter: filter, page: page))
        }
        api.post("brands") { request, context in
            let body = try CatalogInput.withDerivedSlug(try await RecordInput.object(request, context: context))
            let brand = try RecordInput.create(
                Brand(id: 0, name: "", slug: ""), body: body, required: ["name"], readOnly: CatalogInput.brandReadOnly)
            let created = try await services.store.createBrand(brand)
            await services.cache.invalidate(.catalog)
            return try APIResponse.created(created)
        }
        api.get("brands/{id}") { _, context in
            try APIResponse.json(try await services.store.brand(id: try context.id()))
        }
        api.put("brands/{id}") { request, context in
            let id = try context.id()
            let body = try await RecordInput.object(request, context: context)
            let updated = try await services.store.transaction { store in
                let current = try await store.brand(id: id)
                return try await store.updateBrand(
                    try RecordInput.update(current, body: body, readOnly: CatalogInput.brandReadOnly))
            }
            await services.cache.invalidate(.catalog)
            return try APIResponse.json(updated)
        }
        api.delete("brands/{id}") { _, context in
            let id = try context.id()
            let brand = try await services.store.brand(id: id)
            try await services.store.deleteBrand(id: id)
            await services.cache.invalidate(.catalog)
            if let logoURL = brand.logoURL { await logos.discard(logoURL, logger: context.logger) }
            return APIResponse.noContent
        }
        api.get("brands/{id}/models") { request, context in
            let id = try context.id()
            let page = try request.page()
            _ = try await services.store.brand(id: id)
            return try APIResponse.json(try await services.store.models(filter: ModelFilter(brandID: id), page: page))
        }
        api.post("brands/{id}/logo") { request, context in
            let id = try context.id()
            _ = try await services.store.brand(id: id)
            let body = try await RecordInput.collect(request, context: context)
            let file = try BrandLogos.logoFile(
                in: Array(body.readableBytesView), contentType: request.headers[.contentType],
                maxFileSize: services.maxUploadBytes)
            let updated = try await logos.replace(brandID: id, with: file, logger: context.logger)
            await services.cache.invalidate(.catalog)
            return try APIResponse.json(updated)
        }
        api.delete("brands/{id}/logo") { _, context in
            let updated = try await logos.clear(brandID: try context.id(), logger: context.logger)
            await services.cache.invalidate(.catalog)
            return try APIResponse.json(updated)
        }
    }
}
