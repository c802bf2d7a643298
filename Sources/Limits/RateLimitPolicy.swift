/// The rate limits that apply to one class of requests: every rule must pass, and a request one
/// of them refuses is charged to none of them.
///
/// All-or-nothing needs every involved zone's shard locked at once. The rules are kept sorted
/// by zone identity, so any two policies lock shared zones in the same order and cannot
/// deadlock; a policy with one rule (the common case) takes one lock.
public struct RateLimitPolicy: Sendable {
    /// The rules, in lock order.
    public let rules: [RateLimitRule]
    /// The rules this edge decides itself (every rule but those of strict zones), in lock order.
    public let localRules: [RateLimitRule]
    /// The rules of strict zones, whose store decides each request (``decide(_:client:answer:now:)``).
    public let strictRules: [RateLimitRule]

    /// - Parameter rules: the rules; each zone at most once.
    /// - Throws: ``LimitsError/duplicateZone(_:)`` when a zone appears twice.
    public init(_ rules: [RateLimitRule]) throws(LimitsError) {
        let sorted = rules.sorted { ObjectIdentifier($0.zone) < ObjectIdentifier($1.zone) }
        for (first, second) in zip(sorted, sorted.dropFirst()) where first.zone === second.zone {
            throw .duplicateZone(first.zone.name)
        }
        self.rules = sorted
        let strict = sorted.filter { $0.zone.isStrict }
        self.strictRules = strict
        self.localRules = strict.isEmpty ? sorted : sorted.filter { !$0.zone.isStrict }
    }

    /// No limits: every request is allowed.
    public static let unlimited = try! RateLimitPolicy([])

    /// Decides a request from `client` at `now` by the rules this edge decides itself (all of
    /// them but strict zones', which ask their store: ``strictRules``), and counts it if it is
    /// not rejected.
    /// - Parameters:
    ///   - client: the client's address (each zone applies its own IPv6 aggregation).
    ///   - now: the current time on the caller's monotonic clock.
    /// - Returns: allowed, delayed by the longest delay any rule asks for, or rejected by the
    ///   first rule (in lock order) that refuses.
    public func check(_ client: ClientKey, now: Instant) -> RateLimitDecision {
        Self.check(localRules, from: 0, client: client, now: now.nanoseconds, delay: 0)
    }

    /// Decides a request by one rule alone on this edge's table (a strict zone's rule while
    /// its store does not answer).
    public static func checkLocally(_ rule: RateLimitRule, client: ClientKey, now: Instant) -> RateLimitDecision {
        check([rule], from: 0, client: client, now: now.nanoseconds, delay: 0)
    }

    /// Evaluates rule `index` under its shard lock, recurses into the rest with the lock held,
    /// and commits only when everything after it passed too.
    static func check(
        _ rules: [RateLimitRule], from index: Int, client: ClientKey, now: UInt64, delay: UInt64
    ) -> RateLimitDecision {
        guard index < rules.count else {
            return delay == 0 ? .allowed : .delayed(by: .nanoseconds(Int64(clamping: delay)))
        }
        let rule = rules[index]
        let zone = rule.zone
        let key = client.aggregated(ipv6PrefixLength64: zone.aggregatesIPv6By64)
        return zone.tables.shard(for: key).state.withLock { state -> RateLimitDecision in
            let now = state.monotonic(now)
            switch state.evaluate(
                key, interval: zone.rate.interval, burst: UInt64(rule.burst), delay: rule.delay, now: now)
            {
            case .reject(let retryAfter):
                return .rejected(retryAfter: .nanoseconds(Int64(clamping: retryAfter)), zone: zone.name)
            case .pass(let slot, let newArrival, let wait):
                let rest = check(rules, from: index + 1, client: client, now: now, delay: max(delay, wait))
                if case .rejected = rest { return rest }
                state.commit(key, slot: slot, newArrival: newArrival, now: now)
                return rest
            }
        }
    }
}
