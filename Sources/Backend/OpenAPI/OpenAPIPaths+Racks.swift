private typealias S = OpenAPISchema

/// Racks, positions and analyses (`rack-api.md` §3-§7): ``RackRoutes``, ``PositionRoutes``,
/// ``AnalysisRoutes`` and the bill of materials of ``ConnectionRoutes``.
extension OpenAPIPaths {
    static let racks: [OpenAPIOperation] = [
        .init(
            .get, "/api/racks", id: "listRacks", "List racks", tag: "Racks", query: OpenAPIParameter.paging,
            success: .json(S.array(S.ref("Rack")), "Racks in id order.")),
        .init(
            .post, "/api/racks", id: "createRack", "Create a rack", tag: "Racks",
            body: .json(S.ref("RackCreate")), success: .json(S.ref("Rack"), status: 201, "The created rack.")),
        .init(
            .get, "/api/racks/{id}", id: "getRack", "Read a rack", tag: "Racks",
            success: .json(S.ref("Rack"), "The rack."), errors: [.notFound("no rack has this id")]),
        .init(
            .put, "/api/racks/{id}", id: "updateRack", "Update a rack (partial)", tag: "Racks",
            description: "Invalidates the rack's cached thermal analysis, optimization and layout.",
            body: .json(S.ref("RackUpdate")), success: .json(S.ref("Rack"), "The updated rack."),
            errors: [.notFound("no rack has this id")]),
        .init(
            .delete, "/api/racks/{id}", id: "deleteRack", "Delete a rack and its positions", tag: "Racks",
            success: .noContent("Deleted."), errors: [.notFound("no rack has this id")]),
        .init(
            .get, "/api/racks/{id}/layout", id: "getRackLayout", "A rack's layout and totals", tag: "Racks",
            success: .json(S.ref("RackLayout"), "The rack, its positions and totals."),
            errors: [.notFound("no rack has this id")]),
    ]

    static let positions: [OpenAPIOperation] = [
        .init(
            .post, "/api/racks/{id}/positions", id: "createRackPosition", "Place a device in a rack",
            tag: "Positions", body: .json(S.ref("RackPositionCreate")),
            success: .json(S.ref("RackPosition"), status: 201, "The new position, embedding the device."),
            errors: [
                .badRequest(
                    "the device has no physical data, does not fit the rack's height (bounds) or is wider than the rack"
                ),
                .notFound("no such rack, or no such device"),
                .conflict("the device is already placed, or overlaps another device (the message lists the Us)"),
            ]),
        .init(
            .put, "/api/racks/{id}/positions/{pid}", id: "updateRackPosition", "Move or (un)lock a position",
            tag: "Positions",
            description: "A new `start_u` goes through the placement rules, ignoring the position itself.",
            body: .json(S.ref("RackPositionUpdate")), success: .json(S.ref("RackPosition"), "The updated position."),
            errors: [
                .badRequest("the new `start_u` is out of the rack's bounds"),
                .notFound("no such rack, or no such position in this rack"),
                .conflict("the new `start_u` overlaps another device"),
            ]),
        .init(
            .delete, "/api/racks/{id}/positions/{pid}", id: "deleteRackPosition", "Remove a device from a rack",
            tag: "Positions", success: .noContent("Removed."),
            errors: [.notFound("no such position in this rack")]),
        .init(
            .post, "/api/devices/{id}/move", id: "moveDevice", "Move a device to a rack and U", tag: "Positions",
            description: "Places the device when it has no position yet; its current position never blocks the move.",
            body: .json(S.ref("DeviceMove")), success: .json(S.ref("RackPosition"), "The device's position."),
            errors: [
                .badRequest("the device has no physical data, or does not fit the target rack"),
                .notFound("no such device, or no such target rack"),
                .conflict("the target Us overlap another device"),
            ]),
    ]

    static let analysis: [OpenAPIOperation] = [
        .init(
            .get, "/api/racks/{id}/thermal-analysis", id: "getThermalAnalysis", "A rack's thermal analysis",
            tag: "Analysis", description: "Cached for 300 s per rack state; `timestamp` is always fresh.",
            success: .json(S.ref("ThermalAnalysis"), "The analysis."), errors: [.notFound("no rack has this id")]),
        .init(
            .post, "/api/racks/{id}/optimize", id: "optimizeRack", "Propose an optimized layout", tag: "Analysis",
            description: "Nothing is saved. Cached for 600 s per rack, weights and locked devices.",
            body: .json(S.ref("OptimizationRequest"), required: false),
            success: .json(S.ref("OptimizationResult"), "The best layout the heuristics found."),
            errors: [
                .badRequest(
                    "the rack holds no device with physical data, or no heuristic finds a layout within its limits"),
                .notFound("no rack has this id"),
                .validation("weights out of 0-1 or not summing to 1 within 0.01"),
            ]),
        .init(
            .get, "/api/racks/{id}/bom", id: "getRackBillOfMaterials", "A rack's cable bill of materials",
            tag: "Analysis", success: .json(S.ref("BillOfMaterials"), "The cables to buy."),
            errors: [.notFound("no rack has this id")]),
    ]
}
