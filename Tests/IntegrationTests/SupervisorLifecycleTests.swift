import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// The built `homerack-backend supervise` with real worker processes on loopback, the edge in
/// this process in front of them where the scenario is about requests from the outside. One
/// suite, serialized: each test runs a supervisor, its workers and a load, which two cores
/// cannot run twice at once.
@Suite("Supervisor processes", .serialized)
enum SupervisorProcessTests {}

extension SupervisorProcessTests {
    /// Starting, losing and stopping workers; signals that change the count.
    @Suite("Worker lifecycle")
    struct Lifecycle {
        @Test func startsTheWorkersAndTheEdgeSpreadsRequestsOverThem() async throws {
            try await withSupervisor(workers: 3) { supervisor in
                let ports = supervisor.slotPorts.sorted { $0.key < $1.key }.map(\.value)
                #expect(ports.count == 3 && Set(ports).count == 3)
                let ready = Set(supervisor.events("worker_ready").compactMap(\.pid))
                try await withEdge(workerPorts: ports) { edge in
                    let answered = try await onThread {
                        let connection = try SupervisorHTTPConnection(port: edge.port)
                        return try (0..<30).map { _ in try connection.request("GET", "/__test__/worker") }
                    }
                    #expect(answered.allSatisfy { $0.status == 200 })
                    let pids = Set(answered.compactMap { Self.pid(in: $0.body) })
                    #expect(pids == ready, "every worker answered, and only workers the supervisor started")
                }
                let route = #"route="/__test__/worker""#
                try await waitUntil("the merged metrics to count the 30 requests", timeout: .seconds(15)) {
                    metricSum(try supervisor.metrics(), "http_requests_total", labels: [route]) == 30
                }
            }
        }

        @Test func aKilledWorkerUnderLoadLosesNoRequestAndIsReplaced() async throws {
            try await withSupervisor(workers: 2) { supervisor in
                let ports = supervisor.slotPorts.sorted { $0.key < $1.key }.map(\.value)
                try await withEdge(workerPorts: ports) { edge in
                    let load = SupervisorLoad(threads: 4, port: edge.port, keepAlive: true)
                    try await load.waitForSuccesses(100)
                    let victim = try #require(supervisor.servingPID(slot: 0))
                    kill(victim, SIGKILL)
                    let exit = try await supervisor.waitFor("worker_exited") { $0.pid == victim }
                    #expect(exit.status == "signal 9 (SIGKILL)")
                    #expect(exit.reason == "crashed")
                    try await supervisor.waitFor("worker_ready") { $0.slot == 0 && $0.pid != victim }
                    try await load.waitForSuccesses(100)
                    let result = try await load.stop()
                    #expect(result.failures.isEmpty, "\(result.failures.prefix(5))")
                }
                let replacement = try #require(supervisor.servingPID(slot: 0))
                let answer = try await onThread {
                    try SupervisorHTTPConnection(port: ports[0]).request("GET", "/__test__/worker", close: true)
                }
                #expect(Self.pid(in: answer.body) == replacement)
            }
        }

        @Test func aWorkerWhoseEventLoopsHangIsKilledAfterTheTimeoutAndReplaced() async throws {
            try await withSupervisor(workers: 1, options: ["--timeout", "2s"]) { supervisor in
                let port = try #require(supervisor.slotPorts[0])
                let victim = try #require(supervisor.servingPID(slot: 0))
                let hang = try await onThread {
                    try SupervisorHTTPConnection(port: port).request("POST", "/__test__/hang", close: true)
                }
                #expect(hang.status == 202)
                let killed = try await supervisor.waitFor("worker_killed") { $0.pid == victim }
                #expect(killed.reason == "timeout")
                let exit = try await supervisor.waitFor("worker_exited") { $0.pid == victim }
                #expect(exit.status == "signal 9 (SIGKILL)")
                let replacement = try await supervisor.waitFor("worker_ready") { $0.slot == 0 && $0.pid != victim }
                let answer = try await onThread {
                    try SupervisorHTTPConnection(port: port).request("GET", "/__test__/worker", close: true)
                }
                #expect(Self.pid(in: answer.body) == replacement.pid)
            }
        }

        @Test func sigtermLetsAnInFlightSlowRequestFinishThenExitsCleanly() async throws {
            try await withSupervisor(workers: 1) { supervisor in
                let port = try #require(supervisor.slotPorts[0])
                async let slow = onThread {
                    try SupervisorHTTPConnection(port: port).request("GET", "/__test__/slow?ms=1500", close: true)
                }
                try await waitUntil("the slow request to be in flight", timeout: .seconds(10)) {
                    try SupervisorHTTPConnection(port: port).request("GET", "/__test__/sleeping", close: true).body
                        == "1"
                }
                supervisor.signal(SIGTERM)
                let response = try await slow
                #expect(response.status == 200)
                #expect(response.body.hasPrefix("slept 1500 ms"))
                let status = try await supervisor.stop()
                #expect(status == 0)
                let exits = supervisor.events("worker_exited")
                #expect(exits.count == 1)
                #expect(exits.first?.reason == "shutdown" && exits.first?.status == "exit 0")
                #expect(supervisor.events("shutdown_finished").count == 1)
            }
        }

        @Test func sigquitStopsAtOnceWithoutWaitingForRequests() async throws {
            try await withSupervisor(workers: 1, options: ["--graceful-timeout", "60s"]) { supervisor in
                let port = try #require(supervisor.slotPorts[0])
                async let slow = onThread {
                    try SupervisorHTTPConnection(port: port).request("GET", "/__test__/slow?ms=60000", close: true)
                }
                try await waitUntil("the slow request to be in flight", timeout: .seconds(10)) {
                    try SupervisorHTTPConnection(port: port).request("GET", "/__test__/sleeping", close: true).body
                        == "1"
                }
                supervisor.signal(SIGQUIT)
                do {
                    let response = try await slow
                    Issue.record("the slow request was answered (\(response.status)) though its worker was killed")
                } catch {
                    #expect(error is SupervisorClientError)
                }
                #expect(try await supervisor.stop() == 0)
                #expect(supervisor.events("worker_exited").first?.status == "signal 9 (SIGKILL)")
                #expect(supervisor.events("shutdown_started").first?.fields["mode"] == "immediate")
            }
        }

        @Test func ttinAddsAWorkerAndTtouRemovesOneButNeverTheLast() async throws {
            try await withSupervisor(workers: 2) { supervisor in
                supervisor.signal(SIGTTIN)
                try await supervisor.waitFor("slot_opened") { $0.slot == 2 }
                let added = try await supervisor.waitFor("worker_ready") { $0.slot == 2 }
                let port = try #require(supervisor.slotPorts[2])
                let answer = try await onThread {
                    try SupervisorHTTPConnection(port: port).request("GET", "/__test__/worker", close: true)
                }
                #expect(Self.pid(in: answer.body) == added.pid)
                try await waitUntil("the metrics to count 3 workers", timeout: .seconds(10)) {
                    metricSum(try supervisor.metrics(), "backend_workers") == 3
                }

                supervisor.signal(SIGTTOU)
                let exit = try await supervisor.waitFor("worker_exited") { $0.pid == added.pid }
                #expect(exit.reason == "removed" && exit.status == "exit 0")
                try await supervisor.waitFor("slot_closed") { $0.slot == 2 }
                #expect(throws: SupervisorClientError.self, "the removed slot's socket is closed") {
                    _ = try SupervisorHTTPConnection(port: port)
                }

                supervisor.signal(SIGTTOU)
                try await supervisor.waitFor("slot_closed") { $0.slot == 1 }
                supervisor.signal(SIGTTOU)
                try await supervisor.waitFor("ignored")
                #expect(supervisor.servingPID(slot: 0) != nil, "the last worker stays")
            }
        }

        static func pid(in body: String) -> Int32? {
            guard let object = try? JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any] else {
                return nil
            }
            return (object["pid"] as? Int).map(Int32.init)
        }
    }
}
