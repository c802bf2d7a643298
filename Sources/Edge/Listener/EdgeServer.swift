import Limits
import NIOCore
import NIOExtras
import NIOHTTP1
import NIOHTTP2
import NIOPosix
import NIOSSL
import NIOTLS
import Synchronization

/// The running edge: listeners, the admin listener, reload and graceful shutdown.
///
/// Listener addresses are fixed for the life of the process (a reload that changes them is
/// refused with an error saying so): rebinding would drop the accept queue, and nginx, too,
/// needs its master to rebind. Everything else (routes, upstreams, limits, headers, timeouts)
/// changes on reload; requests already running finish on the configuration they started with.
public final class EdgeServer: Sendable {
    public let group: MultiThreadedEventLoopGroup
    let state: EdgeState
    let zones: ZoneRegistry
    /// The sync threads of shared rate-limit zones (`SharedLimits/`).
    let sharedZoneSyncs: SharedZoneSyncers
    private let listeners: [any Channel]
    /// Listeners on the edge's own I/O core (`io: core`).
    private let coreListeners: [CoreListener]
    /// Every listener's bound address, in configuration order.
    private let boundAddresses: [SocketAddress]
    /// The admin listener (metrics), on the core.
    private let admin: AdminListener?
    /// One quiescing helper per listener (a helper tracks a single server channel). They live on
    /// NIO's singleton group: a helper completes a promise on its group when it is freed, which
    /// may be after this server's own loops have stopped.
    private let quiescers: [ServerQuiescingHelper]
    private let generation: Mutex<Int>
    private let ownsGroup: Bool
    /// Active health checks of the runtime in force, on a core loop of their own.
    private let healthProbes: HealthProbes
    /// TLS state of each HTTPS listener, by listener name (certificates reload in place).
    private let tlsContexts: [String: TLSListenerContext]

    /// The addresses the listeners are bound to (ports resolved when the config said 0).
    public var listenerAddresses: [SocketAddress] { boundAddresses }
    /// The admin listener's address, if there is one.
    public var adminAddress: SocketAddress? { admin?.address }
    /// The configuration in force.
    public var config: EdgeConfig { state.runtime.config }

    /// Binds the listeners and starts serving.
    /// - Parameters:
    ///   - config: a validated configuration.
    ///   - group: event loops to use; `nil` makes one per core (or `event_loops`).
    /// - Throws: ``EdgeError`` when a listener cannot bind or an upstream does not resolve.
    public static func start(config: EdgeConfig, group: MultiThreadedEventLoopGroup? = nil) async throws -> EdgeServer {
        let ownsGroup = group == nil
        let group = group ?? MultiThreadedEventLoopGroup(numberOfThreads: config.eventLoops ?? System.coreCount)
        do {
            return try await EdgeServer(config: config, group: group, ownsGroup: ownsGroup)
        } catch {
            if ownsGroup { try? await group.shutdownGracefully() }
            throw error
        }
    }

    private init(config: EdgeConfig, group: MultiThreadedEventLoopGroup, ownsGroup: Bool) async throws {
        self.group = group
        self.ownsGroup = ownsGroup
        var system = SystemRandomNumberGenerator()
        let loops = Array(group.makeIterator())
        zones = ZoneRegistry(hashSeed: system.next(), shardCount: 16)
        let runtime = try EdgeRuntime(config: config, generation: 1, zones: zones)
        let errorSink = try LogSink(destination: config.logging.errorLog)
        let accessSink = try LogSink(destination: config.logging.accessLog)
        let logger = EdgeLogger(sink: errorSink, level: config.logging.level, label: "edge")
        healthProbes = try HealthProbes(logger: logger.with(label: "edge.health"))
        let limiter = try Self.connectionLimiter(for: config.limits, hashSeed: system.next())
        var contexts: [ObjectIdentifier: LoopContext] = [:]
        for (index, loop) in loops.enumerated() {
            contexts[ObjectIdentifier(loop)] = LoopContext(eventLoop: loop, index: index, seed: system.next())
        }
        let metrics = EdgeMetrics(shardCount: loops.count)
        let fileIO = NIOThreadPool(numberOfThreads: 2)
        fileIO.start()
        let state = EdgeState(
            runtime: runtime, metrics: metrics, logger: logger, accessLog: accessSink, connectionLimiter: limiter,
            loops: contexts, fileIO: fileIO)
        self.state = state
        sharedZoneSyncs = SharedZoneSyncers(metrics: metrics.sharedZones, logger: logger.with(label: "edge.limits"))
        self.generation = Mutex(1)
        var quiescers: [ServerQuiescingHelper] = []

        var bound: [any Channel] = []
        var cores: [CoreListener] = []
        var addresses: [SocketAddress] = []
        var tlsContexts: [String: TLSListenerContext] = [:]
        do {
            for listener in config.listeners {
                if listener.io == .core {
                    let core = try CoreListener(listener: listener, state: state, loopCount: loops.count)
                    cores.append(core)
                    if let tls = listener.tls {
                        metrics.setCertificates(listener: listener.name, try CertificateSet(config: tls).expiries)
                    }
                    addresses.append(core.address)
                    logger.info(
                        "listening", [("edge.listener", listener.name), ("address", "\(core.address)"), ("io", "core")])
                    continue
                }
                let address = try listener.address.resolve(context: "listener '\(listener.name)'")
                let tls = try listener.tls.map { try TLSListenerContext(config: $0) }
                if let tls {
                    tlsContexts[listener.name] = tls
                    metrics.setCertificates(listener: listener.name, tls.current.expiries)
                }
                let channel: any Channel
                do {
                    let quiesce = ServerQuiescingHelper(group: MultiThreadedEventLoopGroup.singleton)
                    quiescers.append(quiesce)
                    channel = try await Self.bootstrap(group: group, state: state, quiesce: quiesce, listener: listener, tls: tls)
                        .bind(to: address).get()
                } catch {
                    throw EdgeError.bind(listener.address, reason: "\(error)")
                }
                bound.append(channel)
                if let local = channel.localAddress { addresses.append(local) }
                logger.info("listening", [("edge.listener", listener.name), ("address", "\(channel.localAddress.map { "\($0)" } ?? "")")])
            }
            admin = try config.admin.map { try AdminListener(address: $0.address, state: state) }
        } catch {
            for channel in bound { try? await channel.close() }
            for core in cores { core.stop() }
            throw error
        }
        listeners = bound
        coreListeners = cores
        boundAddresses = addresses
        self.quiescers = quiescers
        self.tlsContexts = tlsContexts
        startHealthChecks(for: runtime)
        sharedZoneSyncs.update(zones.current)
    }

    /// Replaces the running health checks by those of `runtime`'s pools.
    private func startHealthChecks(for runtime: EdgeRuntime) {
        healthProbes.check(runtime)
    }

    private static func bootstrap(
        group: MultiThreadedEventLoopGroup, state: EdgeState, quiesce: ServerQuiescingHelper, listener: ListenerConfig,
        tls: TLSListenerContext?
    ) -> ServerBootstrap {
        let redirect = listener.httpsRedirect.map {
            HTTPSRedirect(config: $0, headers: state.runtime.config.headers.add)
        }
        return ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: Int32(listener.backlog))
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .serverChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(quiesce.makeServerChannelHandler(channel: channel))
                }
            }
            .childChannelOption(.tcpOption(.tcp_nodelay), value: 1)
            .childChannelOption(.writeBufferWaterMark, value: .init(low: 32 * 1024, high: 64 * 1024))
            // A connection keeps its last receive buffer for its whole life, idle or not (NIO pools
            // it). Start at 1 KiB rather than NIO's 2 KiB, as nginx's client_header_buffer_size:
            // most request heads fit, and the size still grows when reads fill it. One read per
            // wake-up keeps that pool at one buffer: with NIO's 4, a head split over two reads
            // (the decoder holding the first buffer) left a second, larger buffer pooled for
            // good. 10,000 idle connections (bench/compare-proxies idle): -1,000 bytes each for
            // short heads, -5,300 for 2.5 KB heads.
            .childChannelOption(.recvAllocator, value: AdaptiveRecvByteBufferAllocator(minimum: 64, initial: 1024, maximum: 65536))
            .childChannelOption(.maxMessagesPerRead, value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let tls {
                        try configureTLSPipeline(channel: channel, state: state, tls: tls)
                    } else {
                        try configureHTTP1Pipeline(channel: channel, state: state, scheme: "http", httpsRedirect: redirect)
                    }
                }
            }
    }

    /// TLS first, then HTTP/1.1 or HTTP/2 as ALPN decides; both end in the same ``ClientHandler``.
    static func configureTLSPipeline(channel: any Channel, state: EdgeState, tls: TLSListenerContext) throws {
        let sync = channel.pipeline.syncOperations
        let loop = state.loop(for: channel.eventLoop)
        let timeouts = state.runtime.config.timeouts
        try sync.addHandler(NIOSSLServerHandler(context: tls.sslContext))
        try sync.addHandler(TLSHandshakeObserver(metrics: state.metrics, shard: loop.index, timeout: TimeAmount(timeouts.header)))
        try sync.addHandler(
            ApplicationProtocolNegotiationHandler { result, channel in
                channel.eventLoop.makeCompletedFuture {
                    if case .negotiated("h2") = result, tls.http2 {
                        try configureHTTP2Pipeline(channel: channel, state: state, limits: tls.limits)
                    } else {
                        try configureHTTP1Pipeline(channel: channel, state: state, scheme: "https", httpsRedirect: nil)
                    }
                }
            })
    }

    /// The HTTP/1.1 pipeline of a connection (after TLS, when there is TLS).
    static func configureHTTP1Pipeline(channel: any Channel, state: EdgeState, scheme: String, httpsRedirect: HTTPSRedirect?) throws {
        let peer = channel.remoteAddress.flatMap(ClientKey.init(socketAddress:)) ?? ClientKey(ipv4: 0)
        let activity = ClientActivity()
        let sync = channel.pipeline.syncOperations
        try sync.addHandler(ClientActivityHandler(activity: activity))
        let output: ResponseWriter.Output
        if state.runtime.compresses {
            // The compressor works on HTTP parts, so NIO's encoder serializes after it. Outbound
            // header validation is off: every header written was parsed by llhttp (which refuses
            // CR, LF and NUL) or comes from the validated configuration and the edge itself.
            try sync.configureHTTPServerPipeline(
                withPipeliningAssistance: false, withErrorHandling: false, withOutboundHeaderValidation: false)
            try sync.addHandler(CompressionMarker.makeCompressor())
            output = .parts(compressor: true)
        } else {
            // ``ClientHandler`` serializes its responses itself (see ``ResponseWriter``).
            try sync.addHandler(ByteToMessageHandler(HTTPRequestDecoder(leftOverBytesStrategy: .dropBytes)))
            output = .bytes
        }
        try sync.addHandler(
            ClientHandler(
                state: state, loop: state.loop(for: channel.eventLoop), activity: activity, peer: peer, scheme: scheme,
                output: output, httpsRedirect: httpsRedirect))
    }

    /// HTTP/2: each stream gets the HTTP/1-shaped codec and its own ``ClientHandler``, so every
    /// stream is limited, logged and proxied exactly like an HTTP/1.1 request.
    static func configureHTTP2Pipeline(channel: any Channel, state: EdgeState, limits: HTTP2Limits) throws {
        let peer = channel.remoteAddress.flatMap(ClientKey.init(socketAddress:)) ?? ClientKey(ipv4: 0)
        let peerText = peer.description
        let loop = state.loop(for: channel.eventLoop)  // a connection's streams run on its loop
        let keepAlive = TimeAmount(state.runtime.config.timeouts.keepAlive)
        // Streams are created on the connection's loop, which is what makes the bound sound.
        let admission = NIOLoopBound(HTTP2StreamAdmission(advertisedLimit: limits.maxConcurrentStreams), eventLoop: channel.eventLoop)
        let deadlines = NIOLoopBound(HTTP2StreamDeadlines(eventLoop: channel.eventLoop), eventLoop: channel.eventLoop)
        channel.closeFuture.whenComplete { _ in deadlines.value.close() }
        var connection = NIOHTTP2Handler.ConnectionConfiguration()
        connection.initialSettings = [
            HTTP2Setting(parameter: .maxConcurrentStreams, value: admission.value.enforcedLimit),
            HTTP2Setting(parameter: .maxHeaderListSize, value: limits.maxHeaderListSize),
            HTTP2Setting(parameter: .maxFrameSize, value: 1 << 14),
        ]
        var stream = NIOHTTP2Handler.StreamConfiguration()
        stream.streamResetFrameRateLimit.maximumCount = limits.maxResets
        stream.streamResetFrameRateLimit.windowLength = TimeAmount(limits.resetWindow)
        let sync = channel.pipeline.syncOperations
        try sync.addHandler(FlushCoalescingHandler())
        try sync.addHandler(HTTP2SettingsAdvertiser(admission: admission.value))
        // NIO's connection manager closes idle connections (the keep-alive timeout) and shuts down
        // gracefully on quiesce: GOAWAY, then a close once the open streams have finished.
        let manager = NIOHTTP2ServerConnectionManagementHandler(
            eventLoop: channel.eventLoop,
            configuration: .init(maxIdleTime: keepAlive, maxAge: nil, maxGraceTime: nil, keepalive: nil))
        _ = try sync.configureHTTP2Pipeline(
            mode: .server, connectionConfiguration: connection, streamConfiguration: stream,
            streamDelegate: manager.http2StreamDelegate, position: .last
        ) { streamChannel in
            streamChannel.eventLoop.makeCompletedFuture {
                guard try HTTP2StreamGate.admit(streamChannel, admission: admission.value) else { return }
                let streamSync = streamChannel.pipeline.syncOperations
                try streamSync.addHandler(HTTP2FramePayloadToHTTP1ServerCodec())
                let runtime = state.runtime  // once per stream: a reload applies to the next stream
                let compresses = runtime.compresses
                if compresses { try streamSync.addHandler(CompressionMarker.makeCompressor()) }
                try streamSync.addHandler(
                    ClientHandler(
                        state: state, loop: loop, activity: ClientActivity(), peer: peer, peerText: peerText, scheme: "https",
                        mode: .http2Stream, output: compresses ? .parts(compressor: true) : .http2Frames, runtime: runtime,
                        streamDeadlines: deadlines.value))
            }
        }
        try sync.addHandler(manager)
        try sync.addHandler(HTTP2ErrorCloser())
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
            var certificates: [(String, TLSListenerContext, CertificateSet)] = []
            var coreCertificates: [(CoreListener, CoreListener.LoadedCertificates, CertificateSet)] = []
            for listener in config.listeners {
                if let tls = listener.tls, let context = tlsContexts[listener.name] {
                    certificates.append((listener.name, context, try CertificateSet(config: tls)))
                }
                if let tls = listener.tls, let core = coreListeners.first(where: { $0.name == listener.name }),
                    let loaded = try core.loadCertificates(tls)
                {
                    coreCertificates.append((core, loaded, try CertificateSet(config: tls)))
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
            for (name, context, set) in certificates {
                context.install(set)
                state.metrics.setCertificates(listener: name, set.expiries)
            }
            for (core, loaded, set) in coreCertificates {
                core.installCertificates(loaded)
                state.metrics.setCertificates(listener: core.name, set.expiries)
            }
            if let replacement {
                state.replaceConnectionLimiter(with: replacement)
                state.logger.info(
                    "the per-client connection cap was replaced; connections open before the reload do not count against it",
                    [("connections_per_client", limits.connectionsPerClient.map(String.init) ?? "off")])
            }
            state.swapRuntime(runtime)
            startHealthChecks(for: runtime)
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
        // Every listener stops accepting; open connections finish their request and close.
        let drained = quiescers.map { helper in
            let promise = group.next().makePromise(of: Void.self)
            helper.initiateShutdown(promise: promise)
            return promise.futureResult
        }
        admin?.stop()
        // The core's listeners drain alike, beside the NIO ones, within the same grace.
        let cores = coreListeners
        let coresDrained = Task {
            await withTaskGroup(of: Void.self) { group in
                for core in cores { group.addTask { await core.shutdown(grace: grace) } }
            }
        }
        let all = EventLoopFuture.andAllComplete(drained, on: group.next())
        let timedOut = group.next().makePromise(of: Void.self)
        let deadline = group.next().scheduleTask(in: TimeAmount(grace)) {
            timedOut.succeed(())  // whatever is still open is closed with the group
        }
        all.cascade(to: timedOut)
        try? await timedOut.futureResult.get()
        deadline.cancel()
        await coresDrained.value
        for context in state.loops.values {
            try? await context.eventLoop.submit { context.pool.closeAll() }.get()
        }
        state.logger.info("stopped")
        try? await state.fileIO.shutdownGracefully()
        state.accessLog.close()
        state.logger.sink.close()
        if ownsGroup { try? await group.shutdownGracefully() }
    }
}

extension ClientKey {
    /// The key of a socket's peer address; `nil` for Unix sockets.
    init?(socketAddress: SocketAddress) {
        switch socketAddress {
        case .v4(let address):
            self.init(ipv4: UInt32(bigEndian: address.address.sin_addr.s_addr))
        case .v6(let address):
            let bytes = withUnsafeBytes(of: address.address.sin6_addr) { Array($0) }
            self.init(networkOrderBytes: bytes)
        case .unixDomainSocket:
            return nil
        }
    }
}
