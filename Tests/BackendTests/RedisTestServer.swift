import Backend
import Foundation
import NIOCore
import NIOPosix
import TestProcess
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// The Redis that `scripts/test.sh` starts (`HOMERACK_TEST_REDIS_URL`), as in
/// `IntegrationTests/TestServers.swift`: outside CI a test that needs it is skipped when it is
/// not set; with `CI` set the test runs and fails, so a broken CI setup cannot pass by skipping.
enum RedisTestServer {
    static let environment = ProcessInfo.processInfo.environment
    static var isCI: Bool { !(environment["CI"] ?? "").isEmpty }
    static var url: String? { environment["HOMERACK_TEST_REDIS_URL"].flatMap { $0.isEmpty ? nil : $0 } }

    /// Run a test when the server is configured, or always under CI (where a missing one fails it).
    static var required: Bool { url != nil || isCI }

    struct Missing: Error, CustomStringConvertible {
        let what: String
        var description: String { "\(what): run the tests with ./scripts/test.sh, which starts Redis" }
    }

    /// The shared test server's configuration, with deadlines for a loaded machine (the whole
    /// suite shares two cores; a CI run timed out 5,000 pipelined commands at 2 s): tests of a
    /// timeout pass their own.
    /// - Throws: ``Missing`` when `HOMERACK_TEST_REDIS_URL` is not set.
    static func configuration(
        commandTimeout: Duration = .seconds(10),
        clientName: String? = nil
    ) throws -> RedisConfiguration {
        guard let url else { throw Missing(what: "HOMERACK_TEST_REDIS_URL is not set") }
        var configuration = try RedisConfiguration(url: url)
        configuration.commandTimeout = commandTimeout
        configuration.connectTimeout = .seconds(10)
        configuration.clientName = clientName
        return configuration
    }

    /// Polls `condition` until it holds or `timeout` passes.
    /// - Returns: whether it held in time.
    static func eventually(
        timeout: Duration = .seconds(10),
        every interval: Duration = .milliseconds(20),
        _ condition: () async throws -> Bool
    ) async rethrows -> Bool {
        let deadline = ContinuousClock.now + timeout
        repeat {
            if try await condition() { return true }
            try? await Task.sleep(for: interval)
        } while ContinuousClock.now < deadline
        return try await condition()
    }

    /// A key prefix no other test uses (tests run in parallel on one server).
    static func uniqueNamespace(_ label: String) -> String {
        "test:\(label):\(UUID().uuidString.prefix(8)):"
    }
}

/// A `redis-server` of a test's own, started and stopped by PID, for what the shared server must
/// not suffer (being killed, a password).
final class RedisServerProcess {
    let port: Int
    private let extraArguments: [String]
    private let directory: URL
    /// The running server, to signal by PID (`SIGSTOP`, `SIGKILL`); nil after ``kill()``.
    private(set) var process: ChildProcess?

    /// Finds a free port and starts the server on it.
    /// - Parameter extraArguments: more `redis-server` options (`--requirepass`, ...).
    init(extraArguments: [String] = []) async throws {
        self.port = try Self.freePort()
        self.extraArguments = extraArguments
        self.directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "redis-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try await start()
    }

    deinit {
        process?.kill()
        try? FileManager.default.removeItem(at: directory)
    }

    var url: String { "redis://127.0.0.1:\(port)" }

    static func executable() throws -> URL {
        for directory in ["/usr/bin", "/usr/local/bin", "/usr/sbin"] {
            let candidate = URL(fileURLWithPath: directory).appendingPathComponent("redis-server")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
        }
        throw RedisTestServer.Missing(what: "redis-server is not installed")
    }

    /// Starts the server on ``port`` (again, after ``kill()``) and waits until it answers `PING`.
    func start() async throws {
        precondition(process == nil, "the server is already running")
        let arguments =
            [
                "--port", "\(port)", "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                "--daemonize", "no", "--dir", directory.path, "--logfile",
                directory.appendingPathComponent("redis.log").path,
            ] + extraArguments
        // Standard input, output and error on /dev/null, and none of the tests' sockets.
        self.process = try ChildProcess(try Self.executable().path, arguments)
        try await waitUntilAnswering(timeout: .seconds(30))
    }

    /// Kills the server with SIGKILL (by PID) and reaps it: a crash, not a shutdown.
    func kill() {
        process?.kill()
        process = nil
    }

    private func waitUntilAnswering(timeout: Duration) async throws {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if let status = process?.exitStatus {
                throw RedisTestServer.Missing(what: "redis-server exited at start (\(status), port \(port))")
            }
            if Self.answersPing(port: port) { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw RedisTestServer.Missing(what: "redis-server did not answer within \(timeout) on port \(port)")
    }

    /// A blocking probe with a short deadline: any reply (`+PONG`, or `-NOAUTH` with a password) means up.
    private static func answersPing(port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var timeout = timeval(tv_sec: 1, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard connected == 0 else { return false }
        let ping = Array("PING\r\n".utf8)
        guard write(fd, ping, ping.count) == ping.count else { return false }
        var reply = [UInt8](repeating: 0, count: 64)
        return read(fd, &reply, reply.count) > 0
    }

    /// A port nothing listens on: bind port 0, read what the kernel chose, release it.
    private static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw RedisTestServer.Missing(what: "socket() failed") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                bind(fd, pointer, length) == 0 && getsockname(fd, pointer, &length) == 0
            }
        }
        guard bound else { throw RedisTestServer.Missing(what: "could not bind a free port") }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}
