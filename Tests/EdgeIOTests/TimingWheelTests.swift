import LimitsTestUtils
import Testing

@testable import EdgeIO

/// The wheel driven by a manual clock: ticks are whatever the test says they are.
struct TimingWheelTests {
    @Test func firesAtItsDeadlineAndNotBefore() {
        var wheel = TimingWheel(now: 0)
        let timer = wheel.arm(at: 10, payload: 7)
        do {
            let fired = wheel.advance(to: 9)
            #expect(fired.isEmpty)
        }
        let fired = wheel.advance(to: 10)
        #expect(fired.map(\.id) == [timer])
        #expect(fired.map(\.payload) == [7])
        #expect(wheel.count == 0)
        do {
            let fired = wheel.advance(to: 1000)
            #expect(fired.isEmpty)
        }
    }

    @Test(arguments: [
        // (deadlines, advance to, expected fired deadlines in order)
        ([5, 1, 3], 4, [1, 3]),
        ([70, 64, 63, 65], 70, [63, 64, 65, 70]),
        ([4096, 4095, 4097, 100_000], 5000, [4095, 4096, 4097]),
        ([262_144, 262_143, 1], 300_000, [1, 262_143, 262_144]),
        ([0, 0, 2], 2, [0, 0, 2]),
    ])
    func firesDueTimersInDeadlineOrder(deadlines: [Int], now: Int, expected: [Int]) {
        var wheel = TimingWheel(now: 0)
        for deadline in deadlines { _ = wheel.arm(at: UInt64(deadline), payload: UInt64(deadline)) }
        let fired = wheel.advance(to: UInt64(now)).map { Int($0.deadline) }
        #expect(fired == expected)
        #expect(wheel.count == deadlines.count - expected.count)
    }

    @Test func aDeadlineInThePastFiresOnTheNextAdvance() {
        var wheel = TimingWheel(now: 1000)
        _ = wheel.arm(at: 10, payload: 1)
        #expect(wheel.nextDeadline == 1000)
        do {
            let fired = wheel.advance(to: 1000)
            #expect(fired.map(\.payload) == [1])
        }
    }

    @Test func cancelledTimerNeverFires() {
        var wheel = TimingWheel(now: 0)
        let kept = wheel.arm(at: 100, payload: 1)
        let cancelled = wheel.arm(at: 100, payload: 2)
        let first = wheel.cancel(cancelled)
        let second = wheel.cancel(cancelled)
        #expect(first)
        #expect(!second)
        do {
            let fired = wheel.advance(to: 200)
            #expect(fired.map(\.id) == [kept])
        }
    }

    @Test func cancellingAFiredTimerIsANoOpEvenAfterItsNodeIsReused() {
        var wheel = TimingWheel(now: 0)
        let first = wheel.arm(at: 1, payload: 1)
        _ = wheel.advance(to: 1)
        let second = wheel.arm(at: 50, payload: 2)
        #expect(second.index == first.index)  // the node was reused…
        let cancelledStale = wheel.cancel(first)
        #expect(!cancelledStale)  // …but the stale id does not touch it
        #expect(wheel.isArmed(second))
        do {
            let fired = wheel.advance(to: 50)
            #expect(fired.map(\.payload) == [2])
        }
    }

    @Test func nextDeadlineIsNeverLaterThanTheEarliestTimer() {
        var wheel = TimingWheel(now: 0)
        #expect(wheel.nextDeadline == nil)
        _ = wheel.arm(at: 300_000, payload: 0)
        _ = wheel.arm(at: 5000, payload: 0)
        let next = wheel.nextDeadline!
        #expect(next <= 5000)
        // Advancing to a slot start only moves timers down; repeated, it reaches the deadline.
        var now = next
        var fired: [TimingWheel.Expired] = []
        while fired.isEmpty {
            fired = wheel.advance(to: now)
            if fired.isEmpty { now = wheel.nextDeadline! }
        }
        #expect(now == 5000)
        #expect(fired.map(\.deadline) == [5000])
    }

    @Test func deadlinesBeyondTheWheelOverflowAndStillFire() {
        var wheel = TimingWheel(now: 0)
        let far: UInt64 = 1 << 40
        _ = wheel.arm(at: far + 5, payload: 1)
        _ = wheel.arm(at: 10, payload: 2)
        do {
            let fired = wheel.advance(to: far)
            #expect(fired.map(\.payload) == [2])
        }
        #expect(wheel.count == 1)
        do {
            let fired = wheel.advance(to: far + 4)
            #expect(fired.isEmpty)
        }
        do {
            let fired = wheel.advance(to: far + 5)
            #expect(fired.map(\.payload) == [1])
        }
    }

    @Test func crossingAWheelBlockBoundaryKeepsOrder() {
        let block: UInt64 = 1 << 36
        var wheel = TimingWheel(now: block - 3)
        _ = wheel.arm(at: block + 2, payload: 2)  // differs in bit 36: overflow
        _ = wheel.arm(at: block - 1, payload: 1)
        do {
            let fired = wheel.advance(to: block + 10)
            #expect(fired.map(\.payload) == [1, 2])
        }
    }

    @Test func matchesASortedReferenceUnderRandomArmCancelAndAdvance() {
        var random = SeededRandom(seed: 42)
        var wheel = TimingWheel(now: 0)
        var reference: [TimerID: UInt64] = [:]
        var now: UInt64 = 0
        for _ in 0..<20_000 {
            switch random.next() % 10 {
            case 0..<5:
                let delay = random.next() % (random.next() % 2 == 0 ? 100 : 2_000_000)
                let deadline = now + delay
                reference[wheel.arm(at: deadline, payload: deadline)] = deadline
            case 5..<7:
                if let victim = reference.keys.first {
                    let cancelled = wheel.cancel(victim)
                    #expect(cancelled)
                    reference[victim] = nil
                }
            default:
                now += random.next() % 5000
                let fired = wheel.advance(to: now)
                let expected = reference.filter { $0.value <= now }
                #expect(Set(fired.map(\.id)) == Set(expected.keys))
                #expect(fired.map(\.deadline) == fired.map(\.deadline).sorted())
                for timer in fired {
                    #expect(timer.deadline <= now)
                    reference[timer.id] = nil
                }
            }
            #expect(wheel.count == reference.count)
        }
    }

    @Test func steadyArmCancelAdvanceDoesNotGrowTheNodeTable() {
        var wheel = TimingWheel(now: 0, capacity: 16)
        var expired: [TimingWheel.Expired] = []
        expired.reserveCapacity(16)
        for round in 0..<10_000 {
            let now = UInt64(round)
            let timer = wheel.arm(at: now + 60_000, payload: 0)
            _ = wheel.arm(at: now + 1, payload: 0)
            wheel.cancel(timer)
            wheel.advance(to: now, into: &expired)
            expired.removeAll(keepingCapacity: true)
        }
        #expect(wheel.nodes.count <= 4)
    }
}
