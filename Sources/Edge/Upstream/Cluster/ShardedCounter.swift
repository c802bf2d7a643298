import Synchronization

/// A count that several event loops change on every request, kept as one atomic per loop (each
/// on a cache line of its own) and summed when read: loops adding to one shared atomic moved its
/// cache line between the cores twice a request. Reads (a balancer's choice, a scrape) are rare
/// next to the writes, and a sum of relaxed loads is as current as one relaxed load was.
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

    /// The sum over every loop.
    func load() -> Int {
        var total = 0
        for slot in slots { total &+= slot.value.load(ordering: .relaxed) }
        return total
    }
}
