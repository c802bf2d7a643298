import Dispatch
import Foundation
import Synchronization
import Testing

@testable import Edge

/// Reloading while clients keep sending: no request fails, and the last configuration wins.
extension ProxyIntegrationTests {
    /// What the load clients saw, shared across their threads.
    final class LoadTally: Sendable {
        let stop = Atomic<Bool>(false)
        let ok = Atomic<Int>(0)
        let reconnects = Atomic<Int>(0)
        let byUpstream = Mutex<[String: Int]>([:])
        let failures = Mutex<[String]>([])

        func fail(_ what: String) { failures.withLock { $0.append(what) } }
    }

    /// One client: keep-alive GETs on one connection until told to stop (or `deadline`), a new
    /// connection only when the edge announced `Connection: close`.
    static func loadClient(port: Int, index: Int, tally: LoadTally, deadline: ContinuousClock.Instant) {
        var connection: RawHTTPConnection?
        defer { connection?.close() }
        var sent = 0
        while !tally.stop.load(ordering: .relaxed), ContinuousClock.now < deadline {
            do {
                if connection == nil { connection = try RawHTTPConnection(port: port) }
                sent += 1
                let response = try connection!.request("GET", "/load/\(index)/\(sent)", timeout: .seconds(5))
                guard response.status == 200, let name = response.header("X-Upstream") else {
                    tally.fail("client \(index) request \(sent): status \(response.status) \(response.text.prefix(100))")
                    continue
                }
                tally.ok.add(1, ordering: .relaxed)
                tally.byUpstream.withLock { $0[name, default: 0] += 1 }
                if response.header("Connection")?.lowercased() == "close" {
                    connection?.close()
                    connection = nil
                    tally.reconnects.add(1, ordering: .relaxed)
                }
            } catch {
                tally.fail("client \(index) request \(sent): \(error)")
                connection?.close()
                connection = nil
            }
        }
    }

    @Test func reloadsUnderConcurrentKeepAliveLoadFailNoRequestAndTheLastConfigWins() async throws {
        try await withUpstreams(["a", "b"]) { upstreams in
            let configs = try upstreams.map { try EdgeYAML.proxying(to: [EdgeYAML.server($0.address)]).config() }
            try await withEdge(yaml: .proxying(to: [EdgeYAML.server(upstreams[0].address)])) { edge in
                let clients = 8
                let reloads = 5  // odd: the last reload is to b
                let tally = LoadTally()
                let hardDeadline = ContinuousClock.now + .seconds(15)
                let port = edge.port
                // Plain threads: the clients block on sockets, which the cooperative pool (two
                // threads here) must not be made to do.
                let done = DispatchGroup()
                for index in 0..<clients {
                    done.enter()
                    Thread.detachNewThread {
                        Self.loadClient(port: port, index: index, tally: tally, deadline: hardDeadline)
                        done.leave()
                    }
                }
                let finished: @Sendable () async -> Bool = {
                    await withCheckedContinuation { continuation in
                        DispatchQueue.global().async {
                            continuation.resume(returning: done.wait(timeout: .now() + 20) == .success)
                        }
                    }
                }

                do {
                    try await eventually("the load to get going") { tally.ok.load(ordering: .relaxed) >= clients * 5 }
                    // ~2 s of load, a reload every 300 ms, alternating b, a, b, a, b.
                    for reload in 1...reloads {
                        try await Task.sleep(for: .milliseconds(350))
                        let target = reload % 2  // 1 → b, 0 → a
                        let before = tally.ok.load(ordering: .relaxed)
                        try edge.server.reload(configs[target])
                        let fresh = try edge.request("GET", "/fresh/\(reload)")
                        #expect(fresh.status == 200)
                        #expect(
                            fresh.header("X-Upstream") == upstreams[target].name,
                            "a new connection right after reload \(reload) reaches \(upstreams[target].name)")
                        try await eventually("requests to keep flowing after reload \(reload)") {
                            tally.ok.load(ordering: .relaxed) >= before + clients
                        }
                    }
                    try await Task.sleep(for: .milliseconds(350))
                } catch {
                    tally.stop.store(true, ordering: .relaxed)
                    _ = await finished()
                    throw error
                }
                tally.stop.store(true, ordering: .relaxed)
                #expect(await finished(), "every load client stopped")

                let failures = tally.failures.withLock { $0 }
                let ok = tally.ok.load(ordering: .relaxed)
                let byUpstream = tally.byUpstream.withLock { $0 }
                #expect(failures.isEmpty, "\(failures.count) failed of \(ok + failures.count): \(failures.prefix(5))")
                #expect(ok > clients * 20, "the load was real: \(ok) requests, \(byUpstream)")
                #expect((byUpstream["a"] ?? 0) > 0 && (byUpstream["b"] ?? 0) > 0, "both configurations served: \(byUpstream)")

                // After the last reload (to b), new requests — new connections and a reused one — reach b.
                let aBefore = upstreams[0].requestCount
                let names = try Self.upstreamNames(edge, requests: 6, path: "/after")
                #expect(names == Array(repeating: "b", count: 6))
                for _ in 0..<4 {
                    #expect(try edge.request("GET", "/after-fresh").header("X-Upstream") == "b")
                }
                #expect(upstreams[0].requestCount == aBefore, "a gets nothing once it is out of the configuration")
                let metrics = try edge.metrics()
                #expect(metricValue(metrics, "edge_config_reloads_total{result=\"success\"}") == Double(reloads))
                #expect(metricValue(metrics, "edge_config_reloads_total{result=\"failure\"}") ?? 0 == 0)
                print("reload under load: \(ok) requests ok, \(tally.reconnects.load(ordering: .relaxed)) reconnects, \(byUpstream)")
            }
        }
    }
}
