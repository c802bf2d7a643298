import Backend
import Foundation
import Logging
import Testing

@Suite("Logging: JSON and text lines, access log")
struct LoggingTests {
    @Test func jsonLinesCarryLevelTimeMessageLabelAndMetadata() throws {
        let log = CapturedLog()
        var logger = log.logger(label: "backend.test")
        logger[metadataKey: "worker"] = "3"
        logger.warning(
            "disk filling up",
            metadata: [
                "backend.disk.percent": .stringConvertible(85.5), "count": .stringConvertible(2),
                "ok": .stringConvertible(false), "nested": ["a": "b"], "list": ["x", "y"],
            ])

        #expect(log.lines.count == 1)
        let object = try #require(log.objects.first)
        #expect(object["level"] as? String == "warning")
        #expect(object["logger"] as? String == "backend.test")
        #expect(object["message"] as? String == "disk filling up")
        #expect(object["worker"] as? String == "3")
        #expect(object["backend.disk.percent"] as? Double == 85.5)
        #expect(object["count"] as? Int == 2)
        #expect(object["ok"] as? Bool == false)
        #expect((object["nested"] as? [String: String]) == ["a": "b"])
        #expect((object["list"] as? [String]) == ["x", "y"])
        let time = try #require(object["time"] as? String)
        #expect(time.hasSuffix("Z"))
        #expect(ISO8601DateFormatter.withFractionalSeconds.date(from: time) != nil)
    }

    @Test func levelsBelowTheConfiguredOneAreNotWritten() {
        let log = CapturedLog()
        let logger = log.logger(label: "backend.test", level: .warning)
        logger.info("quiet")
        logger.debug("quieter")
        logger.error("loud")
        #expect(log.lines.count == 1)
        #expect(log.objects.first?["message"] as? String == "loud")
    }

    @Test func metadataCannotOverwriteTheFixedKeys() throws {
        let log = CapturedLog()
        log.logger(label: "backend.test").info("real", metadata: ["message": "fake", "level": "critical"])
        let object = try #require(log.objects.first)
        #expect(object["message"] as? String == "real")
        #expect(object["level"] as? String == "info")
        #expect(object["metadata.message"] as? String == "fake")
        #expect(object["metadata.level"] as? String == "critical")
    }

    @Test func controlCharactersAndQuotesStayInsideOneJSONLine() throws {
        let log = CapturedLog()
        log.logger(label: "backend.test").info("line one\nline \"two\"\t\u{1}")
        #expect(log.lines.count == 1)
        #expect(!log.lines[0].contains("\n"))
        #expect(log.objects.first?["message"] as? String == "line one\nline \"two\"\t\u{1}")
    }

    @Test func textLinesReadAsTimeLevelLabelMessageAndPairs() throws {
        let log = CapturedLog()
        log.logger(label: "backend.test", format: .text).info(
            "request", metadata: ["route": "/api/racks/{id}", "status": .stringConvertible(404), "note": "two words"])
        let line = try #require(log.lines.first)
        let parts = line.split(separator: " ", maxSplits: 3).map(String.init)
        #expect(parts.count == 4)
        #expect(parts[0].hasSuffix("Z"))
        #expect(parts[1] == "info")
        #expect(parts[2] == "backend.test:")
        #expect(parts[3] == #"request note="two words" route=/api/racks/{id} status=404"#)
    }

    @Test func errorsPassedToTheCallAreWrittenRedacted() throws {
        struct Failure: Error, CustomStringConvertible {
            var description: String { "connect to postgres://app:hunter2@db/homerack failed" }
        }
        let log = CapturedLog()
        log.logger(label: "backend.test").error("query failed", error: Failure())
        let object = try #require(log.objects.first)
        #expect(object["error"] as? String == "connect to postgres://app:***@db/homerack failed")
        #expect(!log.lines[0].contains("hunter2"))
    }

    @Test func everyRequestGetsOneAccessLineWithRequestIDRouteStatusAndDuration() async throws {
        let log = CapturedLog()
        try await ObservedAPI.withAPI(log: log) { api, _ in
            let created = try await api.post("/api/racks", ["name": "Lab", "total_height_u": 12])
            let id = try #require(created.object["id"] as? Int)
            let read = try await api.get("/api/racks/\(id)")
            let missing = try await api.get("/api/nowhere/\(id)")

            let access = log.objects.filter { $0["message"] as? String == "request" }
            #expect(access.count == 3)
            guard access.count == 3 else { return }
            #expect(access.map { $0["route"] as? String } == ["/api/racks", "/api/racks/{id}", "unmatched"])
            #expect(access.map { $0["status"] as? Int } == [201, 200, 404])
            #expect(access.map { $0["method"] as? String } == ["POST", "GET", "GET"])
            let ids = [created, read, missing].map { $0.headers[.init("X-Request-ID")!] }
            #expect(access.map { $0["request_id"] as? String } == ids)
            #expect(access.allSatisfy { ($0["duration_ms"] as? Double).map { $0 >= 0 } ?? false })
            #expect(access.allSatisfy { $0["logger"] as? String == "backend.http" })
        }
    }

    @Test func theAccessLineKeepsAnIncomingRequestIDAndNeverTheRawPath() async throws {
        let log = CapturedLog()
        try await ObservedAPI.withAPI(log: log) { api, _ in
            _ = try await api.request(.get, "/api/racks/987654?token=abc", headers: [.init("X-Request-ID")!: "edge-1"])
            let line = try #require(log.lines.first { $0.contains(#""message":"request""#) })
            #expect(line.contains(#""request_id":"edge-1""#))
            #expect(line.contains(#""route":"/api/racks/{id}""#))
            #expect(!line.contains("987654"))
            #expect(!line.contains("token=abc"))
        }
    }
}

extension ISO8601DateFormatter {
    static var withFractionalSeconds: ISO8601DateFormatter {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter
    }
}
