import Testing

@testable import Backend

@Suite("Health: thresholds and verdicts")
struct HealthAssessmentTests {
    let assessment = HealthAssessment()

    @Test(arguments: [
        (0.0, HealthCheckStatus.ok), (79.99, .ok), (80.0, .warning), (89.99, .warning), (90.0, .critical),
        (100.0, .critical),
    ])
    func usageIsWarningFrom80AndCriticalFrom90Percent(percent: Double, expected: HealthCheckStatus) {
        #expect(assessment.status(usedPercent: percent) == expected)
    }

    @Test func unmeasuredUsageIsUnknown() {
        #expect(assessment.status(usedPercent: nil) == .unknown)
        #expect(assessment.status(usedPercent: .nan) == .unknown)
    }

    @Test func thresholdsCanBeMoved() {
        let strict = HealthAssessment(warningPercent: 50, criticalPercent: 60)
        #expect(strict.status(usedPercent: 55) == .warning)
        #expect(strict.status(usedPercent: 60) == .critical)
    }

    @Test func cacheStatusFollowsTheBreakerAndWhetherRedisAnswered() {
        #expect(assessment.cacheStatus(backend: "none", breakerState: "disabled", serverAnswered: false) == .disabled)
        #expect(assessment.cacheStatus(backend: "redis", breakerState: "closed", serverAnswered: true) == .ok)
        #expect(assessment.cacheStatus(backend: "redis", breakerState: "closed", serverAnswered: false) == .warning)
        #expect(assessment.cacheStatus(backend: "redis", breakerState: "half_open", serverAnswered: true) == .warning)
        #expect(assessment.cacheStatus(backend: "redis", breakerState: "open", serverAnswered: false) == .critical)
    }

    @Test func theDatabaseOrSchemaFailingIsUnhealthy() {
        #expect(assessment.overall(database: .critical, migrations: .ok, others: []) == .unhealthy)
        #expect(assessment.overall(database: .ok, migrations: .critical, others: [.ok]) == .unhealthy)
    }

    @Test func anyOtherWarningOrFailureIsDegraded() {
        #expect(assessment.overall(database: .ok, migrations: .ok, others: [.ok, .warning, .ok]) == .degraded)
        #expect(assessment.overall(database: .ok, migrations: .ok, others: [.critical]) == .degraded)
    }

    @Test func disabledAndUnknownChecksDoNotCountAgainstHealth() {
        #expect(assessment.overall(database: .ok, migrations: .ok, others: [.disabled, .unknown, .ok]) == .healthy)
    }

    @Test func readinessNamesEveryFailedCheck() {
        #expect(assessment.readinessFailures(databaseFailure: nil, migrationsDone: true).isEmpty)
        let failures = assessment.readinessFailures(databaseFailure: "The database is closed", migrationsDone: false)
        #expect(failures == ["database: The database is closed", "migrations: not applied yet"])
    }

    @Test func memoryUsageIsReadFromMeminfo() {
        let meminfo = """
            MemTotal:        8000000 kB
            MemFree:          500000 kB
            MemAvailable:    2000000 kB
            Buffers:          100000 kB
            """
        let usage = LiveSystemResources.memoryUsage(meminfo: meminfo)
        #expect(usage?.totalBytes == Int64(8_192_000_000))
        #expect(usage?.availableBytes == Int64(2_048_000_000))
        #expect(usage?.usedPercent == 75)
        #expect(LiveSystemResources.memoryUsage(meminfo: "MemTotal: 10 kB") == nil)
    }

    @Test func diskUsageIsReadForADirectoryNotCreatedYet() throws {
        let usage = try #require(
            LiveSystemResources().diskUsage(at: "/tmp/homerack-not-created-\(UInt32.random(in: 0...UInt32.max))/data"))
        #expect(usage.totalBytes > 0)
        #expect((0...100).contains(usage.usedPercent))
    }
}
