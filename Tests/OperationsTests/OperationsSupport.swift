import Foundation
import TestProcess
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Every suite of this target, one test at a time: they start servers and run tools, and in
/// parallel they would take the CPU the timing-sensitive suites of the other targets need.
@Suite(.serialized) enum OperationsSuite {}

/// What these tests share: the repository's paths, running a tool with a deadline, scratch
/// directories, the test PostgreSQL server and free loopback ports.
enum Operations {
    static let environment = ProcessInfo.processInfo.environment
    static var isCI: Bool { !(environment["CI"] ?? "").isEmpty }

    /// The repository root (this file is `Tests/OperationsTests/OperationsSupport.swift`).
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    static func path(_ relative: String) -> String { root.appendingPathComponent(relative).path }

    /// A built product: `swift test` builds every executable before it runs the tests.
    static func binary(_ name: String) throws -> String {
        let path = path(".build/debug/\(name)")
        guard FileManager.default.isExecutableFile(atPath: path) else {
            throw OperationsFailure("\(path) is missing: run `swift build --product \(name)` (swift test builds it)")
        }
        return path
    }

    /// A tool the Debian packages in scripts/lib/debian-packages.sh install; a missing one fails.
    static func tool(_ name: String) throws -> String {
        // Spelled out: with `split(…) + [literals]` inferred, the compiler picked an overload
        // under which `directory` printed as an array of characters, and no tool was found.
        let path: [String] = (environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":").map { String($0) }
        for directory in path + ["/usr/sbin", "/sbin"] {
            let candidate = directory + "/" + name
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        throw OperationsFailure("\(name) not found: ./scripts/test.sh installs it (scripts/lib/debian-packages.sh)")
    }

    /// The test PostgreSQL server's URL. Outside CI, `nil` skips the test; under CI it fails.
    static var postgresURL: String? { environment["HOMERACK_TEST_POSTGRES_URL"] }
    static var postgresRequired: Bool { postgresURL != nil || isCI }
    static func requirePostgres() throws -> String {
        guard let url = postgresURL else {
            throw OperationsFailure("HOMERACK_TEST_POSTGRES_URL is not set: run the tests with ./scripts/test.sh")
        }
        return url
    }

    /// A new empty directory under the system's temporary directory.
    static func scratch(_ label: String) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("ops-\(label)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// A TCP port on 127.0.0.1 nothing listens on right now (the kernel's choice for port 0).
    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw OperationsFailure("socket() failed") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                bind(fd, pointer, length) == 0 && getsockname(fd, pointer, &length) == 0
            }
        }
        guard bound else { throw OperationsFailure("bind() failed") }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}

struct OperationsFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// One finished run of a tool.
struct ToolResult: CustomStringConvertible {
    let command: [String]
    let status: Int32
    let stdout: String
    let stderr: String

    var description: String {
        "$ \(command.joined(separator: " "))\nexit status \(status)\n--- stdout ---\n\(stdout)\n--- stderr ---\n\(stderr)"
    }

    /// The last line of standard output that is a JSON object (the scripts' one line per run).
    var jsonLine: [String: Any]? {
        for line in stdout.split(separator: "\n").reversed() {
            if let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] {
                return object
            }
        }
        return nil
    }
}

/// A child process started with `posix_spawn` and watched with `waitpid`: the test targets'
/// shared ``ChildProcess``.
///
/// Not Foundation's `Process`: on Linux it learns that a child exited when a socket the child
/// inherited is closed, so a daemon the child leaves behind (deploy/monitoring.sh's), or any
/// process spawned meanwhile that inherits the socket, keeps it "running". `waitpid` knows.
typealias Child = ChildProcess

extension ChildProcess {
    /// Starts `arguments[0]` (a path) with `environment`, standard input from `stdin` (a path,
    /// /dev/null by default) and standard output and error appended to the given files.
    ///
    /// At the lowest CPU priority: the servers and tools these tests start must not take the
    /// CPU from the timing-sensitive tests of the other targets running in this process.
    convenience init(
        _ arguments: [String], environment: [String: String], stdin: String = "/dev/null", stdout: String,
        stderr: String
    ) throws {
        try self.init(
            "/usr/bin/nice", ["-n", "19"] + arguments, environment: environment, standardInput: .file(stdin),
            standardOutput: .file(stdout, append: true), standardError: .file(stderr, append: true))
    }

    /// The exit status (128 + the signal for a killed child); nil while it runs.
    var status: Int32? { exitStatus?.code }

    /// SIGTERM, then SIGKILL after `grace`; returns once it has exited.
    func stop(grace: Duration = .seconds(30)) {
        terminate(grace: grace)
    }
}

/// Runs `command` (the first element a path or a name on PATH), waits at most `timeout`, and
/// returns its status and output; a run past its deadline is killed and throws.
///
/// Waits with `Task.sleep`, never blocking a thread of the cooperative pool: the suite's other
/// tests (a few threads for the whole process) keep running meanwhile.
@discardableResult
func run(
    _ command: [String], environment: [String: String] = [:], removing: [String] = [], directory: URL? = nil,
    stdin: String? = nil, timeout: Duration = .seconds(300)
) async throws -> ToolResult {
    try await runChild(
        command, environment: environment, removing: removing, directory: directory, stdin: stdin, timeout: timeout
    ) { child in
        let deadline = ContinuousClock.now + timeout
        while child.isRunning {
            if ContinuousClock.now >= deadline { return false }
            try await Task.sleep(for: .milliseconds(20))
        }
        return true
    }
}

/// ``run(_:environment:removing:directory:stdin:timeout:)`` for clean-up code in `defer`, which
/// cannot await: it blocks its thread, so only for short commands at the end of a test.
@discardableResult
func runBlocking(
    _ command: [String], environment: [String: String] = [:], removing: [String] = [], directory: URL? = nil,
    stdin: String? = nil, timeout: Duration = .seconds(120)
) throws -> ToolResult {
    let outcome = UnsafeOutcome()
    let semaphore = DispatchSemaphore(value: 0)
    Thread.detachNewThread {
        outcome.result = Result { try blockingRun(command, environment: environment, removing: removing, directory: directory, stdin: stdin, timeout: timeout) }
        semaphore.signal()
    }
    semaphore.wait()
    return try outcome.result!.get()
}

private final class UnsafeOutcome: @unchecked Sendable {
    var result: Result<ToolResult, any Error>?
}

private func runChild(
    _ command: [String], environment: [String: String], removing: [String], directory: URL?, stdin: String?,
    timeout: Duration, wait: (Child) async throws -> Bool
) async throws -> ToolResult {
    let executable = command[0].contains("/") ? command[0] : try Operations.tool(command[0])
    var env = Operations.environment
    for key in removing { env.removeValue(forKey: key) }
    env.merge(environment) { _, new in new }
    let outputs = try Operations.scratch("output")
    defer { try? FileManager.default.removeItem(at: outputs) }
    let outURL = outputs.appendingPathComponent("stdout")
    let errURL = outputs.appendingPathComponent("stderr")
    var input = "/dev/null"
    if let stdin {
        input = outputs.appendingPathComponent("stdin").path
        try Data(stdin.utf8).write(to: URL(fileURLWithPath: input))
    }
    var arguments = [executable] + command.dropFirst()
    if let directory { arguments = ["/usr/bin/env", "-C", directory.path] + arguments }
    let child = try Child(arguments, environment: env, stdin: input, stdout: outURL.path, stderr: errURL.path)
    guard try await wait(child) else {
        child.stop(grace: .seconds(5))
        throw OperationsFailure("\(command.joined(separator: " ")) did not finish within \(timeout)")
    }
    let stdout = (try? String(contentsOf: outURL, encoding: .utf8)) ?? ""
    let stderr = (try? String(contentsOf: errURL, encoding: .utf8)) ?? ""
    return ToolResult(command: command, status: child.status ?? -1, stdout: stdout, stderr: stderr)
}

private func blockingRun(
    _ command: [String], environment: [String: String], removing: [String], directory: URL?, stdin: String?,
    timeout: Duration
) throws -> ToolResult {
    let executable = command[0].contains("/") ? command[0] : try Operations.tool(command[0])
    var env = Operations.environment
    for key in removing { env.removeValue(forKey: key) }
    env.merge(environment) { _, new in new }
    // Output goes to files, not pipes: a tool that writes more than a pipe holds never blocks.
    let outputs = try Operations.scratch("output")
    defer { try? FileManager.default.removeItem(at: outputs) }
    let outURL = outputs.appendingPathComponent("stdout")
    let errURL = outputs.appendingPathComponent("stderr")
    var input = "/dev/null"
    if let stdin {
        input = outputs.appendingPathComponent("stdin").path
        try Data(stdin.utf8).write(to: URL(fileURLWithPath: input))
    }
    var arguments = [executable] + command.dropFirst()
    if let directory { arguments = ["/usr/bin/env", "-C", directory.path] + arguments }
    let child = try Child(arguments, environment: env, stdin: input, stdout: outURL.path, stderr: errURL.path)
    guard child.wait(timeout: timeout) != nil else {
        child.stop(grace: .seconds(5))
        throw OperationsFailure("\(command.joined(separator: " ")) did not finish within \(timeout)")
    }
    let stdout = (try? String(contentsOf: outURL, encoding: .utf8)) ?? ""
    let stderr = (try? String(contentsOf: errURL, encoding: .utf8)) ?? ""
    return ToolResult(command: command, status: child.status ?? -1, stdout: stdout, stderr: stderr)
}

/// Polls `condition` every 200 ms until it holds, or throws after `timeout`.
func waitUntil(_ what: String, timeout: Duration, _ condition: () async throws -> Bool) async throws {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try await condition() { return }
        try await Task.sleep(for: .milliseconds(200))
    }
    throw OperationsFailure("timed out after \(timeout) waiting for \(what)")
}

/// The body of an HTTP GET on loopback (curl, which the run packages install), or nil.
func httpGet(_ url: String) async -> String? {
    guard let result = try? await run(["curl", "-fsS", "--max-time", "5", url], timeout: .seconds(10)),
        result.status == 0
    else { return nil }
    return result.stdout
}
