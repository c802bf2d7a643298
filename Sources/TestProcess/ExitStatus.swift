/// How a child process ended.
public enum ExitStatus: Equatable, Hashable, Sendable, CustomStringConvertible {
    /// It called `exit` (or returned from `main`) with this code.
    case exited(Int32)
    /// A signal ended it (`SIGKILL` is 9).
    case signalled(Int32)
    /// Something else in this process reaped it first (a `waitpid(-1, …)` elsewhere), so its
    /// status is lost.
    case unknown

    /// Decodes `waitpid`'s status word (Swift does not import the `WIFEXITED` macros).
    init(waitStatus status: Int32) {
        // WIFEXITED: the low 7 bits are 0, and the code is the next byte; else WTERMSIG is those 7 bits.
        if status & 0x7f == 0 {
            self = .exited((status >> 8) & 0xff)
        } else {
            self = .signalled(status & 0x7f)
        }
    }

    /// The shell's number for it: the exit code, or 128 + the signal; -1 when ``unknown``.
    public var code: Int32 {
        switch self {
        case .exited(let code): code
        case .signalled(let signal): 128 + signal
        case .unknown: -1
        }
    }

    public var description: String {
        switch self {
        case .exited(let code): "exit \(code)"
        case .signalled(let signal): "signal \(signal)"
        case .unknown: "reaped elsewhere (status unknown)"
        }
    }
}
