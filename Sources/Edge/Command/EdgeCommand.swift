#if canImport(Glibc)
import Glibc
#endif
import Dispatch
import Foundation

/// `homerack-edge`: parses the command line, checks or runs a configuration, and turns signals
/// into reloads and shutdowns.
public enum EdgeCommand {
    static let usage = """
        usage: homerack-edge --config FILE [--check]

          --config FILE   the configuration (YAML; see docs/CONFIG.md)
          --check         validate FILE and exit: 0 when valid, 1 with the errors (like nginx -t)
          --help          this text

        signals: SIGHUP reloads FILE (an invalid file keeps the old configuration serving),
                 SIGTERM / SIGINT stop accepting and drain open requests (timeouts.shutdown_grace)
        """

    /// Signals the edge handles, ignored by default from the first instruction on, so that a
    /// `SIGHUP` during start-up can never kill the process; their handlers are attached later.
    static let handledSignals: [Int32] = [SIGHUP, SIGTERM, SIGINT]

    /// Call first thing in `main`.
    public static func ignoreSignalsUntilReady() {
        for signalNumber in handledSignals { signal(signalNumber, SIG_IGN) }
        signal(SIGPIPE, SIG_IGN)
    }

    /// Runs the command.
    /// - Returns: the process exit status.
    public static func run(arguments: [String], environment: [String: String]) async -> Int32 {
        var configPath: String?
        var check = false
        var remaining = arguments.dropFirst()[...]
        while let argument = remaining.popFirst() {
            switch argument {
            case "--config", "-c":
                guard let value = remaining.popFirst() else { return fail("--config needs a file name") }
                configPath = value
            case "--check", "-t":
                check = true
            case "--help", "-h":
                print(usage)
                return 0
            default:
                return fail("unknown argument '\(argument)'")
            }
        }
        guard let configPath else { return fail("--config FILE is required") }

        let config: EdgeConfig
        do {
            config = try ConfigLoader.load(path: configPath, environment: environment)
        } catch {
            FileHandle.standardError.write(Data("\(error)\nconfiguration \(configPath) is invalid\n".utf8))
            return 1
        }
        if check {
            do {
                // Load what start-up and reload load (upstream host names, zones, every certificate
                // and key with their match), without binding: a deploy hook can trust this answer.
                _ = try EdgeRuntime(config: config, generation: 0, zones: ZoneRegistry(hashSeed: 0, shardCount: 1))
                for listener in config.listeners {
                    if let tls = listener.tls { try CoreListener.checkTLS(tls, listener: listener.name) }
                }
            } catch {
                FileHandle.standardError.write(Data("\(configPath): \(error)\nconfiguration \(configPath) is invalid\n".utf8))
                return 1
            }
            print("configuration \(configPath) is valid")
            return 0
        }

        let server: EdgeServer
        do {
            server = try await EdgeServer.start(config: config)
        } catch {
            FileHandle.standardError.write(Data("homerack-edge: \(error)\n".utf8))
            return 1
        }
        let signals = SignalStream(handledSignals)
        for await signalNumber in signals.stream {
            switch signalNumber {
            case SIGHUP:
                server.log(.info, "SIGHUP: reloading configuration", [("config", configPath)])
                do {
                    try server.reload {
                        try ConfigLoader.load(path: configPath, environment: ProcessInfo.processInfo.environment)
                    }
                } catch {
                    server.log(.error, "reload refused; the previous configuration keeps serving", [("error", "\(error)")])
                }
            default:
                await server.shutdown()
                return 0
            }
        }
        return 0
    }

    private static func fail(_ message: String) -> Int32 {
        FileHandle.standardError.write(Data("homerack-edge: \(message)\n\n\(usage)\n".utf8))
        return 2
    }
}

/// Signals as an async sequence, through Dispatch sources (the signals stay ignored for the
/// default action, so nothing but this stream reacts to them).
final class SignalStream {
    let stream: AsyncStream<Int32>
    private let sources: [any DispatchSourceSignal]

    init(_ signals: [Int32]) {
        let (stream, continuation) = AsyncStream<Int32>.makeStream()
        self.stream = stream
        let queue = DispatchQueue(label: "edge-signals")
        sources = signals.map { signalNumber in
            signal(signalNumber, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: queue)
            source.setEventHandler { continuation.yield(signalNumber) }
            source.resume()
            return source
        }
    }
}
