import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A PostgreSQL server of one test's own, made the way `scripts/test.sh` makes the suite's
/// (`initdb -A trust -U homerack`, loopback only, fsync off) on a free port, so a test can stop
/// and restart it without disturbing the tests sharing the suite's server. Stopped by its PID
/// (`SIGINT`: fast shutdown) and removed by ``remove()``.
final class SupervisorTestPostgres: Sendable {
    static let binaries = URL(fileURLWithPath: "/usr/lib/postgresql/15/bin")
    static var isAvailable: Bool {
        FileManager.default.isExecutableFile(atPath: binaries.appendingPathComponent("initdb").path)
    }

    let port: Int
    let directory: URL
    private var data: URL { directory.appendingPathComponent("pgdata") }
    private var log: URL { directory.appendingPathComponent("postgres.log") }

    /// The `DATABASE_URL` of its `postgres` database.
    var url: String { "postgres://homerack@127.0.0.1:\(port)/postgres?sslmode=disable" }

    private init(port: Int, directory: URL) {
        self.port = port
        self.directory = directory
    }

    /// Makes a cluster in a temporary directory and starts it. The port is free when chosen but
    /// not held: another test's server may take it before the postmaster binds it (a CI run's
    /// `pg_ctl start` "stopped waiting"), so a cluster that does not start is tried again on a
    /// new port, twice, and the last failure carries the server's log.
    static func start() async throws -> SupervisorTestPostgres {
        guard isAvailable else {
            throw SupervisorTestFailure("PostgreSQL 15 is not installed (scripts/test.sh installs it)")
        }
        var failures: [String] = []
        for _ in 1...3 {
            do {
                return try await startOnce()
            } catch {
                failures.append("\(error)")
            }
        }
        throw SupervisorTestFailure("PostgreSQL did not start in 3 tries:\n" + failures.joined(separator: "\n"))
    }

    private static func startOnce() async throws -> SupervisorTestPostgres {
        let directory = URL(fileURLWithPath: "/tmp").appendingPathComponent(
            "homerack-pg-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: directory.path)
        let server = SupervisorTestPostgres(port: try freePort(), directory: directory)
        do {
            try FileManager.default.createDirectory(at: server.data, withIntermediateDirectories: true)
            try FileManager.default.setAttributes([.posixPermissions: 0o700], ofItemAtPath: server.data.path)
            _ = FileManager.default.createFile(atPath: server.log.path, contents: nil)
            if getuid() == 0 {
                try await run("/bin/chown", ["postgres:", server.data.path, server.log.path, directory.path])
            }
            try await server.asPostgres(
                "initdb",
                [
                    "-D", server.data.path, "-A", "trust", "-U", "homerack", "--no-sync", "-E", "UTF8",
                    "--locale=C.UTF-8",
                ])
            let settings = """

                listen_addresses = '127.0.0.1'
                port = \(server.port)
                unix_socket_directories = '\(directory.path)'
                fsync = off
                synchronous_commit = off
                full_page_writes = off
                """
            let handle = try FileHandle(forWritingTo: server.data.appendingPathComponent("postgresql.conf"))
            try handle.seekToEnd()
            try handle.write(contentsOf: Data(settings.utf8))
            try handle.close()
            try await server.startServer()
        } catch {
            let log = server.logTail()
            await server.remove()
            throw SupervisorTestFailure("\(error)\npostgres log (port \(server.port)):\n\(log)")
        }
        return server
    }

    /// Starts (or restarts) the server; returns once it accepts connections.
    func startServer() async throws {
        try await asPostgres("pg_ctl", ["start", "-w", "-t", "30", "-D", data.path, "-l", log.path])
    }

    /// The postmaster's PID, while it runs.
    var pid: Int32? {
        guard let text = try? String(contentsOf: data.appendingPathComponent("postmaster.pid"), encoding: .utf8)
        else { return nil }
        return text.split(separator: "\n").first.flatMap { Int32($0) }
    }

    /// Fast shutdown by PID (`SIGINT`: sessions are terminated at once), waiting until it exited.
    func stopServer() async throws {
        guard let pid else { return }
        kill(pid, SIGINT)
        try await waitUntil("PostgreSQL (pid \(pid)) to exit", timeout: .seconds(30)) { kill(pid, 0) != 0 }
    }

    /// Stops the server if it runs and removes its directory.
    func remove() async {
        if let pid, kill(pid, 0) == 0 {
            kill(pid, SIGINT)
            try? await waitUntil("PostgreSQL to exit", timeout: .seconds(15)) { kill(pid, 0) != 0 }
            if kill(pid, 0) == 0 { kill(pid, SIGKILL) }
        }
        try? FileManager.default.removeItem(at: directory)
    }

    /// The server log's last lines, for failure messages.
    func logTail() -> String {
        let text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").suffix(20).joined(separator: "\n")
    }

    /// Runs a PostgreSQL program as the `postgres` user when root (PostgreSQL refuses root).
    private func asPostgres(_ program: String, _ arguments: [String]) async throws {
        let path = Self.binaries.appendingPathComponent(program).path
        if getuid() == 0 {
            try await Self.run("/usr/sbin/runuser", ["-u", "postgres", "--", path] + arguments, in: directory)
        } else {
            try await Self.run(path, arguments, in: directory)
        }
    }

    /// Runs a command through `/bin/sh` on a thread of its own, output to a temporary file.
    /// (`system` waits for exactly its own child; the arguments here are paths and options
    /// without spaces or quotes.)
    private static func run(_ executable: String, _ arguments: [String], in directory: URL? = nil) async throws {
        let output = URL(fileURLWithPath: "/tmp").appendingPathComponent("pg-cmd-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: output) }
        let command =
            (directory.map { "cd \($0.path) && " } ?? "") + ([executable] + arguments).joined(separator: " ")
            + " >\(output.path) 2>&1 </dev/null"
        let status = try await onThread { system(command) }
        guard status == 0 else {
            let text = (try? String(contentsOf: output, encoding: .utf8)) ?? ""
            throw SupervisorTestFailure("`\(command)` failed (status \(status)): \(text)")
        }
    }

    /// A TCP port on 127.0.0.1 nothing listens on now.
    private static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw SupervisorTestFailure("socket() failed") }
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
        guard bound else { throw SupervisorTestFailure("cannot bind a free port") }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}
