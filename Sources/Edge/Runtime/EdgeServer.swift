import EdgeIO
import Limits
import Synchronization

/// The running edge: listeners, the admin listener, reload and graceful shutdown.
///
/// Listener addresses are fixed for the life of the process (a reload that changes them is
/// refused with an error saying so): rebinding would drop the accept queue, and nginx, too,
/// needs its master to rebind. Routes, upstreams, limits, headers, route and upstream
/// timeouts, and certificates change on reload (the client timeouts, the body limit and the
/// upstream keep-alive bound are fixed at start: ``CoreListener``); requests already running
/// finish on the configuration they started with.
public final class EdgeServer: Sendable {
    let state: EdgeState
    let zones: ZoneRegistry
    /// The sync threads of shared rate-limit zones (`SharedLimits/`).
    let sharedZoneSyncs: SharedZoneSyncers
    /// The listeners, each on its own loops of the edge's I/O core, in configuration order.
    private let listeners: [CoreListener]
    /// The admin listener (metrics).
    private let admin: AdminListener?
    private let generation: Mutex<Int>
    /// Active health checks of the runtime in force, on a core loop of their own.
    private let healthProbes: HealthProbes

    /// The addresses the listeners are bound to (ports resolved when the config said 0), in
    /// configuration order.
    public var listenerAddresses: [SocketAddress] { listeners.map(\.address) }
    /// The admin listener's address, if there is one.
    public var adminAddress: SocketAddress? { admin?.address }
    /// The configuration in force.
    public var config: EdgeConfig { state.runtime.config }

    /// Binds the listeners and starts serving: `event_loops` loop threads per listener (default:
    /// one per core).
    /// - Parameter config: a validated configuration.
    /// - Throws: ``EdgeError`` when a listener cannot bind, a TLS file does not load or an
    ///   upstream does not resolve.
    public static func start(config: EdgeConfig) async throws -> EdgeServer {
        try EdgeServer(config: config)
    }

    private init(config: EdgeConfig) throws {
        var system = SystemRandomNumberGenerator()
        let loopCount = config.eventLoops ?? CoreListener.coreCount
        zones = ZoneRegistry(hashSeed: system.next(), shardCount: 16)
        let runtime = try EdgeRuntime(config: config, generation: 1, zones: zones)
        let errorSink = try LogSink(destination: config.logging.errorLog)
        let accessSink = try LogSink(destination: config.logging.accessLog)
        let logger = EdgeLogger(sink: errorSink, level: config.logging.level, label: "edge")
        healthProbes = try HealthProbes(logger: logger.with(label: "edge.health"))
        let limiter = try Self.connectionLimiter(for: config.limits, hashSeed: system.next())
        let metrics = EdgeMetrics(shardCount: loopCount)
        let state = EdgeState(runtime: runtime, metrics: metrics, logger: logger, accessLog: accessSink, connectionLimiter: limiter)
        self.state = state
        sharedZoneSyncs = SharedZoneSyncers(metrics: metrics.sharedZones, logger: logger.with(label: "edge.limits"))
        self.generation = Mutex(1)

        var started: [CoreListener] = []
        do {
            for listener in config.listeners {
                let core = try CoreListener(listener: listener, state: state, loopCount: loopCount)
                started.append(core)
                if let tls = listener.tls, let context = core.tlsContext {
                    metrics.setCertificates(listener: listener.name, CertificateExpiry.entries(tls, notAfter: context.notAfter))
                }
                logger.info("listening", [("edge.listener", listener.name), ("address", "\(core.address)")])
            }
            admin = try config.admin.map { try AdminListener(address: $0.address, state: state) }
        } catch {
            for core in started { core.stop() }
            healthProbes.stop()
            throw error
        }
        listeners = started
        healthProbes.check(runtime)
        sharedZoneSyncs.update(zones.current)
    }

    // MARK: Reload

    /// Loads a configuration with `load` (reading and validating the file) and swaps it in; a
    /// file that does not load counts as a refused reload in `edge_config_reloads_total`, like a
    /// configuration that loads but cannot be applied.
    /// - Throws: what `load` or ``reload(_:)`` throws; the old configuration then stays in force.
    public func reload(loading load: () throws -> EdgeConfig) throws {
        let config: EdgeConfig
        do {
            config = try load()
        } catch {
            state.metrics.reloadsFailed.add(1, ordering: .relaxed)
            throw error
        }
        try reload(config)
    }

    /// Swaps in a new configuration: new requests use it at once, running ones finish on the old one.
    /// - Throws: ``EdgeError`` when it cannot be applied (listener changes, unresolvable upstream);
    ///   the old configuration then stays in force.
    public func reload(_ config: EdgeConfig) throws {
        let current = state.runtime.config
        guard Self.listenersMatch(config.listeners, current.listeners), config.admin == current.admin else {
            state.metrics.reloadsFailed.add(1, ordering: .relaxed)
            throw EdgeError.reload(
                "listeners (names, addresses, TLS or redirect settings) or the admin address changed; those take effect only on restart. Nothing was changed.")
        }
        let next = generation.withLock { value -> Int in
            value += 1
            return value
        }
        do {
            // Everything is loaded before anything is applied: certificates and the runtime
            // either all take effect, or none does.
            var certificates: [(CoreListener, CoreListener.LoadedCertificates, TLSListenerConfig)] = []
            for listener in config.listeners {
                if let tls = listener.tls, let core = listeners.first(where: { $0.name == listener.name }),
                    let loaded = try core.loadCertificates(tls)
                {
                    certificates.append((core, loaded, tls))
                }
            }
            let runtime = try EdgeRuntime(config: config, generation: next, zones: zones)
            let limits = config.limits
            let current = state.connectionLimiter
            // The per-client cap: a new limit applies in place, so open connections keep
            // counting; turning it on or off, or a new table capacity or IPv6 keying, needs a new
            // table, which counts only the connections opened after the reload.
            var replacement: ConnectionLimiter??
            if let current, let perClient = limits.connectionsPerClient, current.capacity == limits.connectionTableCapacity,
                current.aggregatesIPv6By64 == limits.aggregateIPv6By64
            {
                do { try current.setLimit(perClient) } catch { throw EdgeError.limits("\(error)") }
            } else if current != nil || limits.connectionsPerClient != nil {
                var system = SystemRandomNumberGenerator()
                replacement = .some(try Self.connectionLimiter(for: limits, hashSeed: system.next()))
            }
            for (core, loaded, tls) in certificates {
                // Read before installing: installing swaps the replaced certificates into `loaded`.
                let expiries = CertificateExpiry.entries(tls, notAfter: loaded.certificates.notAfter)
                core.installCertificates(loaded)
                state.metrics.setCertificates(listener: core.name, expiries)
            }
            if let replacement {
                state.replaceConnectionLimiter(with: replacement)
                state.logger.info(
                    "the per-client connection cap was replaced; connections open before the reload do not count against it",
                    [("connections_per_client", limits.connectionsPerClient.map(String.init) ?? "off")])
            }
            state.swapRuntime(runtime)
            healthProbes.check(runtime)
            sharedZoneSyncs.update(zones.current)
            state.metrics.reloadsSucceeded.add(1, ordering: .relaxed)
            state.logger.info("configuration reloaded", [("generation", String(next))])
        } catch {
            state.metrics.reloadsFailed.add(1, ordering: .relaxed)
            throw error
        }
    }

    /// The per-client connection cap `limits` asks for, or `nil` when it is off.
    private static func connectionLimiter(for limits: LimitsConfig, hashSeed: UInt64) throws -> ConnectionLimiter? {
        guard let perClient = limits.connectionsPerClient else { return nil }
        do {
            return try ConnectionLimiter(
                limit: perClient, capacity: limits.connectionTableCapacity, aggregateIPv6By64: limits.aggregateIPv6By64,
                hashSeed: hashSeed)
        } catch {
            throw EdgeError.limits("\(error)")
        }
    }

    /// Whether two listener lists are the same but for their certificates (which reload in place).
    static func listenersMatch(_ lhs: [ListenerConfig], _ rhs: [ListenerConfig]) -> Bool {
        func withoutCertificates(_ listeners: [ListenerConfig]) -> [ListenerConfig] {
            listeners.map { listener in
                var copy = listener
                copy.tls?.certificates = []
                return copy
            }
        }
        return withoutCertificates(lhs) == withoutCertificates(rhs)
    }

    /// Logs through the edge's error log.
    public func log(_ level: LoggingConfig.Level, _ message: String, _ metadata: [(String, String)] = []) {
        state.logger.log(level, message, metadata)
    }

    // MARK: Shutdown

    /// Stops accepting, lets open requests finish for up to `grace`, then closes everything.
    public func shutdown(grace: Duration? = nil) async {
        let grace = grace ?? state.runtime.config.timeouts.shutdownGrace
        state.logger.info("shutting down", [("grace_seconds", "\(grace.components.seconds)")])
        healthProbes.stop()
        sharedZoneSyncs.stopAll()
        admin?.stop()
        // Every listener stops accepting; open connections finish their exchange and close,
        // all within the same grace.
        await withTaskGroup(of: Void.self) { group in
            for listener in listeners { group.addTask { await listener.shutdown(grace: grace) } }
        }
        state.logger.info("stopped")
        state.accessLog.close()
        state.logger.sink.close()
    }
}
