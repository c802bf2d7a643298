import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// A small integer per upstream address, fixed for the life of the process: pools find idle
/// connections by position instead of hashing an address per request, and a server that stays
/// in the configuration across a reload keeps its idle connections.
enum PoolKey {
    private static let keys = Mutex<[EndpointAddress: Int]>([:])

    static func of(_ address: EndpointAddress) -> Int {
        keys.withLock { keys in
            if let key = keys[address] { return key }
            let key = keys.count
            keys[address] = key
            return key
        }
    }
}

/// Idle keep-alive connections to upstream servers, for one event loop.
///
/// Each event loop keeps its own pool, so a client connection and the upstream connection that
/// serves it live on the same thread: no locks, no hops between threads on the proxy path.
/// Connections are reused most-recently-idle first (the warmest), and at most `keepAlive` per
/// server stay idle (nginx's `keepalive`); idle ones close after ``idleTimeout``.
final class UpstreamConnectionPool {
    let eventLoop: any EventLoop
    /// How long an idle upstream connection is kept (nginx `keepalive_timeout` towards upstreams).
    let idleTimeout: TimeAmount
    /// Idle connections by ``PoolKey``.
    private var idle: [[UpstreamConnection]] = []
    private var sweep: Scheduled<Void>?

    init(eventLoop: any EventLoop, idleTimeout: TimeAmount = .seconds(60)) {
        self.eventLoop = eventLoop
        self.idleTimeout = idleTimeout
    }

    /// An idle connection to `server`, if one is alive.
    func takeIdle(for server: UpstreamServer) -> UpstreamConnection? {
        let key = server.poolKey
        guard key < idle.count else { return nil }
        while let connection = idle[key].popLast() {
            if connection.isUsable { return connection }
        }
        return nil
    }

    /// Opens a new connection to `server`.
    func connect(to server: UpstreamServer, timeout: TimeAmount) -> EventLoopFuture<UpstreamConnection> {
        let key = server.poolKey
        return ClientBootstrap(group: eventLoop)
            .connectTimeout(timeout)
            .channelOption(.tcpOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(UpstreamConnectionHandler())
                }
            }
            .connect(to: server.address)
            .flatMapThrowing { channel in
                let handler = try channel.pipeline.syncOperations.handler(type: UpstreamConnectionHandler.self)
                let context = try channel.pipeline.syncOperations.context(handlerType: UpstreamConnectionHandler.self)
                return UpstreamConnection(channel: channel, handler: handler, context: context, key: key)
            }
    }

    /// Returns a connection whose exchange ended cleanly, to be reused.
    /// - Parameter keepAlive: idle connections allowed per server; beyond it the connection closes.
    func release(_ connection: UpstreamConnection, keepAlive: Int) {
        connection.handler.delegate = nil
        connection.setReadsPaused(false)
        guard connection.isUsable, keepAlive > 0 else {
            connection.close()
            return
        }
        let key = connection.key
        if key >= idle.count { idle.append(contentsOf: repeatElement([], count: key + 1 - idle.count)) }
        guard idle[key].count < keepAlive else {
            connection.close()
            return
        }
        connection.idleSince = .now()
        idle[key].append(connection)
        scheduleSweep()
    }

    /// Closes every idle connection (shutdown).
    func closeAll() {
        for list in idle { list.forEach { $0.close() } }
        idle.removeAll()
        sweep?.cancel()
        sweep = nil
    }

    private func scheduleSweep() {
        guard sweep == nil else { return }
        sweep = eventLoop.assumeIsolated().scheduleTask(in: idleTimeout) { [weak self] in
            guard let self else { return }
            self.sweep = nil
            let cutoff = NIODeadline.now() - self.idleTimeout
            for (key, list) in self.idle.enumerated() where !list.isEmpty {
                let (stale, fresh) = (list.filter { $0.idleSince <= cutoff || !$0.isUsable }, list.filter { $0.idleSince > cutoff && $0.isUsable })
                stale.forEach { $0.close() }
                self.idle[key] = fresh
            }
            if self.idle.contains(where: { !$0.isEmpty }) { self.scheduleSweep() }
        }
    }
}
