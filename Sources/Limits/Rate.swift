/// A steady request rate, as in nginx's `limit_req_zone ... rate=10r/s` (or `r/m`).
///
/// Kept as the interval between two requests in nanoseconds, so admission arithmetic is exact
/// for every rate that divides a second (10 r/s is exactly 100 ms) and within a nanosecond per
/// request for the rest. nginx keeps whole milliseconds on a clock cached per event-loop pass,
/// which makes it reject requests within the configured rate once several arrive in the same
/// millisecond; nanoseconds avoid that.
public struct Rate: Hashable, Sendable, CustomStringConvertible {
    /// Nanoseconds between two requests at this rate.
    public let interval: UInt64
    /// The text form the rate was given in (`10r/s`), for messages.
    public let description: String

    /// Requests per second, 1 to 1,000,000,000.
    public static func perSecond(_ requests: Int) -> Rate {
        precondition(requests > 0 && requests <= 1_000_000_000, "rate must be 1 to 1e9 requests per second")
        return Rate(interval: 1_000_000_000 / UInt64(requests), description: "\(requests)r/s")
    }

    /// Requests per minute, 1 to 60,000,000,000.
    public static func perMinute(_ requests: Int) -> Rate {
        precondition(requests > 0 && requests <= 60_000_000_000, "rate must be 1 to 6e10 requests per minute")
        return Rate(interval: 60_000_000_000 / UInt64(requests), description: "\(requests)r/m")
    }

    private init(interval: UInt64, description: String) {
        self.interval = interval
        self.description = description
    }

    /// Parses nginx's notation: `10r/s` or `600r/m`.
    /// - Throws: ``LimitsError`` naming what is wrong, for a configuration message.
    public init(parsing text: String) throws(LimitsError) {
        let (digits, unit): (Substring, Substring)
        if text.hasSuffix("r/s") {
            (digits, unit) = (text.dropLast(3), "s")
        } else if text.hasSuffix("r/m") {
            (digits, unit) = (text.dropLast(3), "m")
        } else {
            throw .invalidRate(text, reason: "expected a number followed by r/s or r/m, e.g. 10r/s")
        }
        guard !digits.isEmpty, digits.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }), let value = Int(digits) else {
            throw .invalidRate(text, reason: "the number of requests must be a whole number, e.g. 10r/s")
        }
        let maximum = unit == "s" ? 1_000_000_000 : 60_000_000_000
        guard value > 0, value <= maximum else {
            throw .invalidRate(text, reason: "the number of requests must be between 1 and \(maximum)")
        }
        self = unit == "s" ? .perSecond(value) : .perMinute(value)
    }
}
