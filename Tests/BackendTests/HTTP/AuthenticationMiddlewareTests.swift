import Backend
import Hummingbird
import Testing

@Suite("HTTP: bearer-token authentication")
struct AuthenticationMiddlewareTests {
    @Test func withoutTokensWritesAreOpen() async throws {
        try await APITest.withAPI { api, _ in
            let created = try await api.post("/api/racks", ["name": "Open"])
            #expect(created.status == .created)
        }
    }

    @Test func withTokensWritesNeedAValidBearerTokenAndReadsDoNot() async throws {
        try await APITest.withAPI(tokens: ["right", APITokens.digestEntry(for: "hashed")]) { api, _ in
            #expect(try await api.get("/api/racks").status == .ok)

            let anonymous = try await api.post("/api/racks", ["name": "A"])
            #expect(anonymous.status == .unauthorized)
            #expect(anonymous.envelope["code"] as? String == "UNAUTHORIZED")
            #expect(anonymous.headers[.wwwAuthenticate] == #"Bearer realm="homerack""#)
            #expect(try await api.authorized("wrong").post("/api/racks", ["name": "A"]).status == .unauthorized)

            #expect(try await api.authorized("right").post("/api/racks", ["name": "A"]).status == .created)
            #expect(try await api.authorized("hashed").post("/api/racks", ["name": "B"]).status == .created)
        }
    }

    @Test(arguments: ["Basic right", "Bearer", "Bearer ", "right", "bearer  right"])
    func onlyTheBearerSchemeCounts(header: String) async throws {
        try await APITest.withAPI(tokens: ["right"]) { api, _ in
            let response = try await api.request(
                .post, "/api/racks", body: APIClient.encode(["name": "A"]), headers: [.authorization: header])
            // "bearer  right": the scheme is case-insensitive and the token trimmed.
            let expected: HTTPResponse.Status = header == "bearer  right" ? .created : .unauthorized
            #expect(response.status == expected)
        }
    }

    @Test func everyWriteMethodIsGuarded() async throws {
        try await APITest.withAPI(tokens: ["right"]) { api, _ in
            let put = try await api.put("/api/racks/1", ["name": "x"])
            let delete = try await api.delete("/api/racks/1")
            let patch = try await api.request(.patch, "/api/racks/1")
            #expect([put.status, delete.status, patch.status] == [.unauthorized, .unauthorized, .unauthorized])
        }
    }
}
