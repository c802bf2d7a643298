import RackPlanning

private typealias S = OpenAPISchema

/// Devices, device specifications and the unified search: ``DeviceRoutes``,
/// ``SpecificationRoutes`` and ``SearchRoutes``.
extension OpenAPIPaths {
    private static let deviceReference400 = OpenAPIErrorResponse.badRequest(
        "not exactly one of `specification_id` and `model_id`")

    static let devices: [OpenAPIOperation] = [
        .init(
            .get, "/api/devices", id: "listDevices", "List devices", tag: "Devices",
            query: [
                .reference("specification_id", "Only instances of this specification."),
                .reference("model_id", "Only instances of this catalog model."),
                .query("access_frequency", S.enumeration(AccessFrequency.self)),
            ] + OpenAPIParameter.paging,
            success: .json(S.array(S.ref("Device")), "Devices in id order, each embedding its reference.")),
        .init(
            .post, "/api/devices", id: "createDevice", "Create a device", tag: "Devices",
            body: .json(S.ref("DeviceCreate")), success: .json(S.ref("Device"), status: 201, "The created device."),
            errors: [deviceReference400, .notFound("the specification or model named does not exist")]),
        .init(
            .post, "/api/devices/quick-add", id: "quickAddDevice", "Create a device by brand and model",
            tag: "Devices",
            description: "Instantiates the first specification (by id) whose brand contains `brand` and whose "
                + "model contains `model`, ignoring case.",
            body: .json(S.ref("QuickAddRequest")),
            success: .json(S.ref("Device"), status: 201, "The created device."),
            errors: [.notFound("no specification matches; the message lists up to 5 near matches")]),
        .init(
            .post, "/api/devices/bulk", id: "createDevicesInBulk", "Create several devices of one specification",
            tag: "Devices",
            description: "All or none. Devices are named `\"<name_prefix> 1\"` … `\"<name_prefix> N\"`.",
            query: [
                .query("specification_id", S.integer(), required: true),
                .query("quantity", S.integer(1...100), required: true),
                .query(
                    "name_prefix", S.string(),
                    "Defaults to the specification's \"brand model\"; too long for the names it makes is a 422."),
            ],
            success: .json(S.array(S.ref("Device")), status: 201, "The created devices."),
            errors: [.notFound("no specification has this id")]),
        .init(
            .post, "/api/devices/from-model", id: "createDeviceFromModel", "Create a device from a catalog model",
            tag: "Devices", body: .json(S.ref("DeviceFromModel")),
            success: .json(S.ref("Device"), status: 201, "The created device."),
            errors: [deviceReference400, .notFound("no catalog model has this id")]),
        .init(
            .get, "/api/devices/{id}", id: "getDevice", "Read a device", tag: "Devices",
            success: .json(S.ref("Device"), "The device."), errors: [.notFound("no device has this id")]),
        .init(
            .put, "/api/devices/{id}", id: "updateDevice", "Update a device (partial)", tag: "Devices",
            description: "Switching reference means sending `{\"specification_id\": null, \"model_id\": 7}`.",
            body: .json(S.ref("DeviceUpdate")), success: .json(S.ref("Device"), "The updated device."),
            errors: [deviceReference400, .notFound("no device has this id, or the new reference does not exist")]),
        .init(
            .delete, "/api/devices/{id}", id: "deleteDevice", "Delete a device, its position and connections",
            tag: "Devices", success: .noContent("Deleted."), errors: [.notFound("no device has this id")]),
    ]

    static let specifications: [OpenAPIOperation] = [
        .init(
            .get, "/api/device-specs", id: "listDeviceSpecifications", "List device specifications",
            tag: "Specifications",
            query: [
                .query("brand", S.string(), "Brand contains this, ignoring case."),
                .query("model", S.string(), "Model contains this, ignoring case."),
                .query("width_type", S.enumeration(RackWidth.self)),
                .query("source", S.enumeration(SpecSource.self)),
            ] + OpenAPIParameter.paging,
            success: .json(S.array(S.ref("DeviceSpecification")), "Specifications in id order.")),
        .init(
            .post, "/api/device-specs", id: "createDeviceSpecification", "Create a device specification",
            tag: "Specifications", body: .json(S.ref("DeviceSpecificationCreate")),
            success: .json(S.ref("DeviceSpecification"), status: 201, "The created specification."),
            errors: [.conflict("a specification with this brand, model and variant exists")]),
        .init(
            .get, "/api/device-specs/search", id: "searchDeviceSpecifications", "Search specifications (legacy)",
            tag: "Specifications", description: "Brand or model contains `q`, ignoring case; at most 50.",
            query: [.searchTerm("The search term.")],
            success: .json(S.array(S.ref("DeviceSpecification"), maxItems: 50), "The matches."),
            errors: [.notFound("nothing matches (`GET /api/search` answers an empty list instead)")]),
        .init(
            .post, "/api/device-specs/fetch", id: "fetchDeviceSpecification", "Look up a stored specification",
            tag: "Specifications",
            description: "The stored specification of exactly this brand and model, ignoring case. This server "
                + "never fetches from the web.",
            body: .json(S.ref("SpecificationLookup")),
            success: .json(S.ref("DeviceSpecification"), "The stored specification."),
            errors: [.notFound("no stored specification has this brand and model")]),
        .init(
            .get, "/api/device-specs/{id}", id: "getDeviceSpecification", "Read a device specification",
            tag: "Specifications", success: .json(S.ref("DeviceSpecification"), "The specification."),
            errors: [.notFound("no specification has this id")]),
        .init(
            .put, "/api/device-specs/{id}", id: "updateDeviceSpecification", "Update a device specification (partial)",
            tag: "Specifications", description: "A derived `heat_output_btu` follows a new `power_watts`.",
            body: .json(S.ref("DeviceSpecificationUpdate")),
            success: .json(S.ref("DeviceSpecification"), "The updated specification."),
            errors: [
                .notFound("no specification has this id"),
                .conflict("another specification has this brand, model and variant"),
            ]),
        .init(
            .delete, "/api/device-specs/{id}", id: "deleteDeviceSpecification", "Delete a device specification",
            tag: "Specifications", success: .noContent("Deleted."),
            errors: [.notFound("no specification has this id"), .conflict("devices still use it")]),
    ]

    static let search: [OpenAPIOperation] = [
        .init(
            .get, "/api/search", id: "searchCatalog", "Search specifications, models and brands", tag: "Search",
            description: "Specifications whose brand or model contains `q`, models and brands whose name does; "
                + "`limit` applies to each kind. Nothing matching is an empty list.",
            query: [
                .searchTerm("The search term."),
                .query("limit", S.integer(1...100, default: 20), "The most hits of each kind."),
            ],
            success: .json(S.array(S.ref("SearchResult")), "Specifications, then models, then brands."))
    ]
}
