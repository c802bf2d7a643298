import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// `homerack-backend supervise`: keeps N worker processes serving, gunicorn's arbiter.
///
/// It performs what ``SupervisorStateMachine`` decides: opens each slot's listening socket and
/// keeps it for the slot's life, spawns workers on it (``WorkerSpawner``), reads their pipes
/// (``WorkerMessageReader``), reaps them, signals them, logs every step as a JSON line
/// (``SupervisorEventLog``), and serves their merged metrics (``SupervisorMetricsServer``).
/// Everything arrives on one event stream (signals, worker messages, a tick every
/// ``Configuration/tickInterval`` that also reaps exited workers), handled one at a time, so the
/// state machine needs no lock.
public final class WorkerSupervisor {
    public struct Configuration: Sendable {
        /// Worker slots at start.
        public var workers: Int
        public var policy: SupervisionPolicy
        /// Where the merged metrics are served; `nil` serves none.
        public var metricsAddress: BackendConfiguration.HostAndPort?
        /// How often deadlines are checked and exited workers reaped (besides when a worker's
        /// pipe closes).
        public var tickInterval: Duration = .milliseconds(100)

        public init(workers: Int, policy: SupervisionPolicy, metricsAddress: BackendConfiguration.HostAndPort?) {
            self.workers = workers
            self.policy = policy
            self.metricsAddress = metricsAddress
        }
    }

    /// What a reload (`SIGHUP`) read again.
    public struct Reloaded: Sendable {
        public var policy: SupervisionPolicy
        public var workers: Int

        public init(policy: SupervisionPolicy, workers: Int) {
            self.policy = policy
            self.workers = workers
        }
    }

    private let configuration: Configuration
    private let sockets: SlotSockets
    private let spawner: WorkerSpawner
    private let log: SupervisorEventLog
    private let logger: Logger
    private let reload: @Sendable () throws -> Reloaded
    private let group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    private let clock = ContinuousClock()

    private var machine: SupervisorStateMachine<ContinuousClock.Instant>
    private let metrics = SupervisorMetricsStore()
    private var interrupts = 0
    private var finished = false

    /// - Parameters:
    ///   - configuration: workers, policy, metrics address.
    ///   - sockets: where slots listen (``SlotSockets``).
    ///   - spawner: how workers start.
    ///   - log: where the JSON lines go.
    ///   - logger: for the metrics server's own messages.
    ///   - reload: reads the configuration again on `SIGHUP`.
    public init(
        configuration: Configuration, sockets: SlotSockets, spawner: WorkerSpawner, log: SupervisorEventLog,
        logger: Logger, reload: @escaping @Sendable () throws -> Reloaded
    ) {
        self.configuration = configuration
        self.sockets = sockets
        self.spawner = spawner
        self.log = log
        self.logger = logger
        self.reload = reload
        self.machine = SupervisorStateMachine(policy: configuration.policy)
    }

    /// Opens the slots' sockets, starts the workers, and supervises them until a shutdown
    /// signal has stopped every one.
    /// - Throws: ``SupervisorError`` when a slot's socket cannot be opened at start.
    public func run() async throws {
        var initial: [(slot: Int, address: String)] = []
        do {
            for slot in 0..<max(configuration.workers, 1) {
                initial.append((slot, try sockets.open(slot: slot).address))
            }
        } catch {
            sockets.closeAll()
            throw error
        }

        // A closed standard output (a log pipe gone) must fail the write, not kill the supervisor
        // and orphan its workers. Workers get default dispositions back (``WorkerSpawner``).
        signal(SIGPIPE, SIG_IGN)
        let (inputs, continuation) = AsyncStream.makeStream(of: SupervisorInput.self)
        let forward: @Sendable (SupervisorInput) -> Void = { continuation.yield($0) }
        let signals = SupervisorSignals(forward: forward)
        defer {
            signals.cancel()
            sockets.closeAll()
        }

        // The metrics server stops by graceful shutdown (cancelling it would log an error).
        let metricsServer = configuration.metricsAddress.map { metricsService(on: $0) }
        let interval = configuration.tickInterval
        let ticker = Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: interval)
                forward(.tick)
            }
        }
        defer { ticker.cancel() }
        await withTaskGroup(of: Void.self) { tasks in
            if let metricsServer {
                let log = self.log
                tasks.addTask {
                    do {
                        try await metricsServer.run()
                    } catch {
                        log.write(event: "metrics_failed", level: "error", fields: [("error", .string("\(error)"))])
                    }
                }
            }

            perform(machine.start(slots: initial, now: clock.now), forward: forward)
            for await input in inputs {
                handle(input, forward: forward)
                if finished { break }
            }
            continuation.finish()
            await metricsServer?.triggerGracefulShutdown()
        }
    }

    // MARK: Inputs

    private func handle(_ input: SupervisorInput, forward: @escaping @Sendable (SupervisorInput) -> Void) {
        let now = clock.now
        switch input {
        case .tick:
            reap(forward: forward)
            perform(machine.tick(now: now), forward: forward)
        case .pipeClosed:
            reap(forward: forward)
        case .message(let pid, let message):
            switch message {
            case .ready:
                perform(machine.ready(pid: pid, now: now), forward: forward)
            case .heartbeat:
                machine.heard(pid: pid, now: now)
            case .recycling(let requests):
                perform(machine.recycling(pid: pid, requests: requests, now: now), forward: forward)
            case .metrics(let text, _):
                metrics.snapshot(pid: pid, text: text)
                machine.heard(pid: pid, now: now)
            }
        case .signal(let number):
            perform(signalled(number, now: now), forward: forward)
        }
    }

    private func signalled(_ number: CInt, now: ContinuousClock.Instant) -> [SupervisorStateMachine<
        ContinuousClock.Instant
    >.Action] {
        switch number {
        case SIGTERM:
            return machine.shutdown(graceful: true, now: now)
        case SIGINT:
            // A second Ctrl-C stops waiting for the workers to drain.
            interrupts += 1
            return machine.shutdown(graceful: interrupts == 1, now: now)
        case SIGQUIT:
            return machine.shutdown(graceful: false, now: now)
        case SIGHUP:
            do {
                let reloaded = try reload()
                return machine.reload(policy: reloaded.policy, workers: reloaded.workers, now: now)
            } catch {
                log.write(
                    event: "reload_failed", level: "error",
                    fields: [("error", .string("\(error)")), ("kept", .string("the running configuration"))])
                return []
            }
        case SIGTTIN:
            return machine.addWorker(now: now)
        case SIGTTOU:
            return machine.removeWorker(now: now)
        default:
            return []
        }
    }

    /// Collects the status of every worker that has exited.
    private func reap(forward: @escaping @Sendable (SupervisorInput) -> Void) {
        while true {
            var status: CInt = 0
            let pid = waitpid(-1, &status, WNOHANG)
            guard pid > 0 else { return }
            let exitStatus = WorkerExitStatus(waitStatus: status)
            perform(machine.exited(pid: pid, status: exitStatus, now: clock.now), forward: forward)
        }
    }

    // MARK: Actions

    private func perform(
        _ actions: [SupervisorStateMachine<ContinuousClock.Instant>.Action],
        forward: @escaping @Sendable (SupervisorInput) -> Void
    ) {
        var pending = actions[...]
        while let action = pending.popFirst() {
            let now = clock.now
            switch action {
            case .spawn(let slot):
                guard let socket = sockets.socket(slot: slot) else {
                    pending.append(
                        contentsOf: machine.spawnFailed(slot: slot, error: "the slot has no socket", now: now))
                    continue
                }
                do {
                    let started = try spawner.spawn(slot: slot, socket: socket.descriptor)
                    WorkerMessageReader.start(
                        descriptor: started.messages, pid: started.pid, group: group, forward: forward)
                    pending.append(contentsOf: machine.spawned(slot: slot, pid: started.pid, now: now))
                } catch {
                    pending.append(contentsOf: machine.spawnFailed(slot: slot, error: "\(error)", now: now))
                }
            case .signal(let pid, let signal):
                kill(pid, signal == .kill ? SIGKILL : SIGTERM)
            case .log(let event):
                if case .workerExited(_, let pid, _, let reason) = event {
                    metrics.workerExited(pid: pid, reason: reason)
                }
                log.log(event)
            case .openSocket(let slot):
                do {
                    let socket = try sockets.open(slot: slot)
                    pending.append(contentsOf: machine.socketOpened(slot: slot, address: socket.address, now: now))
                } catch {
                    pending.append(contentsOf: machine.socketFailed(slot: slot, error: "\(error)", now: now))
                }
            case .closeSocket(let slot):
                sockets.close(slot: slot)
            case .exit:
                finished = true
            }
        }
        metrics.workerCountChanged(machine.workerCount)
    }

    // MARK: Metrics

    /// The metrics server (``SupervisorMetricsServer``) in a service group of its own.
    private func metricsService(on address: BackendConfiguration.HostAndPort) -> ServiceGroup {
        let log = self.log
        let application = SupervisorMetricsServer.make(
            address: address, logger: logger, render: metrics.render,
            onListening: { bound in
                log.write(event: "metrics_listening", fields: [("address", .string(bound))])
            })
        return ServiceGroup(configuration: .init(services: [application], logger: logger))
    }
}
