import Limits
import LimitsTestUtils
import Testing

/// nginx `limit_req` semantics, pinned with a manual clock.
@Suite("Rate limit policy")
struct RateLimitPolicyTests {
    let client = ClientKey(parsing: "192.0.2.10")!
    let other = ClientKey(parsing: "192.0.2.11")!

    func zone(_ rate: String, name: String = "api", capacity: Int = 1024) throws -> RateLimitZone {
        try RateLimitZone(name: name, rate: Rate(parsing: rate), capacity: capacity)
    }

    func policy(_ zone: RateLimitZone, burst: Int, delay: DelayPolicy = .nodelay) throws -> RateLimitPolicy {
        try RateLimitPolicy([RateLimitRule(zone: zone, burst: burst, delay: delay)])
    }

    @Test func admitsBurstPlusOneAtOnceThenRejects() throws {
        let clock = ManualClock()
        let limits = try policy(zone("10r/s"), burst: 10)
        for index in 0..<11 {
            #expect(limits.check(client, now: clock.now) == .allowed, "request \(index + 1) of the burst")
        }
        #expect(limits.check(client, now: clock.now) == .rejected(retryAfter: .milliseconds(100), zone: "api"))
    }

    @Test func drainsOneRequestPerIntervalAfterTheBurst() throws {
        let clock = ManualClock()
        let limits = try policy(zone("10r/s"), burst: 10)
        for _ in 0..<11 { _ = limits.check(client, now: clock.now) }
        for _ in 0..<5 {
            clock.advance(milliseconds: 99)
            #expect(limits.check(client, now: clock.now) == .rejected(retryAfter: .milliseconds(1), zone: "api"))
            clock.advance(milliseconds: 1)
            #expect(limits.check(client, now: clock.now) == .allowed)
            #expect(limits.check(client, now: clock.now) == .rejected(retryAfter: .milliseconds(100), zone: "api"))
        }
    }

    @Test func fullyDrainedClientGetsTheWholeBurstBack() throws {
        let clock = ManualClock()
        let limits = try policy(zone("10r/s"), burst: 10)
        for _ in 0..<11 { _ = limits.check(client, now: clock.now) }
        clock.advance(milliseconds: 1100)
        for _ in 0..<11 { #expect(limits.check(client, now: clock.now) == .allowed) }
        #expect(limits.check(client, now: clock.now) != .allowed)
    }

    @Test func retryAfterIsExactToTheNanosecond() throws {
        let clock = ManualClock()
        let limits = try policy(zone("3r/s"), burst: 0)
        #expect(limits.check(client, now: clock.now) == .allowed)
        clock.advance(by: .nanoseconds(1))
        // 3 r/s is an interval of 333,333,333 ns.
        #expect(limits.check(client, now: clock.now) == .rejected(retryAfter: .nanoseconds(333_333_332), zone: "api"))
        clock.advance(by: .nanoseconds(333_333_332))
        #expect(limits.check(client, now: clock.now) == .allowed)
    }

    @Test func perMinuteRatesDrainPerMinute() throws {
        let clock = ManualClock()
        let limits = try policy(zone("6r/m"), burst: 1)
        #expect(limits.check(client, now: clock.now) == .allowed)
        #expect(limits.check(client, now: clock.now) == .allowed)
        #expect(limits.check(client, now: clock.now) == .rejected(retryAfter: .seconds(10), zone: "api"))
    }

    @Test func rejectedRequestsConsumeNothing() throws {
        let clock = ManualClock()
        let limits = try policy(zone("10r/s"), burst: 2)
        for _ in 0..<3 { _ = limits.check(client, now: clock.now) }
        for _ in 0..<1000 { _ = limits.check(client, now: clock.now) }
        clock.advance(milliseconds: 100)
        #expect(limits.check(client, now: clock.now) == .allowed)
    }

    @Test func clientsHaveSeparateBuckets() throws {
        let clock = ManualClock()
        let limits = try policy(zone("1r/s"), burst: 0)
        #expect(limits.check(client, now: clock.now) == .allowed)
        #expect(limits.check(client, now: clock.now) != .allowed)
        #expect(limits.check(other, now: clock.now) == .allowed)
    }

    @Test func manyRequestsWithinTheSameMillisecondAtAHighRateAreNotRejected() throws {
        // nginx counts whole milliseconds and rejects half of these; the rate allows all of them.
        let clock = ManualClock()
        let limits = try policy(zone("1000000r/s"), burst: 20)
        for _ in 0..<10_000 {
            clock.advance(by: .microseconds(1))
            #expect(limits.check(client, now: clock.now) == .allowed)
        }
    }

    @Test func delayAllSpacesTheBurstAtTheRate() throws {
        let clock = ManualClock()
        let limits = try policy(zone("10r/s"), burst: 3, delay: .delayAll)
        #expect(limits.check(client, now: clock.now) == .allowed)
        #expect(limits.check(client, now: clock.now) == .delayed(by: .milliseconds(100)))
        #expect(limits.check(client, now: clock.now) == .delayed(by: .milliseconds(200)))
        #expect(limits.check(client, now: clock.now) == .delayed(by: .milliseconds(300)))
        #expect(limits.check(client, now: clock.now) == .rejected(retryAfter: .milliseconds(100), zone: "api"))
        clock.advance(milliseconds: 150)
        // Half way through the next slot: its turn is 250 ms away (3 queued x 100 ms - 50 ms).
        #expect(limits.check(client, now: clock.now) == .delayed(by: .milliseconds(250)))
    }

    @Test func delayAfterServesTheFirstExcessRequestsAtOnce() throws {
        let clock = ManualClock()
        let limits = try policy(zone("10r/s"), burst: 5, delay: .delay(after: 2))
        #expect(limits.check(client, now: clock.now) == .allowed)
        #expect(limits.check(client, now: clock.now) == .allowed)
        #expect(limits.check(client, now: clock.now) == .allowed)
        #expect(limits.check(client, now: clock.now) == .delayed(by: .milliseconds(100)))
        #expect(limits.check(client, now: clock.now) == .delayed(by: .milliseconds(200)))
        #expect(limits.check(client, now: clock.now) == .delayed(by: .milliseconds(300)))
        #expect(limits.check(client, now: clock.now) == .rejected(retryAfter: .milliseconds(100), zone: "api"))
    }

    @Test func rulesWithDifferentBurstsShareOneZonesState() throws {
        // The old front charged `/` (burst 20) and `/uploads/` (burst 50) to the same `general` zone.
        let clock = ManualClock()
        let general = try zone("30r/s", name: "general")
        let root = try policy(general, burst: 20)
        let uploads = try policy(general, burst: 50)
        for _ in 0..<21 { #expect(root.check(client, now: clock.now) == .allowed) }
        #expect(root.check(client, now: clock.now) != .allowed)
        for _ in 0..<30 { #expect(uploads.check(client, now: clock.now) == .allowed) }
        #expect(uploads.check(client, now: clock.now) != .allowed)
    }

    @Test func allZonesMustPassAndARejectionChargesNone() throws {
        let clock = ManualClock()
        let wide = try zone("100r/s", name: "wide")
        let narrow = try zone("1r/s", name: "narrow")
        let both = try RateLimitPolicy([
            RateLimitRule(zone: wide, burst: 100), RateLimitRule(zone: narrow, burst: 1),
        ])
        let wideOnly = try policy(wide, burst: 1)
        #expect(both.check(client, now: clock.now) == .allowed)
        #expect(both.check(client, now: clock.now) == .allowed)
        for _ in 0..<50 {
            #expect(both.check(client, now: clock.now) == .rejected(retryAfter: .seconds(1), zone: "narrow"))
        }
        // The wide zone was charged for the two admitted requests only: 2 x 10 ms ahead, burst 1 => 10 ms wait.
        #expect(wideOnly.check(client, now: clock.now) == .rejected(retryAfter: .milliseconds(10), zone: "wide"))
    }

    @Test func multiZoneDelayIsTheLongestOfTheZones() throws {
        let clock = ManualClock()
        let fast = try zone("100r/s", name: "fast")
        let slow = try zone("10r/s", name: "slow")
        let both = try RateLimitPolicy([
            RateLimitRule(zone: fast, burst: 5, delay: .delayAll), RateLimitRule(zone: slow, burst: 5, delay: .delayAll),
        ])
        #expect(both.check(client, now: clock.now) == .allowed)
        #expect(both.check(client, now: clock.now) == .delayed(by: .milliseconds(100)))
    }

    @Test func aZoneListedTwiceIsRefused() throws {
        let api = try zone("10r/s")
        #expect(throws: LimitsError.duplicateZone) {
            try RateLimitPolicy([RateLimitRule(zone: api, burst: 1), RateLimitRule(zone: api, burst: 2)])
        }
    }

    @Test func unlimitedPolicyAllowsEverything() {
        let clock = ManualClock()
        for _ in 0..<100 { #expect(RateLimitPolicy.unlimited.check(client, now: clock.now) == .allowed) }
    }

    @Test func ipv6ClientsAggregateByTheirSlash64WhenTheZoneSaysSo() throws {
        let clock = ManualClock()
        let perNetwork = try RateLimitZone(name: "v6", rate: .perSecond(1), capacity: 64, aggregateIPv6By64: true)
        let perAddress = try RateLimitZone(name: "v6a", rate: .perSecond(1), capacity: 64)
        let first = ClientKey(parsing: "2001:db8:1:2::1")!
        let second = ClientKey(parsing: "2001:db8:1:2:ffff::9")!
        let network = try policy(perNetwork, burst: 0)
        let address = try policy(perAddress, burst: 0)
        #expect(network.check(first, now: clock.now) == .allowed)
        #expect(network.check(second, now: clock.now) != .allowed)
        #expect(address.check(first, now: clock.now) == .allowed)
        #expect(address.check(second, now: clock.now) == .allowed)
    }
}

@Suite("Rate limit clock")
struct RateLimitClockTests {
    @Test func aRequestWithAnOlderClockReadingCountsAsArrivingNow() throws {
        // A thread that read the clock, then waited for the lock, must not look like a burst.
        let zone = try RateLimitZone(name: "fast", rate: .perSecond(1_000_000), capacity: 16, shardCount: 1)
        let policy = try RateLimitPolicy([RateLimitRule(zone: zone, burst: 0)])
        let client = ClientKey(ipv4: 1)
        let start = Instant(nanoseconds: 10_000_000)
        #expect(policy.check(client, now: start.advanced(by: .microseconds(500))) == .allowed)
        // Read 500 µs earlier but counted later: it arrives at the latest time seen, 1 µs early.
        #expect(
            policy.check(client, now: start) == .rejected(retryAfter: .microseconds(1), zone: "fast"))
        #expect(policy.check(client, now: start.advanced(by: .microseconds(501))) == .allowed)
    }
}
