import Backend
import Foundation
import HTTPTypes
import Hummingbird
import Testing

@Suite("HTTP: request ids")
struct RequestIDMiddlewareTests {
    static let header = HTTPField.Name("X-Request-ID")!

    @Test func aWellFormedIncomingIDIsKeptOnSuccessAndError() async throws {
        try await APITest.withAPI { api, _ in
            let ok = try await api.request(.get, "/api/racks", headers: [Self.header: "edge-abc.123_x"])
            #expect(ok.headers[Self.header] == "edge-abc.123_x")
            let missing = try await api.request(.get, "/api/racks/99", headers: [Self.header: "edge-2"])
            #expect(missing.headers[Self.header] == "edge-2")
            #expect(missing.envelope["request_id"] as? String == "edge-2")
        }
    }

    @Test(arguments: ["", "has space", "semi;colon", String(repeating: "a", count: 129)])
    func aMalformedIncomingIDIsReplacedWithAUUID(incoming: String) async throws {
        try await APITest.withAPI { api, _ in
            let response = try await api.request(.get, "/api/racks", headers: [Self.header: incoming])
            let id = try #require(response.headers[Self.header])
            #expect(id != incoming)
            #expect(UUID(uuidString: id) != nil)
        }
    }

    @Test func everyResponseGetsItsOwnID() async throws {
        try await APITest.withAPI { api, _ in
            let first = try await api.get("/api/racks").headers[Self.header]
            let second = try await api.get("/api/unknown").headers[Self.header]
            #expect(first != nil && second != nil && first != second)
        }
    }
}
