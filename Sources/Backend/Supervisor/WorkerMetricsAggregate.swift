/// The metrics of every worker a supervisor ever ran, added into one scrape.
///
/// Each live worker pushes its whole exposition every second or so; the scrape adds the latest
/// of each. When a worker exits, the counters and histograms of its last snapshot (the final one
/// it sends after its last request, when it exits on its own) stay in a retired total, so the
/// service's counters never go backwards when a worker is recycled and a dashboard's `rate()`
/// sees no reset. Gauges (requests in flight, memory) count live workers only.
///
/// A worker killed with `SIGKILL` sends no final snapshot: what it counted since its last push
/// (at most a push interval's worth) is lost, but the total still does not go backwards, since
/// that last push is what the scrape already showed.
public struct WorkerMetricsAggregate: Sendable {
    private var live: [Int32: String] = [:]
    private var retired = MetricsExposition()
    /// Exits per reason, for the supervisor's own `backend_worker_exits_total`.
    private var exits: [WorkerExitReason: Int] = [:]

    public init() {}

    /// Worker `pid` pushed `text` (its whole exposition); it replaces the worker's previous one.
    public mutating func snapshot(pid: Int32, text: String) {
        live[pid] = text
    }

    /// Worker `pid` exited: its last snapshot's counters and histograms join the retired total.
    public mutating func workerExited(pid: Int32, reason: WorkerExitReason) {
        exits[reason, default: 0] += 1
        guard let text = live.removeValue(forKey: pid) else { return }
        retired.add(MetricsExposition(parsing: text), cumulativeOnly: true)
    }

    /// The retired totals plus every live worker's latest snapshot, plus the supervisor's own
    /// series (worker count, exits by reason).
    /// - Parameter workers: the number of worker slots now.
    public func merged(workers: Int) -> MetricsExposition {
        var total = retired
        for pid in live.keys.sorted() {
            total.add(MetricsExposition(parsing: live[pid] ?? ""))
        }
        total.add(supervisorSeries(workers: workers))
        return total
    }

    private func supervisorSeries(workers: Int) -> MetricsExposition {
        let exitSamples = WorkerExitReason.allCases.map { reason in
            MetricsExposition.Sample(
                series: "backend_worker_exits_total{reason=\"\(reason.rawValue)\"}", value: Double(exits[reason] ?? 0))
        }
        return MetricsExposition(families: [
            .init(
                name: "backend_workers", help: "Worker slots the supervisor keeps running.", type: .gauge,
                samples: [.init(series: "backend_workers", value: Double(workers))]),
            .init(
                name: "backend_worker_exits_total", help: "Worker processes that exited, by reason.", type: .counter,
                samples: exitSamples),
        ])
    }
}
