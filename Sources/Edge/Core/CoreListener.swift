import EdgeIO
import EdgeIOProxy
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// A listener on the edge's own I/O core: the core's loops, each with its `SO_REUSEPORT`
/// listener, running the proxy handler with the engine as its policy. The listeners share the
/// edge's state: the runtime a reload swaps in (routes, limits, headers, upstream servers), the
/// connection cap, metrics, the access log, and the upstream health the checkers keep.
///
/// Fixed at start, as the core's handler takes them (a reload does not change them on this
/// listener): the client timeouts (`timeouts.keepalive`, `timeouts.client_header`), the pool
/// bound (the largest `keepalive`), the body limit (`limits.max_body_size`). Each attempt's
/// connect and read timeouts come from its route (``EngineProxyPolicy/upstreamTimeouts(tag:)``);
/// the handler's own upstream timeout is only their fallback.
final class CoreListener: Sendable {
    typealias Handler = ProxyHandler<EngineProxyPolicy>
    let name: String
    let group: EdgeIO.EventLoopGroup<Handler>
    /// A TLS listener's session-ticket keys, rotated (``TicketKeyRotator``); `nil` when the
    /// listener reads them from `session_ticket_keys` files (re-read on reload) or has no TLS.
    let ticketKeys: TicketKeyRotator?
    /// A TLS listener's context (its certificates replaced on reload).
    let tlsContext: TLSContext?
    /// Keeps the certificates' `ocsp_response` staples in step with their files; replaced on
    /// reload (the certificates, and so the files, may have changed).
    let ocspRefresher: Mutex<OCSPStapleRefresher?>
    /// For the OCSP refresher's warnings.
    let logger: EdgeLogger

    /// What a reload loaded for a TLS listener, all read and checked before anything changes
    /// (``installCertificates(_:)`` applies it).
    struct LoadedCertificates: Sendable {
        let certificates: TLSContext.LoadedCertificates
        /// The `session_ticket_keys` files' contents; `nil` when the edge rotates its own keys.
        let ticketKeys: [[UInt8]]?
        let tls: TLSListenerConfig
    }
    /// Where it listens (its port resolved when the configuration said 0).
    let address: EdgeIO.SocketAddress

    /// Starts the loops.
    /// - Throws: ``EdgeError`` when the address cannot be bound, or a TLS file (certificate,
    ///   key, OCSP response, ticket key) cannot be loaded.
    init(listener: ListenerConfig, state: EdgeState, loopCount: Int) throws {
        name = listener.name
        let config = state.runtime.config
        let resolved = try listener.address.resolve(context: "listener '\(listener.name)'")
        var loop = EventLoopConfiguration(
            host: resolved.host ?? "", port: UInt16(resolved.port ?? 0), loopCount: loopCount, backlog: Int32(listener.backlog))
        loop.unixPath = resolved.unixPath
        let secure = listener.tls != nil
        logger = state.logger.with(label: "edge.tls")
        if let tls = listener.tls {
            var refresher: OCSPStapleRefresher?
            do {
                let context = try TLSContext(configuration: Self.tlsConfiguration(tls))
                if !tls.sessionTicketKeys.isEmpty { try context.setTicketKeys(try Self.readTicketKeys(tls)) }
                refresher = try Self.startOCSPRefresher(context: context, tls: tls, listener: listener.name, logger: logger)
                ticketKeys =
                    try tls.sessionTicketKeys.isEmpty
                    ? TicketKeyRotator(context: context, rotation: Self.ticketKeyRotation, decryptOnly: 2) : nil
                loop.tls = context
                tlsContext = context
                ocspRefresher = Mutex(refresher)
            } catch {
                refresher?.stop()
                throw EdgeError.tls("listener '\(listener.name)': TLS: \(error)")
            }
        } else {
            ticketKeys = nil
            tlsContext = nil
            ocspRefresher = Mutex(nil)
        }
        var handlerConfiguration = Self.handlerConfiguration(config)
        if let tls = listener.tls, tls.http2 {
            (handlerConfiguration.http2Settings, handlerConfiguration.http2Limits) = Self.http2Options(tls.http2Limits)
        }
        let seeds = (0..<loopCount).map { _ in UInt64.random(in: .min ... .max) }
        let redirect = listener.httpsRedirect.map { HTTPSRedirect(config: $0, headers: config.headers.add) }
        do {
            group = try EdgeIO.EventLoopGroup(configuration: loop) { [loop, handlerConfiguration] index, mailbox in
                Handler(
                    configuration: handlerConfiguration,
                    policy: EngineProxyPolicy(
                        state: state, loopIndex: index, secure: secure, httpsRedirect: redirect, seed: seeds[index],
                        post: { mailbox.post(.policy($0)) }),
                    chunkSize: loop.chunkSize, secure: secure)
            }
        } catch {
            ticketKeys?.stop()
            ocspRefresher.withLock { $0?.stop() }
            throw EdgeError.bind(listener.address, reason: "\(error)")
        }
        address = try resolved.unixPath.map { try EdgeIO.SocketAddress(unixPath: $0) }
            ?? EdgeIO.SocketAddress(host: loop.host, port: UInt16(group.port))
    }

    /// `event_loops: auto`: one loop per online CPU (as nginx's `worker_processes auto`).
    static var coreCount: Int { max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))) }

    /// How often a TLS listener's session tickets get a new key: hourly, the two before still
    /// decrypting, so a ticket resumes for up to three hours (nginx keeps one random key for a
    /// worker's life).
    static var ticketKeyRotation: UInt64 { 3_600_000 }

    /// The core's TLS context settings for a listener's `tls`: its certificates (with their
    /// OCSP responses), the Mozilla intermediate TLS 1.2 suites, the TLS 1.3 suites
    /// (`tls13_ciphersuites`, else the core's three), ALPN `h2` (with `http2: true`, the
    /// default) and `http/1.1`.
    static func tlsConfiguration(_ tls: TLSListenerConfig) -> TLSContext.Configuration {
        TLSContext.Configuration(
            certificates: Self.certificates(tls), tls13Suites: tls.tls13Ciphersuites,
            applicationProtocols: tls.http2 ? ["h2", "http/1.1"] : ["http/1.1"])
    }

    /// A listener's certificates as the core's context takes them: each answers for its
    /// `server_names` (or the names in it), the first for any other name.
    static func certificates(_ tls: TLSListenerConfig) -> [TLSContext.Certificate] {
        tls.certificates.map {
            TLSContext.Certificate(
                chainPath: $0.certificateChain, keyPath: $0.privateKey, ocspResponsePath: $0.ocspResponse,
                serverNames: $0.serverNames)
        }
    }

    /// Loads what start-up loads for a TLS listener (certificates and keys with their match,
    /// OCSP responses, ticket key files) without binding: `homerack-edge --check`.
    /// - Throws: ``EdgeError`` naming the file at fault.
    static func checkTLS(_ tls: TLSListenerConfig, listener: String) throws {
        do {
            _ = try TLSContext(configuration: tlsConfiguration(tls))
            _ = try readTicketKeys(tls)
        } catch {
            throw EdgeError.tls("listener '\(listener)': TLS: \(error)")
        }
    }

    /// The `session_ticket_keys` files' contents, in order (the first encrypts).
    /// - Throws: ``TLSError`` naming a file that cannot be read or is not a key.
    static func readTicketKeys(_ tls: TLSListenerConfig) throws -> [[UInt8]] {
        try tls.sessionTicketKeys.map { try TLSContext.readTicketKey(path: $0) }
    }

    /// Starts watching the certificates' `ocsp_response` files every `ocsp_refresh`, its
    /// findings logged (a new staple at info, a problem at warning); `nil` when none has one.
    static func startOCSPRefresher(
        context: TLSContext, tls: TLSListenerConfig, listener: String, logger: EdgeLogger
    ) throws -> OCSPStapleRefresher? {
        let files = tls.certificates.enumerated().compactMap { index, certificate in
            certificate.ocspResponse.map { (certificate: index, path: $0) }
        }
        guard !files.isEmpty else { return nil }
        return try OCSPStapleRefresher(context: context, files: files, interval: tls.ocspRefresh.wholeMilliseconds) { report in
            switch report {
            case .installed(let path, let nextUpdate):
                logger.info(
                    "OCSP response stapled",
                    [("edge.listener", listener), ("file", path), ("next_update", String(nextUpdate))])
            case .problem(let path, let message):
                logger.warning("OCSP stapling: \(message)", [("edge.listener", listener), ("file", path)])
            }
        }
    }

    /// Loads a reload's certificates, OCSP responses and ticket key files (nothing changes yet;
    /// ``installCertificates(_:)`` does).
    /// - Throws: ``EdgeError`` naming the file at fault.
    func loadCertificates(_ tls: TLSListenerConfig) throws -> LoadedCertificates? {
        guard let tlsContext else { return nil }
        do {
            let certificates = try tlsContext.load(Self.certificates(tls))
            let keys = tls.sessionTicketKeys.isEmpty ? nil : try Self.readTicketKeys(tls)
            return LoadedCertificates(certificates: certificates, ticketKeys: keys, tls: tls)
        } catch {
            throw EdgeError.reload("listener '\(name)': TLS: \(error). Nothing was changed.")
        }
    }

    /// New handshakes use the loaded certificates, OCSP responses and ticket keys from now on;
    /// the OCSP files are watched afresh.
    func installCertificates(_ loaded: LoadedCertificates) {
        guard let tlsContext else { return }
        // The old refresher would staple the old files' responses on the new certificates.
        ocspRefresher.withLock { refresher in
            refresher?.stop()
            refresher = nil
        }
        tlsContext.install(loaded.certificates)
        if let keys = loaded.ticketKeys {
            // Checked when loaded (sizes), so this does not fail.
            do { try tlsContext.setTicketKeys(keys) } catch { logger.error("session ticket keys: \(error)", [("edge.listener", name)]) }
        }
        do {
            let refresher = try Self.startOCSPRefresher(context: tlsContext, tls: loaded.tls, listener: name, logger: logger)
            ocspRefresher.withLock { $0 = refresher }
        } catch {
            logger.error(
                "OCSP stapling: the refresh thread did not start (\(error)); the responses loaded now stay stapled until their nextUpdate",
                [("edge.listener", name)])
        }
    }

    /// The HTTP/2 sessions' settings and bounds from the listener's `http2_limits`: the stream
    /// and header-list limits as advertised, and rapid reset as `max_resets` within
    /// `reset_window` (a token bucket).
    static func http2Options(_ limits: Edge.HTTP2Limits) -> (EdgeIO.HTTP2Settings, EdgeIO.HTTP2Limits) {
        let settings = EdgeIO.HTTP2Settings(
            maxConcurrentStreams: UInt32(clamping: limits.maxConcurrentStreams),
            maxHeaderListSize: UInt32(clamping: limits.maxHeaderListSize))
        let bounds = EdgeIO.HTTP2Limits(
            resetBurst: UInt32(clamping: limits.maxResets),
            resetWindowMilliseconds: UInt32(clamping: max(1, limits.resetWindow.wholeMilliseconds)))
        return (settings, bounds)
    }

    /// The handler's settings from the configuration (see the type's comment).
    static func handlerConfiguration(_ config: EdgeConfig) -> Handler.Configuration {
        func milliseconds(_ duration: Duration) -> UInt64 { duration.wholeMilliseconds }
        let upstreams = config.upstreams.values
        // The core has one timer for connect plus response head: the longest of the two together.
        let answerTimeout =
            (upstreams.map { $0.connectTimeout + $0.readTimeout }
            + config.routes.compactMap { route in route.readTimeout.map { $0 + (route.connectTimeout ?? .zero) } })
            .max() ?? .seconds(60)
        return Handler.Configuration(
            keepAlivePerUpstream: upstreams.map(\.keepAlive).max() ?? 32,
            clientIdleTimeout: milliseconds(config.timeouts.keepAlive),
            upstreamTimeout: milliseconds(answerTimeout),
            maxRequestBody: config.limits.maxBodySize, clientHeaderTimeout: milliseconds(config.timeouts.header),
            // As nginx: a client gone mid-exchange ends it (logged 499).
            abortOnClientClose: true, clientSendTimeout: milliseconds(config.timeouts.send),
            clientBodyTimeout: milliseconds(config.timeouts.body))
    }

    /// Drains, then stops: the loops stop accepting and close their idle connections, the
    /// exchanges in progress finish (their connections close after them) for up to `grace`,
    /// then whatever is left is closed with the loops.
    func shutdown(grace: Duration) async {
        for loop in 0..<group.loopCount { _ = group.post(.drain, toLoop: loop) }
        removeSocketFile()
        let deadline = ContinuousClock.now + grace
        while ContinuousClock.now < deadline, await openConnections() > 0 {
            try? await Task.sleep(for: .milliseconds(20))
        }
        group.stop()
        ticketKeys?.stop()
        ocspRefresher.withLock { $0?.stop() }
    }

    /// Connections open on the loops (clients and upstreams), asked through the mailboxes.
    func openConnections() async -> Int {
        var total = 0
        for loop in 0..<group.loopCount {
            total += await withCheckedContinuation { continuation in
                if !group.post(.statistics(reply: { continuation.resume(returning: $0.connections) }), toLoop: loop) {
                    continuation.resume(returning: 0)
                }
            }
        }
        return total
    }

    /// Stops the loops at once: their connections close.
    func stop() {
        group.stop()
        ticketKeys?.stop()
        ocspRefresher.withLock { $0?.stop() }
        removeSocketFile()
    }

    /// A Unix listener's socket file goes with it (as nginx removes its own), so that a restart can bind the path again; removed as the drain starts, so a new
    /// edge can listen while this one finishes its exchanges.
    func removeSocketFile() {
        if let path = address.unixPath { unlink(path) }
    }
}
