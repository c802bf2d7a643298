#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Limits

/// Where the edge's engine gets the time: the one time representation of the edge is
/// ``Limits/Instant`` (nanoseconds on the monotonic clock), and nothing in `Engine/` reads a
/// clock of its own. The I/O core passes `now` into every decision and turns the deadlines the
/// engine returns into its timers; tests pass a ``ManualClock``-driven `now` and fire timers by
/// hand, so no timeout test sleeps.
protocol EdgeClock: Sendable {
    /// The current time.
    func now() -> Instant
}

/// `CLOCK_MONOTONIC`, the clock the core's timing wheels count on too, so an ``Instant`` from
/// here and a loop's deadline convert one to one.
struct MonotonicClock: EdgeClock {
    @inline(__always)
    func now() -> Instant {
        var spec = timespec()
        clock_gettime(CLOCK_MONOTONIC, &spec)
        return Instant(nanoseconds: UInt64(spec.tv_sec) &* 1_000_000_000 &+ UInt64(spec.tv_nsec))
    }
}
