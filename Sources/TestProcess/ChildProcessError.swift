/// Why ``ChildProcess`` could not start a program, or why ``ChildProcess/run(_:_:environment:directory:input:standardError:timeout:)``
/// gave up on one.
public struct ChildProcessError: Error, CustomStringConvertible, Sendable {
    private enum Code: Sendable {
        case cannotStart
        case timedOut
    }

    private let code: Code
    public let description: String
    /// For a run stopped at its deadline: how it ended and what it had printed by then.
    public let outcome: ChildProcess.Outcome?

    /// Whether the run went past its deadline (and was stopped).
    public var isTimeout: Bool { code == .timedOut }

    static func cannotStart(_ description: String) -> Self {
        Self(code: .cannotStart, description: description, outcome: nil)
    }

    static func timedOut(_ command: String, after timeout: Duration, outcome: ChildProcess.Outcome) -> Self {
        Self(
            code: .timedOut,
            description: "\(command) did not finish within \(timeout) (stopped: \(outcome.status)); it printed:\n"
                + outcome.output + outcome.errorOutput,
            outcome: outcome)
    }
}
