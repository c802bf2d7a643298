import PostgresNIO
import Synchronization

/// Passes a leased connection from the task holding the pool's lease to the task that uses
/// it, racing a timeout; see `PostgresDatabase.withConnection(timeout:_:)`.
///
/// Events: `deliver` (the lease arrived), `fail` (leasing threw), `timeOut` (the timer fired),
/// `connection()` (the user waits), `giveBack` (the user is done), `waitUntilReturned` (the
/// lease holder waits for that). The first of deliver/fail/timeOut decides the outcome.
final class LeaseHandoff: Sendable {
    private enum State {
        /// Nothing decided yet; the user may be waiting.
        /// Can transition to: delivered, failed.
        case waiting(CheckedContinuation<PostgresConnection, any Error>?)
        /// The lease arrived. Can transition to: returned.
        case delivered(PostgresConnection, holder: CheckedContinuation<Void, Never>?)
        /// Leasing failed or timed out (terminal).
        case failed(any Error)
        /// The user is done with the connection (terminal).
        case returned
    }

    private let state = Mutex(State.waiting(nil))

    /// The lease arrived.
    /// - Returns: `false` when the outcome was already decided (timed out): release it unused.
    func deliver(_ connection: PostgresConnection) -> Bool {
        let (accepted, waiter) = state.withLock {
            state -> (Bool, CheckedContinuation<PostgresConnection, any Error>?) in
            guard case .waiting(let waiter) = state else { return (false, nil) }
            state = .delivered(connection, holder: nil)
            return (true, waiter)
        }
        waiter?.resume(returning: connection)
        return accepted
    }

    /// Leasing threw before a connection arrived.
    func fail(_ error: any Error) { decideFailure(error) }

    /// The timer fired; a no-op when the connection already arrived.
    func timeOut() { decideFailure(LeaseTimedOut()) }

    private func decideFailure(_ error: any Error) {
        let waiter = state.withLock { state -> CheckedContinuation<PostgresConnection, any Error>? in
            guard case .waiting(let waiter) = state else { return nil }
            state = .failed(error)
            return waiter
        }
        waiter?.resume(throwing: error)
    }

    /// Waits for the connection.
    /// - Throws: the leasing error, or ``LeaseTimedOut``.
    func connection() async throws -> PostgresConnection {
        try await withCheckedThrowingContinuation { continuation in
            let outcome = state.withLock { state -> Result<PostgresConnection, any Error>? in
                switch state {
                case .waiting:
                    state = .waiting(continuation)
                    return nil
                case .delivered(let connection, _):
                    return .success(connection)
                case .failed(let error):
                    return .failure(error)
                case .returned:
                    preconditionFailure("connection() after giveBack()")
                }
            }
            if let outcome { continuation.resume(with: outcome) }
        }
    }

    /// The user is done; lets the lease holder release the connection.
    func giveBack() {
        let holder = state.withLock { state -> CheckedContinuation<Void, Never>? in
            guard case .delivered(_, let holder) = state else { return nil }
            state = .returned
            return holder
        }
        holder?.resume()
    }

    /// The lease holder waits here until ``giveBack()``.
    func waitUntilReturned() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let done = state.withLock { state -> Bool in
                switch state {
                case .delivered(let connection, nil):
                    state = .delivered(connection, holder: continuation)
                    return false
                case .returned, .failed, .waiting, .delivered:
                    return true
                }
            }
            if done { continuation.resume() }
        }
    }
}
