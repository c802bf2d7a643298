import EdgeIO
import Limits
import Testing

@testable import Edge

@Suite("Server health")
struct ServerHealthTests {
    /// Monotonic nanoseconds `seconds` after an arbitrary start (not zero, as a real clock).
    static func at(_ seconds: Double) -> Instant { Instant(nanoseconds: 5_000_000_000_000 + UInt64(seconds * 1e9)) }
    static let tenSeconds: Duration = .seconds(10)

    // MARK: Passive (max_fails / fail_timeout)

    @Test func maxFailsWithinFailTimeoutTakesTheServerOut() {
        var health = ServerHealth(maxFails: 3, failTimeout: Self.tenSeconds)
        health.requestFailed(now: Self.at(0))
        health.requestFailed(now: Self.at(1))
        #expect(health.isAvailable(now: Self.at(1.5)), "two failures of three")
        health.requestFailed(now: Self.at(2))
        #expect(!health.isAvailable(now: Self.at(2)))
        #expect(!health.isAvailable(now: Self.at(11.9)))
    }

    @Test func serverComesBackAfterFailTimeout() {
        var health = ServerHealth(maxFails: 1, failTimeout: Self.tenSeconds)
        health.requestFailed(now: Self.at(0))
        #expect(!health.isAvailable(now: Self.at(9.999)))
        #expect(health.isAvailable(now: Self.at(10)))
        #expect(health.isAvailable(now: Self.at(60)))
    }

    @Test func failedProbeRequestAfterFailTimeoutTakesItOutAgain() {
        var health = ServerHealth(maxFails: 1, failTimeout: Self.tenSeconds)
        health.requestFailed(now: Self.at(0))
        health.requestFailed(now: Self.at(10))
        #expect(!health.isAvailable(now: Self.at(15)))
        #expect(health.isAvailable(now: Self.at(20)))
    }

    @Test func failuresSpreadWiderThanFailTimeoutDoNotAddUp() {
        var health = ServerHealth(maxFails: 3, failTimeout: Self.tenSeconds)
        health.requestFailed(now: Self.at(0))
        health.requestFailed(now: Self.at(6))
        health.requestFailed(now: Self.at(12))  // the window from 0 has passed: this starts a new count
        #expect(health.isAvailable(now: Self.at(12)))
        health.requestFailed(now: Self.at(13))
        health.requestFailed(now: Self.at(14))
        #expect(!health.isAvailable(now: Self.at(14)))
    }

    @Test func successClearsTheFailureCount() {
        var health = ServerHealth(maxFails: 2, failTimeout: Self.tenSeconds)
        health.requestFailed(now: Self.at(0))
        health.requestSucceeded()
        health.requestFailed(now: Self.at(1))
        #expect(health.isAvailable(now: Self.at(1)))
        health.requestFailed(now: Self.at(2))
        #expect(!health.isAvailable(now: Self.at(2)))
    }

    @Test func maxFailsZeroNeverTakesTheServerOut() {
        var health = ServerHealth(maxFails: 0, failTimeout: Self.tenSeconds)
        for second in 0..<100 { health.requestFailed(now: Self.at(Double(second) / 10)) }
        #expect(health.isAvailable(now: Self.at(10)))
    }

    // MARK: Active (rise / fall)

    @Test func fallConsecutiveFailedProbesTakeTheServerOut() {
        var health = ServerHealth(maxFails: 1, failTimeout: Self.tenSeconds, rise: 2, fall: 3)
        #expect(health.isAvailable(now: Self.at(0)), "a checked server starts in")
        let firstFailureChanged = health.probed(healthy: false)
        #expect(!firstFailureChanged)
        let secondFailureChanged = health.probed(healthy: false)
        #expect(!secondFailureChanged)
        #expect(health.isAvailable(now: Self.at(0)))
        let thirdFailureChanged = health.probed(healthy: false)
        #expect(thirdFailureChanged, "the third failure changes the state")
        #expect(!health.isAvailable(now: Self.at(0)))
        #expect(!health.isAvailable(now: Self.at(3_600)), "active down does not time out")
    }

    @Test func riseConsecutiveHealthyProbesBringItBack() {
        var health = ServerHealth(maxFails: 1, failTimeout: Self.tenSeconds, rise: 2, fall: 1)
        health.probed(healthy: false)
        #expect(!health.isAvailable(now: Self.at(0)))
        let firstSuccessChanged = health.probed(healthy: true)
        #expect(!firstSuccessChanged)
        #expect(!health.isAvailable(now: Self.at(0)))
        let secondSuccessChanged = health.probed(healthy: true)
        #expect(secondSuccessChanged)
        #expect(health.isAvailable(now: Self.at(0)))
    }

    @Test func anInterruptedStreakStartsOver() {
        var health = ServerHealth(maxFails: 1, failTimeout: Self.tenSeconds, rise: 2, fall: 2)
        health.probed(healthy: false)
        health.probed(healthy: true)
        health.probed(healthy: false)
        #expect(health.isAvailable(now: Self.at(0)), "failures were not consecutive")
        health.probed(healthy: false)
        #expect(!health.isAvailable(now: Self.at(0)))
        health.probed(healthy: true)
        health.probed(healthy: false)
        health.probed(healthy: true)
        #expect(!health.isAvailable(now: Self.at(0)), "successes were not consecutive")
        health.probed(healthy: true)
        #expect(health.isAvailable(now: Self.at(0)))
    }

    @Test func comingBackActivelyClearsAPassiveTimeOut() {
        var health = ServerHealth(maxFails: 1, failTimeout: Self.tenSeconds, rise: 1, fall: 1)
        health.requestFailed(now: Self.at(0))
        health.probed(healthy: false)
        health.probed(healthy: true)
        #expect(health.isAvailable(now: Self.at(1)), "the probe proved it healthy before fail_timeout ran out")
    }

    @Test func passiveFailuresStillCountWhileActiveProbesPass() {
        var health = ServerHealth(maxFails: 1, failTimeout: Self.tenSeconds, rise: 1, fall: 1)
        health.probed(healthy: true)
        health.requestFailed(now: Self.at(0))
        #expect(!health.isAvailable(now: Self.at(1)))
    }

    // MARK: What a shared server publishes for lock-free reads

    /// ``UpstreamServer`` answers requests from values it publishes beside the lock: after each
    /// event they must agree with the health the lock guards, at every moment asked.
    @Test func aServersPublishedHealthAgreesWithItsHealth() throws {
        var config = UpstreamServerConfig(address: .tcp(host: "127.0.0.1", port: 8000))
        config.maxFails = 2
        config.failTimeout = Self.tenSeconds
        var healthCheck = HealthCheckConfig()
        healthCheck.rise = 2
        healthCheck.fall = 1
        let server = UpstreamServer(
            index: 0, config: config, address: try EdgeIO.SocketAddress(host: "127.0.0.1", port: 8000), healthCheck: healthCheck)
        var health = ServerHealth(maxFails: 2, failTimeout: Self.tenSeconds, rise: 2, fall: 1)
        enum Event { case failed(Double), succeeded, probed(Bool) }
        let events: [Event] = [
            .succeeded, .failed(0), .succeeded, .failed(1), .failed(2), .failed(3), .succeeded, .failed(20),
            .probed(false), .failed(21), .probed(true), .probed(true), .failed(40), .failed(41), .probed(false),
            .probed(true), .probed(true), .succeeded,
        ]
        let moments: [Double] = [0, 1, 2, 5, 11.9, 12, 13, 20.5, 30, 40.5, 51, 52, 3_600]
        for (step, event) in events.enumerated() {
            switch event {
            case .failed(let at):
                health.requestFailed(now: Self.at(at))
                server.requestFailed(now: Self.at(at))
            case .succeeded:
                health.requestSucceeded()
                server.requestSucceeded()
            case .probed(let healthy):
                #expect(server.probed(healthy: healthy) == health.probed(healthy: healthy), "step \(step)")
            }
            for moment in moments {
                #expect(
                    server.isAvailable(now: Self.at(moment)) == health.isAvailable(now: Self.at(moment)),
                    "step \(step) (\(event)), at \(moment) s")
            }
        }
        #expect(!health.hasFailures, "the sequence ends cleared, so the last success had a count to clear")
    }
}
