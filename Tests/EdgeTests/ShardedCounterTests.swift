import Testing

@testable import Edge

/// Requests in flight are counted per loop and summed: the sum is right whichever loop adds
/// and whichever removes, and loops beyond the slot count share slots without losing counts.
@Suite("Sharded counter")
struct ShardedCounterTests {
    @Test func theSumCountsEveryLoopsChanges() {
        let counter = ShardedCounter()
        #expect(counter.load() == 0)
        counter.add(1, shard: 0)
        counter.add(1, shard: 1)
        counter.add(1, shard: 1)
        #expect(counter.load() == 3)
        // Ended on another loop than it started on: that slot goes below zero, the sum is right.
        counter.add(-1, shard: 2)
        #expect(counter.load() == 2)
        // A loop index past the slots shares one (modulo), still counted.
        counter.add(5, shard: ShardedCounter.slotCount + 1)
        #expect(counter.load() == 7)
        counter.add(-5, shard: 1)
        #expect(counter.load() == 2)
        // A sum read between one loop's decrement and another's increment reads zero, not less.
        counter.add(-3, shard: 3)
        #expect(counter.load() == 0)
    }

    @Test func concurrentLoopsLoseNoCounts() async {
        let counter = ShardedCounter()
        await withTaskGroup(of: Void.self) { group in
            for shard in 0..<4 {
                group.addTask {
                    for _ in 0..<10_000 { counter.add(1, shard: shard) }
                    for _ in 0..<4_000 { counter.add(-1, shard: shard) }
                }
            }
        }
        #expect(counter.load() == 24_000)
    }
}
