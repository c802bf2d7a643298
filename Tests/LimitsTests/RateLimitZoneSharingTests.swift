import Limits
import LimitsTestUtils
import Testing

/// A shared zone's side of a sync: cutting a batch and merging the store's answer.
@Suite("Rate limit zone sharing")
struct RateLimitZoneSharingTests {
    let client = ClientKey(parsing: "192.0.2.10")!
    let other = ClientKey(parsing: "192.0.2.11")!

    func sharedPolicy(burst: Int = 5) throws -> (RateLimitZone, RateLimitPolicy) {
        let zone = try RateLimitZone(name: "api", rate: Rate(parsing: "10r/s"), capacity: 64, shared: true)
        return (zone, try RateLimitPolicy([RateLimitRule(zone: zone, burst: burst)]))
    }

    @Test func cutTakesWhatWasAdmittedAndResetsTheCounts() throws {
        let clock = ManualClock()
        let (zone, policy) = try sharedPolicy()
        for _ in 0..<3 { _ = policy.check(client, now: clock.now) }
        _ = policy.check(other, now: clock.now)
        let batch = zone.cutSyncBatch(now: clock.now)
        #expect(Set(batch.entries.map { "\($0.key)=\($0.admitted)" }) == ["192.0.2.10=3", "192.0.2.11=1"])
        // Nothing new was admitted: both are refreshes while their state has not drained.
        let next = zone.cutSyncBatch(now: clock.now)
        #expect(Set(next.entries.map { "\($0.key)=\($0.admitted)" }) == ["192.0.2.10=0", "192.0.2.11=0"])
    }

    @Test func aCutThatDoesNotRefreshSendsOnlyNewAdmissionsAndKeepsIdleClientsTracked() throws {
        let clock = ManualClock()
        let (zone, policy) = try sharedPolicy()
        for _ in 0..<3 { _ = policy.check(client, now: clock.now) }
        _ = policy.check(other, now: clock.now)
        _ = zone.cutSyncBatch(now: clock.now)
        _ = policy.check(other, now: clock.now)
        let quiet = zone.cutSyncBatch(now: clock.now, refreshingIdle: false)
        #expect(quiet.entries.map { "\($0.key)=\($0.admitted)" } == ["192.0.2.11=1"])
        // The idle client is still tracked: the next refreshing cut reads its state again.
        let refresh = zone.cutSyncBatch(now: clock.now, refreshingIdle: true)
        #expect(Set(refresh.entries.map { "\($0.key)=\($0.admitted)" }) == ["192.0.2.10=0", "192.0.2.11=0"])
    }

    @Test func aDrainedClientWithNothingNewIsForgotten() throws {
        let clock = ManualClock()
        let (zone, policy) = try sharedPolicy()
        _ = policy.check(client, now: clock.now)
        _ = zone.cutSyncBatch(now: clock.now)
        clock.advance(milliseconds: 100)  // one request at 10 r/s drains in 100 ms
        #expect(zone.cutSyncBatch(now: clock.now).isEmpty)
    }

    @Test func rejectedRequestsAreNotCounted() throws {
        let clock = ManualClock()
        let (zone, policy) = try sharedPolicy(burst: 0)
        #expect(policy.check(client, now: clock.now) == .allowed)
        #expect(policy.check(client, now: clock.now) != .allowed)
        #expect(zone.cutSyncBatch(now: clock.now).admitted == 1)
    }

    @Test func mergeMovesTheClientToItsGlobalStateAndAddsWhatCameSinceTheCut() throws {
        let clock = ManualClock()
        let (zone, policy) = try sharedPolicy()
        _ = policy.check(client, now: clock.now)
        let batch = zone.cutSyncBatch(now: clock.now)
        _ = policy.check(client, now: clock.now)  // admitted while the batch is away
        // Other edges admitted 4 more: the store says the client is 500 ms ahead.
        zone.merge(batch, replies: [.milliseconds(500)], now: clock.now)
        // 500 ms from the store + 100 ms for the request after the cut.
        #expect(zone.arrivalTime(of: client) == clock.now.advanced(by: .milliseconds(600)))
        // Burst 5 allows 500 ms ahead: the next request is refused, as on one edge with 6 admitted.
        #expect(policy.check(client, now: clock.now) == .rejected(retryAfter: .milliseconds(100), zone: "api"))
    }

    @Test func mergeNeverMovesLocalStateBack() throws {
        let clock = ManualClock()
        let (zone, policy) = try sharedPolicy()
        for _ in 0..<4 { _ = policy.check(client, now: clock.now) }
        let batch = zone.cutSyncBatch(now: clock.now)
        let before = zone.arrivalTime(of: client)
        zone.merge(batch, replies: [.milliseconds(100)], now: clock.now)
        #expect(zone.arrivalTime(of: client) == before)
    }

    @Test func aZoneThatIsNotSharedCutsNothing() throws {
        let clock = ManualClock()
        let zone = try RateLimitZone(name: "api", rate: Rate(parsing: "10r/s"), capacity: 64)
        let policy = try RateLimitPolicy([RateLimitRule(zone: zone, burst: 5)])
        _ = policy.check(client, now: clock.now)
        #expect(zone.cutSyncBatch(now: clock.now).isEmpty)
    }
}
