import Backend
import Foundation
import Synchronization
import Testing

@Suite("Supervisor: event lines")
struct SupervisorEventLogTests {
    /// Collects the lines a log writes.
    final class Lines: Sendable {
        let all = Mutex<[String]>([])
        var sink: @Sendable (String) -> Void { { line in self.all.withLock { $0.append(line) } } }
    }

    static let noon = Date(timeIntervalSince1970: 1_746_100_800.25)

    @Test func jsonLinesUseTheSameKeysAsEveryOtherLogLine() throws {
        let lines = Lines()
        let log = SupervisorEventLog(format: .json, sink: lines.sink, clock: { Self.noon })
        log.write(event: "worker_started", fields: [("slot", .int(0)), ("pid", .int(4242))])
        let line = try #require(lines.all.withLock { $0.first })
        #expect(line.hasSuffix("}\n"))
        let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        #expect(object["time"] as? String == "2025-05-01T12:00:00.250000Z")
        #expect(object["ts"] == nil)
        #expect(object["level"] as? String == "info")
        #expect(object["logger"] as? String == "backend.supervisor")
        #expect(object["message"] as? String == "worker_started")
        #expect(object["event"] as? String == "worker_started")
        #expect(object["pid"] as? Int == 4242)
    }

    @Test func textLinesFollowLogFormatText() throws {
        let lines = Lines()
        let log = SupervisorEventLog(format: .text, sink: lines.sink, clock: { Self.noon })
        log.write(
            event: "worker_exited", level: "warning",
            fields: [("slot", .int(1)), ("status", .string("signal 9 (SIGKILL)")), ("reason", .string("crashed"))])
        #expect(
            lines.all.withLock { $0 } == [
                "2025-05-01T12:00:00.250000Z warning backend.supervisor: worker_exited slot=1 "
                    + "status=\"signal 9 (SIGKILL)\" reason=crashed\n"
            ])
    }
}
