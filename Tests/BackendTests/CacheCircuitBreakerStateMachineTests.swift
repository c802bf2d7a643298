import Backend
import Testing

/// A point on a clock that only the test moves.
struct BreakerTestInstant: InstantProtocol, Hashable {
    var offset: Duration

    func advanced(by duration: Duration) -> BreakerTestInstant { BreakerTestInstant(offset: offset + duration) }
    func duration(to other: BreakerTestInstant) -> Duration { other.offset - offset }
    static func < (lhs: BreakerTestInstant, rhs: BreakerTestInstant) -> Bool { lhs.offset < rhs.offset }
}

/// A manual clock for the breaker.
struct BreakerTestClock {
    var now = BreakerTestInstant(offset: .seconds(1000))

    mutating func advance(by duration: Duration) { now = now.advanced(by: duration) }
}

@Suite("Circuit breaker state machine")
struct CacheCircuitBreakerStateMachineTests {
    typealias Breaker = CircuitBreakerStateMachine<BreakerTestInstant>

    private var clock = BreakerTestClock()
    private var breaker = Breaker(
        configuration: .init(failureThreshold: 5, coolDown: .seconds(5), probeTimeout: .seconds(2)))

    private mutating func permit() -> Breaker.Ticket? {
        guard case .proceed(let ticket) = breaker.requestReceived(now: clock.now) else { return nil }
        return ticket
    }

    @discardableResult
    private mutating func fail(times: Int) -> [Breaker.Action] {
        (0..<times).map { _ in
            let ticket = permit()!
            return breaker.requestFailed(ticket, now: clock.now)
        }
    }

    @Test mutating func letsRequestsThroughWhileClosed() {
        #expect(breaker.mode == .closed)
        let ticket = permit()
        #expect(ticket != nil)
        #expect(ticket?.isProbe == false)
        #expect(breaker.requestSucceeded(ticket!, now: clock.now) == .none)
        #expect(breaker.mode == .closed)
    }

    @Test mutating func opensAfterFiveConsecutiveFailures() {
        let actions = fail(times: 5)
        #expect(actions.dropLast().allSatisfy { $0 == .none })
        #expect(actions.last == .opened(retryAt: clock.now.advanced(by: .seconds(5))))
        #expect(breaker.mode == .open)
        #expect(permit() == nil)
    }

    @Test mutating func aSuccessResetsTheFailureCount() {
        fail(times: 4)
        let ticket = permit()!
        #expect(breaker.requestSucceeded(ticket, now: clock.now) == .none)
        fail(times: 4)
        #expect(breaker.mode == .closed)
        fail(times: 1)
        #expect(breaker.mode == .open)
    }

    @Test mutating func oneTimeoutOpensItAtOnce() {
        let ticket = permit()!
        #expect(
            breaker.requestTimedOut(ticket, now: clock.now) == .opened(retryAt: clock.now.advanced(by: .seconds(5))))
        #expect(breaker.mode == .open)
    }

    @Test mutating func aTimeoutCanCountAsOneFailureInstead() {
        breaker = Breaker(configuration: .init(failureThreshold: 2, timeoutOpensImmediately: false))
        let first = permit()!
        #expect(breaker.requestTimedOut(first, now: clock.now) == .none)
        #expect(breaker.mode == .closed)
        let second = permit()!
        #expect(breaker.requestTimedOut(second, now: clock.now) != .none)
        #expect(breaker.mode == .open)
    }

    @Test mutating func refusesEverythingUntilTheCoolDownEnds() {
        fail(times: 5)
        clock.advance(by: .milliseconds(4999))
        #expect(permit() == nil)
        #expect(breaker.mode == .open)
    }

    @Test mutating func letsOneProbeThroughAfterTheCoolDown() {
        fail(times: 5)
        clock.advance(by: .seconds(5))
        let probe = permit()
        #expect(probe?.isProbe == true)
        #expect(breaker.mode == .halfOpen)
        #expect(permit() == nil, "only the probe goes through while half-open")
    }

    @Test mutating func closesWhenTheProbeSucceeds() {
        fail(times: 5)
        clock.advance(by: .seconds(5))
        let probe = permit()!
        #expect(breaker.requestSucceeded(probe, now: clock.now) == .closed)
        #expect(breaker.mode == .closed)
        #expect(permit()?.isProbe == false)
    }

    @Test mutating func opensAgainWhenTheProbeFails() {
        fail(times: 5)
        clock.advance(by: .seconds(5))
        let probe = permit()!
        #expect(breaker.requestFailed(probe, now: clock.now) == .opened(retryAt: clock.now.advanced(by: .seconds(5))))
        #expect(breaker.mode == .open)
        clock.advance(by: .seconds(4))
        #expect(permit() == nil)
        clock.advance(by: .seconds(1))
        #expect(permit()?.isProbe == true)
    }

    @Test mutating func opensAgainWhenTheProbeTimesOut() {
        fail(times: 5)
        clock.advance(by: .seconds(5))
        let probe = permit()!
        #expect(breaker.requestTimedOut(probe, now: clock.now) != .none)
        #expect(breaker.mode == .open)
    }

    @Test mutating func replacesAProbeThatNeverReportsBack() {
        fail(times: 5)
        clock.advance(by: .seconds(5))
        let lost = permit()!
        clock.advance(by: .milliseconds(1999))
        #expect(permit() == nil)
        clock.advance(by: .milliseconds(1))
        let replacement = permit()
        #expect(replacement?.isProbe == true)
        // The lost probe's late answer changes nothing; the replacement's counts.
        #expect(breaker.requestSucceeded(lost, now: clock.now) == .none)
        #expect(breaker.mode == .halfOpen)
        #expect(breaker.requestSucceeded(replacement!, now: clock.now) == .closed)
    }

    @Test mutating func ignoresLateOutcomesOfRequestsLetThroughBeforeATransition() {
        let early = (0..<3).map { _ in permit()! }
        fail(times: 5)
        #expect(breaker.mode == .open)
        // Requests let through while closed fail after it opened: no second opening.
        #expect(breaker.requestFailed(early[0], now: clock.now) == .none)
        clock.advance(by: .seconds(5))
        let probe = permit()!
        // A late success from the closed era must not close the breaker for the probe.
        #expect(breaker.requestSucceeded(early[1], now: clock.now) == .none)
        #expect(breaker.mode == .halfOpen)
        #expect(breaker.requestFailed(early[2], now: clock.now) == .none)
        #expect(breaker.mode == .halfOpen)
        #expect(breaker.requestSucceeded(probe, now: clock.now) == .closed)
    }

    @Test mutating func honoursAConfiguredThreshold() {
        breaker = Breaker(configuration: .init(failureThreshold: 1, coolDown: .milliseconds(200)))
        fail(times: 1)
        #expect(breaker.mode == .open)
        clock.advance(by: .milliseconds(200))
        #expect(permit()?.isProbe == true)
    }

    @Test mutating func anExternalProbeClosesAnOpenBreakerAndOutdatesTicketsFromBefore() {
        let stale = permit()!
        fail(times: 5)
        #expect(breaker.mode == .open)
        #expect(breaker.retryAt == clock.now.advanced(by: .seconds(5)))
        clock.advance(by: .seconds(1))
        #expect(breaker.externalProbeSucceeded(now: clock.now) == .closed)
        #expect(breaker.mode == .closed)
        #expect(breaker.retryAt == nil)
        // A failure let through before the breaker opened no longer counts.
        #expect(breaker.requestFailed(stale, now: clock.now) == .none)
        #expect(breaker.externalProbeSucceeded(now: clock.now) == .none)
    }
}
