import Synchronization

/// A per-client cap on concurrent connections (or HTTP/2 streams), as nginx's `limit_conn`.
///
/// ``acquire(_:)`` hands out a ``ConnectionLease`` that must be held for as long as the
/// connection lives; the count goes down when the lease is released, exactly once, whichever
/// path closes the connection (a normal close, an error, a timeout, or the lease simply being
/// dropped). Clients with no open connection take no room: their entry is removed when the
/// count reaches zero, so ``capacity`` bounds only clients connected at the same moment. When
/// that many are connected, new clients are refused (``ConnectionLimitRejection/tableFull``)
/// rather than let in uncounted.
public final class ConnectionLimiter: Sendable {
    /// How many clients can hold connections at once.
    public let capacity: Int
    /// Whether IPv6 clients are keyed by their /64 network.
    public let aggregatesIPv6By64: Bool
    private let currentLimit: Atomic<Int>
    let tables: ShardedTables<BoundedKeyTable<UInt32>>

    /// - Parameters:
    ///   - limit: connections per client (1 to 1,000,000); nginx's front used 10.
    ///   - capacity: clients with open connections at once (1 to 100,000,000), allocated now.
    ///   - shardCount: independently locked parts (a power of two, 1 to 1024).
    ///   - aggregateIPv6By64: key IPv6 clients by their /64 network.
    ///   - hashSeed: seed for the key hash; pass a random one in production.
    /// - Throws: ``LimitsError`` when a setting is out of range.
    public init(
        limit: Int = 10, capacity: Int = 65_536, shardCount: Int = 16, aggregateIPv6By64: Bool = false,
        hashSeed: UInt64 = 0
    ) throws(LimitsError) {
        try requireRange("connection limit", limit, 1...1_000_000)
        try requireRange("connection limiter capacity", capacity, 1...100_000_000)
        try requireRange("connection limiter shard count", shardCount, 1...1024)
        guard shardCount & (shardCount - 1) == 0 else {
            throw .outOfRange(setting: "connection limiter shard count (a power of two)", value: shardCount, allowed: 1...1024)
        }
        self.capacity = capacity
        self.aggregatesIPv6By64 = aggregateIPv6By64
        self.currentLimit = Atomic(limit)
        let perShard = ShardedTables<BoundedKeyTable<UInt32>>.perShardCapacity(capacity, shardCount: shardCount)
        tables = ShardedTables(shardCount: shardCount, seed: hashSeed) { _ in
            BoundedKeyTable(capacity: perShard, placeholder: 0, seed: hashSeed)
        }
    }

    /// Connections allowed per client. A configuration reload changes it in place, so the
    /// connections already open keep counting.
    public var limit: Int { currentLimit.load(ordering: .relaxed) }

    /// Changes the per-client limit; clients already above it keep their connections but get no new one.
    /// - Throws: ``LimitsError`` when `limit` is out of range.
    public func setLimit(_ limit: Int) throws(LimitsError) {
        try requireRange("connection limit", limit, 1...1_000_000)
        currentLimit.store(limit, ordering: .relaxed)
    }

    /// Counts a new connection from `client`, if it is within the limit.
    /// - Returns: a lease to release when the connection closes, or why it was refused.
    public func acquire(_ client: ClientKey) -> ConnectionLimitDecision {
        let key = client.aggregated(ipv6PrefixLength64: aggregatesIPv6By64)
        let limit = UInt32(self.limit)
        let outcome: ConnectionLimitRejection? = tables.shard(for: key).state.withLock { table in
            if let slot = table.find(key) {
                let open = table.value(at: slot)
                guard open < limit else { return .perClientLimit(Int(limit)) }
                table.setValue(open + 1, at: slot)
                return nil
            }
            return table.insert(key, value: 1) == nil ? .tableFull : nil
        }
        if let outcome { return .rejected(outcome) }
        return .acquired(ConnectionLease(limiter: self, key: key))
    }

    /// Connections `client` holds now.
    public func openConnections(for client: ClientKey) -> Int {
        let key = client.aggregated(ipv6PrefixLength64: aggregatesIPv6By64)
        return tables.shard(for: key).state.withLock { table in table.find(key).map { Int(table.value(at: $0)) } ?? 0 }
    }

    /// Clients that hold at least one connection.
    public var trackedClients: Int {
        tables.shards.reduce(0) { total, shard in total + shard.state.withLock { $0.count } }
    }

    /// Called by a lease, once.
    fileprivate func release(_ key: ClientKey) {
        tables.shard(for: key).state.withLock { table in
            guard let slot = table.find(key) else {
                preconditionFailure("connection lease released for \(key), which holds no connection")
            }
            let open = table.value(at: slot)
            if open <= 1 { table.remove(slot) } else { table.setValue(open - 1, at: slot) }
        }
    }
}

/// Why a connection was refused.
public enum ConnectionLimitRejection: Hashable, Sendable {
    /// The client already holds `limit` connections.
    case perClientLimit(Int)
    /// As many clients as the limiter has room for hold connections already.
    case tableFull
}

/// The outcome of ``ConnectionLimiter/acquire(_:)``.
public enum ConnectionLimitDecision: Sendable {
    /// Counted; release the lease when the connection closes.
    case acquired(ConnectionLease)
    /// Not counted; close the connection (or answer 503/429 on it).
    case rejected(ConnectionLimitRejection)
}

/// One counted connection. Releasing it gives the slot back; only the first release counts, and
/// a lease that is dropped unreleased releases itself, so no path can leak or double-free a slot.
public final class ConnectionLease: Sendable {
    private let limiter: ConnectionLimiter
    private let key: ClientKey
    private let released = Atomic<Bool>(false)

    fileprivate init(limiter: ConnectionLimiter, key: ClientKey) {
        self.limiter = limiter
        self.key = key
    }

    /// Gives the slot back.
    /// - Returns: `true` the first time, `false` on every later call (which does nothing).
    @discardableResult
    public func release() -> Bool {
        guard released.compareExchange(expected: false, desired: true, ordering: .acquiringAndReleasing).exchanged
        else { return false }
        limiter.release(key)
        return true
    }

    /// Whether the slot has been given back.
    public var isReleased: Bool { released.load(ordering: .acquiring) }

    deinit { release() }
}
