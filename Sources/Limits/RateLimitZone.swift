import Synchronization

/// The shared per-client state of one rate, as nginx's `limit_req_zone`: a steady rate, and room
/// for at most `capacity` clients.
///
/// Each client's state is one number, the theoretical arrival time (TAT) of its next request at
/// the steady rate (the generic cell rate algorithm, which is the leaky bucket nginx runs, kept
/// in nanoseconds). A client whose TAT has passed has fully drained: it is the same as a client
/// never seen, so such entries are dropped as new clients arrive (up to two per arrival, oldest
/// first, as nginx does).
///
/// **Memory bound and eviction.** The table is allocated up front for `capacity` clients. When
/// it is full and the least recently used client has not drained, that client is evicted: if it
/// was an abuser it starts again with a full burst when it returns. That costs at most one burst
/// per eviction, and only when more than `capacity` clients are active at once; the alternative,
/// memory that grows with the number of addresses an attacker can send from, would let a flood
/// of spoofed or rotated IPv6 addresses take the whole edge down. ``evictions`` counts these so
/// an operator can raise the capacity.
public final class RateLimitZone: Sendable {
    /// The zone's name, for messages, metrics and lock ordering.
    public let name: String
    /// The steady rate every client's bucket drains at.
    public let rate: Rate
    /// How many clients the zone tracks at most.
    public let capacity: Int
    /// Whether IPv6 clients are keyed by their /64 network instead of their full address.
    public let aggregatesIPv6By64: Bool
    /// Whether the zone records what it admits for a ``SharedZoneSyncStateMachine`` to
    /// reconcile with other edges (see `RateLimitZone+Sharing.swift`).
    public let isShared: Bool
    /// Strict sharing: the store decides each request (``strictQueue``); the local table decides
    /// only while the store does not answer, and follows the store's answers in between.
    public var isStrict: Bool { strictQueue != nil }
    /// Where a strict zone's requests wait for the store (`nil` in any other zone).
    public let strictQueue: SharedZoneStrictQueue?

    struct ShardState: Sendable {
        var table: BoundedKeyTable<UInt64>
        var evictions = 0
        /// Shared zones only: per client, the requests admitted here since the last sync batch
        /// was cut (0 for a client kept only to refresh its state from the other edges). A
        /// one-entry table, unused, in a zone that is not shared.
        var pending: BoundedKeyTable<UInt32>
        let recordsPending: Bool
        /// Pending counts lost because the pending table was full (each an admission the other
        /// edges never hear of).
        var pendingOverflows = 0
        /// The latest `now` this shard has seen. Callers read their clock before taking the
        /// lock, so a thread preempted in between arrives with a time older than one already
        /// counted; such a request is taken to arrive at this latest time (nginx likewise treats
        /// a negative elapsed time as zero) instead of looking like a burst.
        var latest: UInt64 = 0

        /// `now`, never earlier than a time this shard already counted.
        @inline(__always)
        mutating func monotonic(_ now: UInt64) -> UInt64 {
            if now > latest { latest = now }
            return latest
        }
    }

    let tables: ShardedTables<ShardState>

    /// - Parameters:
    ///   - name: the zone's name (`api`, `general`).
    ///   - rate: the steady rate per client.
    ///   - capacity: clients tracked at most (1 to 100,000,000); memory is allocated for all of them now.
    ///   - shardCount: independently locked parts (a power of two, 1 to 1024); more shards, less contention.
    ///   - aggregateIPv6By64: key IPv6 clients by their /64 network.
    ///   - hashSeed: seed for the key hash; pass a random one in production so that clients cannot
    ///     choose addresses that collide.
    ///   - shared: record admissions for reconciling with other edges (allocates a second table
    ///     of `capacity` pending counts).
    ///   - strict: have the store decide each request (a strict shared zone; not with `shared`).
    /// - Throws: ``LimitsError`` when capacity or shard count is out of range.
    public init(
        name: String, rate: Rate, capacity: Int, shardCount: Int = 16, aggregateIPv6By64: Bool = false,
        hashSeed: UInt64 = 0, shared: Bool = false, strict: Bool = false
    ) throws(LimitsError) {
        precondition(!(shared && strict), "a zone is shared in batched mode or in strict mode, not both")
        try requireRange("zone '\(name)' capacity", capacity, 1...100_000_000)
        try requireRange("zone '\(name)' shard count", shardCount, 1...1024)
        guard shardCount & (shardCount - 1) == 0 else {
            throw .outOfRange(setting: "zone '\(name)' shard count (a power of two)", value: shardCount, allowed: 1...1024)
        }
        self.name = name
        self.rate = rate
        self.capacity = capacity
        self.aggregatesIPv6By64 = aggregateIPv6By64
        self.isShared = shared
        self.strictQueue = strict ? SharedZoneStrictQueue() : nil
        let perShard = ShardedTables<ShardState>.perShardCapacity(capacity, shardCount: shardCount)
        tables = ShardedTables(shardCount: shardCount, seed: hashSeed) { _ in
            ShardState(
                table: BoundedKeyTable(capacity: perShard, placeholder: 0, seed: hashSeed),
                pending: BoundedKeyTable(capacity: shared ? perShard : 1, placeholder: 0, seed: hashSeed),
                recordsPending: shared)
        }
    }

    /// Clients currently tracked (including drained ones not yet dropped).
    public var trackedClients: Int {
        tables.shards.reduce(0) { total, shard in total + shard.state.withLock { $0.table.count } }
    }

    /// Clients evicted before they had drained, because the zone was full.
    public var evictions: Int {
        tables.shards.reduce(0) { total, shard in total + shard.state.withLock { $0.evictions } }
    }

    /// Bytes allocated for the zone's tables.
    public var allocatedBytes: Int {
        tables.shards.reduce(0) { total, shard in total + shard.state.withLock { $0.table.allocatedBytes } }
    }
}

extension RateLimitZone.ShardState {
    /// What one rule would do with a request at `now`, without changing anything.
    enum Evaluation {
        case pass(slot: BoundedKeyTable<UInt64>.Slot?, newArrival: UInt64, delay: UInt64)
        case reject(retryAfter: UInt64)
    }

    @inline(__always)
    func evaluate(_ key: ClientKey, interval: UInt64, burst: UInt64, delay: DelayPolicy, now: UInt64) -> Evaluation {
        let slot = table.find(key)
        let arrival = slot.map { table.value(at: $0) } ?? 0
        let start = max(arrival, now)
        // How far ahead of the steady rate this client already is: (queued requests) x interval.
        switch Self.judge(ahead: start - now, interval: interval, burst: burst, delay: delay) {
        case .reject(let retryAfter): return .reject(retryAfter: retryAfter)
        case .pass(let wait): return .pass(slot: slot, newArrival: start &+ interval, delay: wait)
        }
    }

    /// nginx `limit_req`'s verdict for a client `ahead` nanoseconds ahead of the steady rate:
    /// refused beyond `burst` intervals (with the exact wait until it would pass), else passed
    /// after the wait its delay policy asks for. One formula for local decisions and for the
    /// answers of a strict shared zone's store.
    @inline(__always)
    static func judge(ahead: UInt64, interval: UInt64, burst: UInt64, delay: DelayPolicy) -> Judgement {
        let tolerance = burst &* interval
        if ahead > tolerance {
            return .reject(retryAfter: ahead - tolerance)
        }
        switch delay {
        case .nodelay:
            return .pass(wait: 0)
        case .delayAll:
            return .pass(wait: ahead)
        case .delay(let after):
            let free = UInt64(after) &* interval
            return .pass(wait: ahead > free ? ahead - free : 0)
        }
    }

    enum Judgement {
        case pass(wait: UInt64)
        case reject(retryAfter: UInt64)
    }

    /// Records an admitted request.
    @inline(__always)
    mutating func commit(_ key: ClientKey, slot: BoundedKeyTable<UInt64>.Slot?, newArrival: UInt64, now: UInt64) {
        if recordsPending { countPending(key, admitted: 1) }
        store(key, slot: slot, arrival: newArrival, now: now)
    }

    /// Sets `key`'s arrival time, inserting it (and making room) when it is not in the table.
    @inline(__always)
    mutating func store(_ key: ClientKey, slot: BoundedKeyTable<UInt64>.Slot?, arrival newArrival: UInt64, now: UInt64) {
        if let slot {
            table.setValue(newArrival, at: slot)
            table.touch(slot)
            return
        }
        // Drop up to two drained clients from the old end, then make room if still full.
        for _ in 0..<2 {
            guard let oldest = table.oldestSlot, table.value(at: oldest) <= now else { break }
            table.remove(oldest)
        }
        if table.isFull, let oldest = table.oldestSlot {
            table.remove(oldest)
            evictions += 1
        }
        _ = table.insert(key, value: newArrival)
    }
}
