import Backend
import Synchronization
import Testing

@Suite("Service diagnostics: what the health endpoints report about the worker")
struct ServiceDiagnosticsTests {
    /// Counts how often the summary is worked out.
    final class Counted: Sendable {
        let count = Mutex(0)

        func summary() -> [String: String] {
            count.withLock { $0 += 1 }
            return ["LOG_LEVEL": "info"]
        }
    }

    @Test func theConfigurationSummaryIsWorkedOutWhenFirstReadAndOnlyOnce() {
        let counted = Counted()
        let diagnostics = ServiceDiagnostics(dataDirectory: "/tmp", configurationSummary: counted.summary())
        #expect(counted.count.withLock { $0 } == 0)
        #expect(diagnostics.configurationSummary == ["LOG_LEVEL": "info"])
        #expect(diagnostics.configurationSummary == ["LOG_LEVEL": "info"])
        #expect(counted.count.withLock { $0 } == 1)
    }

    @Test func aSummarySetOutrightReplacesTheOneToWorkOut() {
        let counted = Counted()
        var diagnostics = ServiceDiagnostics(dataDirectory: "/tmp", configurationSummary: counted.summary())
        diagnostics.configurationSummary = ["LOG_LEVEL": "debug"]
        #expect(diagnostics.configurationSummary == ["LOG_LEVEL": "debug"])
        #expect(counted.count.withLock { $0 } == 0)
    }

    @Test func copiesShareTheSummaryOnceWorkedOut() {
        let counted = Counted()
        let diagnostics = ServiceDiagnostics(dataDirectory: "/tmp", configurationSummary: counted.summary())
        let copy = diagnostics
        #expect(copy.configurationSummary == diagnostics.configurationSummary)
        #expect(counted.count.withLock { $0 } == 1)
    }
}
