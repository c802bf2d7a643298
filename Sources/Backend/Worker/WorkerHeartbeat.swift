import NIOCore
import ServiceLifecycle

/// Tells the supervisor, every ``interval``, that this worker is alive, and pushes its metrics.
///
/// A beat is sent only after every event loop of the worker ran a task since the last one, from
/// a task on Swift's cooperative pool: a worker whose loops (or whose task pool) are blocked goes
/// silent, and the supervisor kills it after the worker timeout, as gunicorn kills a worker that
/// stops notifying its arbiter.
///
/// Run it before the server in the worker's service group: the group stops services in reverse
/// order, so beats continue while the server drains, and the last metrics snapshot (``run()``
/// sends it on graceful shutdown) counts every request the worker answered.
struct WorkerHeartbeat: Service {
    let link: SupervisorLink
    let group: any EventLoopGroup
    let interval: Duration
    /// The worker's metrics, Prometheus text.
    let metrics: @Sendable () async -> String

    func run() async throws {
        do {
            try await cancelWhenGracefulShutdown {
                while true {
                    try await Task.sleep(for: interval)
                    for loop in group.makeIterator() {
                        try await loop.submit {}.get()
                    }
                    link.send(.heartbeat)
                    link.send(.metrics(await metrics(), final: false))
                }
            }
        } catch is CancellationError {
            // Graceful shutdown ended the loop.
        }
        try? await link.send(.metrics(await metrics(), final: true)).get()
    }
}
