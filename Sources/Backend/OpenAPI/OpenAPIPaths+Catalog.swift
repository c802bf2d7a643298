private typealias S = OpenAPISchema

/// The catalog: ``DeviceTypeRoutes``, ``BrandRoutes`` and ``ModelRoutes``.
extension OpenAPIPaths {
    static let deviceTypes: [OpenAPIOperation] = [
        .init(
            .get, "/api/device-types", id: "listDeviceTypes", "List device types", tag: "Device types",
            query: OpenAPIParameter.paging, success: .json(S.array(S.ref("DeviceType")), "Device types in id order.")),
        .init(
            .post, "/api/device-types", id: "createDeviceType", "Create a device type", tag: "Device types",
            body: .json(S.ref("DeviceTypeCreate")),
            success: .json(S.ref("DeviceType"), status: 201, "The created device type."),
            errors: [.conflict("the name or slug is taken")]),
        .init(
            .get, "/api/device-types/{id}", id: "getDeviceType", "Read a device type", tag: "Device types",
            success: .json(S.ref("DeviceType"), "The device type."), errors: [.notFound("no device type has this id")]),
        .init(
            .put, "/api/device-types/{id}", id: "updateDeviceType", "Update a device type (partial)",
            tag: "Device types", body: .json(S.ref("DeviceTypeUpdate")),
            success: .json(S.ref("DeviceType"), "The updated device type."),
            errors: [.notFound("no device type has this id"), .conflict("the name or slug is taken")]),
        .init(
            .delete, "/api/device-types/{id}", id: "deleteDeviceType", "Delete a device type", tag: "Device types",
            success: .noContent("Deleted."),
            errors: [.notFound("no device type has this id"), .conflict("catalog models still use it")]),
    ]

    static let brands: [OpenAPIOperation] = [
        .init(
            .get, "/api/brands", id: "listBrands", "List brands", tag: "Brands",
            query: [
                .query("search", S.string(), "Name contains this, ignoring case."),
                .query("device_type", S.string(), "Only brands with models of this device type (its id or slug)."),
            ] + OpenAPIParameter.paging,
            success: .json(S.array(S.ref("Brand")), "Brands in id order.")),
        .init(
            .post, "/api/brands", id: "createBrand", "Create a brand", tag: "Brands", body: .json(S.ref("BrandCreate")),
            success: .json(S.ref("Brand"), status: 201, "The created brand."),
            errors: [.conflict("the name or slug is taken")]),
        .init(
            .get, "/api/brands/{id}", id: "getBrand", "Read a brand", tag: "Brands",
            success: .json(S.ref("Brand"), "The brand."), errors: [.notFound("no brand has this id")]),
        .init(
            .put, "/api/brands/{id}", id: "updateBrand", "Update a brand (partial)", tag: "Brands",
            description: "`logo_url` changes only through the logo endpoints.", body: .json(S.ref("BrandUpdate")),
            success: .json(S.ref("Brand"), "The updated brand."),
            errors: [.notFound("no brand has this id"), .conflict("the name or slug is taken")]),
        .init(
            .delete, "/api/brands/{id}", id: "deleteBrand", "Delete a brand and its logo file", tag: "Brands",
            success: .noContent("Deleted."),
            errors: [.notFound("no brand has this id"), .conflict("catalog models still use it")]),
        .init(
            .get, "/api/brands/{id}/models", id: "listBrandModels", "List a brand's catalog models", tag: "Brands",
            query: OpenAPIParameter.paging,
            success: .json(S.array(S.ref("CatalogModel")), "The brand's models in id order."),
            errors: [.notFound("no brand has this id")]),
        .init(
            .post, "/api/brands/{id}/logo", id: "uploadBrandLogo", "Upload a brand's logo", tag: "Brands",
            description: "Saved as `{slug}_{8 hex}{ext}` under `/uploads/brand_logos/`; the previous file is removed.",
            body: .multipart(S.ref("BrandLogoUpload")),
            success: .json(S.ref("Brand"), "The brand with its new `logo_url`."),
            errors: [
                .badRequest(
                    "the body is not a multipart form, or the file is not a .png, .jpg, .jpeg, .svg or .webp of that type"
                ),
                .notFound("no brand has this id"),
                .validation("the form has no `file` field"),
                .init(status: 413, description: "Payload too large: the file exceeds 5 MB."),
            ]),
        .init(
            .delete, "/api/brands/{id}/logo", id: "deleteBrandLogo", "Remove a brand's logo", tag: "Brands",
            success: .json(S.ref("Brand"), "The brand without `logo_url`."), errors: [.notFound("no brand has this id")]
        ),
    ]

    static let models: [OpenAPIOperation] = [
        .init(
            .get, "/api/models", id: "listModels", "List catalog models", tag: "Models",
            query: [
                .reference("brand_id", "Only this brand's models."),
                .reference("device_type_id", "Only models of this device type."),
                .query("search", S.string(), "Name contains this, ignoring case."),
            ] + OpenAPIParameter.paging,
            success: .json(S.array(S.ref("CatalogModel")), "Models in id order.")),
        .init(
            .post, "/api/models", id: "createModel", "Create a catalog model", tag: "Models",
            body: .json(S.ref("CatalogModelCreate")),
            success: .json(S.ref("CatalogModel"), status: 201, "The created model."),
            errors: [
                .notFound("the brand or device type named does not exist"),
                .conflict("the brand has a model of this name and variant"),
            ]),
        .init(
            .get, "/api/models/search", id: "searchModels", "Search catalog models by name (legacy)", tag: "Models",
            query: [.searchTerm("Name contains this, ignoring case.")],
            success: .json(S.array(S.ref("CatalogModel"), maxItems: 50), "At most 50 matches."),
            errors: [.notFound("nothing matches")]),
        .init(
            .post, "/api/models/fetch", id: "fetchModel", "Look up a stored catalog model", tag: "Models",
            description:
                "The stored model of this brand and name, ignoring case. This server never fetches from the web.",
            body: .json(S.ref("ModelLookup")), success: .json(S.ref("CatalogModel"), "The stored model."),
            errors: [.notFound("the brand or the model is not in the catalog")]),
        .init(
            .get, "/api/models/{id}", id: "getModel", "Read a catalog model", tag: "Models",
            success: .json(S.ref("CatalogModel"), "The model."), errors: [.notFound("no model has this id")]),
        .init(
            .put, "/api/models/{id}", id: "updateModel", "Update a catalog model (partial)", tag: "Models",
            body: .json(S.ref("CatalogModelUpdate")), success: .json(S.ref("CatalogModel"), "The updated model."),
            errors: [
                .notFound("no model has this id, or the brand or device type named does not exist"),
                .conflict("the brand has a model of this name and variant"),
            ]),
        .init(
            .delete, "/api/models/{id}", id: "deleteModel", "Delete a catalog model", tag: "Models",
            success: .noContent("Deleted."),
            errors: [.notFound("no model has this id"), .conflict("devices still use it")]),
    ]
}
