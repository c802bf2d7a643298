import Foundation

/// The OpenAPI 3.1 document of the rack API, served at `GET /api/openapi.json`
/// (``OpenAPIRoutes``).
///
/// Built once from Swift values (``OpenAPIPaths``, ``OpenAPIComponents``) rather than kept as a
/// JSON file: the conventions every operation shares (paging, id parameters, the error envelope,
/// the write security) are stated once, and the binary needs no resource bundle. The
/// `OpenAPITests` suite keeps it true to the router: every route is documented and every
/// documented operation is routed.
public enum OpenAPIDocument {
    /// The document's `info.version`: the API's contract version, raised when it changes.
    static let apiVersion = "1.0.0"

    static var json: OpenAPIJSON {
        [
            "openapi": "3.1.0",
            "info": [
                "title": "HomeRack rack-planning API",
                "version": .string(apiVersion),
                "summary": "Racks, devices, their catalog, cabling, and thermal and layout analyses.",
                "description": .string(description),
            ],
            "servers": [["url": "/", "description": "The server answering this document."]],
            "tags": .array(tags.map { ["name": .string($0)] }),
            "paths": OpenAPIPaths.json(OpenAPIPaths.all),
            "components": OpenAPIComponents.json,
        ]
    }

    /// The document as served: UTF-8 JSON, keys sorted.
    public static let data: Data = json.encoded()

    private static let tags = [
        "Racks", "Positions", "Analysis", "Devices", "Specifications", "Search", "Device types", "Brands", "Models",
        "Connections", "Health", "Meta",
    ]

    private static let description = """
        JSON over HTTP; ids are integers, times ISO-8601 UTC. Lists are plain arrays paged by `skip` \
        (≥ 0, default 0) and `limit` (1-1000, default 100); an empty query parameter counts as \
        absent. A create answers 201 with the record, a delete 204, and `PUT` is a partial update: \
        fields left out keep their values, `null` clears an optional one, and server-set fields \
        (`id`, timestamps, embedded records, counts) are ignored. Optional fields without a value \
        are left out of responses.

        Every response carries `X-Request-ID`. Every error, whatever its status, has one body: \
        `ErrorEnvelope`, whose `error.request_id` repeats that header and whose 422s list each \
        field at fault. Body fields are held to the ranges their schemas give (`minimum`, \
        `maximum`, lengths), and a string anywhere in a request body that contains U+0000 (NUL) \
        is refused with 422 (`string_pattern_mismatch`): neither database stores it faithfully.

        Writes (POST, PUT, DELETE) need `Authorization: Bearer <token>` only when the server is \
        configured with write tokens; by default they are open.
        """
}
