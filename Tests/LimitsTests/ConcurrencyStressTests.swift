import Dispatch
import Limits
import Synchronization
import Testing

/// Many threads at once against shared limiters: the totals must come out exact.
@Suite("Concurrency")
struct ConcurrencyStressTests {
    static let threads = 8

    @Test func aHotKeyAdmitsExactlyBurstPlusOneAcrossThreads() throws {
        let zone = try RateLimitZone(name: "hot", rate: .perMinute(1), capacity: 1024)
        let policy = try RateLimitPolicy([RateLimitRule(zone: zone, burst: 9_999)])
        let allowed = Atomic<Int>(0)
        let now = Instant(nanoseconds: 1_000_000_000)
        let key = ClientKey(ipv4: 0x7F00_0001)
        DispatchQueue.concurrentPerform(iterations: Self.threads) { _ in
            var mine = 0
            for _ in 0..<5_000 where policy.check(key, now: now) == .allowed { mine += 1 }
            allowed.add(mine, ordering: .relaxed)
        }
        #expect(allowed.load(ordering: .relaxed) == 10_000)
    }

    @Test func manyKeysAcrossThreadsAreEachChargedExactly() throws {
        let zone = try RateLimitZone(name: "many", rate: .perMinute(1), capacity: 4096)
        let policy = try RateLimitPolicy([RateLimitRule(zone: zone, burst: 4)])
        let allowed = Atomic<Int>(0)
        let now = Instant(nanoseconds: 1_000_000_000)
        // Every thread sends 10 requests for each of 1,000 keys: 5 of each key's 80 pass.
        DispatchQueue.concurrentPerform(iterations: Self.threads) { thread in
            var mine = 0
            for round in 0..<10 {
                for index in 0..<1_000 {
                    let key = ClientKey(ipv4: UInt32((index + thread * 7 + round) % 1_000))
                    if policy.check(key, now: now) == .allowed { mine += 1 }
                }
            }
            allowed.add(mine, ordering: .relaxed)
        }
        #expect(allowed.load(ordering: .relaxed) == 5_000)
        #expect(zone.evictions == 0)
    }

    @Test func multiZoneAdmissionStaysAllOrNothingUnderContention() throws {
        let first = try RateLimitZone(name: "first", rate: .perMinute(1), capacity: 64, shardCount: 1)
        let second = try RateLimitZone(name: "second", rate: .perMinute(1), capacity: 64, shardCount: 1)
        let both = try RateLimitPolicy([RateLimitRule(zone: first, burst: 999), RateLimitRule(zone: second, burst: 499)])
        // The reversed list must lock in the same order, or the two policies could deadlock.
        let reversed = try RateLimitPolicy([RateLimitRule(zone: second, burst: 499), RateLimitRule(zone: first, burst: 999)])
        let firstOnly = try RateLimitPolicy([RateLimitRule(zone: first, burst: 999)])
        let allowed = Atomic<Int>(0)
        let now = Instant(nanoseconds: 1_000_000_000)
        let key = ClientKey(ipv4: 42)
        DispatchQueue.concurrentPerform(iterations: Self.threads) { thread in
            var mine = 0
            for _ in 0..<2_000 where (thread % 2 == 0 ? both : reversed).check(key, now: now) == .allowed {
                mine += 1
            }
            allowed.add(mine, ordering: .relaxed)
        }
        #expect(allowed.load(ordering: .relaxed) == 500)
        // `first` was charged for exactly those 500: 500 of its 1,000 remain.
        var rest = 0
        for _ in 0..<1_000 where firstOnly.check(key, now: now) == .allowed { rest += 1 }
        #expect(rest == 500)
    }

    @Test func connectionCountsNeverExceedTheLimitAndEndAtZero() throws {
        let limiter = try ConnectionLimiter(limit: 10, capacity: 1024)
        let keys = (0..<4).map { ClientKey(ipv4: UInt32($0)) }
        let overLimit = Atomic<Int>(0)
        let granted = Atomic<Int>(0)
        DispatchQueue.concurrentPerform(iterations: Self.threads) { thread in
            var held: [ConnectionLease] = []
            for step in 0..<20_000 {
                let key = keys[(thread + step) % keys.count]
                if case .acquired(let lease) = limiter.acquire(key) {
                    granted.add(1, ordering: .relaxed)
                    if limiter.openConnections(for: key) > 10 { overLimit.add(1, ordering: .relaxed) }
                    held.append(lease)
                }
                if held.count > 3 || step % 3 == 0, !held.isEmpty {
                    let lease = held.removeFirst()
                    lease.release()
                    lease.release()  // a second close path must not free another slot
                }
            }
            held.forEach { $0.release() }
        }
        #expect(overLimit.load(ordering: .relaxed) == 0)
        #expect(granted.load(ordering: .relaxed) > 0)
        for key in keys { #expect(limiter.openConnections(for: key) == 0) }
        #expect(limiter.trackedClients == 0)
    }
}
