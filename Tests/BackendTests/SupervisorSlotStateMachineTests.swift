import Backend
import Testing

/// One worker slot driven event by event with a manual clock (the breaker tests' instant and
/// clock): restarts and their backoff, hangs, recycling, reload hand-over, stopping.
@Suite("Supervisor worker slot state machine")
struct SupervisorSlotStateMachineTests {
    typealias Slot = WorkerSlotStateMachine<BreakerTestInstant>

    static let policy = SupervisionPolicy(
        workerTimeout: .seconds(10), gracefulTimeout: .seconds(5), initialRestartDelay: .seconds(1),
        maximumRestartDelay: .seconds(4), healthyUptime: .seconds(30))

    private var clock = BreakerTestClock()
    private var slot = Slot(slot: 2, policy: Self.policy)

    /// Starts the slot with worker `pid` and makes it ready.
    private mutating func running(pid: Int32 = 100) {
        #expect(slot.start(now: clock.now) == [.spawn])
        #expect(slot.spawned(pid: pid, now: clock.now) == [.log(.workerStarted(slot: 2, pid: pid))])
        #expect(slot.ready(pid: pid, now: clock.now) == [.log(.workerReady(slot: 2, pid: pid))])
    }

    private static func logs(_ actions: [Slot.Action]) -> [SupervisorEvent] {
        actions.compactMap { if case .log(let event) = $0 { event } else { nil } }
    }

    // MARK: Start and restart

    @Test mutating func startsAWorkerThatRunsOnceReady() {
        #expect(slot.start(now: clock.now) == [.spawn])
        #expect(slot.spawned(pid: 100, now: clock.now) == [.log(.workerStarted(slot: 2, pid: 100))])
        #expect(slot.runningPID == nil, "not serving before it reports ready")
        #expect(slot.ready(pid: 100, now: clock.now) == [.log(.workerReady(slot: 2, pid: 100))])
        #expect(slot.runningPID == 100)
        #expect(slot.pids == [100])
    }

    @Test mutating func aWorkerThatDiesIsRestartedAtOnceTheFirstTime() {
        running()
        clock.advance(by: .seconds(1))
        let actions = slot.exited(pid: 100, status: .signaled(signal: 9), now: clock.now)
        #expect(
            actions == [
                .log(.workerExited(slot: 2, pid: 100, status: .signaled(signal: 9), reason: .crashed)), .spawn,
            ])
    }

    @Test mutating func aWorkerThatKeepsDyingIsRestartedWithADoublingDelayUpToTheMaximum() {
        running()
        var pid: Int32 = 100
        var delays: [Duration] = []
        for _ in 0..<5 {
            let actions = slot.exited(pid: pid, status: .exited(code: 1), now: clock.now)
            if actions.contains(.spawn) {
                delays.append(.zero)
            } else {
                guard case .restartDelayed(_, let delay, _)? = Self.logs(actions).last else {
                    Issue.record("neither a spawn nor a delay: \(actions)")
                    return
                }
                delays.append(delay)
                clock.advance(by: delay - .milliseconds(1))
                #expect(slot.tick(now: clock.now).isEmpty, "no restart before the delay is over")
                clock.advance(by: .milliseconds(1))
                #expect(slot.tick(now: clock.now) == [.spawn])
            }
            pid += 1
            _ = slot.spawned(pid: pid, now: clock.now)
            _ = slot.ready(pid: pid, now: clock.now)
            clock.advance(by: .seconds(1))
        }
        #expect(delays == [.zero, .seconds(1), .seconds(2), .seconds(4), .seconds(4)])
    }

    @Test mutating func aWorkerThatServedForTheHealthyUptimeStartsAFreshSeriesOfFailures() {
        running()
        _ = slot.exited(pid: 100, status: .exited(code: 1), now: clock.now)
        _ = slot.spawned(pid: 101, now: clock.now)
        _ = slot.ready(pid: 101, now: clock.now)
        clock.advance(by: .seconds(30))
        let actions = slot.exited(pid: 101, status: .exited(code: 1), now: clock.now)
        #expect(actions.contains(.spawn), "restarted at once: its predecessor's failure is forgotten")
    }

    @Test mutating func aWorkerThatDiesBeforeReadyIsABootFailureAndCountsTowardsTheBackoff() {
        #expect(slot.start(now: clock.now) == [.spawn])
        _ = slot.spawned(pid: 100, now: clock.now)
        let first = slot.exited(pid: 100, status: .exited(code: 1), now: clock.now)
        #expect(
            first == [.log(.workerExited(slot: 2, pid: 100, status: .exited(code: 1), reason: .bootFailed)), .spawn])
        _ = slot.spawned(pid: 101, now: clock.now)
        let second = slot.exited(pid: 101, status: .exited(code: 1), now: clock.now)
        #expect(Self.logs(second).last == .restartDelayed(slot: 2, delay: .seconds(1), failures: 2))
    }

    @Test mutating func aSpawnThatFailsIsRetriedWithBackoff() {
        #expect(slot.start(now: clock.now) == [.spawn])
        #expect(
            slot.spawnFailed(error: "ENOENT", now: clock.now) == [
                .log(.spawnFailed(slot: 2, error: "ENOENT")), .spawn,
            ])
        let second = slot.spawnFailed(error: "ENOENT", now: clock.now)
        #expect(Self.logs(second).last == .restartDelayed(slot: 2, delay: .seconds(1), failures: 2))
        #expect(!second.contains(.spawn))
    }

    // MARK: Timeout

    @Test mutating func heartbeatsKeepAWorkerAlivePastTheTimeout() {
        running()
        for _ in 0..<5 {
            clock.advance(by: .seconds(5))
            slot.heard(pid: 100, now: clock.now)
            #expect(slot.tick(now: clock.now).isEmpty)
        }
        #expect(slot.runningPID == 100)
    }

    @Test mutating func aSilentWorkerIsKilledAndReplacedAtOnce() {
        running()
        clock.advance(by: .seconds(10))
        #expect(slot.tick(now: clock.now).isEmpty, "silent for exactly the timeout is not yet too long")
        clock.advance(by: .milliseconds(1))
        #expect(
            slot.tick(now: clock.now) == [
                .signal(pid: 100, .kill), .log(.workerKilled(slot: 2, pid: 100, reason: .timeout)), .spawn,
            ])
        _ = slot.spawned(pid: 101, now: clock.now)
        #expect(
            slot.exited(pid: 100, status: .signaled(signal: 9), now: clock.now) == [
                .log(.workerExited(slot: 2, pid: 100, status: .signaled(signal: 9), reason: .timeout))
            ])
        #expect(slot.tick(now: clock.now).isEmpty, "the killed worker is not killed twice")
    }

    @Test mutating func aWorkerThatNeverReportsReadyIsKilledAfterTheTimeout() {
        #expect(slot.start(now: clock.now) == [.spawn])
        _ = slot.spawned(pid: 100, now: clock.now)
        clock.advance(by: .seconds(11))
        let actions = slot.tick(now: clock.now)
        #expect(
            actions.prefix(2) == [.signal(pid: 100, .kill), .log(.workerKilled(slot: 2, pid: 100, reason: .timeout))])
        #expect(actions.contains(.spawn))
    }

    // MARK: Recycling

    @Test mutating func aRecyclingWorkerKeepsServingUntilItsReplacementIsReadyAndThenDrains() {
        running()
        let actions = slot.recycling(pid: 100, requests: 1000, now: clock.now)
        #expect(actions == [.log(.workerRecycling(slot: 2, pid: 100, requests: 1000)), .spawn])
        #expect(!actions.contains(.signal(pid: 100, .terminate)), "it serves on while the replacement starts")
        #expect(slot.spawned(pid: 101, now: clock.now) == [.log(.workerStarted(slot: 2, pid: 101))])
        #expect(slot.pids == [101, 100], "both serve the slot's socket meanwhile")
        #expect(
            slot.ready(pid: 101, now: clock.now) == [
                .log(.workerReady(slot: 2, pid: 101)), .signal(pid: 100, .terminate),
            ])
        #expect(slot.runningPID == 101)
        #expect(
            slot.exited(pid: 100, status: .exited(code: 0), now: clock.now) == [
                .log(.workerExited(slot: 2, pid: 100, status: .exited(code: 0), reason: .recycled))
            ])
        #expect(slot.pids == [101])
    }

    @Test mutating func aRecycledWorkerThatOutlivesTheGracefulTimeoutAfterItsReplacementIsReadyIsKilled() {
        running()
        _ = slot.recycling(pid: 100, requests: 1000, now: clock.now)
        _ = slot.spawned(pid: 101, now: clock.now)
        clock.advance(by: .seconds(3))
        _ = slot.ready(pid: 101, now: clock.now)
        clock.advance(by: .seconds(4))
        slot.heard(pid: 100, now: clock.now)
        slot.heard(pid: 101, now: clock.now)
        #expect(slot.tick(now: clock.now).isEmpty, "the graceful timeout runs from the SIGTERM")
        clock.advance(by: .seconds(1))
        #expect(
            slot.tick(now: clock.now) == [
                .signal(pid: 100, .kill), .log(.workerKilled(slot: 2, pid: 100, reason: .gracefulTimeout)),
            ])
    }

    @Test mutating func aRecyclingWorkerIsReplacedByAtMostOneWorkerAtATime() {
        running()
        _ = slot.recycling(pid: 100, requests: 1000, now: clock.now)
        #expect(slot.recycling(pid: 100, requests: 1001, now: clock.now) == [
            .log(.workerRecycling(slot: 2, pid: 100, requests: 1001))
        ])
        _ = slot.spawned(pid: 101, now: clock.now)
        #expect(slot.recycling(pid: 100, requests: 1002, now: clock.now) == [
            .log(.workerRecycling(slot: 2, pid: 100, requests: 1002))
        ])
        #expect(slot.tick(now: clock.now).isEmpty)
        #expect(slot.pids == [101, 100])
    }

    @Test mutating func aReplacementThatNeverGetsReadyIsKilledAndTheRecycledWorkerServesOnUntilARetrySucceeds() {
        running()
        _ = slot.recycling(pid: 100, requests: 1000, now: clock.now)
        _ = slot.spawned(pid: 101, now: clock.now)
        // 101 stays silent past the worker timeout (10 s); 100 keeps serving and heartbeating.
        clock.advance(by: .seconds(6))
        slot.heard(pid: 100, now: clock.now)
        #expect(slot.tick(now: clock.now).isEmpty)
        clock.advance(by: .seconds(5))
        slot.heard(pid: 100, now: clock.now)
        #expect(
            slot.tick(now: clock.now) == [
                .signal(pid: 101, .kill), .log(.workerKilled(slot: 2, pid: 101, reason: .timeout)),
                .log(.replacementFailed(slot: 2, pid: 101)),
            ])
        #expect(slot.runningPID == 100, "the recycled worker serves on")
        // The next replacement waits out the restart backoff (at least the initial delay, 1 s).
        clock.advance(by: .milliseconds(900))
        slot.heard(pid: 100, now: clock.now)
        #expect(!slot.tick(now: clock.now).contains(.spawn))
        clock.advance(by: .milliseconds(100))
        #expect(slot.tick(now: clock.now) == [.spawn])
        _ = slot.spawned(pid: 102, now: clock.now)
        #expect(slot.ready(pid: 102, now: clock.now).contains(.signal(pid: 100, .terminate)))
        #expect(slot.runningPID == 102)
    }

    @Test mutating func aReplacementThatFailsToBootOrToSpawnLeavesTheRecycledWorkerServing() {
        running()
        _ = slot.recycling(pid: 100, requests: 1000, now: clock.now)
        _ = slot.spawned(pid: 101, now: clock.now)
        #expect(
            slot.exited(pid: 101, status: .exited(code: 1), now: clock.now) == [
                .log(.workerExited(slot: 2, pid: 101, status: .exited(code: 1), reason: .bootFailed)),
                .log(.replacementFailed(slot: 2, pid: 101)),
            ])
        #expect(slot.runningPID == 100)
        #expect(slot.pids == [100])
        clock.advance(by: .seconds(1))
        #expect(slot.tick(now: clock.now) == [.spawn])
        #expect(slot.spawnFailed(error: "fork failed", now: clock.now) == [.log(.spawnFailed(slot: 2, error: "fork failed"))])
        #expect(slot.runningPID == 100)
        // The second failure in a row doubles nothing yet: restartDelay(2) is the initial 1 s.
        clock.advance(by: .seconds(1))
        #expect(slot.tick(now: clock.now) == [.spawn])
    }

    @Test mutating func aWorkerRecycledBeforeItsReadyWasReadIsReplacedOnceReady() {
        #expect(slot.start(now: clock.now) == [.spawn])
        _ = slot.spawned(pid: 100, now: clock.now)
        #expect(slot.recycling(pid: 100, requests: 5, now: clock.now) == [
            .log(.workerRecycling(slot: 2, pid: 100, requests: 5))
        ])
        #expect(slot.ready(pid: 100, now: clock.now) == [.log(.workerReady(slot: 2, pid: 100)), .spawn])
        _ = slot.spawned(pid: 101, now: clock.now)
        #expect(slot.ready(pid: 101, now: clock.now).contains(.signal(pid: 100, .terminate)))
    }

    @Test mutating func aReloadDuringARecycleReplacesTheNewWorkerOnceItIsReadyForItReadTheOldConfiguration() {
        running()
        _ = slot.recycling(pid: 100, requests: 1000, now: clock.now)
        _ = slot.spawned(pid: 101, now: clock.now)
        #expect(slot.replace(now: clock.now).isEmpty, "101 started before the reload")
        #expect(
            slot.ready(pid: 101, now: clock.now) == [
                .log(.workerReady(slot: 2, pid: 101)), .signal(pid: 100, .terminate), .spawn,
            ])
        _ = slot.spawned(pid: 102, now: clock.now)
        #expect(
            slot.ready(pid: 102, now: clock.now) == [
                .log(.workerReady(slot: 2, pid: 102)), .signal(pid: 101, .terminate), .replaced,
            ])
        #expect(slot.runningPID == 102)
    }

    @Test mutating func aReloadWaitingForAStartingWorkerThatFailsIsDoneWithTheRestart() {
        #expect(slot.start(now: clock.now) == [.spawn])
        _ = slot.spawned(pid: 100, now: clock.now)
        #expect(slot.replace(now: clock.now).isEmpty)
        #expect(
            slot.exited(pid: 100, status: .exited(code: 1), now: clock.now) == [
                .log(.workerExited(slot: 2, pid: 100, status: .exited(code: 1), reason: .bootFailed)), .replaced, .spawn,
            ], "the restart reads the reloaded configuration")
        _ = slot.spawned(pid: 101, now: clock.now)
        #expect(slot.ready(pid: 101, now: clock.now) == [.log(.workerReady(slot: 2, pid: 101))], "replaced once only")
    }

    @Test mutating func aStopWhileARecycledWorkerWaitsForItsReplacementDrainsBoth() {
        running()
        _ = slot.recycling(pid: 100, requests: 1000, now: clock.now)
        _ = slot.spawned(pid: 101, now: clock.now)
        let actions = slot.stop(graceful: true, reason: .shutdown, now: clock.now)
        #expect(
            Set(actions.filter { if case .signal = $0 { true } else { false } }) == [
                .signal(pid: 100, .terminate), .signal(pid: 101, .terminate),
            ])
        _ = slot.exited(pid: 100, status: .exited(code: 0), now: clock.now)
        #expect(slot.exited(pid: 101, status: .exited(code: 0), now: clock.now).contains(.stopped))
    }

    @Test mutating func aStoppedSlotStartsNoWorkerWhenOneExits() {
        running()
        _ = slot.stop(graceful: true, reason: .removed, now: clock.now)
        let actions = slot.exited(pid: 100, status: .exited(code: 0), now: clock.now)
        #expect(
            actions == [.log(.workerExited(slot: 2, pid: 100, status: .exited(code: 0), reason: .removed)), .stopped])
    }

    @Test mutating func anImmediateStopKillsEveryWorkerIncludingDrainingOnes() {
        running()
        _ = slot.recycling(pid: 100, requests: 5, now: clock.now)
        _ = slot.spawned(pid: 101, now: clock.now)
        let actions = slot.stop(graceful: false, reason: .shutdown, now: clock.now)
        #expect(
            Set(actions.filter { if case .signal = $0 { true } else { false } }) == [
                .signal(pid: 100, .kill), .signal(pid: 101, .kill),
            ])
    }

    @Test mutating func aSlotWaitingOutABackoffStopsAtOnce() {
        running()
        _ = slot.exited(pid: 100, status: .exited(code: 1), now: clock.now)
        _ = slot.spawned(pid: 101, now: clock.now)
        _ = slot.exited(pid: 101, status: .exited(code: 1), now: clock.now)
        #expect(slot.stop(graceful: true, reason: .shutdown, now: clock.now) == [.stopped])
        clock.advance(by: .seconds(10))
        #expect(slot.tick(now: clock.now).isEmpty, "no restart after the stop")
    }

    @Test mutating func aWorkerSpawnedWhileTheSlotStopsIsToldToStopToo() {
        #expect(slot.start(now: clock.now) == [.spawn])
        #expect(slot.stop(graceful: true, reason: .shutdown, now: clock.now).isEmpty)
        #expect(
            slot.spawned(pid: 100, now: clock.now) == [
                .log(.workerStarted(slot: 2, pid: 100)), .signal(pid: 100, .terminate),
            ])
        #expect(
            slot.exited(pid: 100, status: .exited(code: 0), now: clock.now) == [
                .log(.workerExited(slot: 2, pid: 100, status: .exited(code: 0), reason: .shutdown)), .stopped,
            ])
    }

    @Test mutating func aStopDuringAReloadEndsTheReload() {
        running()
        _ = slot.replace(now: clock.now)
        _ = slot.spawned(pid: 101, now: clock.now)
        let actions = slot.stop(graceful: true, reason: .shutdown, now: clock.now)
        #expect(actions.contains(.replaced))
        #expect(
            Set(actions.filter { if case .signal = $0 { true } else { false } }) == [
                .signal(pid: 100, .terminate), .signal(pid: 101, .terminate),
            ])
    }

    @Test mutating func eventsFromUnknownProcessesChangeNothing() {
        running()
        #expect(slot.exited(pid: 999, status: .exited(code: 0), now: clock.now).isEmpty)
        #expect(slot.ready(pid: 999, now: clock.now).isEmpty)
        #expect(slot.recycling(pid: 999, requests: 1, now: clock.now).isEmpty)
        #expect(slot.runningPID == 100)
    }
}

@Suite("Supervision policy")
struct SupervisorPolicyTests {
    @Test func theFirstRestartIsImmediateAndLaterOnesDoubleUpToTheMaximum() {
        let policy = SupervisionPolicy(initialRestartDelay: .milliseconds(500), maximumRestartDelay: .seconds(3))
        #expect(
            (1...6).map(policy.restartDelay(afterFailures:)) == [
                .zero, .milliseconds(500), .seconds(1), .seconds(2), .seconds(3), .seconds(3),
            ])
        #expect(policy.restartDelay(afterFailures: 1000) == .seconds(3))
    }

    @Test func waitStatusesDecodeAsExitCodesOrSignals() {
        #expect(WorkerExitStatus(waitStatus: 0) == .exited(code: 0))
        #expect(WorkerExitStatus(waitStatus: 3 << 8) == .exited(code: 3))
        #expect(WorkerExitStatus(waitStatus: 9) == .signaled(signal: 9))
        #expect(WorkerExitStatus(waitStatus: 9).description == "signal 9 (SIGKILL)")
        #expect(WorkerExitStatus(waitStatus: 0x80 | 11) == .signaled(signal: 11), "a core dump is still signal 11")
    }
}
