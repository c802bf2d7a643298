import Dispatch

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The signals the supervisor answers, delivered into its event stream instead of interrupting
/// it: `SIGTERM`/`SIGINT` (graceful shutdown), `SIGQUIT` (immediate), `SIGHUP` (reload),
/// `SIGTTIN`/`SIGTTOU` (one worker more or less).
final class SupervisorSignals {
    static let handled: [CInt] = [SIGTERM, SIGINT, SIGQUIT, SIGHUP, SIGTTIN, SIGTTOU]

    private var sources: [any DispatchSourceSignal] = []

    init(forward: @escaping @Sendable (SupervisorInput) -> Void) {
        for number in Self.handled {
            // The default actions (terminate, stop the process group for SIGTTIN/SIGTTOU) must not
            // run; the dispatch source still sees the signal.
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { forward(.signal(number)) }
            source.resume()
            sources.append(source)
        }
    }

    /// Stops listening; the signals keep being ignored until the process exits.
    func cancel() {
        for source in sources { source.cancel() }
        sources = []
    }
}
