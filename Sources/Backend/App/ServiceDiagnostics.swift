import Foundation

/// What the health endpoints report about the worker itself, besides the store and the cache.
public struct ServiceDiagnostics: Sendable {
    /// ``BackendVersion/current`` unless a test says otherwise.
    public var version: String
    /// When the worker started, for the uptime.
    public var startedAt: Date
    /// The directory whose file system's usage `/api/health/detailed` reports (`DATA_DIR`).
    public var dataDirectory: String
    /// ``BackendConfiguration/summary``: every setting, secrets masked.
    ///
    /// Worked out when first read (`/api/health/detailed`), not while the worker starts: the
    /// summary passes its URLs through ``Redaction``, and compiling its regular expressions
    /// (ICU's, with ICU's own start-up) was about 5 % of a worker's start-up CPU.
    public var configurationSummary: [String: String] {
        get { summary.value }
        set { summary = OnceValue { newValue } }
    }
    private var summary: OnceValue<[String: String]>
    /// Disk and memory readings.
    public var resources: any SystemResourceReading
    /// The thresholds and rules the health checks apply.
    public var assessment: HealthAssessment

    public init(
        version: String = BackendVersion.current,
        startedAt: Date = Date(),
        dataDirectory: String,
        configurationSummary: @escaping @autoclosure @Sendable () -> [String: String] = [:],
        resources: any SystemResourceReading = LiveSystemResources(),
        assessment: HealthAssessment = HealthAssessment()
    ) {
        self.version = version
        self.startedAt = startedAt
        self.dataDirectory = dataDirectory
        self.summary = OnceValue(configurationSummary)
        self.resources = resources
        self.assessment = assessment
    }
}
