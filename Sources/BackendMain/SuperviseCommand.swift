import ArgumentParser
import Backend
import Foundation
import Logging

/// `homerack-backend supervise`: runs the API as N worker processes, each on a listening socket
/// of its own that this process opens and keeps (``WorkerSupervisor``). Options override the
/// configuration's keys of the same meaning, for this process and its workers alike.
struct SuperviseCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "supervise",
        abstract: "Run the API as supervised worker processes (restart, recycle, reload, scale).",
        discussion: """
            Signals: TERM/INT stop gracefully (a second INT stops at once), QUIT stops at once, \
            HUP reloads the configuration and replaces the workers one by one, TTIN/TTOU add or \
            remove a worker. Worker events are logged as JSON lines on standard output.
            """)

    @Option(help: "Worker processes (WORKERS; default: the number of cores).")
    var workers: Int?

    @Option(help: "HOST:PORT (worker i listens on PORT+i) or unix:PATH (default: HOST, PORT or UNIX_SOCKET).")
    var bind: String?

    @Option(name: .customLong("max-requests"), help: "Requests before a worker is recycled (MAX_REQUESTS; 0: never).")
    var maxRequests: Int?

    @Option(name: .customLong("max-requests-jitter"), help: "Random extra requests per worker (MAX_REQUESTS_JITTER).")
    var maxRequestsJitter: Int?

    @Option(help: "Kill a worker silent this long, e.g. 120s (WORKER_TIMEOUT).")
    var timeout: String?

    @Option(name: .customLong("graceful-timeout"), help: "Time a stopping worker gets, e.g. 30s (GRACEFUL_TIMEOUT).")
    var gracefulTimeout: String?

    @Option(name: .customLong("worker-connections"), help: "Connections per worker (WORKER_CONNECTIONS).")
    var workerConnections: Int?

    @Option(name: .customLong("metrics-address"), help: "HOST:PORT for /metrics, or 'off' (METRICS_ADDRESS).")
    var metricsAddress: String?

    @Option(help: "A KEY=VALUE configuration file, read again on SIGHUP (default: the file HOMERACK_CONFIG names).")
    var config: String?

    func run() async throws {
        var environment = try overriddenEnvironment()
        let configuration = try BackendConfiguration.load(environment: environment, file: nil)
        BackendLogging.bootstrap(level: configuration.logLevel, format: configuration.logFormat)

        let inherited = try SocketActivation.sockets(environment: environment)
        for variable in SocketActivation.variables { environment.removeValue(forKey: variable) }
        let sockets: SlotSockets
        let shared = configuration.workers.sharedSocket
        var workerCount = configuration.workers.count
        if let inherited {
            sockets = SlotSockets(plan: .inherited(count: inherited.count), shared: shared, inherited: inherited)
            // One worker per socket, unless every worker shares the first: then WORKERS decides.
            if !shared { workerCount = inherited.count }
        } else {
            switch configuration.listen {
            case .tcp(let host, let port): sockets = SlotSockets(plan: .tcp(host: host, port: port), shared: shared)
            case .unixSocket(let path): sockets = SlotSockets(plan: .unix(path: path), shared: shared)
            }
        }

        let reloadEnvironment = environment
        let supervisor = WorkerSupervisor(
            configuration: .init(
                workers: workerCount, policy: Self.policy(configuration),
                metricsAddress: metricsAddress?.lowercased() == "off" ? nil : configuration.workers.metricsAddress),
            sockets: sockets,
            spawner: WorkerSpawner(executable: try Self.executablePath(), environment: environment),
            log: SupervisorEventLog(format: configuration.logFormat),
            logger: Logger(label: "backend.supervisor"),
            reload: {
                let reloaded = try BackendConfiguration.load(environment: reloadEnvironment, file: nil)
                return .init(
                    policy: Self.policy(reloaded),
                    workers: inherited.map { shared ? reloaded.workers.count : min($0.count, reloaded.workers.count) }
                        ?? reloaded.workers.count)
            })
        try await supervisor.run()
    }

    /// The process environment with the options written over the keys they stand for, so the
    /// configuration, every worker and every reload read the same values.
    private func overriddenEnvironment() throws -> [String: String] {
        var environment = ProcessInfo.processInfo.environment
        if let config { environment[BackendConfiguration.fileVariable] = config }
        if let workers { environment["WORKERS"] = String(workers) }
        if let maxRequests { environment["MAX_REQUESTS"] = String(maxRequests) }
        if let maxRequestsJitter { environment["MAX_REQUESTS_JITTER"] = String(maxRequestsJitter) }
        if let timeout { environment["WORKER_TIMEOUT"] = timeout }
        if let gracefulTimeout { environment["GRACEFUL_TIMEOUT"] = gracefulTimeout }
        if let workerConnections { environment["WORKER_CONNECTIONS"] = String(workerConnections) }
        if let metricsAddress, metricsAddress.lowercased() != "off" { environment["METRICS_ADDRESS"] = metricsAddress }
        if let bind {
            if bind.hasPrefix("unix:") {
                environment["UNIX_SOCKET"] = String(bind.dropFirst("unix:".count))
            } else {
                guard let colon = bind.lastIndex(of: ":") else {
                    throw ValidationError("--bind takes HOST:PORT or unix:PATH, got '\(bind)'")
                }
                var host = String(bind[..<colon])
                if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
                environment["HOST"] = host
                environment["PORT"] = String(bind[bind.index(after: colon)...])
                environment.removeValue(forKey: "UNIX_SOCKET")
            }
        }
        return environment
    }

    private static func policy(_ configuration: BackendConfiguration) -> SupervisionPolicy {
        SupervisionPolicy(
            workerTimeout: configuration.workers.timeout, gracefulTimeout: configuration.workers.gracefulTimeout)
    }

    /// This executable, which the workers run too.
    private static func executablePath() throws -> String {
        let path = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")
        // After a rebuild in place the old file is gone ("… (deleted)"); the path names the new one.
        if path.hasSuffix(" (deleted)") { return String(path.dropLast(" (deleted)".count)) }
        return path
    }
}
