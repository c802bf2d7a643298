import Limits
import Testing

@Suite("Rate and rule settings")
struct RateSettingsTests {
    @Test(arguments: [("10r/s", 100_000_000 as UInt64), ("30r/s", 33_333_333), ("1r/m", 60_000_000_000), ("1000000r/s", 1000)])
    func parsesNginxNotation(text: String, interval: UInt64) throws {
        let rate = try Rate(parsing: text)
        #expect(rate.interval == interval)
        #expect(rate.description == text)
    }

    @Test(arguments: ["", "10", "r/s", "10 r/s", "-1r/s", "0r/s", "1.5r/s", "10r/h", "+3r/s", "2000000000r/s"])
    func refusesMalformedRates(text: String) {
        #expect(throws: LimitsError.invalidRate) { try Rate(parsing: text) }
    }

    @Test func errorMessagesNameTheValueAndTheFix() {
        do {
            _ = try Rate(parsing: "10r/h")
            Issue.record("expected an error")
        } catch {
            #expect(error.description.contains("'10r/h'"))
            #expect(error.description.contains("r/s or r/m"))
        }
    }

    @Test func refusesOutOfRangeSettings() throws {
        let zone = try RateLimitZone(name: "api", rate: .perSecond(10), capacity: 16)
        #expect(throws: LimitsError.outOfRange) { try RateLimitRule(zone: zone, burst: -1) }
        #expect(throws: LimitsError.outOfRange) { try RateLimitRule(zone: zone, burst: 3, delay: .delay(after: 4)) }
        #expect(throws: LimitsError.outOfRange) { try RateLimitZone(name: "z", rate: .perSecond(1), capacity: 0) }
        #expect(throws: LimitsError.outOfRange) { try RateLimitZone(name: "z", rate: .perSecond(1), capacity: 8, shardCount: 3) }
        #expect(throws: LimitsError.outOfRange) { try ConnectionLimiter(limit: 0) }
    }
}
