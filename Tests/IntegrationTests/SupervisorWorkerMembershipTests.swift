import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// `WORKER_SOCKETS=shared`: every worker accepts on one socket, so the edge, configured with that
/// one address, follows `SIGTTIN` and `SIGTTOU` without an edit or a reload.
@Suite("Supervisor: worker membership on one shared socket", .serialized)
struct SupervisorWorkerMembershipTests {
    /// Sends `count` slow GETs through the edge at once (so it opens that many upstream
    /// connections, which the kernel hands to whichever worker accepts), returning the pid of the
    /// worker that answered each, or the failure. Fewer than the edge's default per-address
    /// connection limit, so none is refused by the edge itself.
    static func burst(edgePort: Int, count: Int) async throws -> [Result<Int32, any Error>] {
        try await withThrowingTaskGroup(of: Result<Int32, any Error>.self) { group in
            for _ in 0..<count {
                group.addTask {
                    do {
                        let answer = try await onThread {
                            try SupervisorHTTPConnection(port: edgePort, timeoutSeconds: 30).request(
                                "GET", "/__test__/slow?ms=150", close: true)
                        }
                        guard answer.status == 200, let pid = Self.pid(inSlowAnswer: answer.body) else {
                            return .failure(SupervisorTestFailure("answer \(answer.status): \(answer.body)"))
                        }
                        return .success(pid)
                    } catch {
                        return .failure(error)
                    }
                }
            }
            var results: [Result<Int32, any Error>] = []
            for try await result in group { results.append(result) }
            return results
        }
    }

    /// `slept 150 ms in 1234`.
    static func pid(inSlowAnswer body: String) -> Int32? {
        body.split(separator: " ").last.flatMap { Int32($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
    }

    @Test(.timeLimit(.minutes(3)))
    func aWorkerAddedWithTtinGetsTrafficThroughTheEdgeAndTtouLeavesTheSocketServed() async throws {
        try await withSupervisor(workers: 1, environment: ["WORKER_SOCKETS": "shared"]) { supervisor in
            let port = try #require(supervisor.slotPorts[0])
            // No idle upstream connections kept: every request is a new connection, which the
            // kernel hands to one of the workers accepting on the socket. (With a pool, a new
            // worker gets the edge's new connections only: see docs/CONFIG.md, worker membership.)
            try await withEdge(workerPorts: [port], keepalive: 0) { edge in
                supervisor.signal(SIGTTIN)
                let added = try await supervisor.waitFor("worker_ready") { $0.slot == 1 }
                let addedPID = try #require(added.pid)
                #expect(supervisor.slotPorts[1] == port, "both slots share the socket")

                // The new worker's connections come through the edge, whose configuration
                // names only the one address it had before the worker existed.
                var answeredBy = Set<Int32>()
                var failures: [String] = []
                try await waitUntilAsync("the added worker to answer through the edge", timeout: .seconds(30)) {
                    for result in try await Self.burst(edgePort: edge.port, count: 6) {
                        switch result {
                        case .success(let pid): answeredBy.insert(pid)
                        case .failure(let error): failures.append("\(error)")
                        }
                    }
                    return answeredBy.contains(addedPID)
                }
                #expect(failures.isEmpty, "\(failures)")

                // SIGTTOU removes it; the socket keeps its other worker: nothing fails or hangs.
                supervisor.signal(SIGTTOU)
                let exit = try await supervisor.waitFor("worker_exited") { $0.pid == addedPID }
                #expect(exit.reason == "removed")
                try await supervisor.waitFor("slot_closed") { $0.slot == 1 }
                let after = try await Self.burst(edgePort: edge.port, count: 6)
                let pids = Set(after.compactMap { try? $0.get() })
                #expect(after.allSatisfy { (try? $0.get()) != nil }, "\(after)")
                #expect(!pids.contains(addedPID))
                let direct = try await onThread {
                    try SupervisorHTTPConnection(port: port, timeoutSeconds: 10).request(
                        "GET", "/__test__/worker", close: true)
                }
                #expect(direct.status == 200, "the shared socket still has a worker")
            }
        }
    }
}

/// Evaluates async `condition` until it holds, failing after `timeout`.
func waitUntilAsync(_ what: String, timeout: Duration, _ condition: () async throws -> Bool) async throws {
    let deadline = ContinuousClock.now + timeout
    while try await !condition() {
        guard ContinuousClock.now < deadline else {
            throw SupervisorTestFailure("timed out after \(timeout) waiting for \(what)")
        }
        try await Task.sleep(for: .milliseconds(20))
    }
}
