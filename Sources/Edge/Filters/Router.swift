/// Finds the route for a path: the longest matching prefix wins, as nginx's prefix locations.
///
/// Routes are kept longest first, so the first match is the answer; a handful of routes makes
/// a linear scan cheaper than any tree.
struct Router<Route>: Sendable where Route: Sendable {
    private let entries: [(prefix: String, route: Route)]

    /// - Parameter routes: prefixes and what they lead to (prefixes unique, checked by the loader).
    init(_ routes: [(prefix: String, route: Route)]) {
        entries = routes.sorted { $0.prefix.utf8.count > $1.prefix.utf8.count }
    }

    /// The route of the longest prefix of `path` (the path without query), if any.
    func route(for path: Substring) -> Route? {
        for entry in entries where path.utf8.starts(with: entry.prefix.utf8) {
            return entry.route
        }
        return nil
    }
}
