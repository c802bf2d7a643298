import Synchronization

/// Bounds waits for a pooled connection with one ticking task instead of a timer per wait.
///
/// Every statement waits for a lease (``LeaseHandoff``), and that wait must end when the pool
/// cannot hand a connection over in time. A `Task.sleep` per wait cost a child task, a dispatch
/// timer and a wake of dispatch's timer thread for every statement: about 4 % of a worker's CPU
/// in an uncached layout read, where the lease itself takes microseconds. Here a wait is an
/// entry in a table; one task wakes every ``tick`` while there are entries and times out those
/// past their deadline, so a wait ends at most one tick after its deadline. The task stops when
/// the table is empty at a tick and starts again with the next wait.
final class LeaseDeadlines: Sendable {
    private struct State {
        var waits: [Int: (deadline: ContinuousClock.Instant, handoff: LeaseHandoff)] = [:]
        var nextID = 0
        var ticking = false
    }

    /// How late a wait may end after its deadline.
    let tick: Duration
    private let state = Mutex(State())

    /// - Parameter tick: how often expired waits are looked for (a wait ends within a tick of
    ///   its deadline).
    init(tick: Duration = .milliseconds(20)) {
        self.tick = tick
    }

    /// Times `handoff` out (``LeaseHandoff/timeOut()``) once `timeout` has passed, unless
    /// ``remove(_:)`` came first.
    /// - Returns: the wait's token for ``remove(_:)``.
    func add(_ handoff: LeaseHandoff, timeout: Duration) -> Int {
        let deadline = ContinuousClock.now + timeout
        let (id, start) = state.withLock { state -> (Int, Bool) in
            let id = state.nextID
            state.nextID &+= 1
            state.waits[id] = (deadline, handoff)
            defer { state.ticking = true }
            return (id, !state.ticking)
        }
        if start { Task { await self.tickUntilEmpty() } }
        return id
    }

    /// The wait is over (the connection arrived, or leasing failed).
    func remove(_ id: Int) {
        _ = state.withLock { $0.waits.removeValue(forKey: id) }
    }

    /// Waits being timed now (for tests).
    var count: Int { state.withLock { $0.waits.count } }

    private func tickUntilEmpty() async {
        while true {
            try? await Task.sleep(for: tick)
            let now = ContinuousClock.now
            let (expired, stop) = state.withLock { state -> ([LeaseHandoff], Bool) in
                var expired: [LeaseHandoff] = []
                for (id, wait) in state.waits where wait.deadline <= now {
                    expired.append(wait.handoff)
                    state.waits[id] = nil
                }
                if state.waits.isEmpty { state.ticking = false }
                return (expired, !state.ticking)
            }
            for handoff in expired { handoff.timeOut() }
            if stop { return }
        }
    }
}
