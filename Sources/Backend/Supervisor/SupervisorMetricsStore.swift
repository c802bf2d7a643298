import Synchronization

/// The ``WorkerMetricsAggregate`` and worker count, shared between the supervisor's loop (which
/// feeds them) and its metrics server (which renders them on each scrape).
final class SupervisorMetricsStore: Sendable {
    private let aggregate = Mutex(WorkerMetricsAggregate())
    private let workers = Atomic<Int>(0)

    func snapshot(pid: Int32, text: String) {
        aggregate.withLock { $0.snapshot(pid: pid, text: text) }
    }

    func workerExited(pid: Int32, reason: WorkerExitReason) {
        aggregate.withLock { $0.workerExited(pid: pid, reason: reason) }
    }

    func workerCountChanged(_ count: Int) {
        workers.store(count, ordering: .relaxed)
    }

    /// The Prometheus text of a scrape.
    func render() -> String {
        let count = workers.load(ordering: .relaxed)
        return aggregate.withLock { $0.merged(workers: count) }.render()
    }
}
