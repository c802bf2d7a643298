/// One worker slot: a listening socket the supervisor keeps open for the slot's whole life, and
/// the worker processes that serve it one after another. Pure: it never reads a clock (every
/// event takes `now`) and never touches a process (it returns what to do).
///
/// A slot has at most one *serving* worker (starting or running), while it is being replaced
/// (a reload, or a worker that spent its request budget) also the worker it replaces (still
/// serving until the new one is ready), and any number of *retiring* workers: draining
/// (recycled, replaced, shutting down) or killed, until their exit is reaped. Because every one
/// of them shares the slot's socket, a worker being replaced never leaves the address refusing
/// connections: the kernel queues them until some worker accepts.
///
/// Recycling overlaps, as a reload does: a worker that spent its request budget keeps serving,
/// its replacement is spawned, and only once the replacement is ready is the old worker told to
/// drain (`SIGTERM`), so the slot never serves with one worker fewer while a new one starts (a
/// start took about 100 ms on a loaded machine, the whole of the recycling tail). At most one
/// extra worker per slot: a replacement that exits, fails to spawn, or stays silent past the
/// worker timeout is given up (killed if alive), the old worker keeps serving, and the
/// replacement is tried again after the restart backoff.
///
/// Workers follow gunicorn: a worker that dies is restarted, at once the first time and with a
/// doubling delay while it keeps dying (reset after a healthy run); one silent for longer than
/// the worker timeout is killed and replaced; one draining longer than the graceful timeout is
/// killed.
public struct WorkerSlotStateMachine<Instant: InstantProtocol>: Sendable
where Instant: Sendable, Instant.Duration == Duration {
    /// What the owner does: spawn, signal, log, or learn that a reload or a stop finished.
    public enum Action: Sendable, Hashable {
        /// Start a worker process on the slot's socket; answer with ``spawned(pid:now:)`` or
        /// ``spawnFailed(error:now:)`` before any other event.
        case spawn
        /// Send `signal` to process `pid`.
        case signal(pid: Int32, WorkerSignal)
        case log(SupervisorEvent)
        /// The reload of this slot (``replace(now:)``) is over: replaced, or kept after a failure.
        case replaced
        /// The slot was stopped and every one of its processes has exited.
        case stopped
    }

    /// A worker process as the supervisor knows it.
    struct Worker: Sendable, Hashable {
        let pid: Int32
        let startedAt: Instant
        /// The last time anything came from it (ready, heartbeat, metrics).
        var lastHeard: Instant
        var readyAt: Instant?
        /// It spent its request budget: its replacement is due at this time (at once, or after
        /// the restart backoff when a replacement failed). `nil` while it has budget left.
        var recycleAt: Instant?
    }

    /// A worker that no longer serves the slot and is waiting to be reaped.
    struct RetiringWorker: Sendable, Hashable {
        var worker: Worker
        var reason: WorkerExitReason
        /// `SIGKILL` follows at this time if it is still alive (`nil` once killed).
        var killAt: Instant?
        var terminated: Bool
        var killed: Bool
    }

    enum State: Sendable, Hashable {
        /// Not started yet. Can transition to: `.spawning` (``start(now:)``).
        case initial
        /// No worker serves the slot; the next one is spawned at `restartAt` (backoff).
        /// Can transition to: `.spawning` (a tick at or after `restartAt`), `.stopping`.
        case waiting(restartAt: Instant)
        /// A spawn was asked of the owner. `replacing` is the worker a reload or a recycle
        /// replaces, which keeps serving meanwhile.
        /// Can transition to: `.starting` (spawned), `.running` (a reload's spawn failed),
        /// `.waiting`/`.spawning` (a spawn failed), `.stopping`.
        case spawning(replacing: Worker?)
        /// A worker was spawned and has not reported ready yet.
        /// Can transition to: `.running` (ready; or a reload's new worker failed), `.spawning`,
        /// `.waiting`, `.stopping`.
        case starting(Worker, replacing: Worker?)
        /// Can transition to: `.spawning` (recycle or reload, the worker still serving; crash),
        /// `.waiting` (crash with backoff), `.stopping`.
        case running(Worker)
        /// No new workers; the retiring ones drain or are killed. Can transition to: `.stopped`.
        case stopping
        /// Every process has exited. Final.
        case stopped
    }

    public let slot: Int
    public private(set) var policy: SupervisionPolicy
    private(set) var state: State = .initial
    private(set) var retiring: [RetiringWorker] = []
    /// Consecutive failures (crashes, hangs, failed boots) since the last healthy run.
    private(set) var failures = 0
    /// Whether a ``replace(now:)`` is under way and owes a ``Action/replaced``.
    private var replacing = false
    /// The reload came while a worker was starting (a recycle's replacement, a restart): that
    /// worker read its configuration before the reload, so it is replaced in turn once ready.
    private var replaceOnceReady = false
    /// Why the slot is stopping (``WorkerExitReason/shutdown`` or ``WorkerExitReason/removed``).
    private var stopReason: WorkerExitReason = .shutdown
    /// Whether the stop lets workers drain (`SIGTERM`) or kills them.
    private var stopGracefully = true

    public init(slot: Int, policy: SupervisionPolicy) {
        self.slot = slot
        self.policy = policy
    }

    /// Whether every process of a stopped slot has exited.
    public var isStopped: Bool { state == .stopped }

    /// Whether the slot is stopping or stopped (it starts no more workers).
    public var isStopping: Bool {
        switch state {
        case .stopping, .stopped: true
        case .initial, .waiting, .spawning, .starting, .running: false
        }
    }

    /// The pid of the worker serving the slot now, if one is ready.
    public var runningPID: Int32? {
        if case .running(let worker) = state { return worker.pid }
        return nil
    }

    /// Every live process of the slot (serving, being replaced, retiring).
    public var pids: [Int32] {
        var pids: [Int32] = []
        switch state {
        case .starting(let worker, let replaced):
            pids.append(worker.pid)
            if let replaced { pids.append(replaced.pid) }
        case .spawning(let replaced):
            if let replaced { pids.append(replaced.pid) }
        case .running(let worker):
            pids.append(worker.pid)
        case .initial, .waiting, .stopping, .stopped:
            break
        }
        return pids + retiring.map(\.worker.pid)
    }

    /// Takes a new policy (a reload); it applies to deadlines set from now on.
    public mutating func policyChanged(_ policy: SupervisionPolicy) {
        self.policy = policy
    }

    // MARK: Events

    /// The slot's socket is open: start its first worker.
    public mutating func start(now: Instant) -> [Action] {
        guard case .initial = state else { preconditionFailure("slot \(slot) started twice") }
        state = .spawning(replacing: nil)
        return [.spawn]
    }

    /// The owner spawned the worker a ``Action/spawn`` asked for.
    public mutating func spawned(pid: Int32, now: Instant) -> [Action] {
        let worker = Worker(pid: pid, startedAt: now, lastHeard: now)
        switch state {
        case .spawning(let replaced):
            state = .starting(worker, replacing: replaced)
            return [.log(.workerStarted(slot: slot, pid: pid))]
        case .stopping:
            // Stopped while the spawn was under way: the new worker leaves at once.
            let started = Action.log(.workerStarted(slot: slot, pid: pid))
            if stopGracefully {
                retiring.append(
                    RetiringWorker(worker: worker, reason: stopReason, killAt: nil, terminated: false, killed: false))
                return [started] + terminate(pid, now: now)
            }
            return [started] + retire(worker, reason: stopReason, kill: true, now: now)
        case .initial, .waiting, .starting, .running, .stopped:
            preconditionFailure("slot \(slot): spawned without a spawn in \(state)")
        }
    }

    /// The ``Action/spawn`` failed: no process was created.
    public mutating func spawnFailed(error: String, now: Instant) -> [Action] {
        let log = Action.log(.spawnFailed(slot: slot, error: error))
        switch state {
        case .spawning(let replaced?):
            return [log] + replacementFailed(keeping: replaced, now: now)
        case .spawning(nil):
            failures += 1
            return [log] + scheduleRestart(now: now)
        case .stopping:
            return [log] + stopIfIdle()
        case .initial, .waiting, .starting, .running, .stopped:
            preconditionFailure("slot \(slot): spawn failure without a spawn in \(state)")
        }
    }

    /// Worker `pid` reported that it accepts connections.
    public mutating func ready(pid: Int32, now: Instant) -> [Action] {
        guard case .starting(var worker, let replaced) = state, worker.pid == pid else {
            heard(pid: pid, now: now)
            return []
        }
        worker.readyAt = now
        worker.lastHeard = now
        state = .running(worker)
        var actions: [Action] = [.log(.workerReady(slot: slot, pid: pid))]
        if let replaced {
            let reason: WorkerExitReason = replaced.recycleAt == nil ? .replaced : .recycled
            actions += retire(replaced, reason: reason, signal: true, now: now)
        }
        if replaceOnceReady {
            // The reload's own replacement; its readiness (or failure) ends the reload here.
            replaceOnceReady = false
            state = .spawning(replacing: worker)
            return actions + [.spawn]
        }
        if worker.recycleAt != nil {
            // It spent its budget before its ready was read: its own replacement starts now.
            state = .spawning(replacing: worker)
            actions.append(.spawn)
        }
        return actions + finishReplacement()
    }

    /// Something (a heartbeat, a metrics snapshot) came from worker `pid`: it is alive.
    public mutating func heard(pid: Int32, now: Instant) {
        switch state {
        case .starting(var worker, var replaced):
            if worker.pid == pid { worker.lastHeard = now }
            if replaced?.pid == pid { replaced?.lastHeard = now }
            state = .starting(worker, replacing: replaced)
        case .running(var worker) where worker.pid == pid:
            worker.lastHeard = now
            state = .running(worker)
        case .spawning(var replaced?) where replaced.pid == pid:
            replaced.lastHeard = now
            state = .spawning(replacing: replaced)
        case .initial, .waiting, .spawning, .running, .stopping, .stopped:
            break
        }
        if let index = retiring.firstIndex(where: { $0.worker.pid == pid }) {
            retiring[index].worker.lastHeard = now
        }
    }

    /// Worker `pid` served its request budget. It keeps serving while its replacement starts on
    /// the same socket; once the replacement is ready it is told to drain (``ready(pid:now:)``).
    public mutating func recycling(pid: Int32, requests: Int, now: Instant) -> [Action] {
        heard(pid: pid, now: now)
        let log = Action.log(.workerRecycling(slot: slot, pid: pid, requests: requests))
        switch state {
        case .running(var worker) where worker.pid == pid:
            worker.recycleAt = now
            state = .spawning(replacing: worker)
            return [log, .spawn]
        case .starting(var worker, let replaced) where worker.pid == pid:
            // Recycled before its ready was read: replaced once it is ready.
            worker.recycleAt = now
            state = .starting(worker, replacing: replaced)
            return [log]
        case .starting(let worker, var replaced?) where replaced.pid == pid:
            // Being replaced already (a reload, a recycle): it drains when the new one is ready.
            replaced.recycleAt = replaced.recycleAt ?? now
            state = .starting(worker, replacing: replaced)
            return [log]
        case .spawning(var replaced?) where replaced.pid == pid:
            replaced.recycleAt = replaced.recycleAt ?? now
            state = .spawning(replacing: replaced)
            return [log]
        case .initial, .waiting, .spawning, .starting, .running, .stopping, .stopped:
            // Already retiring (told to stop, then ran out of requests too): nothing changes.
            return []
        }
    }

    /// Worker `pid` exited (its status was reaped).
    public mutating func exited(pid: Int32, status: WorkerExitStatus, now: Instant) -> [Action] {
        if let index = retiring.firstIndex(where: { $0.worker.pid == pid }) {
            let gone = retiring.remove(at: index)
            return [.log(.workerExited(slot: slot, pid: pid, status: status, reason: gone.reason))] + stopIfIdle()
        }
        switch state {
        case .running(let worker) where worker.pid == pid:
            let log = Action.log(.workerExited(slot: slot, pid: pid, status: status, reason: .crashed))
            return [log] + failed(worker, now: now)
        case .starting(let worker, let replaced) where worker.pid == pid:
            let log = Action.log(.workerExited(slot: slot, pid: pid, status: status, reason: .bootFailed))
            if let replaced {
                let failed = Action.log(.replacementFailed(slot: slot, pid: pid))
                return [log, failed] + replacementFailed(keeping: replaced, now: now)
            }
            return [log] + failed(worker, now: now)
        case .starting(let worker, let replaced?) where replaced.pid == pid:
            state = .starting(worker, replacing: nil)
            return [.log(.workerExited(slot: slot, pid: pid, status: status, reason: .crashed))]
        case .spawning(let replaced?) where replaced.pid == pid:
            state = .spawning(replacing: nil)
            return [.log(.workerExited(slot: slot, pid: pid, status: status, reason: .crashed))]
        case .initial, .waiting, .spawning, .starting, .running, .stopping, .stopped:
            return []
        }
    }

    /// Time passed: restart after a backoff, kill silent workers and overdue drains.
    public mutating func tick(now: Instant) -> [Action] {
        var actions: [Action] = []
        switch state {
        case .waiting(let restartAt) where now >= restartAt:
            state = .spawning(replacing: nil)
            actions.append(.spawn)
        case .running(let worker) where isSilent(worker, now: now):
            actions += retire(worker, reason: .timeout, kill: true, now: now)
            actions += failed(worker, now: now)
        case .running(let worker) where worker.recycleAt.map { now >= $0 } ?? false:
            // A recycle whose replacement failed earlier: try again.
            state = .spawning(replacing: worker)
            actions.append(.spawn)
        case .starting(let worker, let replaced) where isSilent(worker, now: now):
            actions += retire(worker, reason: .timeout, kill: true, now: now)
            if let replaced {
                actions.append(.log(.replacementFailed(slot: slot, pid: worker.pid)))
                actions += replacementFailed(keeping: replaced, now: now)
            } else {
                actions += failed(worker, now: now)
            }
        case .starting(let worker, let replaced?) where isSilent(replaced, now: now):
            state = .starting(worker, replacing: nil)
            actions += retire(replaced, reason: .timeout, kill: true, now: now)
        case .spawning(let replaced?) where isSilent(replaced, now: now):
            state = .spawning(replacing: nil)
            actions += retire(replaced, reason: .timeout, kill: true, now: now)
        case .initial, .waiting, .spawning, .starting, .running, .stopping, .stopped:
            break
        }
        for index in retiring.indices where !retiring[index].killed {
            let overdue = retiring[index].killAt.map { now >= $0 } ?? false
            let silent = isSilent(retiring[index].worker, now: now)
            guard overdue || silent else { continue }
            retiring[index].killed = true
            retiring[index].killAt = nil
            let reason: WorkerExitReason = silent ? .timeout : .gracefulTimeout
            if retiring[index].reason != .timeout { retiring[index].reason = reason }
            let pid = retiring[index].worker.pid
            actions += [.signal(pid: pid, .kill), .log(.workerKilled(slot: slot, pid: pid, reason: reason))]
        }
        return actions
    }

    /// A reload: start a new worker and, once it is ready, drain the current one.
    /// - Returns: ``Action/replaced`` at once when there is nothing to replace (no worker is
    ///   running or starting: the next one starts on the new configuration anyway).
    public mutating func replace(now: Instant) -> [Action] {
        switch state {
        case .running(let worker):
            replacing = true
            state = .spawning(replacing: worker)
            return [.spawn]
        case .spawning, .starting:
            // A worker is starting already (a recycle's replacement, a restart), on the
            // configuration it read before the reload: once it is ready, it is replaced too.
            if !replacing {
                replacing = true
                replaceOnceReady = true
            }
            return []
        case .initial, .waiting, .stopping, .stopped:
            return [.replaced]
        }
    }

    /// Stops the slot: no more workers; the live ones drain (`graceful`) or die now.
    /// - Parameters:
    ///   - graceful: `SIGTERM` every worker and `SIGKILL` it after the graceful timeout;
    ///     otherwise `SIGKILL` every worker at once.
    ///   - reason: ``WorkerExitReason/shutdown`` or ``WorkerExitReason/removed``.
    public mutating func stop(graceful: Bool, reason: WorkerExitReason, now: Instant) -> [Action] {
        var actions: [Action] = []
        if !isStopping { stopReason = reason }
        stopGracefully = stopGracefully && graceful
        switch state {
        case .starting(let worker, let replaced):
            actions += retire(worker, reason: stopReason, signal: false, now: now)
            if let replaced { actions += retire(replaced, reason: stopReason, signal: false, now: now) }
        case .running(let worker):
            actions += retire(worker, reason: stopReason, signal: false, now: now)
        case .spawning(let replaced):
            if let replaced { actions += retire(replaced, reason: stopReason, signal: false, now: now) }
        case .initial, .waiting, .stopping, .stopped:
            break
        }
        if replacing {
            replacing = false
            replaceOnceReady = false
            actions.append(.replaced)
        }
        if case .stopped = state { return actions }
        let spawnUnderWay = if case .spawning = state { true } else { false }
        state = .stopping
        for index in retiring.indices where !retiring[index].killed {
            let pid = retiring[index].worker.pid
            if graceful {
                guard !retiring[index].terminated else { continue }
                actions += terminate(pid, now: now)
            } else {
                retiring[index].killed = true
                retiring[index].killAt = nil
                actions += [.signal(pid: pid, .kill), .log(.workerKilled(slot: slot, pid: pid, reason: stopReason))]
            }
        }
        // A spawn under way reports back through `spawned`/`spawnFailed`, which finish the stop.
        return spawnUnderWay ? actions : actions + stopIfIdle()
    }

    // MARK: Helpers

    private func isSilent(_ worker: Worker, now: Instant) -> Bool {
        worker.lastHeard.duration(to: now) > policy.workerTimeout
    }

    /// Moves `worker` to the retiring list: told to drain (`signal`), draining on its own, or killed.
    private mutating func retire(
        _ worker: Worker, reason: WorkerExitReason, signal: Bool = false, kill: Bool = false, now: Instant
    ) -> [Action] {
        retiring.append(
            RetiringWorker(
                worker: worker, reason: reason, killAt: kill ? nil : now.advanced(by: policy.gracefulTimeout),
                terminated: false, killed: kill))
        if kill {
            return [.signal(pid: worker.pid, .kill), .log(.workerKilled(slot: slot, pid: worker.pid, reason: reason))]
        }
        return signal ? terminate(worker.pid, now: now) : []
    }

    /// Sends `SIGTERM` to a retiring worker and starts its graceful deadline.
    private mutating func terminate(_ pid: Int32, now: Instant) -> [Action] {
        guard let index = retiring.firstIndex(where: { $0.worker.pid == pid }) else { return [] }
        retiring[index].terminated = true
        let deadline = now.advanced(by: policy.gracefulTimeout)
        retiring[index].killAt = retiring[index].killAt.map { min($0, deadline) } ?? deadline
        return [.signal(pid: pid, .terminate)]
    }

    /// The serving worker died or hung: restart, at once or after a backoff.
    private mutating func failed(_ worker: Worker, now: Instant) -> [Action] {
        if let readyAt = worker.readyAt, readyAt.duration(to: now) >= policy.healthyUptime {
            failures = 0
        }
        failures += 1
        return scheduleRestart(now: now)
    }

    private mutating func scheduleRestart(now: Instant) -> [Action] {
        // A reload waiting for a starting worker that failed instead: the restart reads the
        // reloaded configuration, so the reload is done with this slot.
        let reloaded = replaceOnceReady ? finishReplacement() : []
        let delay = policy.restartDelay(afterFailures: failures)
        guard delay > .zero else {
            state = .spawning(replacing: nil)
            return reloaded + [.spawn]
        }
        state = .waiting(restartAt: now.advanced(by: delay))
        return reloaded + [.log(.restartDelayed(slot: slot, delay: delay, failures: failures))]
    }

    /// A replacement never became ready (its spawn failed, it exited, or it was killed silent):
    /// the worker it was to replace keeps serving. A reload keeps it for good; a recycled worker
    /// is replaced again after the restart backoff, the failure counting as a failed start.
    private mutating func replacementFailed(keeping worker: Worker, now: Instant) -> [Action] {
        var worker = worker
        if worker.recycleAt != nil {
            failures += 1
            let delay = max(policy.restartDelay(afterFailures: failures), policy.initialRestartDelay)
            worker.recycleAt = now.advanced(by: delay)
        }
        state = .running(worker)
        return finishReplacement()
    }

    private mutating func finishReplacement() -> [Action] {
        guard replacing else { return [] }
        replacing = false
        replaceOnceReady = false
        return [.replaced]
    }

    private mutating func stopIfIdle() -> [Action] {
        guard case .stopping = state, retiring.isEmpty else { return [] }
        state = .stopped
        return [.stopped]
    }
}

/// The two signals the supervisor sends its workers.
public enum WorkerSignal: Sendable, Hashable {
    /// `SIGTERM`: stop accepting, finish in-flight requests, exit.
    case terminate
    /// `SIGKILL`.
    case kill
}
