import Limits
import LimitsTestUtils
import Testing

/// The sync schedule and circuit breaker of a shared zone, driven by a manual clock.
@Suite("Shared zone sync state machine")
struct SharedZoneSyncStateMachineTests {
    let configuration = SharedZoneSyncStateMachine.Configuration(
        syncInterval: .milliseconds(5), failureThreshold: 3, retryInterval: .seconds(1))

    @Test func waitsOneIntervalThenSyncsEveryInterval() {
        let clock = ManualClock()
        let start = clock.now
        var machine = SharedZoneSyncStateMachine(configuration: configuration, now: clock.now)
        #expect(machine.timerFired(now: clock.now) == .wait(until: start.advanced(by: .milliseconds(5))))
        clock.advance(milliseconds: 5)
        #expect(machine.timerFired(now: clock.now) == .sync(probe: false))
        clock.advance(by: .microseconds(300))
        let (transition, next) = machine.syncSucceeded(now: clock.now)
        #expect(transition == .none)
        // The schedule counts from the start of the sync, so a slow answer does not stretch it.
        #expect(next == .wait(until: start.advanced(by: .milliseconds(10))))
        #expect(machine.mode == .shared)
    }

    @Test func emptyBatchSkipsTheStoreAndKeepsTheSchedule() {
        let clock = ManualClock()
        let start = clock.now
        var machine = SharedZoneSyncStateMachine(configuration: configuration, now: clock.now)
        clock.advance(milliseconds: 5)
        #expect(machine.timerFired(now: clock.now) == .sync(probe: false))
        #expect(machine.syncSkipped(now: clock.now) == .wait(until: start.advanced(by: .milliseconds(10))))
    }

    @Test func fallsBackToLocalAfterThresholdConsecutiveFailures() {
        let clock = ManualClock()
        var machine = SharedZoneSyncStateMachine(configuration: configuration, now: clock.now)
        var transitions: [SharedZoneSyncStateMachine.Transition] = []
        for _ in 0..<3 {
            clock.advance(milliseconds: 5)
            #expect(machine.timerFired(now: clock.now) == .sync(probe: false))
            #expect(machine.mode == .shared, "a failing sync below the threshold stays shared")
            transitions.append(machine.syncFailed(now: clock.now).0)
        }
        #expect(transitions == [.none, .none, .fellBackToLocal])
        #expect(machine.mode == .local)
        #expect(machine.timerFired(now: clock.now) == .wait(until: clock.now.advanced(by: .seconds(1))))
    }

    @Test func aSuccessBetweenFailuresResetsTheCount() {
        let clock = ManualClock()
        var machine = SharedZoneSyncStateMachine(configuration: configuration, now: clock.now)
        for outcome in [false, false, true, false, false] {
            clock.advance(milliseconds: 5)
            #expect(machine.timerFired(now: clock.now) == .sync(probe: false))
            let transition = outcome ? machine.syncSucceeded(now: clock.now).0 : machine.syncFailed(now: clock.now).0
            #expect(transition == .none)
        }
        #expect(machine.mode == .shared)
    }

    @Test func probesEveryRetryIntervalAndResumesSharedWhenTheStoreAnswers() {
        let clock = ManualClock()
        var machine = SharedZoneSyncStateMachine(configuration: configuration, now: clock.now)
        for _ in 0..<3 {
            clock.advance(milliseconds: 5)
            _ = machine.timerFired(now: clock.now)
            _ = machine.syncFailed(now: clock.now)
        }
        let outageStart = clock.now
        // A failed probe: still local, logged nothing new, next probe one retry interval later.
        clock.advance(by: .seconds(1))
        #expect(machine.timerFired(now: clock.now) == .sync(probe: true))
        #expect(machine.mode == .local)
        let (failed, next) = machine.syncFailed(now: clock.now)
        #expect(failed == .none)
        #expect(next == .wait(until: clock.now.advanced(by: .seconds(1))))
        // A probe that succeeds ends the outage.
        clock.advance(by: .seconds(1))
        #expect(machine.timerFired(now: clock.now) == .sync(probe: true))
        let (resumed, _) = machine.syncSucceeded(now: clock.now)
        #expect(resumed == .resumedShared(outage: clock.now.duration(since: outageStart)))
        #expect(machine.mode == .shared)
    }
}
