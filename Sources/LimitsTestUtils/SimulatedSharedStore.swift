import Limits

/// The store side of a shared zone, as the edge's Redis script computes it, in memory and on a
/// manual clock: per client a global theoretical arrival time, charged `admitted` intervals at
/// a time, expiring when drained. For simulations of several edges sharing a zone.
public struct SimulatedSharedStore: Sendable {
    private var arrivals: [ClientKey: UInt64] = [:]

    public init() {}

    /// Charges one batch at `now` (the store's clock).
    /// - Returns: one reply per entry: how far ahead of `now` the client's global state is.
    public mutating func charge(_ batch: SharedZoneBatch, interval: UInt64, now: Instant) -> [SharedZoneBatch.Reply] {
        batch.entries.map { entry in
            var arrival = arrivals[entry.key] ?? 0
            if arrival < now.nanoseconds { arrival = now.nanoseconds }
            arrival += UInt64(entry.admitted) * interval
            if arrival > now.nanoseconds {
                arrivals[entry.key] = arrival
            } else {
                arrivals[entry.key] = nil  // drained: the key's TTL has run out
            }
            return .nanoseconds(Int64(arrival - now.nanoseconds))
        }
    }

    /// The global theoretical arrival time of `client`, if it has not drained.
    public func arrivalTime(of client: ClientKey) -> Instant? {
        arrivals[client].map(Instant.init(nanoseconds:))
    }
}
