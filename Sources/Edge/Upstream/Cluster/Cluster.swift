import EdgeIO
import Limits
import Synchronization

/// One upstream server as the running edge sees it: where it is, how busy, how healthy.
/// Shared by every event loop, so its counters are atomic and its health is behind a lock.
/// What a request asks of the health (may it go there; is there a failure count to clear) is
/// published beside the lock after every change and read without it: both loops taking one
/// lock per request would move its cache line between the cores.
final class UpstreamServer: Sendable {
    let index: Int
    let config: UpstreamServerConfig
    let address: SocketAddress
    /// Its address as logs and the access log show it (made once: a request would format it).
    let addressText: String
    /// Requests in flight to this server, counted per event loop (``ShardedCounter``).
    let inFlight = ShardedCounter()
    private let health: Mutex<ServerHealth>
    /// ``ServerHealth/availableFrom`` in nanoseconds (`UInt64.max`: actively down).
    private let availableFrom = Atomic<UInt64>(0)
    /// ``ServerHealth/hasFailures``.
    private let hasFailures = Atomic<Bool>(false)

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

    func isAvailable(now: Instant) -> Bool { now.nanoseconds >= availableFrom.load(ordering: .acquiring) }

    /// A request to it failed (``ServerHealth/requestFailed(now:)``).
    func requestFailed(now: Instant) { update { $0.requestFailed(now: now) } }

    /// A request to it got a response: the lock only when there is a failure count to clear.
    func requestSucceeded() {
        guard hasFailures.load(ordering: .acquiring) else { return }
        update { $0.requestSucceeded() }
    }

    /// An active probe's outcome; `true` when it changed whether the server is actively down.
    func probed(healthy: Bool) -> Bool { update { $0.probed(healthy: healthy) } }

    /// Changes the health under its lock and publishes what requests read of it.
    private func update<Result>(_ change: (inout ServerHealth) -> Result) -> Result {
        health.withLock { health in
            let result = change(&health)
            availableFrom.store(health.availableFrom?.nanoseconds ?? .max, ordering: .releasing)
            hasFailures.store(health.hasFailures, ordering: .releasing)
            return result
        }
    }
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
