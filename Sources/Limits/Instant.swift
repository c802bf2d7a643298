/// A point on a monotonic clock, in nanoseconds from an origin the caller chooses.
///
/// `Limits` never reads a clock: every decision takes `now` as an ``Instant``, so the
/// same logic runs under a real clock in the edge (`NIODeadline.now().uptimeNanoseconds`)
/// and under a manual one in tests. Instants from different origins must not be mixed.
public struct Instant: Hashable, Comparable, Sendable {
    /// Nanoseconds since the clock's origin.
    public var nanoseconds: UInt64

    /// - Parameter nanoseconds: nanoseconds since the clock's origin.
    @inlinable
    public init(nanoseconds: UInt64) {
        self.nanoseconds = nanoseconds
    }

    /// The instant `duration` after this one; negative durations move back (not below the origin).
    @inlinable
    public func advanced(by duration: Duration) -> Instant {
        let delta = duration.nanosecondsClamped
        if delta >= 0 {
            let (sum, overflow) = nanoseconds.addingReportingOverflow(UInt64(delta))
            return Instant(nanoseconds: overflow ? .max : sum)
        }
        let back = delta.magnitude
        return Instant(nanoseconds: nanoseconds > back ? nanoseconds - back : 0)
    }

    /// The time from `earlier` to this instant, zero when `earlier` is later.
    @inlinable
    public func duration(since earlier: Instant) -> Duration {
        nanoseconds > earlier.nanoseconds ? .nanoseconds(Int64(clamping: nanoseconds - earlier.nanoseconds)) : .zero
    }

    @inlinable
    public static func < (lhs: Instant, rhs: Instant) -> Bool {
        lhs.nanoseconds < rhs.nanoseconds
    }
}

extension Duration {
    /// This duration in whole nanoseconds, clamped to `Int64` (clocks and timers count in those).
    public var nanosecondsClamped: Int64 {
        let (seconds, attoseconds) = components
        let (fromSeconds, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        if overflow { return seconds < 0 ? .min : .max }
        let (total, overflow2) = fromSeconds.addingReportingOverflow(attoseconds / 1_000_000_000)
        if overflow2 { return seconds < 0 ? .min : .max }
        return total
    }

    /// This duration in whole milliseconds, 0 for a negative one (the I/O core's timers count
    /// in those).
    public var wholeMilliseconds: UInt64 { UInt64(max(0, nanosecondsClamped) / 1_000_000) }
}
