import Foundation
import Synchronization
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// PostgreSQL stopped for 5 s under a request loop, on a server of the test's own (stopping the
/// suite's would disturb the tests sharing it): every request that needs the database is
/// answered `503 DATABASE_ERROR` with `Retry-After` within the bound (`DB_TIMEOUT`, 1 s, plus
/// scheduling slack on a loaded machine), readiness is 503, the breaker opened, and requests
/// succeed again soon after the server is back.
@Suite("Supervisor: a PostgreSQL outage", .serialized)
struct SupervisorDatabaseOutageTests {
    /// `DB_TIMEOUT`'s default plus slack for a loaded two-core machine running a debug build.
    static let bound: Duration = .milliseconds(2000)

    @Test(.enabled(if: SupervisorTestPostgres.isAvailable || TestServers.isCI), .timeLimit(.minutes(3)))
    func postgresStoppedFiveSecondsIsAnswered503WithinTheBoundAndRecovers() async throws {
        let postgres = try await SupervisorTestPostgres.start()
        do {
            try await run(postgres)
            await postgres.remove()
        } catch {
            let log = postgres.logTail()
            await postgres.remove()
            throw SupervisorTestFailure("\(error)\npostgres log:\n\(log)")
        }
    }

    private func run(_ postgres: SupervisorTestPostgres) async throws {
        let environment = ["DATABASE_URL": postgres.url, "DB_POOL_MIN": "2", "DB_POOL_MAX": "8"]
        try await withSupervisor(workers: 1, options: ["--max-requests", "0"], environment: environment) {
            supervisor in
            let port = try #require(supervisor.slotPorts[0])
            let created = try SupervisorHTTPConnection(port: port).request(
                "POST", "/api/racks", body: #"{"name":"outage","total_height_u":42}"#, close: true)
            #expect(created.status == 201, "\(created.body)")
            let id = try #require(
                (try JSONSerialization.jsonObject(with: Data(created.body.utf8)) as? [String: Any])?["id"] as? Int)

            let loop = OutageRequestLoop(port: port, paths: ["/api/racks/\(id)", "/api/health/ready"], threads: 2)
            defer { loop.stop() }
            try await waitUntil("20 answers before the outage", timeout: .seconds(30)) {
                loop.samples.filter { $0.status == 200 }.count >= 20
            }

            try await postgres.stopServer()
            let down = ContinuousClock.now
            // The outage lasts 5 s whatever happens meanwhile (the fault, not a wait for a result).
            try await Task.sleep(for: .seconds(5))
            let restarting = ContinuousClock.now
            try await postgres.startServer()
            let up = ContinuousClock.now
            try await waitUntil("a database read to succeed after the restart", timeout: .seconds(15)) {
                loop.samples.contains { $0.path.hasPrefix("/api/racks/") && $0.status == 200 && $0.finished > up }
            }
            loop.stop()
            let samples = loop.samples

            let during = samples.filter { $0.started >= down && $0.finished <= restarting }
            let reads = during.filter { $0.path.hasPrefix("/api/racks/") }
            #expect(reads.count >= 10, "only \(reads.count) reads during the outage")
            for sample in reads {
                #expect(sample.status == 503, "\(sample)")
                #expect(sample.code == "DATABASE_ERROR", "\(sample)")
                #expect(sample.retryAfter.flatMap(Int.init).map { $0 >= 1 } == true, "\(sample)")
            }
            let readiness = during.filter { $0.path == "/api/health/ready" }
            #expect(!readiness.isEmpty && readiness.allSatisfy { $0.status == 503 }, "\(readiness)")
            let slowest = samples.map(\.duration).max() ?? .zero
            #expect(slowest <= Self.bound, "a request took \(slowest)")
            #expect(samples.allSatisfy { $0.status != nil }, "\(samples.filter { $0.status == nil })")
            // Most answers came at once: the breaker opened rather than every request waiting.
            let immediate = reads.filter { $0.duration < .milliseconds(200) }.count
            #expect(immediate * 2 > reads.count, "\(immediate) of \(reads.count) reads were answered at once")

            let recovered = try #require(
                samples.filter { $0.path.hasPrefix("/api/racks/") && $0.status == 200 && $0.finished > up }
                    .map(\.finished).min())
            let recovery = recovered - up
            #expect(recovery < .seconds(1), "the first read after the restart succeeded \(recovery) after it")
            let metrics = try supervisor.metrics()
            #expect(metricSum(metrics, "db_breaker_openings_total") >= 1)
            print(
                "database outage: \(reads.count) reads during 5 s, slowest answer \(slowest), "
                    + "\(immediate) answered in < 200 ms, first success \(recovery) after the restart")
        }
    }
}

/// Threads sending GETs in a loop over keep-alive connections, timing every answer.
final class OutageRequestLoop: Sendable {
    struct Sample: Sendable, CustomStringConvertible {
        var path: String
        var started: ContinuousClock.Instant
        var finished: ContinuousClock.Instant
        /// `nil`: no response (the failure is in `code`).
        var status: Int?
        var code: String?
        var retryAfter: String?
        var duration: Duration { finished - started }
        var description: String {
            "\(path) → \(status.map(String.init) ?? "no response") \(code ?? "") in \(duration)"
                + (retryAfter.map { " Retry-After \($0)" } ?? "")
        }
    }

    private let recorded = Mutex<[Sample]>([])
    private let stopped = Atomic<Bool>(false)
    private let running = Atomic<Int>(0)

    var samples: [Sample] { recorded.withLock { $0 } }

    init(port: Int, paths: [String], threads: Int) {
        for thread in 0..<threads {
            running.add(1, ordering: .relaxed)
            Thread.detachNewThread { [self] in
                defer { running.subtract(1, ordering: .relaxed) }
                var connection: SupervisorHTTPConnection?
                var index = thread
                while !stopped.load(ordering: .relaxed) {
                    let path = paths[index % paths.count]
                    index += 1
                    let started = ContinuousClock.now
                    var sample = Sample(path: path, started: started, finished: started)
                    do {
                        if connection == nil {
                            connection = try SupervisorHTTPConnection(port: port, timeoutSeconds: 15)
                        }
                        let response = try connection!.request("GET", path)
                        sample.status = response.status
                        sample.retryAfter = response.headers["retry-after"]
                        let object = try? JSONSerialization.jsonObject(with: Data(response.body.utf8)) as? [String: Any]
                        sample.code = (object?["error"] as? [String: Any])?["code"] as? String
                        if response.closes { connection = nil }
                    } catch {
                        sample.code = "\(error)"
                        connection = nil
                    }
                    sample.finished = ContinuousClock.now
                    recorded.withLock { $0.append(sample) }
                    usleep(20_000)  // a steady loop, not a busy one
                }
            }
        }
    }

    /// Stops the threads and waits (up to 20 s) until they have.
    func stop() {
        stopped.store(true, ordering: .relaxed)
        let deadline = ContinuousClock.now + .seconds(20)
        while running.load(ordering: .relaxed) > 0, ContinuousClock.now < deadline { usleep(10_000) }
    }
}
