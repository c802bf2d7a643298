import Synchronization

/// A first-come, first-served lock held across suspension points.
///
/// The SQLite driver keeps one connection, and a transaction must own it from `BEGIN` to
/// `COMMIT` across many awaits, which neither an actor (re-entrant) nor a `Mutex` (blocking)
/// can express. Waiters are resumed in arrival order; a waiting task is not cancellable, which
/// is acceptable because every holder finishes one statement or one transaction.
final class AsyncSerialLock: Sendable {
    private struct State {
        var held = false
        var waiters: [CheckedContinuation<Void, Never>] = []
    }

    private let state = Mutex(State())

    /// Whether some task holds the lock now (for tests that wait until a statement is under way).
    var isHeld: Bool { state.withLock { $0.held } }

    /// Runs `body` while holding the lock.
    func withLock<T>(_ body: () async throws -> T) async rethrows -> T {
        await acquire()
        defer { release() }
        return try await body()
    }

    private func acquire() async {
        let acquired = state.withLock { state -> Bool in
            if state.held { return false }
            state.held = true
            return true
        }
        if acquired { return }
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let handedOver = state.withLock { state -> Bool in
                if state.held {
                    state.waiters.append(continuation)
                    return false
                }
                state.held = true
                return true
            }
            if handedOver { continuation.resume() }
        }
    }

    private func release() {
        let next = state.withLock { state -> CheckedContinuation<Void, Never>? in
            guard !state.waiters.isEmpty else {
                state.held = false
                return nil
            }
            return state.waiters.removeFirst()  // stays held: ownership passes to the next waiter
        }
        next?.resume()
    }
}
