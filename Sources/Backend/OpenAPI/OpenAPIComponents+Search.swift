private typealias S = OpenAPISchema

/// The unified search's hit (``SearchResult``).
extension OpenAPIComponents {
    static let search: [String: OpenAPIJSON] = [
        "SearchResult": S.object(
            [
                "type": S.enumeration(SearchResult.Kind.self),
                "id": S.integer("The record's id in its own collection (`/device-specs`, `/models`, `/brands`)."),
                "name": S.string("What to show, e.g. \"Ubiquiti USW-Pro-24\"."),
                "brand": S.string(),
                "variant": S.string(),
                "device_type": S.string("The model's device type name."),
                "height_u": S.number(minimum: 0),
            ],
            required: ["type", "id", "name"],
            "One hit: a specification, a catalog model or a brand.")
    ]
}
