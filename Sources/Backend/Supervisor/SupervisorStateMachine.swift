/// The supervisor as a pure state machine: its worker slots (each a ``WorkerSlotStateMachine``),
/// how many there should be (`SIGTTIN`/`SIGTTOU`), the one-slot-at-a-time reload (`SIGHUP`) and
/// shutdown (`SIGTERM`/`SIGINT` graceful, `SIGQUIT` immediate). Every event takes `now` and
/// returns the actions the owner performs; it never reads a clock, opens a socket or signals a
/// process itself.
public struct SupervisorStateMachine<Instant: InstantProtocol>: Sendable
where Instant: Sendable, Instant.Duration == Duration {
    public typealias Slot = WorkerSlotStateMachine<Instant>

    public enum Action: Sendable, Hashable {
        /// Start a worker on slot `slot`'s socket; answer with ``spawned(slot:pid:now:)`` or
        /// ``spawnFailed(slot:error:now:)`` before any other event.
        case spawn(slot: Int)
        case signal(pid: Int32, WorkerSignal)
        case log(SupervisorEvent)
        /// Open slot `slot`'s listening socket; answer with ``socketOpened(slot:address:now:)``
        /// or ``socketFailed(slot:error:now:)``.
        case openSocket(slot: Int)
        /// Close slot `slot`'s socket: its last worker has exited.
        case closeSocket(slot: Int)
        /// Every worker has exited after a shutdown: the supervisor exits.
        case exit
    }

    enum State: Sendable, Hashable {
        /// Can transition to: `.running` (``start(slots:now:)``), `.stopped` (shutdown first).
        case initial
        /// Can transition to: `.stopping`.
        case running
        /// Can transition to: `.stopping` (graceful → immediate), `.stopped` (every slot stopped).
        case stopping(graceful: Bool)
        /// Final: ``Action/exit`` was returned.
        case stopped
    }

    public private(set) var policy: SupervisionPolicy
    private(set) var state: State = .initial
    private var slots: [Int: Slot] = [:]
    /// Slots whose socket is being opened.
    private var opening: Set<Int> = []
    /// Slots being removed: stopping, closed once their last worker exits.
    private var removing: Set<Int> = []
    /// Which slot each live worker belongs to.
    private var slotOfPID: [Int32: Int] = [:]
    /// Slots a reload has still to replace, in order, and the one it is replacing now.
    private var reloadQueue: [Int] = []
    private var reloadingSlot: Int?

    public init(policy: SupervisionPolicy) {
        self.policy = policy
    }

    /// The number of worker slots, counting those being opened and not those being removed.
    public var workerCount: Int { slots.count - removing.count + opening.count }

    /// The slots that serve (not being removed), in order.
    public var activeSlots: [Int] { slots.keys.filter { !removing.contains($0) }.sorted() }

    /// Whether a shutdown has begun.
    public var isShuttingDown: Bool {
        switch state {
        case .stopping, .stopped: true
        case .initial, .running: false
        }
    }

    /// The slot's state machine, for inspection.
    public func slot(_ index: Int) -> Slot? { slots[index] }

    // MARK: Start, add, remove

    /// The initial sockets are open: start a worker on each.
    /// - Parameter slots: each slot's index and printable address.
    public mutating func start(slots initial: [(slot: Int, address: String)], now: Instant) -> [Action] {
        guard case .initial = state else { preconditionFailure("the supervisor started twice") }
        state = .running
        var actions: [Action] = []
        for (index, address) in initial {
            actions += open(slot: index, address: address, now: now)
        }
        return actions
    }

    /// `SIGTTIN`: one more worker slot.
    public mutating func addWorker(now: Instant) -> [Action] {
        guard case .running = state else { return [] }
        let before = workerCount
        var index = 0
        while slots[index] != nil || opening.contains(index) { index += 1 }
        opening.insert(index)
        return [.log(.workerCountChanged(from: before, to: workerCount)), .openSocket(slot: index)]
    }

    /// The socket an ``Action/openSocket(slot:)`` asked for is open.
    public mutating func socketOpened(slot index: Int, address: String, now: Instant) -> [Action] {
        precondition(opening.remove(index) != nil, "slot \(index) opened without being asked")
        guard case .running = state else { return [.closeSocket(slot: index)] + finishShutdownIfDone() }
        return open(slot: index, address: address, now: now)
    }

    /// The socket an ``Action/openSocket(slot:)`` asked for could not be opened.
    public mutating func socketFailed(slot index: Int, error: String, now: Instant) -> [Action] {
        precondition(opening.remove(index) != nil, "slot \(index) failed without being asked")
        let ignored = Action.log(.ignored(what: "adding worker slot \(index)", why: error))
        return [ignored, .log(.workerCountChanged(from: workerCount + 1, to: workerCount))] + finishShutdownIfDone()
    }

    /// `SIGTTOU`: one worker slot fewer (the highest), never below one.
    public mutating func removeWorker(now: Instant) -> [Action] {
        guard case .running = state else { return [] }
        guard let index = activeSlots.last, workerCount > 1 else {
            return [.log(.ignored(what: "removing a worker", why: "only one worker is left"))]
        }
        let before = workerCount
        removing.insert(index)
        reloadQueue.removeAll { $0 == index }
        let log = Action.log(.workerCountChanged(from: before, to: workerCount))
        return [log] + absorb(slot: index, now: now) { $0.stop(graceful: true, reason: .removed, now: now) }
    }

    // MARK: Worker events

    /// The owner spawned the worker slot `slot` asked for.
    public mutating func spawned(slot index: Int, pid: Int32, now: Instant) -> [Action] {
        slotOfPID[pid] = index
        return absorb(slot: index, now: now) { $0.spawned(pid: pid, now: now) }
    }

    /// Spawning a worker for slot `slot` failed.
    public mutating func spawnFailed(slot index: Int, error: String, now: Instant) -> [Action] {
        absorb(slot: index, now: now) { $0.spawnFailed(error: error, now: now) }
    }

    /// Worker `pid` is accepting connections.
    public mutating func ready(pid: Int32, now: Instant) -> [Action] {
        guard let index = slotOfPID[pid] else { return [] }
        return absorb(slot: index, now: now) { $0.ready(pid: pid, now: now) }
    }

    /// Worker `pid` sent a heartbeat or a metrics snapshot.
    public mutating func heard(pid: Int32, now: Instant) {
        guard let index = slotOfPID[pid] else { return }
        slots[index]?.heard(pid: pid, now: now)
    }

    /// Worker `pid` served its request budget and is draining.
    public mutating func recycling(pid: Int32, requests: Int, now: Instant) -> [Action] {
        guard let index = slotOfPID[pid] else { return [] }
        return absorb(slot: index, now: now) { $0.recycling(pid: pid, requests: requests, now: now) }
    }

    /// Worker `pid` exited.
    public mutating func exited(pid: Int32, status: WorkerExitStatus, now: Instant) -> [Action] {
        guard let index = slotOfPID.removeValue(forKey: pid) else { return [] }
        return absorb(slot: index, now: now) { $0.exited(pid: pid, status: status, now: now) }
    }

    /// Time passed: backoffs, silent workers, overdue drains.
    public mutating func tick(now: Instant) -> [Action] {
        var actions: [Action] = []
        for index in slots.keys.sorted() {
            actions += absorb(slot: index, now: now) { $0.tick(now: now) }
        }
        return actions
    }

    // MARK: Reload and shutdown

    /// `SIGHUP`, with the configuration read again: take the new policy and worker count, then
    /// replace the workers one slot at a time, each new worker ready before the old one drains.
    public mutating func reload(policy: SupervisionPolicy, workers: Int, now: Instant) -> [Action] {
        guard case .running = state else { return [] }
        self.policy = policy
        for index in slots.keys { slots[index]?.policyChanged(policy) }
        var actions: [Action] = [.log(.reloadStarted(workers: max(workers, 1)))]
        reloadQueue = activeSlots
        while workerCount < workers { actions += addWorker(now: now) }
        while workerCount > max(workers, 1) { actions += removeWorker(now: now) }
        if reloadingSlot == nil { actions += advanceReload(now: now) }
        return actions
    }

    /// Shuts down: `graceful` (`SIGTERM`/`SIGINT`) lets workers drain for the graceful timeout;
    /// otherwise (`SIGQUIT`, or a second interrupt) they are killed at once.
    public mutating func shutdown(graceful: Bool, now: Instant) -> [Action] {
        switch state {
        case .initial:
            state = .stopped
            return [.log(.shutdownStarted(graceful: graceful)), .log(.shutdownFinished), .exit]
        case .running:
            state = .stopping(graceful: graceful)
        case .stopping(graceful: true) where !graceful:
            state = .stopping(graceful: false)
        case .stopping, .stopped:
            return []
        }
        reloadQueue = []
        reloadingSlot = nil
        var actions: [Action] = [.log(.shutdownStarted(graceful: graceful))]
        for index in slots.keys.sorted() {
            actions += absorb(slot: index, now: now) { $0.stop(graceful: graceful, reason: .shutdown, now: now) }
        }
        return actions + finishShutdownIfDone()
    }

    // MARK: Helpers

    private mutating func open(slot index: Int, address: String, now: Instant) -> [Action] {
        precondition(slots[index] == nil, "slot \(index) exists already")
        slots[index] = Slot(slot: index, policy: policy)
        return [.log(.slotOpened(slot: index, address: address))] + absorb(slot: index, now: now) { $0.start(now: now) }
    }

    /// Runs `event` on slot `index` and turns its actions into the supervisor's.
    private mutating func absorb(slot index: Int, now: Instant, _ event: (inout Slot) -> [Slot.Action]) -> [Action] {
        guard var slot = slots[index] else { return [] }
        let slotActions = event(&slot)
        slots[index] = slot
        var actions: [Action] = []
        for action in slotActions {
            switch action {
            case .spawn:
                actions.append(.spawn(slot: index))
            case .signal(let pid, let signal):
                actions.append(.signal(pid: pid, signal))
            case .log(let event):
                actions.append(.log(event))
            case .replaced:
                if reloadingSlot == index {
                    reloadingSlot = nil
                    if case .running = state { actions += advanceReload(now: now) }
                }
            case .stopped:
                if removing.remove(index) != nil {
                    slots[index] = nil
                    actions += [.closeSocket(slot: index), .log(.slotClosed(slot: index))]
                }
                actions += finishShutdownIfDone()
            }
        }
        return actions
    }

    /// Starts replacing the next slot of the reload, or ends the reload.
    private mutating func advanceReload(now: Instant) -> [Action] {
        while let next = reloadQueue.first {
            reloadQueue.removeFirst()
            guard slots[next] != nil, !removing.contains(next) else { continue }
            reloadingSlot = next
            return absorb(slot: next, now: now) { $0.replace(now: now) }
        }
        return [.log(.reloadFinished)]
    }

    private mutating func finishShutdownIfDone() -> [Action] {
        guard case .stopping = state, opening.isEmpty, slots.values.allSatisfy(\.isStopped) else { return [] }
        state = .stopped
        return [.log(.shutdownFinished), .exit]
    }
}
