import Logging
import PostgresNIO
import Synchronization

/// Grows a PostgresNIO pool that started with one connection to `DB_POOL_MIN`, one connection at a
/// time, after the worker is ready, and keeps it there.
///
/// PostgresNIO opens a pool's whole minimum at once when the pool starts, and the minimum cannot
/// change afterwards. A worker started with a minimum of 20 (a recycled one, every few seconds
/// under load) set up 20 sessions at the same moment: 20 server processes forked and 20
/// password exchanges, competing with the other workers' requests for the same cores, and its
/// own first requests waited behind them. So ``PostgresDatabase`` starts its pool with a minimum of
/// one (enough for start-up: reachability, migrations, the first requests), and this grows it.
///
/// A round leases connections one after another and holds each until the round ends: while it
/// holds them none is idle, so each further lease makes the pool open one more connection, the
/// next one only once the previous one is up. The round ends when it holds `target`
/// connections, or a lease takes longer than `leaseTimeout` (the database is down, or the pool is
/// at its maximum under load: demand is keeping connections open then), and returns them all.
/// It also ends as soon as requests are using the pool (`isBusy`): a busy worker's requests open
/// the connections they need themselves, and a worker recycled every few seconds would otherwise
/// spend its short life opening connections it never uses; the next round then comes after
/// `retryDelay`. Complete rounds repeat every `period`, shorter than the pool's idle timeout, so
/// the connections opened beyond the pool's own minimum are used often enough never to be closed
/// as idle, and broken ones are replaced.
struct PoolFiller: Sendable {
    /// The connections to keep open (`DB_POOL_MIN`).
    let target: Int
    /// The time between rounds; less than the pool's idle timeout.
    let period: Duration
    /// The longest wait for one lease before the round gives up.
    let leaseTimeout: Duration
    /// The wait before another round after one that ended early.
    var retryDelay: Duration = .seconds(1)
    /// The wait before the first round, from when the worker is ready.
    ///
    /// Each connection the filler opens costs a server process forked, a session set up and, when
    /// the worker exits, torn down again, on the cores the workers share with the server. A worker
    /// recycled after 1,000 requests lives half a second under load; filling its pool at once made
    /// it open and close 19 connections it never used, several times a second (PostgreSQL's CPU
    /// during a run of worker starts exceeded the workers' own). Requests open what they need in
    /// the meantime; a worker that lives longer gets its minimum a moment later.
    var startDelay: Duration = .seconds(2)

    /// Rounds until the task is cancelled (the pool's generation ended), the first after
    /// `startDelay`.
    /// - Parameters:
    ///   - client: the pool to fill.
    ///   - logger: where each round's outcome goes (debug).
    ///   - isBusy: whether requests are using the pool now.
    func run(_ client: PostgresClient, logger: Logger, isBusy: @Sendable () -> Bool) async {
        do {
            try await Task.sleep(for: startDelay)
        } catch {
            return
        }
        while !Task.isCancelled {
            let held = await round(client, isBusy: isBusy)
            logger.debug(
                "PostgreSQL pool filled", metadata: ["backend.db.held": "\(held)", "backend.db.target": "\(target)"])
            do {
                try await Task.sleep(for: held >= target ? period : retryDelay)
            } catch {
                return
            }
        }
    }

    /// Leases up to `target` connections one after another, holding them, then returns them all;
    /// stops early when a lease is slow or fails, or requests are using the pool.
    /// - Returns: how many it held at once.
    func round(_ client: PostgresClient, isBusy: @Sendable () -> Bool = { false }) async -> Int {
        let gate = ReleaseGate()
        // Each event: the lease's index, and whether it holds a connection (false: it failed, or
        // its timer fired first).
        let (events, event) = AsyncStream<(index: Int, leased: Bool)>.makeStream()
        return await withTaskGroup(of: Void.self) { group in
            var held = 0
            var iterator = events.makeAsyncIterator()
            leasing: while held < target, !Task.isCancelled, !isBusy() {
                let index = held
                group.addTask {
                    do {
                        try await client.withConnection { _ in
                            event.yield((index, true))
                            await gate.wait()
                        }
                    } catch {
                        event.yield((index, false))
                    }
                }
                group.addTask {
                    try? await Task.sleep(for: leaseTimeout)
                    event.yield((index, false))
                }
                // The first event of this lease decides; a late one of an earlier lease is stale.
                while let next = await iterator.next() {
                    guard next.index == index else { continue }
                    guard next.leased else { break leasing }
                    held += 1
                    break
                }
            }
            gate.open()
            // Ends the timers, and a lease still waiting for a connection.
            group.cancelAll()
            await group.waitForAll()
            event.finish()
            return held
        }
    }
}

/// A one-way gate: tasks wait until it opens, then pass at once.
private final class ReleaseGate: Sendable {
    private let state = Mutex<(open: Bool, waiters: [CheckedContinuation<Void, Never>])>((false, []))

    func wait() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let passes = state.withLock { state -> Bool in
                if state.open { return true }
                state.waiters.append(continuation)
                return false
            }
            if passes { continuation.resume() }
        }
    }

    func open() {
        let waiters = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.open = true
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters { waiter.resume() }
    }
}
