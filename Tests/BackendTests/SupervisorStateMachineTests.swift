import Backend
import Testing

/// The supervisor over several slots, driven with a manual clock: adding and removing slots
/// (`SIGTTIN`/`SIGTTOU`), the one-slot-at-a-time reload (`SIGHUP`), and shutdown.
@Suite("Supervisor state machine")
struct SupervisorStateMachineTests {
    typealias Machine = SupervisorStateMachine<BreakerTestInstant>

    static let policy = SupervisionPolicy(workerTimeout: .seconds(10), gracefulTimeout: .seconds(5))

    private var clock = BreakerTestClock()
    private var machine = Machine(policy: Self.policy)
    /// The pid the next spawn gets.
    private var nextPID: Int32 = 100

    /// Performs the actions the way the real supervisor does, for the ones that answer back:
    /// spawns get the next pid, socket opens succeed. Returns every action, answers included.
    @discardableResult
    private mutating func perform(_ actions: [Machine.Action]) -> [Machine.Action] {
        var all: [Machine.Action] = []
        var pending = actions[...]
        while let action = pending.popFirst() {
            all.append(action)
            switch action {
            case .spawn(let slot):
                pending.append(contentsOf: machine.spawned(slot: slot, pid: nextPID, now: clock.now))
                nextPID += 1
            case .openSocket(let slot):
                pending.append(contentsOf: machine.socketOpened(slot: slot, address: "port \(slot)", now: clock.now))
            case .signal, .log, .closeSocket, .exit:
                break
            }
        }
        return all
    }

    /// Starts `count` slots and makes every worker ready; returns their pids by slot.
    private mutating func started(_ count: Int) -> [Int32] {
        let actions = perform(machine.start(slots: (0..<count).map { ($0, "port \($0)") }, now: clock.now))
        let pids = Self.started(in: actions)
        for pid in pids { perform(machine.ready(pid: pid, now: clock.now)) }
        return pids
    }

    private static func started(in actions: [Machine.Action]) -> [Int32] {
        actions.compactMap { if case .log(.workerStarted(_, let pid)) = $0 { pid } else { nil } }
    }

    private static func signals(in actions: [Machine.Action]) -> [Machine.Action] {
        actions.filter { if case .signal = $0 { true } else { false } }
    }

    @Test mutating func startsOneWorkerPerSlot() {
        let actions = perform(machine.start(slots: [(0, "a"), (1, "b")], now: clock.now))
        #expect(actions.contains(.log(.slotOpened(slot: 0, address: "a"))))
        #expect(actions.contains(.spawn(slot: 0)) && actions.contains(.spawn(slot: 1)))
        #expect(Self.started(in: actions) == [100, 101])
        #expect(machine.workerCount == 2)
    }

    @Test mutating func ttinOpensTheNextSlotAndStartsAWorkerOnIt() {
        _ = started(2)
        let actions = perform(machine.addWorker(now: clock.now))
        #expect(actions.first == .log(.workerCountChanged(from: 2, to: 3)))
        #expect(actions.contains(.openSocket(slot: 2)))
        #expect(actions.contains(.spawn(slot: 2)))
        #expect(machine.activeSlots == [0, 1, 2])
    }

    @Test mutating func ttouDrainsTheHighestSlotAndClosesItsSocketOnceItsWorkerExits() {
        let pids = started(3)
        let actions = perform(machine.removeWorker(now: clock.now))
        #expect(actions == [.log(.workerCountChanged(from: 3, to: 2)), .signal(pid: pids[2], .terminate)])
        #expect(machine.activeSlots == [0, 1])
        let exit = perform(machine.exited(pid: pids[2], status: .exited(code: 0), now: clock.now))
        #expect(
            exit == [
                .log(.workerExited(slot: 2, pid: pids[2], status: .exited(code: 0), reason: .removed)),
                .closeSocket(slot: 2), .log(.slotClosed(slot: 2)),
            ])
        #expect(machine.slot(2) == nil)
    }

    @Test mutating func ttouNeverRemovesTheLastWorker() {
        _ = started(1)
        #expect(
            machine.removeWorker(now: clock.now) == [
                .log(.ignored(what: "removing a worker", why: "only one worker is left"))
            ])
        #expect(machine.workerCount == 1)
    }

    @Test mutating func aSlotAddedWhileAnotherIsBeingRemovedTakesAFreeIndex() {
        _ = started(2)
        perform(machine.removeWorker(now: clock.now))
        let actions = perform(machine.addWorker(now: clock.now))
        #expect(actions.contains(.openSocket(slot: 2)), "slot 1 still holds its socket while its worker drains")
    }

    @Test mutating func aSocketThatCannotOpenLeavesTheCountAsItWas() {
        _ = started(1)
        let asked = machine.addWorker(now: clock.now)
        #expect(asked.contains(.openSocket(slot: 1)))
        #expect(machine.workerCount == 2)
        let failed = machine.socketFailed(slot: 1, error: "address in use", now: clock.now)
        #expect(failed.contains(.log(.ignored(what: "adding worker slot 1", why: "address in use"))))
        #expect(machine.workerCount == 1)
    }

    @Test mutating func aReloadReplacesOneSlotAtATimeEachNewWorkerReadyBeforeTheOldDrains() {
        let old = started(2)
        let reload = perform(machine.reload(policy: Self.policy, workers: 2, now: clock.now))
        #expect(reload.first == .log(.reloadStarted(workers: 2)))
        #expect(reload.contains(.spawn(slot: 0)))
        #expect(!reload.contains(.spawn(slot: 1)), "slot 1 waits for slot 0")
        #expect(Self.signals(in: reload).isEmpty, "nothing drains before its replacement is ready")
        let slot0New = Self.started(in: reload)[0]

        let firstReady = perform(machine.ready(pid: slot0New, now: clock.now))
        #expect(firstReady.contains(.signal(pid: old[0], .terminate)))
        #expect(firstReady.contains(.spawn(slot: 1)), "slot 1 is next")
        let slot1New = Self.started(in: firstReady)[0]
        #expect(!firstReady.contains(.signal(pid: old[1], .terminate)))

        let secondReady = perform(machine.ready(pid: slot1New, now: clock.now))
        #expect(secondReady.contains(.signal(pid: old[1], .terminate)))
        #expect(secondReady.last == .log(.reloadFinished))
    }

    @Test mutating func aReloadDuringARecycleReplacesThatSlotAgainBeforeMovingOn() {
        let old = started(2)
        let recycle = perform(machine.recycling(pid: old[0], requests: 1000, now: clock.now))
        let recycled0 = Self.started(in: recycle)[0]
        let reload = perform(machine.reload(policy: Self.policy, workers: 2, now: clock.now))
        #expect(Self.started(in: reload).isEmpty, "slot 0's new worker is still starting")

        let ready = perform(machine.ready(pid: recycled0, now: clock.now))
        #expect(ready.contains(.signal(pid: old[0], .terminate)))
        #expect(ready.contains(.spawn(slot: 0)), "it read the configuration before the reload")
        let reloaded0 = perform(machine.ready(pid: Self.started(in: ready)[0], now: clock.now))
        #expect(reloaded0.contains(.signal(pid: recycled0, .terminate)) && reloaded0.contains(.spawn(slot: 1)))
        let reloaded1 = perform(machine.ready(pid: Self.started(in: reloaded0)[0], now: clock.now))
        #expect(reloaded1.contains(.signal(pid: old[1], .terminate)))
        #expect(reloaded1.last == .log(.reloadFinished))
    }

    @Test mutating func aReloadTakesTheNewWorkerCountAndPolicy() {
        _ = started(2)
        let newPolicy = SupervisionPolicy(workerTimeout: .seconds(3), gracefulTimeout: .seconds(1))
        let actions = perform(machine.reload(policy: newPolicy, workers: 3, now: clock.now))
        #expect(actions.contains(.openSocket(slot: 2)))
        #expect(machine.workerCount == 3)
        #expect(machine.policy == newPolicy)
        #expect(machine.slot(0)?.policy == newPolicy)
    }

    @Test mutating func aGracefulShutdownTerminatesEveryWorkerAndExitsWhenTheLastOneHas() {
        let pids = started(2)
        let actions = perform(machine.shutdown(graceful: true, now: clock.now))
        #expect(actions.first == .log(.shutdownStarted(graceful: true)))
        #expect(
            Set(Self.signals(in: actions)) == [.signal(pid: pids[0], .terminate), .signal(pid: pids[1], .terminate)])
        #expect(machine.isShuttingDown)
        #expect(!perform(machine.exited(pid: pids[0], status: .exited(code: 0), now: clock.now)).contains(.exit))
        let last = perform(machine.exited(pid: pids[1], status: .exited(code: 0), now: clock.now))
        #expect(last.suffix(2) == [.log(.shutdownFinished), .exit])
    }

    @Test mutating func anImmediateShutdownAfterAGracefulOneKillsWhatIsLeft() {
        let pids = started(2)
        perform(machine.shutdown(graceful: true, now: clock.now))
        #expect(
            machine.shutdown(graceful: true, now: clock.now).isEmpty, "a repeated graceful shutdown changes nothing")
        let actions = perform(machine.shutdown(graceful: false, now: clock.now))
        #expect(Set(Self.signals(in: actions)) == [.signal(pid: pids[0], .kill), .signal(pid: pids[1], .kill)])
    }

    @Test mutating func noWorkerIsAddedOrRestartedDuringShutdown() {
        let pids = started(2)
        perform(machine.shutdown(graceful: true, now: clock.now))
        #expect(machine.addWorker(now: clock.now).isEmpty)
        #expect(machine.reload(policy: Self.policy, workers: 4, now: clock.now).isEmpty)
        let crash = perform(machine.exited(pid: pids[0], status: .signaled(signal: 11), now: clock.now))
        #expect(!crash.contains(.spawn(slot: 0)))
    }

    @Test mutating func aKilledWorkerUnderLoadIsReplacedOnItsSlot() {
        let pids = started(2)
        let actions = perform(machine.exited(pid: pids[1], status: .signaled(signal: 9), now: clock.now))
        #expect(actions.contains(.spawn(slot: 1)))
        #expect(Self.started(in: actions).count == 1)
    }

    @Test mutating func messagesFromUnknownWorkersAreIgnored() {
        _ = started(1)
        #expect(machine.ready(pid: 999, now: clock.now).isEmpty)
        #expect(machine.exited(pid: 999, status: .exited(code: 0), now: clock.now).isEmpty)
        #expect(machine.recycling(pid: 999, requests: 3, now: clock.now).isEmpty)
    }
}
