import EdgeIO
import Limits
import Synchronization

/// One upstream server as the running edge sees it: where it is, how busy, how healthy.
/// Shared by every event loop, so its counters are atomic and its health is behind a lock.
final class UpstreamServer: Sendable {
    let index: Int
    let config: UpstreamServerConfig
    let address: SocketAddress
    /// Its address as logs and the access log show it (made once: a request would format it).
    let addressText: String
    /// Requests in flight to this server, counted per event loop (``ShardedCounter``).
    let inFlight = ShardedCounter()
    let health: Mutex<ServerHealth>

    init(index: Int, config: UpstreamServerConfig, address: SocketAddress, healthCheck: HealthCheckConfig?) {
        self.index = index
        self.config = config
        self.address = address
        self.addressText = config.address.description
        self.health = Mutex(
            ServerHealth(
                maxFails: config.maxFails, failTimeout: config.failTimeout,
                rise: healthCheck?.rise ?? 2, fall: healthCheck?.fall ?? 3))
    }

    func isAvailable(now: Instant) -> Bool { health.withLock { $0.isAvailable(now: now) } }
}

/// An upstream pool: its servers and the choice among them. Pure decisions live in ``Balancer``
/// and ``ServerHealth``; this type gathers their inputs.
final class Cluster: Sendable {
    let name: String
    let config: UpstreamConfig
    let servers: [UpstreamServer]
    private let turn = Atomic<UInt64>(0)

    init(config: UpstreamConfig, addresses: [SocketAddress]) {
        self.name = config.name
        self.config = config
        self.servers = zip(config.servers, addresses).enumerated().map { index, pair in
            UpstreamServer(index: index, config: pair.0, address: pair.1, healthCheck: config.healthCheck)
        }
    }

    /// Chooses a server for the next attempt of a request.
    /// - Parameters:
    ///   - tried: servers this request already tried.
    ///   - now: monotonic nanoseconds.
    ///   - random: the loop's random source.
    /// - Returns: a server, or `nil` when every server was tried. When every untried server is
    ///   marked down, one of them is tried anyway on a request's first attempt (as nginx does
    ///   with a single server): refusing everything until a timer expires would turn one blip
    ///   into an outage.
    func choose<R: RandomNumberGenerator>(tried: TriedServers, now: Instant, random: inout R) -> UpstreamServer? {
        if servers.count == 1 {
            // The common single-worker pool: no candidate list to build.
            guard !tried.contains(0) else { return nil }
            return tried.isEmpty || servers[0].isAvailable(now: now) ? servers[0] : nil
        }
        var candidates: [BalancerCandidate] = []
        candidates.reserveCapacity(servers.count)
        for server in servers where !tried.contains(server.index) && server.isAvailable(now: now) {
            candidates.append(candidate(server))
        }
        if candidates.isEmpty {
            guard tried.isEmpty else { return nil }
            candidates = servers.map(candidate)
        }
        let turn = self.turn.wrappingAdd(1, ordering: .relaxed).oldValue
        return servers[Balancer.choose(config.balance, from: candidates, turn: turn, random: &random)]
    }

    private func candidate(_ server: UpstreamServer) -> BalancerCandidate {
        BalancerCandidate(index: server.index, weight: server.config.weight, inFlight: server.inFlight.load())
    }
}

/// The servers of a pool one request has tried, by position: a bit each for the first 64 (a
/// request allocates nothing for this), a list beyond.
struct TriedServers {
    private var bits: UInt64 = 0
    private var beyond: [Int] = []
    private(set) var count = 0

    var isEmpty: Bool { count == 0 }

    func contains(_ index: Int) -> Bool {
        index < 64 ? bits & (1 << UInt64(index)) != 0 : beyond.contains(index)
    }

    mutating func insert(_ index: Int) {
        guard !contains(index) else { return }
        if index < 64 { bits |= 1 << UInt64(index) } else { beyond.append(index) }
        count += 1
    }
}
