import Backend
import Foundation
import HummingbirdTesting
import RackPlanning
import Testing

/// Real answers of representative routes checked against the schemas the document gives for
/// their operation and status: the status must be documented, and the body must have every
/// required property with the documented types and enum values.
@Suite("OpenAPI conformance")
struct OpenAPIConformanceTests {
    /// The documented response schema of `method template` for `status`; fails the test when the
    /// operation or the status is not documented.
    static func schema(
        in document: JSONTree, _ method: String, _ template: String, status: Int
    ) throws -> JSONTree {
        let operation = try #require(document["paths"]?[template]?[method], "\(method) \(template) not documented")
        let response = try #require(
            operation["responses"]?[String(status)], "\(method) \(template) does not document \(status)")
        return try #require(response["content"]?["application/json"]?["schema"], "\(method) \(template) \(status)")
    }

    /// Checks `response` against the document; returns its body for further checks.
    @discardableResult
    static func expectConforms(
        _ response: TestResponse, _ method: String, _ template: String, in document: JSONTree,
        sourceLocation: SourceLocation = #_sourceLocation
    ) throws -> JSONTree {
        let schema = try schema(in: document, method, template, status: Int(response.status.code))
        let body = try JSONTree.parse(Data(response.body.readableBytesView))
        let problems = SchemaChecker(document: document).problems(body, against: schema)
        #expect(
            problems.isEmpty, "\(method) \(template) \(response.status.code): \(problems)",
            sourceLocation: sourceLocation)
        return body
    }

    /// The API over a fresh store, with its served document.
    static func withDocumentedAPI(
        _ body: @Sendable (APIClient, BackendServices, JSONTree) async throws -> Void
    ) async throws {
        try await APITest.withAPI { api, services in
            let document = try JSONTree.parse(Data(try await api.get("/api/openapi.json").body.readableBytesView))
            try await body(api, services, document)
        }
    }

    @Test func createRackAnswersTheDocumentedRack() async throws {
        try await Self.withDocumentedAPI { api, _, document in
            let created = try await api.post("/api/racks", ["name": "Lab", "location": "Garage"])
            #expect(created.status == .created)
            let body = try Self.expectConforms(created, "post", "/api/racks", in: document)
            #expect(body["location"] == .string("Garage"))
            try Self.expectConforms(try await api.get("/api/racks"), "get", "/api/racks", in: document)
        }
    }

    @Test func layoutThermalAnalysisAndOptimizationOfAFilledRack() async throws {
        try await Self.withDocumentedAPI { api, services, document in
            let fixture = PlacementFixture(api, services)
            let rack = try await fixture.rack("Main", height: 12)
            let hot = try await fixture.device("Server", heightU: 2, watts: 600)
            let cool = try await fixture.device(heightU: 1, watts: 50, airflow: .backToFront, access: .high)
            let placed = try await fixture.place(hot, in: rack, at: 1)
            try Self.expectConforms(placed, "post", "/api/racks/{id}/positions", in: document)
            _ = try await fixture.placed(cool, in: rack, at: 3)

            let layout = try Self.expectConforms(
                try await api.get("/api/racks/\(rack.id)/layout"), "get", "/api/racks/{id}/layout", in: document)
            // The nested device and specification were checked too: make sure they were there.
            #expect(layout["positions"]?.elements.first?["device"]?["specification"] != nil)

            let thermal = try Self.expectConforms(
                try await api.get("/api/racks/\(rack.id)/thermal-analysis"), "get", "/api/racks/{id}/thermal-analysis",
                in: document)
            #expect(thermal["hot_spots"]?.elements.count == 1)
            #expect(thermal["airflow_conflicts"]?.elements.count == 1)

            let optimized = try await api.post("/api/racks/\(rack.id)/optimize", [:])
            #expect(optimized.status == .ok)
            try Self.expectConforms(optimized, "post", "/api/racks/{id}/optimize", in: document)
        }
    }

    @Test func notFoundAnswersTheDocumentedEnvelope() async throws {
        try await Self.withDocumentedAPI { api, _, document in
            let missing = try await api.get("/api/racks/999")
            #expect(missing.status == .notFound)
            let body = try Self.expectConforms(missing, "get", "/api/racks/{id}", in: document)
            #expect(body["error"]?["code"] == .string("RESOURCE_NOT_FOUND"))

            let noLayout = try await api.get("/api/racks/999/layout")
            try Self.expectConforms(noLayout, "get", "/api/racks/{id}/layout", in: document)
        }
    }

    @Test func validationErrorsAnswerTheDocumentedEnvelopeWithFields() async throws {
        try await Self.withDocumentedAPI { api, _, document in
            let invalid = try await api.post("/api/racks", ["name": "", "total_height_u": 0])
            #expect(invalid.status == .unprocessableContent)
            let body = try Self.expectConforms(invalid, "post", "/api/racks", in: document)
            #expect(body["error"]?["details"]?["errors"]?.elements.count == 2)

            let badID = try await api.get("/api/racks/abc")
            try Self.expectConforms(badID, "get", "/api/racks/{id}", in: document)
            let badPage = try await api.get("/api/racks?limit=0")
            try Self.expectConforms(badPage, "get", "/api/racks", in: document)
        }
    }

    @Test func unauthorizedWritesAnswerTheDocumented401() async throws {
        try await APITest.withAPI(tokens: ["secret"]) { api, _ in
            let document = try JSONTree.parse(Data(try await api.get("/api/openapi.json").body.readableBytesView))
            let refused = try await api.post("/api/racks", ["name": "Lab"])
            #expect(refused.status == .unauthorized)
            let body = try Self.expectConforms(refused, "post", "/api/racks", in: document)
            #expect(body["error"]?["code"] == .string("UNAUTHORIZED"))
            let accepted = try await api.authorized("secret").post("/api/racks", ["name": "Lab"])
            try Self.expectConforms(accepted, "post", "/api/racks", in: document)
        }
    }

    /// The checker itself: a conformance test is only as good as its power to fail.
    @Test func theCheckerFindsMissingFieldsWrongTypesAndUnknownEnumValues() async throws {
        try await Self.withDocumentedAPI { api, _, document in
            let rack = try JSONTree.parse(Data(try await api.post("/api/racks", ["name": "R"]).body.readableBytesView))
            let schema = try Self.schema(in: document, "post", "/api/racks", status: 201)
            let checker = SchemaChecker(document: document)
            #expect(checker.problems(rack, against: schema).isEmpty)

            var members = rack.members
            members["name"] = nil
            #expect(checker.problems(.object(members), against: schema) == ["$: missing required name"])
            members = rack.members
            members["total_height_u"] = .string("tall")
            #expect(checker.problems(.object(members), against: schema).count == 1)
            members = rack.members
            members["width_inches"] = .string("20\"")
            #expect(checker.problems(.object(members), against: schema).count == 1)
            members = rack.members
            members["depth_mm"] = .bool(true)
            #expect(checker.problems(.object(members), against: schema).count == 1)
            #expect(checker.problems(.array([rack]), against: schema).count == 1)
        }
    }
}
