import Synchronization

/// A count that several event loops change on every request, kept as one atomic per loop (each
/// on a cache line of its own) and summed when read: loops adding to one shared atomic moved its
/// cache line between the cores twice a request. A read (a `least_conn` choice, a scrape) is a
/// handful of relaxed loads, and their sum is as approximate as one relaxed load of a count
/// other loops change was.
final class ShardedCounter: Sendable {
    /// An atomic padded past a cache line: two of them, allocated apart, never share one.
    final class Slot: Sendable {
        let value = Atomic<Int>(0)
        private let padding: (Int, Int, Int, Int, Int, Int, Int, Int) = (0, 0, 0, 0, 0, 0, 0, 0)
    }

    /// Loops beyond this many share slots (index modulo the count): still correct, less apart.
    static let slotCount = 8
    private let slots: [Slot]

    init() {
        slots = (0..<Self.slotCount).map { _ in Slot() }
    }

    /// Adds `delta` in loop `shard`'s slot.
    func add(_ delta: Int, shard: Int) {
        slots[shard & (Self.slotCount - 1)].value.add(delta, ordering: .relaxed)
    }

    /// The sum over every loop (never below zero: a slot read before another loop's matching
    /// change could make a moment's sum negative).
    func load() -> Int {
        var total = 0
        for slot in slots { total &+= slot.value.load(ordering: .relaxed) }
        return max(0, total)
    }
}
