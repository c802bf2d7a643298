import Testing

@testable import Limits

@Suite("Bounded key table")
struct BoundedKeyTableTests {
    /// A deterministic random source, so a failure reproduces.
    struct SplitMix: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    @Test func matchesADictionaryUnderRandomInsertsAndRemovals() {
        var random = SplitMix(state: 42)
        var table = BoundedKeyTable<UInt64>(capacity: 257, placeholder: 0, seed: 7)
        var reference: [ClientKey: UInt64] = [:]
        // Few distinct keys, so that probe chains collide and deletions shift entries.
        let keys = (0..<400).map { _ in ClientKey(ipv6High: random.next() & 0xF, low: random.next() & 0x3FF) }
        for step in 0..<50_000 {
            let key = keys[Int(random.next() % UInt64(keys.count))]
            if let slot = table.find(key) {
                #expect(reference[key] == table.value(at: slot), "step \(step)")
                if random.next() % 2 == 0 {
                    table.remove(slot)
                    reference[key] = nil
                } else {
                    table.setValue(UInt64(step), at: slot)
                    reference[key] = UInt64(step)
                }
            } else {
                #expect(reference[key] == nil, "step \(step): the table lost \(key)")
                if !table.isFull {
                    _ = table.insert(key, value: UInt64(step))
                    reference[key] = UInt64(step)
                }
            }
            #expect(table.count == reference.count)
        }
        for (key, value) in reference { #expect(table.find(key).map { table.value(at: $0) } == value) }
    }

    @Test func oldestSlotFollowsLeastRecentUse() throws {
        var table = BoundedKeyTable<UInt64>(capacity: 4, placeholder: 0, seed: 1)
        let slots = (1...3).map { table.insert(ClientKey(ipv4: UInt32($0)), value: 0)! }
        #expect(table.oldestSlot == slots[0])
        table.touch(slots[0])
        #expect(table.oldestSlot == slots[1])
        table.remove(slots[1])
        #expect(table.oldestSlot == slots[2])
        #expect(table.key(at: try #require(table.oldestSlot)) == ClientKey(ipv4: 3))
    }

    @Test func aMillionDistinctClientsKeepAZoneAtItsBound() throws {
        let zone = try RateLimitZone(name: "flood", rate: .perSecond(1), capacity: 10_000, shardCount: 8)
        let policy = try RateLimitPolicy([RateLimitRule(zone: zone, burst: 5)])
        let bytesBefore = zone.allocatedBytes
        // All at the same instant: nobody drains, so every new client past the bound evicts one.
        let now = Instant(nanoseconds: 5_000_000_000)
        for address in 0..<1_000_000 {
            #expect(policy.check(ClientKey(ipv4: UInt32(address)), now: now) == .allowed)
        }
        let perShard = (10_000 + 7) / 8
        #expect(zone.trackedClients <= perShard * 8)
        #expect(zone.trackedClients >= 10_000 - 8)
        #expect(zone.evictions == 1_000_000 - zone.trackedClients)
        #expect(zone.allocatedBytes == bytesBefore)
        #expect(zone.allocatedBytes / zone.capacity <= 128)
    }

    @Test func drainedClientsAreDroppedBeforeAnyoneIsEvicted() throws {
        let zone = try RateLimitZone(name: "churn", rate: .perSecond(100), capacity: 64, shardCount: 1)
        let policy = try RateLimitPolicy([RateLimitRule(zone: zone, burst: 0)])
        var now = Instant(nanoseconds: 1_000_000_000)
        // One new client every 20 ms; each drains 10 ms after its request.
        for address in 0..<10_000 {
            #expect(policy.check(ClientKey(ipv4: UInt32(address)), now: now) == .allowed)
            now = now.advanced(by: .milliseconds(20))
        }
        #expect(zone.evictions == 0)
        #expect(zone.trackedClients <= 2)
    }

    @Test func anEvictedClientStartsWithAFreshBucket() throws {
        let zone = try RateLimitZone(name: "tiny", rate: .perSecond(1), capacity: 2, shardCount: 1)
        let policy = try RateLimitPolicy([RateLimitRule(zone: zone, burst: 0)])
        let now = Instant(nanoseconds: 1_000_000_000)
        let abuser = ClientKey(ipv4: 0xC000_0201)
        #expect(policy.check(abuser, now: now) == .allowed)
        #expect(policy.check(abuser, now: now) != .allowed)
        #expect(policy.check(ClientKey(ipv4: 1), now: now) == .allowed)
        #expect(policy.check(ClientKey(ipv4: 2), now: now) == .allowed)  // evicts the abuser
        #expect(zone.evictions == 1)
        // The documented cost of the memory bound: the abuser's state is gone.
        #expect(policy.check(abuser, now: now) == .allowed)
    }
}
