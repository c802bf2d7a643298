import EdgeIO

/// The fixture proxy running: a loop group of ``ProxyHandler`` with ``FixturePolicy``
/// (plain, and a second group for TLS when a context is given). Created here, in the module
/// that defines the handler, so the loop is specialised for the concrete handler: every
/// callback and policy call is a direct call.
public final class ProxyServer: Sendable {
    public typealias Handler = ProxyHandler<FixturePolicy>
    public let group: EventLoopGroup<Handler>
    public let tlsGroup: EventLoopGroup<Handler>?

    /// - Parameters:
    ///   - listen: address, port, loops, chunk size of the plain listener.
    ///   - tlsListen: the TLS listener (its `tls` set), or `nil`.
    ///   - upstreams: where requests go (``FixturePolicy`` sends every one to the first).
    ///   - configuration: pool bound, timeouts, body limit.
    /// - Throws: ``EdgeIOError`` when a listener or loop cannot start.
    public init(
        listen: EventLoopConfiguration, tlsListen: EventLoopConfiguration? = nil, upstreams: [SocketAddress],
        configuration: Handler.Configuration = .init()
    ) throws {
        let chunkSize = listen.chunkSize
        group = try EventLoopGroup(configuration: listen) { loop in
            Handler(
                configuration: configuration, policy: FixturePolicy(seed: 0x9E37_79B9 &+ UInt64(loop) &* 7919, upstreams: upstreams),
                chunkSize: chunkSize)
        }
        if let tlsListen {
            let tlsChunkSize = tlsListen.chunkSize
            tlsGroup = try EventLoopGroup(configuration: tlsListen) { loop in
                Handler(
                    configuration: configuration, policy: FixturePolicy(seed: 0x7F4A_7C15 &+ UInt64(loop) &* 104_729, upstreams: upstreams),
                    chunkSize: tlsChunkSize, secure: true)
            }
        } else {
            tlsGroup = nil
        }
    }

    public var port: Int { group.port }
    public var tlsPort: Int { tlsGroup?.port ?? 0 }

    /// Each loop's counters (plain loops, then TLS loops), asked through the mailboxes.
    public func statistics() async -> [Handler.Statistics] {
        var all: [Handler.Statistics] = []
        for group in [group] + (tlsGroup.map { [$0] } ?? []) {
            for loop in 0..<group.loopCount {
                let statistics = await withCheckedContinuation { continuation in
                    if !group.post(.statistics(reply: { continuation.resume(returning: $0) }), toLoop: loop) {
                        continuation.resume(
                            returning: Handler.Statistics(
                                connections: 0, buffersInUse: 0, timersArmed: 0, requests: 0, upstreamConnectsStarted: 0,
                                upstreamReuses: 0, upstreamReplays: 0, idlePooled: 0, badGateway: 0))
                    }
                }
                all.append(statistics)
            }
        }
        return all
    }

    /// Stops every loop (idempotent).
    public func stop() {
        group.stop()
        tlsGroup?.stop()
    }
}
