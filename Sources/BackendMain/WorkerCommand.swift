import ArgumentParser
import Backend
import Foundation
import Logging

/// `homerack-backend worker`: serves the API on a listening socket it inherited. The supervisor
/// starts these (`--fd 3 --supervisor-fd 4 --slot N`); one can also run alone on a socket a
/// service manager passes (`LISTEN_FDS`) or any descriptor given with `--fd`.
struct WorkerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "worker",
        abstract: "Serve the API on an inherited listening socket (the supervisor starts these).")

    @Option(help: "The listening socket's descriptor (default: HOMERACK_LISTEN_FD, else systemd's LISTEN_FDS).")
    var fd: Int32?

    @Option(name: .customLong("supervisor-fd"), help: "The pipe to the supervisor (heartbeats, metrics).")
    var supervisorFD: Int32?

    @Option(help: "The supervisor's slot number for this worker.")
    var slot: Int?

    @Option(help: "A KEY=VALUE configuration file (default: the file HOMERACK_CONFIG names).")
    var config: String?

    func run() async throws {
        try await Self.run(fd: fd, supervisorFD: supervisorFD, slot: slot, config: config)
    }

    /// Serves as `worker` with these options until drained.
    static func run(fd: Int32?, supervisorFD: Int32?, slot: Int?, config: String?) async throws {
        let environment = ProcessInfo.processInfo.environment
        let configuration = try BackendConfiguration.load(environment: environment, file: config)
        BackendLogging.bootstrap(level: configuration.logLevel, format: configuration.logFormat)
        let options = BackendWorker.Options(
            listeningDescriptor: try listeningDescriptor(fd, environment), supervisorDescriptor: supervisorFD,
            slot: slot, environment: environment)
        var random = SystemRandomNumberGenerator()
        try await BackendWorker.run(
            configuration: configuration, options: options, logger: Logger(label: "backend.worker"), random: &random)
    }

    /// The line the supervisor starts each worker with (`WorkerSpawner`):
    /// `worker --fd N --supervisor-fd N --slot N`, exactly, with numbers; anything else is `nil`
    /// and left to ArgumentParser (``HomeRackBackend/main()``).
    struct SpawnLine: Equatable {
        let fd: Int32
        let supervisorFD: Int32
        let slot: Int

        init?(_ arguments: some Collection<String>) {
            let words = Array(arguments)
            guard words.count == 7, words[0] == "worker", words[1] == "--fd", words[3] == "--supervisor-fd",
                words[5] == "--slot", let fd = Int32(words[2]), let supervisorFD = Int32(words[4]),
                let slot = Int(words[6])
            else { return nil }
            (self.fd, self.supervisorFD, self.slot) = (fd, supervisorFD, slot)
        }
    }

    private static func listeningDescriptor(_ fd: Int32?, _ environment: [String: String]) throws -> Int32 {
        if let fd { return fd }
        if let text = environment["HOMERACK_LISTEN_FD"] {
            guard let descriptor = Int32(text), descriptor >= 0 else {
                throw ValidationError("HOMERACK_LISTEN_FD must be a descriptor number, got '\(text)'")
            }
            return descriptor
        }
        if let count = environment["LISTEN_FDS"].flatMap(Int.init), count >= 1,
            environment["LISTEN_PID"].flatMap(Int32.init) == getpid()
        {
            return SocketActivation.firstDescriptor
        }
        throw ValidationError(
            "no listening socket: pass --fd, set HOMERACK_LISTEN_FD, or run under `homerack-backend supervise`")
    }
}
