import Synchronization

/// A ``BoundedKeyTable`` split into independently locked shards, chosen by the key's hash.
///
/// Every event loop calls the limiters for every request; one lock for all of them would make
/// the cores queue behind each other. With shards, two threads contend only when their keys
/// land in the same shard, and a hot key costs one uncontended lock and one probe.
final class ShardedTables<State: Sendable>: Sendable {
    /// One shard: a table and whatever bookkeeping the limiter keeps beside it, under one lock.
    final class Shard: Sendable {
        let state: Mutex<State>
        init(_ state: sending State) { self.state = Mutex(state) }
    }

    let shards: [Shard]
    private let shardShift: UInt64
    let seed: UInt64

    /// - Parameters:
    ///   - shardCount: a power of two from 1 to 1024.
    ///   - seed: the hashing seed; also the tables' seed.
    ///   - make: builds the state of one shard.
    init(shardCount: Int, seed: UInt64, make: (Int) -> State) {
        precondition(shardCount >= 1 && shardCount <= 1024 && shardCount & (shardCount - 1) == 0)
        shards = (0..<shardCount).map { Shard(make($0)) }
        shardShift = UInt64(64 - shardCount.trailingZeroBitCount)
        self.seed = seed
    }

    /// The shard that owns `key` (high bits of the hash, so the tables' index uses other bits).
    @inline(__always)
    func shard(for key: ClientKey) -> Shard {
        if shards.count == 1 { return shards[0] }
        let hash = BoundedKeyTable<UInt8>.hash(key, seed: seed)
        return shards[Int(truncatingIfNeeded: hash >> shardShift)]
    }

    /// Splits `capacity` over `shardCount` shards, at least one key each.
    static func perShardCapacity(_ capacity: Int, shardCount: Int) -> Int {
        max(1, (capacity + shardCount - 1) / shardCount)
    }
}
