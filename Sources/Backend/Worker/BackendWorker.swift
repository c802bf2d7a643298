import Foundation
import Hummingbird
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle

/// One worker process (`homerack-backend worker`): the rack API on a listening socket it
/// inherited, usually from the supervisor, which also reads its ``WorkerMessage``s.
///
/// Its services run in one group, stopped in reverse order: the ``WorkerServer`` drains first
/// (no new connections, in-flight requests finish), then the ``WorkerHeartbeat`` sends the last
/// metrics snapshot, then the ``BackendRuntime`` closes the database and the cache.
///
/// It drains and exits 0 on `SIGTERM`/`SIGINT` or when its supervisor is gone. Once it has
/// served its request budget (`MAX_REQUESTS` plus jitter) it tells the supervisor and keeps
/// serving: the supervisor starts its replacement and sends `SIGTERM` once that one is ready, so
/// recycling never leaves the pool a worker short. A worker run on its own drains at once.
/// `SIGQUIT` cancels everything at once.
public enum BackendWorker {
    public struct Options: Sendable {
        /// The listening socket to serve.
        public var listeningDescriptor: CInt
        /// The pipe to the supervisor; `nil` for a worker run on its own.
        public var supervisorDescriptor: CInt?
        /// The slot the supervisor started it for (logged, and shown by the test hooks).
        public var slot: Int?
        /// The process environment (for `HOMERACK_TEST_HOOKS`).
        public var environment: [String: String]
        /// How often the heartbeat (and a metrics snapshot) goes to the supervisor.
        public var heartbeatInterval: Duration = .seconds(1)

        public init(listeningDescriptor: CInt, supervisorDescriptor: CInt?, slot: Int?, environment: [String: String]) {
            self.listeningDescriptor = listeningDescriptor
            self.supervisorDescriptor = supervisorDescriptor
            self.slot = slot
            self.environment = environment
        }
    }

    /// Runs the worker until it has drained.
    /// - Throws: when the runtime cannot start (database) or the socket cannot be served; the
    ///   supervisor logs the exit as a failed boot and restarts the slot with backoff.
    public static func run<Generator: RandomNumberGenerator>(
        configuration: BackendConfiguration, options: Options, logger baseLogger: Logger,
        random: inout Generator
    ) async throws {
        var workerLogger = baseLogger
        workerLogger[metadataKey: "backend.worker.pid"] = "\(getpid())"
        if let slot = options.slot { workerLogger[metadataKey: "backend.worker.slot"] = "\(slot)" }
        let logger = workerLogger
        // A write to the pipe of a supervisor that is gone must fail, not kill the worker.
        signal(SIGPIPE, SIG_IGN)

        let group = MultiThreadedEventLoopGroup.singleton
        var link: SupervisorLink?
        if let descriptor = options.supervisorDescriptor {
            link = try await SupervisorLink.open(descriptor: descriptor, group: group)
        }
        let runtime = try await BackendRuntime.start(configuration, logger: logger)
        let router = runtime.makeRouter()
        if WorkerTestHooks.isEnabled(in: options.environment) {
            WorkerTestHooks.register(on: router, slot: options.slot, group: group)
        }

        let drain = WorkerDrain(spread: configuration.workers.drainSpread)
        let budget = RequestBudget(
            maxRequests: configuration.workers.maxRequests, jitter: configuration.workers.maxRequestsJitter,
            using: &random)
        let counter = RequestCounter(budget: budget)
        let recyclingLink = link
        let responder = WorkerResponder.make(router.buildResponder(), counter: counter, logger: logger) {
            let requests: Logger.Metadata = ["backend.worker.requests": "\(counter.requests)"]
            guard let recyclingLink else {
                logger.info("request budget spent, draining", metadata: requests)
                drain.start()
                return
            }
            // Serving on until the supervisor's SIGTERM, which comes once the replacement is ready.
            logger.info("request budget spent, serving until the replacement is ready", metadata: requests)
            recyclingLink.send(.recycling(requests: counter.requests))
        }
        let readyLink = link
        let server = WorkerServer(
            listeningSocket: options.listeningDescriptor, responder: responder,
            maximumConnections: configuration.workers.connections, drain: drain, group: group, logger: logger,
            onListening: {
                logger.info(
                    "worker ready",
                    metadata: ["backend.worker.max_requests": "\(budget.limit.map(String.init) ?? "unlimited")"])
                readyLink?.send(.ready)
            })

        // Each service is named here: without a name, ServiceLifecycle names it "\(service)", and
        // describing a value at run time asks the runtime for every protocol a description could
        // come from, each a scan of this large binary's conformance records, in every new worker
        // (about 7 % of a worker's start-up CPU).
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = [
            .init(service: runtime, serviceName: "BackendRuntime")
        ]
        if let link {
            link.closed.whenComplete { _ in
                if !drain.isDraining { logger.warning("the supervisor is gone, draining") }
                drain.start()
            }
            let backend = runtime.services
            services.append(
                .init(
                    service: WorkerHeartbeat(
                        link: link, group: group, interval: options.heartbeatInterval,
                        metrics: {
                            await backend.metrics.refresh(cache: backend.cache)
                            return backend.metrics.exposition()
                        }),
                    serviceName: "WorkerHeartbeat"))
        }
        services.append(
            .init(service: server, successTerminationBehavior: .gracefullyShutdownGroup, serviceName: "WorkerServer"))
        let serviceGroup = ServiceGroup(
            configuration: .init(
                services: services, gracefulShutdownSignals: [.sigterm, .sigint], cancellationSignals: [.sigquit],
                logger: logger))
        try await serviceGroup.run()
        await link?.close()
        logger.info("worker stopped", metadata: ["backend.worker.requests": "\(counter.requests)"])
    }
}
