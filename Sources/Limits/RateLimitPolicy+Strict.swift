/// Strict shared zones: the store (Redis) decides each request with the same GCRA as the local
/// table, on its own clock; the edge turns its answer into nginx `limit_req`'s outcome with the
/// rule's delay policy, and keeps its local table following the store's answers so that a
/// fallback to local decisions (Redis down or slow) starts from the client's recent state.
extension RateLimitPolicy {
    /// The outcome of `rule` (a strict zone's) for a request from `client`, given the store's
    /// answer; ``SharedZoneStrictAnswer/unavailable`` decides on this edge's table.
    /// - Parameters:
    ///   - now: when the answer arrived. The store's "ahead" was measured when it ran, a little
    ///     earlier: a wait counted from now errs towards holding longer, never towards admitting.
    public static func decide(
        _ rule: RateLimitRule, client: ClientKey, answer: SharedZoneStrictAnswer, now: Instant
    ) -> RateLimitDecision {
        let zone = rule.zone
        let interval = zone.rate.interval
        let burst = UInt64(rule.burst)
        switch answer {
        case .unavailable:
            return checkLocally(rule, client: client, now: now)
        case .admitted(let ahead):
            // The store compares in microseconds; clamp a sub-microsecond excess from rounding.
            let ahead = min(UInt64(clamping: max(0, ahead.nanosecondsClamped)), burst &* interval)
            zone.follow(client, ahead: ahead &+ interval, now: now)
            switch RateLimitZone.ShardState.judge(ahead: ahead, interval: interval, burst: burst, delay: rule.delay) {
            case .pass(let wait):
                return wait == 0 ? .allowed : .delayed(by: .nanoseconds(Int64(clamping: wait)))
            case .reject:
                preconditionFailure("a clamped ahead is within the burst")
            }
        case .refused(let ahead):
            let ahead = UInt64(clamping: max(0, ahead.nanosecondsClamped))
            zone.follow(client, ahead: ahead, now: now)
            // At least a microsecond: the store refused, so the client is past its burst there.
            let retryAfter = max(ahead > burst &* interval ? ahead - burst &* interval : 0, 1000)
            return .rejected(retryAfter: .nanoseconds(Int64(clamping: retryAfter)), zone: zone.name)
        }
    }
}

extension RateLimitZone {
    /// Moves `client`'s local state forward to `ahead` of `now` (never back).
    func follow(_ client: ClientKey, ahead: UInt64, now: Instant) {
        let key = client.aggregated(ipv6PrefixLength64: aggregatesIPv6By64)
        tables.shard(for: key).state.withLock { state in
            let now = state.monotonic(now.nanoseconds)
            state.merge(key, ahead: ahead, interval: rate.interval, now: now)
        }
    }
}
