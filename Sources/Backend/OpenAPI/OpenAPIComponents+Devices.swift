import RackPlanning

private typealias S = OpenAPISchema

/// Devices and device specifications (`rack-api.md` §2).
extension OpenAPIComponents {
    /// The physical and thermal fields a specification and a catalog model share; a model
    /// takes width and airflow as free text, a specification as enums.
    static func physicalFields(width: OpenAPIJSON, airflow: OpenAPIJSON) -> [String: OpenAPIJSON] {
        [
            "width_type": width,
            "depth_mm": S.number(0...1500).nullable,
            "weight_kg": S.number(0...500).nullable,
            "power_watts": S.number(0...10_000).nullable,
            "heat_output_btu": S.number(0...DeviceSpecification.maximumHeatOutputBTU, "BTU/hr.").nullable,
            "airflow_pattern": airflow,
            "max_operating_temp_c": S.number(-20...100).nullable,
            "typical_ports": S.map(
                S.integer(0...DeviceSpecification.maximumPortCount), "Port kind to count, e.g. `{\"1GbE\": 24}`."
            ).nullable,
            "mounting_type": S.string().nullable,
        ]
    }

    static let specification = OpenAPIRecordSchemas(
        name: "DeviceSpecification",
        description: "The physical and thermal facts of one make of device (brand, model, variant).",
        writable: OpenAPIJSON.object(
            physicalFields(
                width: S.enumeration(RackWidth.self).nullable,
                airflow: S.enumeration(AirflowPattern.self, default: .frontToBack))
        ).merging([
            "brand": S.string(length: 1...100),
            "model": S.string(length: 1...100),
            "variant": S.string().nullable,
            "height_u": S.number(0...50, "Rack units; fractional for half-U kit, 0 for zero-U."),
            "source": S.enumeration(SpecSource.self, default: .userCustom),
            "source_url": S.string().nullable,
            "confidence": S.enumeration(Confidence.self, default: .medium),
            "fetched_at": S.string().nullable,
        ]).members,
        serverSet: ["id": S.id, "last_updated": S.timestamp],
        alwaysPresent: ["id", "brand", "model", "height_u", "airflow_pattern", "source", "confidence"],
        requiredOnCreate: ["brand", "model", "height_u"],
        createNotes: "`heat_output_btu` left out is `power_watts × 3.412`. (brand, model, variant) is unique (409).")

    static let device = OpenAPIRecordSchemas(
        name: "Device",
        description: "One physical device: an instance of a specification or of a catalog model.",
        writable: [
            "custom_name": S.string(length: 1...200).nullable,
            "specification_id": S.integer().nullable,
            "model_id": S.integer().nullable,
            "serial_number": S.string(maxLength: 200).nullable,
            "access_frequency": S.enumeration(AccessFrequency.self, default: .medium),
            "notes": S.string().nullable,
        ],
        serverSet: [
            "id": S.id,
            "specification": S.ref("DeviceSpecification"),
            "catalog_model": S.ref("CatalogModel"),
        ],
        alwaysPresent: ["id", "access_frequency"],
        requiredOnCreate: [],
        createNotes: "Exactly one of `specification_id` and `model_id` (400 otherwise; 404 when it does not exist).")

    /// `{brand, model}`, as `POST /device-specs/fetch` and quick-add read them.
    private static let lookupTerms: [String: OpenAPIJSON] = [
        "brand": S.string(length: 1...100, "Surrounding spaces are ignored."),
        "model": S.string(length: 1...100, "Surrounding spaces are ignored."),
    ]

    static let devices = union(
        specification.schemas, device.schemas,
        [
            "SpecificationLookup": S.object(
                lookupTerms, required: ["brand", "model"], "A brand and model to find a stored specification by."),
            "QuickAddRequest": S.object(
                OpenAPIJSON.object(device.writable)
                    .merging(lookupTerms).removing("specification_id").removing("model_id").members,
                required: ["brand", "model"],
                "A device's own fields plus the brand and model terms its specification is found by."),
            "DeviceFromModel": S.object(
                OpenAPIJSON.object(device.writable).setting("model_id", S.integer()).members, required: ["model_id"],
                "A device of a catalog model; naming a specification as well is a 400."),
        ])
}
