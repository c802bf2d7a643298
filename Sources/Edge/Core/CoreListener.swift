import EdgeIO
import EdgeIOProxy
import NIOCore

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
    let name: String
    let group: EdgeIO.EventLoopGroup<Handler>
    /// Where it listens (its port resolved when the configuration said 0).
    let address: NIOCore.SocketAddress

    /// Starts the loops.
    /// - Throws: ``EdgeError`` when the address cannot be bound.
    init(listener: ListenerConfig, state: EdgeState, loopCount: Int) throws {
        name = listener.name
        let config = state.runtime.config
        let resolved = try listener.address.resolve(context: "listener '\(listener.name)'")
        guard let host = resolved.ipAddress, resolved.port != nil else {
            throw EdgeError.bind(listener.address, reason: "io: core listens on TCP addresses only")
        }
        let loop = EventLoopConfiguration(
            host: host, port: UInt16(resolved.port ?? 0), loopCount: loopCount, backlog: Int32(listener.backlog))
        let handlerConfiguration = Self.handlerConfiguration(config)
        let seeds = (0..<loopCount).map { _ in UInt64.random(in: .min ... .max) }
        do {
            group = try EdgeIO.EventLoopGroup(configuration: loop) { index in
                Handler(
                    configuration: handlerConfiguration,
                    policy: EngineProxyPolicy(state: state, loopIndex: index, secure: false, seed: seeds[index]),
                    chunkSize: loop.chunkSize)
            }
        } catch {
            throw EdgeError.bind(listener.address, reason: "\(error)")
        }
        address = try NIOCore.SocketAddress(ipAddress: host, port: group.port)
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
            maxRequestBody: config.limits.maxBodySize, clientHeaderTimeout: milliseconds(config.timeouts.header))
    }

    /// Stops the loops: their connections close (no drain on the core yet).
    func stop() {
        group.stop()
    }
}
