#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// How a worker process ended, from `waitpid`'s status.
public enum WorkerExitStatus: Sendable, Hashable, CustomStringConvertible {
    /// It called `exit` with this code.
    case exited(code: Int32)
    /// A signal ended it (`SIGKILL` from the supervisor, `SIGSEGV` from a crash).
    case signaled(signal: Int32)

    /// Decodes a raw `waitpid` status (the `WIFEXITED` / `WTERMSIG` macros, which Swift cannot import).
    public init(waitStatus: Int32) {
        let signal = waitStatus & 0x7f
        if signal == 0 {
            self = .exited(code: (waitStatus >> 8) & 0xff)
        } else {
            self = .signaled(signal: signal)
        }
    }

    /// Whether the process exited with status 0.
    public var isCleanExit: Bool { self == .exited(code: 0) }

    /// `exit 0`, `signal 9 (SIGKILL)`: what the JSON log's `status` field says.
    public var description: String {
        switch self {
        case .exited(let code): "exit \(code)"
        case .signaled(let signal): "signal \(signal)\(Self.signalName(signal).map { " (\($0))" } ?? "")"
        }
    }

    private static func signalName(_ signal: Int32) -> String? {
        switch signal {
        case SIGKILL: "SIGKILL"
        case SIGTERM: "SIGTERM"
        case SIGQUIT: "SIGQUIT"
        case SIGINT: "SIGINT"
        case SIGSEGV: "SIGSEGV"
        case SIGABRT: "SIGABRT"
        case SIGILL: "SIGILL"
        case SIGTRAP: "SIGTRAP"
        case SIGBUS: "SIGBUS"
        default: nil
        }
    }
}
