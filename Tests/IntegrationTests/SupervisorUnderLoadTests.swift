import Foundation
import Synchronization
import Testing

#if canImport(Glibc)
    import Glibc
#endif

extension SupervisorProcessTests {
    /// Replacing workers while requests keep coming: recycling after `max-requests`, reloads,
    /// and workers killed in the middle of writes.
    @Suite("Workers replaced under load")
    struct UnderLoad {
        static let racks = #"route="/api/racks""#

        @Test func recyclingAfterMaxRequestsFailsAndRefusesNothingAndCountersNeverGoBack() async throws {
            let options = ["--max-requests", "40", "--max-requests-jitter", "10"]
            try await withSupervisor(workers: 2, options: options) { supervisor in
                let ports = supervisor.slotPorts.sorted { $0.key < $1.key }.map(\.value)
                // A new connection per request straight to each worker's socket: a refused or
                // dropped connection while a worker hands over to the next shows here.
                let direct = ports.map { SupervisorLoad(threads: 1, port: $0, keepAlive: false) }
                var samples: [Double] = []
                let result = try await withEdge(workerPorts: ports) { edge in
                    let viaEdge = SupervisorLoad(threads: 2, port: edge.port, keepAlive: true)
                    try await waitUntil("8 recycled workers", timeout: .seconds(120)) {
                        samples.append(metricSum(try supervisor.metrics(), "http_requests_total", labels: [Self.racks]))
                        return supervisor.events("worker_exited").filter { $0.reason == "recycled" }.count >= 8
                    }
                    var results = [try await viaEdge.stop()]
                    for load in direct { results.append(try await load.stop()) }
                    return results
                }
                for load in result {
                    #expect(load.failures.isEmpty, "\(load.failures.prefix(5))\n\(supervisor.diagnostics())")
                    #expect(load.refused == 0)
                }
                let recycled = supervisor.events("worker_exited").filter { $0.reason == "recycled" }
                #expect(recycled.allSatisfy { $0.status == "exit 0" })
                #expect(supervisor.events("worker_recycling").count >= recycled.count)
                #expect(
                    zip(samples, samples.dropFirst()).allSatisfy { $0 <= $1 }, "the total never went back: \(samples)")
                let answered = result.map(\.succeeded).reduce(0, +)
                try await waitUntil("the merged total to count all \(answered) requests", timeout: .seconds(15)) {
                    metricSum(try supervisor.metrics(), "http_requests_total", labels: [Self.racks]) == Double(answered)
                }
            }
        }

        @Test func sighupReplacesEveryWorkerOneByOneWithoutAFailedRequest() async throws {
            try await withSupervisor(workers: 2) { supervisor in
                let ports = supervisor.slotPorts.sorted { $0.key < $1.key }.map(\.value)
                let before = supervisor.liveWorkerPIDs
                let direct = ports.map { SupervisorLoad(threads: 1, port: $0, keepAlive: false) }
                let results = try await withEdge(workerPorts: ports) { edge in
                    let viaEdge = SupervisorLoad(threads: 2, port: edge.port, keepAlive: true)
                    try await viaEdge.waitForSuccesses(50)
                    supervisor.signal(SIGHUP)
                    try await supervisor.waitFor("reload_finished", timeout: .seconds(60))
                    try await viaEdge.waitForSuccesses(50)
                    var results = [try await viaEdge.stop()]
                    for load in direct { results.append(try await load.stop()) }
                    return results
                }
                for load in results {
                    #expect(load.failures.isEmpty, "\(load.failures.prefix(5))")
                }
                for pid in before {
                    let exit = try await supervisor.waitFor("worker_exited") { $0.pid == pid }
                    #expect(exit.reason == "replaced" && exit.status == "exit 0", "\(supervisor.diagnostics())")
                }
                #expect(supervisor.liveWorkerPIDs.isDisjoint(with: before))
                #expect(supervisor.liveWorkerPIDs.count == 2)
                // One by one: slot 1's new worker started only after slot 0's was ready.
                let events = supervisor.allEvents
                let slot0Ready = events.lastIndex { $0.name == "worker_ready" && $0.slot == 0 }
                let slot1Started = events.lastIndex { $0.name == "worker_started" && $0.slot == 1 }
                #expect(slot0Ready != nil && slot1Started != nil && slot0Ready! < slot1Started!)
            }
        }

        @Test func acknowledgedWritesSurviveWorkersKilledMidWrite() async throws {
            try await withSupervisor(workers: 2) { supervisor in
                let ports = supervisor.slotPorts.sorted { $0.key < $1.key }.map(\.value)
                let acknowledged = Mutex<[(id: Int, name: String)]>([])
                try await withEdge(workerPorts: ports) { edge in
                    let writers = SupervisorLoad(
                        threads: 3, port: edge.port, keepAlive: true,
                        request: { thread, sequence in
                            ("POST", "/api/racks", #"{"name":"w\#(thread)-\#(sequence)","total_height_u":42}"#, 201)
                        },
                        onSuccess: { _, _, response in
                            guard let object = try? JSONSerialization.jsonObject(with: Data(response.body.utf8)),
                                let rack = object as? [String: Any], let id = rack["id"] as? Int,
                                let name = rack["name"] as? String
                            else { return }
                            acknowledged.withLock { $0.append((id, name)) }
                        })
                    for slot in [0, 1, 0] {
                        try await writers.waitForSuccesses(30)
                        let victim = try #require(supervisor.servingPID(slot: slot))
                        kill(victim, SIGKILL)
                        try await supervisor.waitFor("worker_ready") { $0.slot == slot && $0.pid != victim }
                    }
                    try await writers.waitForSuccesses(30)
                    let result = try await writers.stop()
                    #expect(result.succeeded == acknowledged.withLock { $0.count })
                    // A write in flight on a killed worker may fail (the edge never replays a
                    // POST); what matters is that none that was acknowledged is missing.
                    let written = acknowledged.withLock { $0 }
                    let missing = try await onThread {
                        let connection = try SupervisorHTTPConnection(port: edge.port)
                        return try written.filter { rack in
                            let read = try connection.request("GET", "/api/racks/\(rack.id)")
                            return read.status != 200 || !read.body.contains(#""name":"\#(rack.name)""#)
                        }
                    }
                    #expect(written.count >= 120)
                    #expect(missing.isEmpty, "acknowledged but not found: \(missing.prefix(5))")
                }
            }
        }
    }
}
