private typealias S = OpenAPISchema

/// The catalog: device types, brands and their models (`rack-api.md` §2).
extension OpenAPIComponents {
    static let deviceType = OpenAPIRecordSchemas(
        name: "DeviceType",
        description: "A category of device in the catalog (switch, server, UPS...).",
        writable: [
            "name": S.string(length: 1...100),
            "slug": S.string(length: 1...100),
            "icon": S.string("An emoji shown beside the name.").nullable,
            "description": S.string().nullable,
            "color": S.string().nullable,
        ],
        serverSet: [
            "id": S.id, "created_at": S.timestamp, "updated_at": S.timestamp,
            "model_count": S.integer(minimum: 0, "How many catalog models have this type."),
        ],
        alwaysPresent: ["id", "name", "slug", "model_count"],
        requiredOnCreate: ["name"],
        createNotes: "A `slug` left out is made from the name. Name and slug are unique (409).")

    static let brand = OpenAPIRecordSchemas(
        name: "Brand",
        description: "A manufacturer in the catalog.",
        writable: [
            "name": S.string(length: 1...200),
            "slug": S.string(length: 1...200),
            "website": S.string().nullable,
            "support_url": S.string().nullable,
            "description": S.string().nullable,
            "founded_year": S.integer(1800...2100).nullable,
            "headquarters": S.string().nullable,
            "last_fetched_at": S.string().nullable,
            "fetch_confidence": S.string().nullable,
            "fetch_source": S.string().nullable,
        ],
        serverSet: [
            "id": S.id, "created_at": S.timestamp, "updated_at": S.timestamp,
            "logo_url": S.string("`/uploads/brand_logos/<file>` once a logo is uploaded."),
            "model_count": S.integer(minimum: 0, "How many catalog models this brand has."),
        ],
        alwaysPresent: ["id", "name", "slug", "model_count"],
        requiredOnCreate: ["name"],
        createNotes: "A `slug` left out is made from the name. Name and slug are unique (409).")

    static let catalogModel = OpenAPIRecordSchemas(
        name: "CatalogModel",
        description: "A product in the catalog (the API's \"model\"): a brand's device of some type.",
        writable: OpenAPIJSON.object(
            physicalFields(width: S.string("Free text, e.g. `19\"`.").nullable, airflow: S.string().nullable)
        ).merging([
            "brand_id": S.integer("Must name an existing brand (404)."),
            "device_type_id": S.integer("Must name an existing device type (404)."),
            "name": S.string(length: 1...200),
            "variant": S.string().nullable,
            "description": S.string().nullable,
            "release_date": S.string().nullable,
            "end_of_life": S.string().nullable,
            "height_u": S.number(0...50, "Rack units; without it the model has no physical profile.").nullable,
            "datasheet_url": S.string().nullable,
            "image_url": S.string().nullable,
            "source": S.string().nullable,
            "confidence": S.string().nullable,
            "fetched_at": S.string().nullable,
        ]).members,
        serverSet: [
            "id": S.id,
            "last_updated": S.timestamp,
            "brand": S.object(
                ["id": S.id, "name": S.string(), "slug": S.string(), "logo_url": S.string()],
                required: ["id", "name", "slug"]),
            "device_type": S.object(
                ["id": S.id, "name": S.string(), "slug": S.string(), "icon": S.string(), "color": S.string()],
                required: ["id", "name", "slug"]),
            "device_count": S.integer(minimum: 0, "How many devices are instances of this model."),
        ],
        alwaysPresent: ["id", "brand_id", "device_type_id", "name", "device_count"],
        requiredOnCreate: ["brand_id", "device_type_id", "name"],
        createNotes: "(brand_id, name, variant) is unique (409).")

    static let catalog = union(
        deviceType.schemas, brand.schemas, catalogModel.schemas,
        [
            "BrandLogoUpload": S.object(
                ["file": S.string(format: "binary", "A .png, .jpg, .jpeg, .svg or .webp image of at most 5 MB.")],
                required: ["file"]),
            "ModelLookup": S.object(
                [
                    "brand": S.string(length: 1...200, "The brand's name; surrounding spaces are ignored."),
                    "model": S.string(length: 1...200, "The model's name; surrounding spaces are ignored."),
                ],
                required: ["brand", "model"], "A brand and model name to find a stored catalog model by."),
        ])
}
