import Hummingbird
import Synchronization

/// Answers `405 Method Not Allowed` with `Allow` for a path the API serves with other methods
/// (`TRACE /api/racks`), where the router alone answers 404.
///
/// The router's 404 for an unmatched request passes through here; the path is then matched
/// against every route template (``RouteMethodTable``), filled in once all routes are added.
struct MethodNotAllowedMiddleware: RouterMiddleware {
    typealias Context = BackendRequestContext
    let table: RouteMethodTable

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        do {
            return try await next(request, context)
        } catch let error as HTTPError where error.status == .notFound {
            let allowed = table.methods(forPath: request.uri.path)
            guard !allowed.isEmpty, !allowed.contains(request.method) else { throw error }
            let list = allowed.map(\.rawValue).joined(separator: ", ")
            throw APIError(
                status: .methodNotAllowed, code: "METHOD_NOT_ALLOWED",
                message: "\(request.method.rawValue) is not allowed on \(request.uri.path); allowed: \(list)",
                headers: [.allow: list])
        }
    }
}

/// Every route's path template and methods, for ``MethodNotAllowedMiddleware``.
final class RouteMethodTable: Sendable {
    private let routes = Mutex<[(path: RouterPath, methods: [HTTPRequest.Method])]>([])

    /// Takes the router's routes (call once every route is added).
    func fill(from router: Router<BackendRequestContext>) {
        var grouped: [String: (path: RouterPath, methods: [HTTPRequest.Method])] = [:]
        for route in router.routes {
            grouped[route.path.description, default: (route.path, [])].methods.append(route.method)
        }
        let table = grouped.values.map { entry in
            // A GET route answers HEAD too.
            var methods = entry.methods
            if methods.contains(.get), !methods.contains(.head) { methods.append(.head) }
            return (path: entry.path, methods: methods.sorted { $0.rawValue < $1.rawValue })
        }
        routes.withLock { $0 = table }
    }

    /// The methods the routes matching `path` accept (empty when none matches).
    func methods(forPath path: String) -> [HTTPRequest.Method] {
        let segments = path.split(separator: "/", omittingEmptySubsequences: true)
        var methods: [HTTPRequest.Method] = []
        for route in routes.withLock({ $0 }) where Self.matches(route.path, segments) {
            for method in route.methods where !methods.contains(method) { methods.append(method) }
        }
        return methods.sorted { $0.rawValue < $1.rawValue }
    }

    private static func matches(_ template: RouterPath, _ segments: [Substring]) -> Bool {
        let elements = Array(template)
        if let last = elements.last, last.description == "**" {
            guard segments.count >= elements.count - 1 else { return false }
            return zip(elements.dropLast(), segments).allSatisfy { $0 ~= $1 }
        }
        guard elements.count == segments.count else { return false }
        return zip(elements, segments).allSatisfy { $0 ~= $1 }
    }
}
