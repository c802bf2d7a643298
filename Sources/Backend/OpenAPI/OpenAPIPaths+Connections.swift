private typealias S = OpenAPISchema

/// Connections and their checks: ``ConnectionRoutes`` (its rack bill of materials is listed
/// with the rack analyses).
extension OpenAPIPaths {
    static let connections: [OpenAPIOperation] = [
        .init(
            .get, "/api/connections", id: "listConnections", "List connections", tag: "Connections",
            query: [
                .reference("rack_id", "Only connections with either end placed in this rack."),
                .reference("from_device_id", "Only connections from this device."),
                .reference("to_device_id", "Only connections to this device."),
            ] + OpenAPIParameter.paging,
            success: .json(S.array(S.ref("Connection")), "Connections in id order, embedding both devices.")),
        .init(
            .post, "/api/connections", id: "createConnection", "Create a connection", tag: "Connections",
            description: "Without `cable_length_m`, the length is estimated when both ends are in one rack.",
            body: .json(S.ref("ConnectionCreate")),
            success: .json(S.ref("Connection"), status: 201, "The created connection."),
            errors: [.badRequest("both ends are the same device"), .notFound("an end device does not exist")]),
        .init(
            .post, "/api/connections/validate-bulk", id: "validateConnections", "Check many connections",
            tag: "Connections",
            query: [.reference("rack_id", "Only connections with either end in this rack; all when left out.")],
            success: .json(S.ref("BulkCableValidation"), "Each connection's check and a summary."),
            errors: [.notFound("no rack has this id")]),
        .init(
            .get, "/api/connections/{id}", id: "getConnection", "Read a connection", tag: "Connections",
            success: .json(S.ref("Connection"), "The connection."), errors: [.notFound("no connection has this id")]),
        .init(
            .put, "/api/connections/{id}", id: "updateConnection", "Update a connection (partial)", tag: "Connections",
            description: "A routing change without a length re-estimates it.",
            body: .json(S.ref("ConnectionUpdate")), success: .json(S.ref("Connection"), "The updated connection."),
            errors: [
                .badRequest("both ends are the same device"),
                .notFound("no connection has this id, or an end device does not exist"),
            ]),
        .init(
            .delete, "/api/connections/{id}", id: "deleteConnection", "Delete a connection", tag: "Connections",
            success: .noContent("Deleted."), errors: [.notFound("no connection has this id")]),
        .init(
            .get, "/api/connections/{id}/validate", id: "validateConnection", "Check one connection",
            tag: "Connections",
            description: "Flags tight bends (ends ≤ 2U apart), lengths over the medium's reach and Cat6 over 50 m.",
            success: .json(S.ref("CableCheck"), "The check."), errors: [.notFound("no connection has this id")]),
        .init(
            .get, "/api/connections/{id}/service-loop", id: "getConnectionServiceLoop",
            "A connection's service loop and purchase length", tag: "Connections",
            success: .json(S.ref("ServiceLoop"), "The slack and the length to buy."),
            errors: [.notFound("no connection has this id")]),
    ]
}
