/// The outcome of one request against a ``RateLimitPolicy``.
public enum RateLimitDecision: Hashable, Sendable {
    /// Within the rate: serve it now.
    case allowed
    /// Within the burst, but the rule holds it: serve it after `by` (the request is already counted).
    case delayed(by: Duration)
    /// Over the burst of `zone`: refuse it. Nothing was counted in any zone; the same request
    /// would pass after `retryAfter` (exact, to the nanosecond) if nothing else arrives.
    case rejected(retryAfter: Duration, zone: String)
}
