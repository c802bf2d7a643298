import Foundation
import Synchronization
import TestProcess
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// A `homerack-backend supervise` process started for one test: the built binary
/// (`.build/debug/homerack-backend`) on loopback ports chosen by the kernel, the embedded SQLite
/// store in a temporary directory, the test hooks on, and its JSON event lines (standard output)
/// collected as they come.
final class SupervisorUnderTest: Sendable {
    /// One JSON line of the supervisor's output.
    struct Event: Sendable, CustomStringConvertible {
        let name: String
        let fields: [String: String]

        var slot: Int? { fields["slot"].flatMap(Int.init) }
        var pid: Int32? { fields["pid"].flatMap(Int32.init) }
        var reason: String? { fields["reason"] }
        var status: String? { fields["status"] }
        var description: String {
            "\(name) \(fields.sorted { $0.key < $1.key }.map { "\($0)=\($1)" }.joined(separator: " "))"
        }
    }

    let pid: Int32
    let directory: URL
    private let process: ChildProcess
    private let events = Mutex<[Event]>([])

    /// The binary under test; `swift build` (or `swift test`, which builds it) makes it.
    static var binary: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent(".build/debug/homerack-backend")
    }

    /// Starts a supervisor and waits until `workers` workers are ready and the metrics listener is up.
    /// - Parameters:
    ///   - options: more `supervise` options (`--max-requests 50`, `--timeout 2s`).
    ///   - environment: more environment variables for the supervisor and its workers.
    static func start(
        workers: Int, options: [String] = [], environment: [String: String] = [:]
    ) async throws -> SupervisorUnderTest {
        guard FileManager.default.isExecutableFile(atPath: binary.path) else {
            throw SupervisorTestFailure("\(binary.path) is missing: run `swift build --product homerack-backend`")
        }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "supervisor-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)

        var processEnvironment = ProcessInfo.processInfo.environment.filter { key, _ in
            ![
                "DATABASE_URL", "REDIS_URL", "HOMERACK_CONFIG", "LISTEN_FDS", "LISTEN_PID", "HOST", "PORT",
                "UNIX_SOCKET",
            ]
            .contains(key) && !key.hasPrefix("WORKER") && !key.hasPrefix("MAX_REQUESTS")
        }
        processEnvironment["DATA_DIR"] = directory.appendingPathComponent("data").path
        processEnvironment["HOMERACK_TEST_HOOKS"] = "1"
        processEnvironment["LOG_FORMAT"] = "json"
        processEnvironment["LOG_LEVEL"] = "warning"
        processEnvironment.merge(environment) { _, new in new }

        let process = try ChildProcess(
            binary.path,
            ["supervise", "--workers", String(workers), "--bind", "127.0.0.1:0", "--metrics-address", "127.0.0.1:0"]
                + options,
            environment: processEnvironment, standardInput: .null, standardOutput: .pipe,
            standardError: .file(directory.appendingPathComponent("stderr.log").path))

        let supervisor = SupervisorUnderTest(process: process, directory: directory)
        supervisor.collect()
        do {
            try await supervisor.waitUntil("\(workers) ready workers", timeout: .seconds(60)) { events in
                Set(events.filter { $0.name == "worker_ready" }.compactMap(\.slot)).count >= workers
                    && events.contains { $0.name == "metrics_listening" }
            }
        } catch {
            let diagnostics = supervisor.diagnostics()
            _ = try? await supervisor.stop()
            throw SupervisorTestFailure("\(error)\n\(diagnostics)")
        }
        return supervisor
    }

    private init(process: ChildProcess, directory: URL) {
        self.process = process
        self.pid = process.pid
        self.directory = directory
    }

    /// Reads standard output on a thread of its own until it ends, keeping every JSON line.
    private func collect() {
        Thread.detachNewThread { [self] in
            var pending: [UInt8] = []
            process.readToEnd(.standardOutput) { chunk in
                pending += chunk
                while let newline = pending.firstIndex(of: 0x0A) {
                    let line = pending[pending.startIndex..<newline]
                    pending.removeSubrange(pending.startIndex...newline)
                    if let event = Self.parse(line) { events.withLock { $0.append(event) } }
                }
            }
        }
    }

    private static func parse(_ line: ArraySlice<UInt8>) -> Event? {
        guard let object = try? JSONSerialization.jsonObject(with: Data(line)) as? [String: Any],
            let name = object["event"] as? String
        else { return nil }
        var fields: [String: String] = [:]
        for (key, value) in object { fields[key] = "\(value)" }
        return Event(name: name, fields: fields)
    }

    // MARK: Events

    var allEvents: [Event] { events.withLock { $0 } }

    func events(_ name: String) -> [Event] { allEvents.filter { $0.name == name } }

    /// Waits until the collected events satisfy `condition`.
    func waitUntil(_ what: String, timeout: Duration, _ condition: ([Event]) -> Bool) async throws {
        try await IntegrationTests.waitUntil(what, timeout: timeout) { condition(allEvents) }
    }

    /// Waits for an event named `name` matching `condition`, and returns the first.
    @discardableResult
    func waitFor(
        _ name: String, timeout: Duration = .seconds(30), where condition: @escaping (Event) -> Bool = { _ in true }
    ) async throws -> Event {
        try await waitUntil(name, timeout: timeout) { $0.contains { $0.name == name && condition($0) } }
        return events(name).first(where: condition)!
    }

    /// The port each slot listens on (from `slot_opened`).
    var slotPorts: [Int: Int] {
        var ports: [Int: Int] = [:]
        for event in events("slot_opened") {
            if let slot = event.slot,
                let port = event.fields["address"]?.split(separator: ":").last.flatMap({ Int($0) })
            {
                ports[slot] = port
            }
        }
        return ports
    }

    var metricsPort: Int {
        events("metrics_listening").last?.fields["address"]?.split(separator: ":").last.flatMap { Int($0) } ?? 0
    }

    /// The pid of the worker serving `slot` now: the last one to report ready and not exited.
    func servingPID(slot: Int) -> Int32? {
        let exited = Set(events("worker_exited").compactMap(\.pid))
        return events("worker_ready").last { $0.slot == slot && !exited.contains($0.pid ?? -1) }?.pid
    }

    /// Every worker process alive now (started, not exited).
    var liveWorkerPIDs: Set<Int32> {
        Set(events("worker_started").compactMap(\.pid)).subtracting(events("worker_exited").compactMap(\.pid))
    }

    // MARK: Control

    func signal(_ number: Int32) {
        process.signal(number)
    }

    /// The supervisor's merged `/metrics`.
    func metrics() throws -> String {
        let response = try SupervisorHTTPConnection(port: metricsPort).request("GET", "/metrics", close: true)
        guard response.status == 200 else { throw SupervisorTestFailure("/metrics answered \(response.status)") }
        return response.body
    }

    var isRunning: Bool { process.isRunning }

    /// Stops the supervisor with `SIGTERM` (then `SIGKILL` after 30 s), removes its directory,
    /// and returns its exit status (128 + the signal when one ended it).
    @discardableResult
    func stop(signal number: Int32 = SIGTERM) async throws -> Int32 {
        process.signal(number)
        do {
            try await IntegrationTests.waitUntil("the supervisor to exit", timeout: .seconds(30)) { !process.isRunning }
        } catch {
            process.signal(SIGKILL)
            for pid in liveWorkerPIDs { kill(pid, SIGKILL) }
            try? await IntegrationTests.waitUntil("the supervisor to die", timeout: .seconds(5)) { !process.isRunning }
        }
        try? FileManager.default.removeItem(at: directory)
        return process.exitStatus?.code ?? -1
    }

    /// The recent events and the workers' standard error, for failure messages.
    func diagnostics() -> String {
        let log = (try? String(contentsOf: directory.appendingPathComponent("stderr.log"), encoding: .utf8)) ?? ""
        return "events:\n" + allEvents.suffix(40).map(\.description).joined(separator: "\n")
            + "\nstderr (last lines):\n" + log.split(separator: "\n").suffix(60).joined(separator: "\n")
    }
}

/// Runs `body` with a started supervisor, and always stops it afterwards.
func withSupervisor<T>(
    workers: Int, options: [String] = [], environment: [String: String] = [:],
    _ body: (SupervisorUnderTest) async throws -> T
) async throws -> T {
    let supervisor = try await SupervisorUnderTest.start(workers: workers, options: options, environment: environment)
    do {
        let result = try await body(supervisor)
        try await supervisor.stop()
        return result
    } catch {
        let diagnostics = supervisor.diagnostics()
        _ = try? await supervisor.stop()
        throw SupervisorTestFailure("\(error)\n\(diagnostics)")
    }
}
