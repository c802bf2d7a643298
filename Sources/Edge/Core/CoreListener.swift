import EdgeIO
import EdgeIOProxy
import NIOCore

#if canImport(Glibc)
    import Glibc
#endif

/// A listener served by the edge's own I/O core (`io: core`): the core's loops, each with its
/// `SO_REUSEPORT` listener, running the proxy handler with the engine as its policy. It shares
/// the edge's state with the NIO listeners: the runtime a reload swaps in (routes, limits,
/// headers, upstream servers), the connection cap, metrics, the access log, and the upstream
/// health the checkers keep.
///
/// Fixed at start, as the core's handler takes them (a reload does not change them on this
/// listener): the client timeouts (`timeouts.keepalive`, `timeouts.client_header`), the pool
/// bound (the largest `keepalive`), the body limit (`limits.max_body_size`). Each attempt's
/// connect and read timeouts come from its route (``EngineProxyPolicy/upstreamTimeouts(tag:)``);
/// the handler's own upstream timeout is only their fallback.
final class CoreListener: Sendable {
    typealias Handler = ProxyHandler<EngineProxyPolicy>
    typealias LoadedCertificates = TLSContext.LoadedCertificates
    let name: String
    let group: EdgeIO.EventLoopGroup<Handler>
    /// A TLS listener's session-ticket keys, rotated (``TicketKeyRotator``).
    let ticketKeys: TicketKeyRotator?
    /// A TLS listener's context (its certificates replaced on reload).
    let tlsContext: TLSContext?
    /// Where it listens (its port resolved when the configuration said 0).
    let address: NIOCore.SocketAddress

    /// Starts the loops.
    /// - Throws: ``EdgeError`` when the address cannot be bound.
    init(listener: ListenerConfig, state: EdgeState, loopCount: Int) throws {
        name = listener.name
        let config = state.runtime.config
        let resolved = try listener.address.resolve(context: "listener '\(listener.name)'")
        var loop = EventLoopConfiguration(
            host: resolved.ipAddress ?? "", port: UInt16(resolved.port ?? 0), loopCount: loopCount, backlog: Int32(listener.backlog))
        loop.unixPath = resolved.pathname
        let secure = listener.tls != nil
        if let tls = listener.tls {
            do {
                let context = try TLSContext(configuration: Self.tlsConfiguration(tls))
                loop.tls = context
                tlsContext = context
                ticketKeys = try TicketKeyRotator(context: context, rotation: Self.ticketKeyRotation, decryptOnly: 2)
            } catch {
                throw EdgeError.bind(listener.address, reason: "TLS: \(error)")
            }
        } else {
            ticketKeys = nil
            tlsContext = nil
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
            throw EdgeError.bind(listener.address, reason: "\(error)")
        }
        address = try resolved.pathname.map { try NIOCore.SocketAddress(unixDomainSocketPath: $0) }
            ?? NIOCore.SocketAddress(ipAddress: loop.host, port: group.port)
    }

    /// How often a TLS listener's session tickets get a new key: hourly, the two before still
    /// decrypting, so a ticket resumes for up to three hours (nginx keeps one random key for a
    /// worker's life).
    static var ticketKeyRotation: UInt64 { 3_600_000 }

    /// The core's TLS context settings for a listener's `tls`: its certificates (the core picks
    /// one by the names in the certificate itself), the Mozilla intermediate suites, ALPN `h2`
    /// (with `http2: true`, the default) and `http/1.1`.
    static func tlsConfiguration(_ tls: TLSListenerConfig) -> TLSContext.Configuration {
        TLSContext.Configuration(
            certificates: Self.certificates(tls),
            applicationProtocols: tls.http2 ? ["h2", "http/1.1"] : ["http/1.1"])
    }

    /// A listener's certificates as the core's context takes them: each answers for its
    /// `server_names` (or the names in it), the first for any other name.
    static func certificates(_ tls: TLSListenerConfig) -> [TLSContext.Certificate] {
        tls.certificates.map {
            TLSContext.Certificate(chainPath: $0.certificateChain, keyPath: $0.privateKey, serverNames: $0.serverNames)
        }
    }

    /// Loads a reload's certificates (nothing changes yet; ``installCertificates(_:)`` does).
    /// - Throws: ``EdgeError`` naming the file at fault.
    func loadCertificates(_ tls: TLSListenerConfig) throws -> TLSContext.LoadedCertificates? {
        guard let tlsContext else { return nil }
        do {
            return try tlsContext.load(Self.certificates(tls))
        } catch {
            throw EdgeError.reload("listener '\(name)': TLS: \(error). Nothing was changed.")
        }
    }

    /// New handshakes use the loaded certificates from now on.
    func installCertificates(_ loaded: TLSContext.LoadedCertificates) {
        tlsContext?.install(loaded)
    }

    /// The HTTP/2 sessions' settings and bounds from the listener's `http2_limits`: the stream
    /// and header-list limits as advertised, and rapid reset as `max_resets` within
    /// `reset_window` (a token bucket, the same budget as the NIO listeners').
    static func http2Options(_ limits: Edge.HTTP2Limits) -> (EdgeIO.HTTP2Settings, EdgeIO.HTTP2Limits) {
        let settings = EdgeIO.HTTP2Settings(
            maxConcurrentStreams: UInt32(clamping: limits.maxConcurrentStreams),
            maxHeaderListSize: UInt32(clamping: limits.maxHeaderListSize))
        let (seconds, attoseconds) = limits.resetWindow.components
        let bounds = EdgeIO.HTTP2Limits(
            resetBurst: UInt32(clamping: limits.maxResets),
            resetWindowMilliseconds: UInt32(clamping: max(1, seconds * 1000 + attoseconds / 1_000_000_000_000_000)))
        return (settings, bounds)
    }

    /// The handler's settings from the configuration (see the type's comment).
    static func handlerConfiguration(_ config: EdgeConfig) -> Handler.Configuration {
        func milliseconds(_ duration: Duration) -> UInt64 {
            let (seconds, attoseconds) = duration.components
            return UInt64(max(0, seconds)) * 1000 + UInt64(max(0, attoseconds) / 1_000_000_000_000_000)
        }
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
            // As the NIO listeners and nginx: a client gone mid-exchange ends it (logged 499).
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
        removeSocketFile()
    }

    /// A Unix listener's socket file goes with it (as on `io: nio`, and as nginx removes its
    /// own), so that a restart can bind the path again; removed as the drain starts, so a new
    /// edge can listen while this one finishes its exchanges.
    func removeSocketFile() {
        if let path = address.pathname { unlink(path) }
    }
}
