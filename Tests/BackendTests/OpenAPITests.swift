import Backend
import Foundation
import HummingbirdTesting
import RackPlanning
import Testing

/// `GET /api/openapi.json` and the document's truth: it is well formed, it documents exactly
/// the routes the router serves, and what the API answers matches what it documents.
@Suite("OpenAPI document")
struct OpenAPITests {
    /// Routes the router serves that the API document deliberately leaves out. Each must still
    /// be routed (so this list cannot go stale) and must not be documented.
    static let undocumentedRoutes: Set<String> = [
        // Prometheus's text exposition for the scraper: operator-facing, outside `/api`, not JSON.
        "GET /metrics",
        // Uploaded files (brand logos) served as static files; `Brand.logo_url` points here.
        "GET /uploads/**",
    ]

    /// The served document, parsed, with the router it describes.
    static func withDocument<T: Sendable>(
        _ body: @Sendable (JSONTree, [String], APIClient) async throws -> T
    ) async throws -> T {
        try await APITest.withAPI { api, services in
            let response = try await api.get("/api/openapi.json")
            #expect(response.status == .ok)
            #expect(response.headers[.contentType]?.hasPrefix("application/json") == true)
            let document = try JSONTree.parse(Data(response.body.readableBytesView))
            let routes = BackendRouter.build(services).routes.map { "\($0.method.rawValue) \($0.path)" }
            return try await body(document, routes, api)
        }
    }

    /// `"GET /api/racks/{id}"` for every documented operation.
    static func documentedOperations(_ document: JSONTree) -> [String] {
        document["paths"]?.members.flatMap { path, item in
            item.members.keys.map { "\($0.uppercased()) \(path)" }
        } ?? []
    }

    /// Every operation object with its `"METHOD /path"`.
    static func operations(_ document: JSONTree) -> [(name: String, operation: JSONTree)] {
        (document["paths"]?.members ?? [:]).flatMap { path, item in
            item.members.map { ("\($0.key.uppercased()) \(path)", $0.value) }
        }.sorted { $0.name < $1.name }
    }

    /// A route with its parameter names dropped (`/racks/{id}/positions/{pid}` →
    /// `/racks/{}/positions/{}`), so the router's names and the document's need not agree.
    static func normalised(_ route: String) -> String {
        route.replacing(/\{[^}\/]*\}/, with: "{}")
    }

    @Test func theDocumentIsOpenAPI31WithInfoAndServers() async throws {
        try await Self.withDocument { document, _, _ in
            #expect(document["openapi"] == .string("3.1.0"))
            #expect(document["info"]?["title"]?.string?.isEmpty == false)
            #expect(document["info"]?["version"]?.string?.isEmpty == false)
            #expect(document["servers"]?.elements.isEmpty == false)
            #expect(document["components"]?["schemas"]?["ErrorEnvelope"] != nil)
        }
    }

    @Test func everyRouteIsDocumentedWithItsMethod() async throws {
        try await Self.withDocument { document, routes, _ in
            let documented = Set(Self.documentedOperations(document).map(Self.normalised))
            let served = routes.filter { !Self.undocumentedRoutes.contains($0) }
            let missing = served.filter { !documented.contains(Self.normalised($0)) }
            #expect(missing.isEmpty, "routed but not documented: \(missing.sorted())")
        }
    }

    @Test func everyDocumentedOperationIsRouted() async throws {
        try await Self.withDocument { document, routes, _ in
            let served = Set(routes.map(Self.normalised))
            let stale = Self.documentedOperations(document).filter { !served.contains(Self.normalised($0)) }
            #expect(stale.isEmpty, "documented but not routed: \(stale.sorted())")
        }
    }

    @Test func theUndocumentedRoutesAreRoutedAndLeftOut() async throws {
        try await Self.withDocument { document, routes, _ in
            let documented = Set(Self.documentedOperations(document).map(Self.normalised))
            for route in Self.undocumentedRoutes.sorted() {
                #expect(routes.contains(route), "\(route) is allow-listed but not routed")
                #expect(!documented.contains(Self.normalised(route)), "\(route) is allow-listed but documented")
            }
        }
    }

    @Test func everyReferenceResolves() async throws {
        try await Self.withDocument { document, _, _ in
            let references = document.references
            #expect(references.count > 100)
            let broken = Set(references.filter { document.resolve($0) == nil })
            #expect(broken.isEmpty, "unresolved: \(broken.sorted())")
        }
    }

    @Test func everyOperationHasAUniqueOperationIDAndASummary() async throws {
        try await Self.withDocument { document, _, _ in
            let operations = Self.operations(document)
            let ids = operations.compactMap { $0.operation["operationId"]?.string }
            #expect(ids.count == operations.count, "operations without an operationId")
            let repeated = Dictionary(grouping: ids, by: { $0 }).filter { $0.value.count > 1 }.keys
            #expect(repeated.isEmpty, "repeated operationIds: \(repeated.sorted())")
            let unsummarised = operations.filter { $0.operation["summary"]?.string?.isEmpty != false }.map(\.name)
            #expect(unsummarised.isEmpty, "without a summary: \(unsummarised)")
        }
    }

    @Test func everyErrorResponseIsTheEnvelope() async throws {
        try await Self.withDocument { document, _, _ in
            var checked = 0
            for (name, operation) in Self.operations(document) {
                for (status, response) in operation["responses"]?.members ?? [:]
                where Int(status).map({ $0 >= 400 }) ?? true {
                    let content = response["content"]?.members ?? [:]
                    #expect(Array(content.keys) == ["application/json"], "\(name) \(status): \(content.keys)")
                    #expect(
                        content["application/json"]?["schema"]?["$ref"]
                            == .string("#/components/schemas/ErrorEnvelope"),
                        "\(name) \(status) does not reference ErrorEnvelope")
                    checked += 1
                }
            }
            #expect(checked > 0)
        }
    }

    @Test func everyOperationHasASuccessResponseAndDocumentsServerErrors() async throws {
        try await Self.withDocument { document, _, _ in
            for (name, operation) in Self.operations(document) {
                let statuses = (operation["responses"]?.members.keys).map(Set.init) ?? []
                #expect(statuses.contains { $0.hasPrefix("2") }, "\(name) has no success response")
                #expect(statuses.contains("500"), "\(name) does not document 500")
            }
        }
    }

    @Test func writesCarryTheBearerSchemeAnd401ReadsDoNot() async throws {
        try await Self.withDocument { document, _, _ in
            #expect(document["components"]?["securitySchemes"]?["bearerAuth"]?["scheme"] == .string("bearer"))
            for (name, operation) in Self.operations(document) {
                let isWrite = !name.hasPrefix("GET ")
                let secured = operation["security"]?.elements.contains { $0["bearerAuth"] != nil } ?? false
                #expect(secured == isWrite, "\(name): security \(secured)")
                #expect((operation["responses"]?["401"] != nil) == isWrite, "\(name): 401 documented wrongly")
            }
        }
    }

    @Test func everyPathParameterIsDeclaredAsAnInteger() async throws {
        try await Self.withDocument { document, _, _ in
            for (name, operation) in Self.operations(document) {
                let template = name.split(separator: " ")[1]
                let inPath = template.matches(of: /\{([^}]+)\}/).map { String($0.output.1) }
                let declared = operation["parameters"]?.elements.filter { $0["in"] == .string("path") } ?? []
                #expect(declared.compactMap { $0["name"]?.string } == inPath, "\(name)")
                #expect(declared.allSatisfy { $0["schema"]?["type"] == .string("integer") }, "\(name)")
                #expect(inPath.isEmpty || operation["responses"]?["422"] != nil, "\(name): no 422 for a bad id")
            }
        }
    }
}
