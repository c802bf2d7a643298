/// Why the supervisor stopped (or lost) a worker: the `reason` of its exit and kill log lines,
/// and a bounded label of the exit counter.
public enum WorkerExitReason: String, Sendable, Hashable, CaseIterable {
    /// It served its `max-requests` (plus jitter), drained and exited; a replacement took its socket.
    case recycled
    /// A reload (`SIGHUP`) replaced it with a worker started on the new configuration.
    case replaced
    /// The supervisor is shutting down.
    case shutdown
    /// Its slot was removed (`SIGTTOU`, or a reload with fewer workers).
    case removed
    /// It stayed silent longer than the worker timeout and was killed.
    case timeout
    /// It did not finish draining within the graceful timeout and was killed.
    case gracefulTimeout = "graceful_timeout"
    /// It died before reporting ready (a crash at start-up, a database it cannot open).
    case bootFailed = "boot_failed"
    /// It died, or exited on its own, while it was serving.
    case crashed
}

/// Something the supervisor did or saw, logged as one JSON line (see ``SupervisorEventLog``).
public enum SupervisorEvent: Sendable, Hashable {
    /// A slot's listening socket is open (at start, or after `SIGTTIN`).
    case slotOpened(slot: Int, address: String)
    /// A removed slot's workers are gone and its socket is closed.
    case slotClosed(slot: Int)
    /// A worker process was spawned.
    case workerStarted(slot: Int, pid: Int32)
    /// A worker reported it is accepting connections.
    case workerReady(slot: Int, pid: Int32)
    /// A worker reached its request budget and is draining; its replacement is being started.
    case workerRecycling(slot: Int, pid: Int32, requests: Int)
    /// The supervisor sent `SIGKILL` to a worker.
    case workerKilled(slot: Int, pid: Int32, reason: WorkerExitReason)
    /// A worker process ended.
    case workerExited(slot: Int, pid: Int32, status: WorkerExitStatus, reason: WorkerExitReason)
    /// A worker could not be spawned at all (`posix_spawn` failed).
    case spawnFailed(slot: Int, error: String)
    /// A slot keeps losing its workers; the next start waits `delay`.
    case restartDelayed(slot: Int, delay: Duration, failures: Int)
    /// A reload's new worker died or hung before it was ready; the old one keeps serving.
    case replacementFailed(slot: Int, pid: Int32)
    /// `SIGHUP`: every slot is being replaced, one after another.
    case reloadStarted(workers: Int)
    /// Every slot of the reload has been replaced (or kept its worker when the replacement failed).
    case reloadFinished
    /// `SIGTTIN`/`SIGTTOU`/reload changed the number of worker slots.
    case workerCountChanged(from: Int, to: Int)
    /// A request the supervisor ignored (`SIGTTOU` with one worker left, `SIGTTIN` with no socket to add).
    case ignored(what: String, why: String)
    /// Shutdown began: graceful (`SIGTERM`/`SIGINT`) or immediate (`SIGQUIT`).
    case shutdownStarted(graceful: Bool)
    /// Every worker has exited; the supervisor exits next.
    case shutdownFinished
}
