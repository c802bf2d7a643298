import Backend
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

/// Complete 422s, refused query values, 405s and the database's 503 with `Retry-After`.
@Suite("API: validation answers")
struct ValidationRouteTests {
    /// The errors of a 422 by field: `[field: (type, message)]`.
    static func errors(_ response: TestResponse) -> [String: (type: String, message: String)] {
        let details = response.envelope["details"] as? [String: Any]
        let list = details?["errors"] as? [[String: Any]] ?? []
        var byField: [String: (type: String, message: String)] = [:]
        for error in list {
            guard let field = error["field"] as? String else { continue }
            byField[field] = (error["type"] as? String ?? "", error["message"] as? String ?? "")
        }
        return byField
    }

    @Test func everyInvalidFieldIsListedWhateverTheMixOfFaults() async throws {
        try await APITest.withAPI { api, _ in
            // Empty name (range), 500 U (range), an invalid enum value: all three, not just the enum.
            let mixed = try await api.post(
                "/api/racks", raw: #"{"name":"","total_height_u":500,"width_inches":"20\""}"#)
            #expect(mixed.status == .unprocessableContent)
            #expect(Set(mixed.errorFields) == ["name", "total_height_u", "width_inches"])

            // Missing, wrong type and out of range together.
            let all = try await api.post(
                "/api/racks", raw: #"{"total_height_u":"tall","width_inches":"bogus","depth_mm":1}"#)
            #expect(Set(all.errorFields) == ["name", "total_height_u", "width_inches", "depth_mm"])
            #expect(Self.errors(all)["name"]?.type == "missing")
            #expect(Self.errors(all)["total_height_u"]?.type == "type_error")
        }
    }

    @Test func aFractionalNumberForAnIntegerNamesTheFieldAndTheExpectedType() async throws {
        try await APITest.withAPI { api, _ in
            let response = try await api.post("/api/racks", raw: #"{"name":"x","total_height_u":40.5}"#)
            #expect(response.status == .unprocessableContent)
            let error = try #require(Self.errors(response)["total_height_u"])
            #expect(error.message.contains("integer"), "\(error)")
            #expect(response.errorFields == ["total_height_u"])

            let string = try await api.post("/api/racks", raw: #"{"name":"x","total_height_u":"40"}"#)
            #expect(Self.errors(string)["total_height_u"]?.message == "Expected an integer")
        }
    }

    @Test func nulInAQueryParameterIsRefused() async throws {
        try await APITest.withAPI { api, _ in
            let response = try await api.get("/api/brands?search=a%00b")
            #expect(response.status == .unprocessableContent)
            #expect(response.errorFields == ["search"])
            #expect(try await api.get("/api/brands?search=ab").status == .ok)
        }
    }

    @Test func emptyEnumQueryValuesAreRefused() async throws {
        try await APITest.withAPI { api, _ in
            let empty = try await api.get("/api/device-specs?width_type=")
            #expect(empty.status == .unprocessableContent)
            #expect(empty.errorFields == ["width_type"])
            #expect(try await api.get("/api/devices?access_frequency=").errorFields == ["access_frequency"])
            #expect(try await api.get("/api/device-specs").status == .ok)
        }
    }

    @Test func otherMethodsOnKnownPathsGet405WithAllow() async throws {
        try await APITest.withAPI { api, _ in
            let trace = try await api.request(.init("TRACE")!, "/api/racks")
            #expect(trace.status == .methodNotAllowed)
            #expect(trace.envelope["code"] as? String == "METHOD_NOT_ALLOWED")
            let allow = try #require(trace.headers[.allow])
            #expect(
                Set(allow.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }) == [
                    "GET", "HEAD", "POST",
                ])

            let patch = try await api.request(.patch, "/api/racks/1")
            #expect(patch.status == .methodNotAllowed)
            #expect(patch.headers[.allow]?.contains("PUT") == true)

            // Unknown paths stay 404.
            #expect(try await api.request(.init("TRACE")!, "/api/nothing-here").status == .notFound)
        }
    }

    @Test func anUnavailableDatabaseIs503WithRetryAfter() async throws {
        let closed = try await HealthRouteTests.closedDatabase()
        try await APITest.withAPI(configure: { $0.store = SQLRackStore(database: closed) }) { api, _ in
            let response = try await api.get("/api/racks")
            #expect(response.status == .serviceUnavailable)
            #expect(response.envelope["code"] as? String == "DATABASE_ERROR")
            #expect(response.headers[.retryAfter] == "1")
        }
    }
}
