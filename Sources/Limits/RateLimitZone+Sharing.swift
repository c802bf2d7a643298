/// Batched sharing of a zone between edges: the zone decides every request locally, remembers
/// what it admitted, and a sync driver exchanges that with a store all edges share (Redis).
///
/// One sync round:
/// 1. ``RateLimitZone/cutSyncBatch(now:)`` takes, per client, the requests admitted here since
///    the last cut (and lists, with a count of 0, clients whose state here has not drained, so
///    they keep hearing what other edges admit).
/// 2. The store charges each count to the client's global state, as one GCRA update per client,
///    and answers how far ahead of the steady rate the client now is (``SharedZoneBatch/Reply``).
/// 3. ``RateLimitZone/merge(_:replies:now:)`` moves each client's local state forward to the
///    global one, plus what this edge admitted while the batch was away.
///
/// Local state only ever moves forward, so a merge can never let through a request the local
/// table alone would have refused. The bound on what N edges admit together is in
/// docs/SCALING.md ("How far a shared zone can over-admit").
public struct SharedZoneBatch: Sendable, Equatable {
    /// One client's part of a batch.
    public struct Entry: Sendable, Equatable {
        /// The client (already aggregated as the zone keys it).
        public var key: ClientKey
        /// Requests this edge admitted since the last cut; 0 only refreshes the client's state.
        public var admitted: UInt32

        public init(key: ClientKey, admitted: UInt32) {
            self.key = key
            self.admitted = admitted
        }
    }

    /// The store's answer for one entry: how far the client's global theoretical arrival time
    /// is ahead of the store's clock after charging the entry (0 when fully drained).
    public typealias Reply = Duration

    /// The clients, in no particular order.
    public var entries: [Entry]

    public init(entries: [Entry] = []) {
        self.entries = entries
    }

    public var isEmpty: Bool { entries.isEmpty }
    /// Admissions this batch charges (the sum of the counts).
    public var admitted: Int { entries.reduce(0) { $0 + Int($1.admitted) } }
}

extension RateLimitZone {
    /// Takes what this edge admitted since the previous cut, resetting the counts; clients whose
    /// state has drained and who were admitted nothing since are forgotten.
    ///
    /// - Parameters:
    ///   - now: the current time on the zone's clock.
    ///   - refreshingIdle: also list (with a count of 0) the clients admitted nothing since the
    ///     last cut whose state here has not drained, so they hear what other edges admitted.
    ///     The driver does this at a slower cadence than it syncs (the refresh interval in
    ///     docs/SCALING.md's bound); without it such clients only stay tracked.
    /// - Returns: the batch to send (empty for a zone that is not shared, or when nothing changed).
    public func cutSyncBatch(now: Instant, refreshingIdle: Bool = true) -> SharedZoneBatch {
        guard isShared else { return SharedZoneBatch() }
        var batch = SharedZoneBatch()
        for shard in tables.shards {
            shard.state.withLock { state in
                let now = state.monotonic(now.nanoseconds)
                state.cutPending(now: now, refreshingIdle: refreshingIdle, into: &batch.entries)
            }
        }
        return batch
    }

    /// Moves each client of `batch` forward to its global state.
    ///
    /// - Parameters:
    ///   - batch: a batch from ``cutSyncBatch(now:)``, the latest one cut.
    ///   - replies: the store's answer, one per entry in the same order.
    ///   - now: the time the answer arrived, on the zone's clock. The store's "ahead" is measured
    ///     when it ran; counting it from the later arrival errs towards refusing (by at most the
    ///     reply's trip), never towards admitting.
    public func merge(_ batch: SharedZoneBatch, replies: [SharedZoneBatch.Reply], now: Instant) {
        precondition(batch.entries.count == replies.count, "one reply per batch entry")
        for (entry, reply) in zip(batch.entries, replies) {
            let ahead = UInt64(clamping: max(0, reply.nanosecondsClamped))
            tables.shard(for: entry.key).state.withLock { state in
                let now = state.monotonic(now.nanoseconds)
                state.merge(entry.key, ahead: ahead, interval: rate.interval, now: now)
            }
        }
    }

    /// Pending counts dropped because the pending table was full (an admission the other edges
    /// never hear of): raise the zone's capacity if this grows.
    public var pendingOverflows: Int {
        tables.shards.reduce(0) { total, shard in total + shard.state.withLock { $0.pendingOverflows } }
    }

    /// The local theoretical arrival time of `client`, if tracked (for tests and simulations).
    public func arrivalTime(of client: ClientKey) -> Instant? {
        let key = client.aggregated(ipv6PrefixLength64: aggregatesIPv6By64)
        return tables.shard(for: key).state.withLock { state in
            state.table.find(key).map { Instant(nanoseconds: state.table.value(at: $0)) }
        }
    }
}

extension RateLimitZone.ShardState {
    /// Adds `admitted` to `key`'s pending count; a full pending table drops its oldest entry.
    @inline(__always)
    mutating func countPending(_ key: ClientKey, admitted: UInt32) {
        if let slot = pending.find(key) {
            let (sum, overflow) = pending.value(at: slot).addingReportingOverflow(admitted)
            pending.setValue(overflow ? .max : sum, at: slot)
            return
        }
        if pending.isFull, let oldest = pending.oldestSlot {
            if pending.value(at: oldest) > 0 { pendingOverflows += 1 }
            pending.remove(oldest)
        }
        _ = pending.insert(key, value: admitted)
    }

    mutating func cutPending(now: UInt64, refreshingIdle: Bool, into entries: inout [SharedZoneBatch.Entry]) {
        guard recordsPending else { return }
        var next = pending.oldestSlot
        while let slot = next {
            next = pending.slot(after: slot)
            let key = pending.key(at: slot)
            let admitted = pending.value(at: slot)
            if admitted > 0 {
                entries.append(.init(key: key, admitted: admitted))
                pending.setValue(0, at: slot)
            } else if !refreshingIdle {
                continue  // idle clients are refreshed (or dropped once drained) on refreshing cuts
            } else if let local = table.find(key), table.value(at: local) > now {
                entries.append(.init(key: key, admitted: 0))
            } else {
                pending.remove(slot)
            }
        }
    }

    mutating func merge(_ key: ClientKey, ahead: UInt64, interval: UInt64, now: UInt64) {
        // What this edge admitted after the batch was cut is not in the store's answer yet.
        let since = pending.find(key).map { pending.value(at: $0) } ?? 0
        let global = now &+ ahead &+ UInt64(since) &* interval
        let slot = table.find(key)
        if let slot, table.value(at: slot) >= global { return }
        store(key, slot: slot, arrival: global, now: now)
    }
}
