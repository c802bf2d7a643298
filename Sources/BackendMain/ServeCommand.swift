import ArgumentParser
import Backend
import Foundation
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import ServiceLifecycle

/// `homerack-backend serve`: the whole API in this one process (no supervisor), for development,
/// small installs and containers that scale by replicas.
///
/// Starts the runtime (database, migrations, cache), then the HTTP server, and prints the URL it
/// listens on to standard output once it does (`homerack-backend listening on
/// http://127.0.0.1:8000`; tests started on port 0 read the port from there). `SIGTERM` or
/// `SIGINT` stops accepting connections, lets open requests finish for up to
/// `GRACEFUL_TIMEOUT`, then closes the cache and the database.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve the API in this process.",
        discussion: "Settings come from the environment and the configuration file (docs/CONFIG.md).")

    @OptionGroup var options: ConfigurationOptions

    @Option(help: "Listen on this address instead of HOST.")
    var host: String?

    @Option(help: "Listen on this port instead of PORT (0: any free port).")
    var port: Int?

    @Option(name: .customLong("unix-socket"), help: "Listen on this Unix socket instead of HOST and PORT.")
    var unixSocket: String?

    func validate() throws {
        if unixSocket != nil, host != nil || port != nil {
            throw ValidationError("--unix-socket cannot be combined with --host or --port")
        }
        if let port, !(0...65535).contains(port) {
            throw ValidationError("--port must be from 0 to 65535")
        }
    }

    func run() async throws {
        var configuration = try options.load()
        configuration.listen = listenAddress(overriding: configuration.listen)
        BackendLogging.bootstrap(level: configuration.logLevel, format: configuration.logFormat)
        let logger = Logger(label: "backend")

        let runtime = try await BackendRuntime.start(configuration, logger: logger)
        let listen = configuration.listen
        let app = Application(
            router: runtime.makeRouter(),
            configuration: ApplicationConfiguration(
                address: Self.bindAddress(configuration.listen),
                availableConnectionsDelegate: MaximumAvailableConnections(configuration.workers.connections)),
            onServerRunning: { channel in
                let url = Self.url(of: channel.localAddress, listening: listen)
                // One write, unbuffered: whoever started the process may be waiting for this line.
                FileHandle.standardOutput.write(Data("homerack-backend listening on \(url)\n".utf8))
                logger.info("listening", metadata: ["backend.http.url": "\(url)"])
            },
            logger: Logger(label: "backend.http"))

        var group = ServiceGroupConfiguration(
            services: [runtime, app], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        group.maximumGracefulShutdownDuration = configuration.workers.gracefulTimeout
        try await ServiceGroup(configuration: group).run()
    }

    /// The configured address with the command line's options applied.
    private func listenAddress(overriding configured: BackendConfiguration.ListenAddress)
        -> BackendConfiguration.ListenAddress
    {
        if let unixSocket { return .unixSocket(path: unixSocket) }
        guard host != nil || port != nil else { return configured }
        var configuredHost = "127.0.0.1"
        var configuredPort = 8000
        if case .tcp(let host, let port) = configured { (configuredHost, configuredPort) = (host, port) }
        return .tcp(host: host ?? configuredHost, port: port ?? configuredPort)
    }

    static func bindAddress(_ address: BackendConfiguration.ListenAddress) -> BindAddress {
        switch address {
        case .tcp(let host, let port): .hostname(host, port: port)
        case .unixSocket(let path): .unixDomainSocket(path: path)
        }
    }

    /// `http://HOST:PORT` with the port actually bound (port 0 picks one), or `unix:PATH`.
    static func url(of address: SocketAddress?, listening configured: BackendConfiguration.ListenAddress) -> String {
        if case .unixSocket(let path) = configured { return "unix:\(path)" }
        guard let address, let ip = address.ipAddress, let port = address.port else {
            return "http://\(configured)"
        }
        if case .v6 = address { return "http://[\(ip)]:\(port)" }
        return "http://\(ip):\(port)"
    }
}

/// `--config FILE`, shared by every command that reads the configuration.
struct ConfigurationOptions: ParsableArguments {
    @Option(
        help: ArgumentHelp(
            "A KEY=VALUE configuration file (default: $HOMERACK_CONFIG). Environment variables win over it.",
            valueName: "file"))
    var config: String?

    /// The configuration from the environment and the file.
    /// - Throws: `ExitCode.failure` after printing every problem, one per line, to standard error.
    func load(overriding overrides: [String: String] = [:]) throws -> BackendConfiguration {
        let environment = ProcessInfo.processInfo.environment.merging(overrides) { _, override in override }
        do {
            return try BackendConfiguration.load(environment: environment, file: config)
        } catch let error as BackendConfigurationError {
            FileHandle.standardError.write(Data("\(error.description)\nconfiguration is invalid\n".utf8))
            throw ExitCode.failure
        }
    }
}

/// A command that cannot do what was asked, for a reason that is not a usage mistake: printed as
/// `Error: <message>` without the usage text, exit status 1.
struct CommandFailure: Error, CustomStringConvertible {
    let description: String

    init(_ message: String) {
        description = message
    }
}
