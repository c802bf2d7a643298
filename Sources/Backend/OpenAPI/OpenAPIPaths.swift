/// Every operation of the API, grouped as the route groups are (one `OpenAPIPaths+<Area>.swift`
/// per area), and their `paths` object.
enum OpenAPIPaths {
    /// All operations, in the document's reading order.
    static var all: [OpenAPIOperation] {
        racks + positions + analysis + devices + specifications + search + deviceTypes + brands + models
            + connections + health + meta
    }

    /// The `paths` object: operations grouped by path template.
    ///
    /// A method listed twice for one path is a construction bug and stops the program.
    static func json(_ operations: [OpenAPIOperation]) -> OpenAPIJSON {
        var paths: [String: [String: OpenAPIJSON]] = [:]
        for operation in operations {
            let method = operation.method.rawValue
            precondition(paths[operation.path]?[method] == nil, "OpenAPI: \(method) \(operation.path) listed twice")
            paths[operation.path, default: [:]][method] = operation.json
        }
        return .object(paths.mapValues(OpenAPIJSON.object))
    }
}
