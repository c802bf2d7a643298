import Limits
import Synchronization

/// A clock that moves only when a test moves it, for driving ``Limits`` and anything built on it.
public final class ManualClock: Sendable {
    private let current: Mutex<Instant>

    /// - Parameter start: the first reading (an arbitrary origin, 1,000 s in by default, so that
    ///   moving back a little in a test does not clamp at zero).
    public init(start: Instant = Instant(nanoseconds: 1_000_000_000_000)) {
        current = Mutex(start)
    }

    /// The current reading.
    public var now: Instant { current.withLock { $0 } }

    /// Moves the clock forward.
    public func advance(by duration: Duration) {
        current.withLock { $0 = $0.advanced(by: duration) }
    }

    /// Moves the clock forward by whole milliseconds.
    public func advance(milliseconds: Int) {
        advance(by: .milliseconds(milliseconds))
    }
}
