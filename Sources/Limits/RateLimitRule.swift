/// One zone applied to a class of requests with a burst and a delay policy, as nginx's
/// `limit_req zone=api burst=10 nodelay` in a location.
///
/// The burst belongs to the rule, not the zone: the HomeRack front charged `/` and `/uploads/`
/// to the same `general` zone with bursts of 20 and 50. A rule lets `burst + 1` requests through
/// at once from a drained client, then one per ``Rate/interval``.
public struct RateLimitRule: Sendable {
    /// The zone whose per-client state this rule charges.
    public let zone: RateLimitZone
    /// Excess requests allowed beyond the steady rate.
    public let burst: Int
    /// What happens to requests within the burst.
    public let delay: DelayPolicy

    /// - Parameters:
    ///   - zone: the zone to charge.
    ///   - burst: excess requests allowed (0 to 1,000,000).
    ///   - delay: the delay policy; `delay(after:)` takes 0 to `burst`.
    /// - Throws: ``LimitsError`` when burst or delay is out of range.
    public init(zone: RateLimitZone, burst: Int, delay: DelayPolicy = .nodelay) throws(LimitsError) {
        try requireRange("burst of zone '\(zone.name)'", burst, 0...1_000_000)
        if case .delay(let after) = delay {
            try requireRange("delay of zone '\(zone.name)'", after, 0...burst)
        }
        self.zone = zone
        self.burst = burst
        self.delay = delay
    }
}
