import EdgeIO
import Limits

/// One route, compiled: its rate policy, its cluster, its timeouts and headers resolved.
final class CompiledRoute: Sendable {
    let config: RouteConfig
    /// The metrics label: the configured prefix (bounded, never a raw path).
    let label: String
    let policy: RateLimitPolicy
    let cluster: Cluster?
    let decorations: ResponseDecorations
    /// The same with HSTS, for HTTPS connections.
    let secureDecorations: ResponseDecorations
    /// The upstream response fields a proxied answer leaves out, in one set (asked once per
    /// field): those the decorations replace, `headers.remove_from_upstream`, and the hop-by-hop
    /// fields the core does not already drop. Plain and HTTPS (HSTS) variants.
    let responseDrops: HeaderNameSet
    let secureResponseDrops: HeaderNameSet
    /// The route's (else its upstream's, else 60 s) connect, send and read timeouts in
    /// milliseconds, as the core's timers take them.
    let timeoutMilliseconds: (connect: UInt64, send: UInt64, response: UInt64)

    init(
        config: RouteConfig, policy: RateLimitPolicy, cluster: Cluster?, base: [(name: String, value: String)], hsts: String?,
        removeFromUpstream: [String] = []
    ) {
        self.config = config
        self.label = config.prefix
        self.policy = policy
        self.cluster = cluster
        let upstream = cluster?.config
        let connect = config.connectTimeout ?? upstream?.connectTimeout ?? .seconds(60)
        let read = config.readTimeout ?? upstream?.readTimeout ?? .seconds(60)
        let send = config.sendTimeout ?? upstream?.sendTimeout ?? .seconds(60)
        timeoutMilliseconds = (connect.wholeMilliseconds, send.wholeMilliseconds, read.wholeMilliseconds)
        decorations = ResponseDecorations(headers: base + config.addHeaders, cacheControl: config.cacheControl)
        secureDecorations = decorations.secure(hsts: hsts)
        let alwaysDropped = removeFromUpstream + HeaderRewriting.alsoHopByHopNames
        responseDrops = HeaderNameSet(decorations.replacedNames + alwaysDropped)
        secureResponseDrops = HeaderNameSet(secureDecorations.replacedNames + alwaysDropped)
    }
}

/// Everything a request needs from the configuration, compiled once per load and never changed:
/// a reload builds a new runtime and swaps it in, while requests already running keep the one
/// they started with.
final class EdgeRuntime: Sendable {
    let config: EdgeConfig
    let generation: Int
    let router: Router<CompiledRoute>
    let clusters: [Cluster]
    /// Security headers for the edge's own responses (no route headers, no cache control).
    let baseDecorations: ResponseDecorations
    let secureBaseDecorations: ResponseDecorations

    /// - Parameters:
    ///   - config: a validated configuration.
    ///   - generation: counts loads, for logs.
    ///   - zones: the zone registry, so zones that did not change keep their clients' state.
    /// - Throws: ``EdgeError`` when an upstream address does not resolve or a limit is refused.
    init(config: EdgeConfig, generation: Int, zones: ZoneRegistry) throws {
        self.config = config
        self.generation = generation
        var clusters: [String: Cluster] = [:]
        for (name, upstream) in config.upstreams {
            let addresses = try upstream.servers.map { server in
                try server.address.resolve(context: "upstream '\(name)'")
            }
            clusters[name] = Cluster(config: upstream, addresses: addresses)
        }
        let zoneObjects = try zones.update(config.limits)
        let base = config.headers.add
        baseDecorations = ResponseDecorations(headers: base, cacheControl: nil)
        secureBaseDecorations = baseDecorations.secure(hsts: config.headers.hsts)
        var compiled: [(prefix: String, route: CompiledRoute)] = []
        for route in config.routes {
            let policy: RateLimitPolicy
            do {
                var rules: [RateLimitRule] = []
                for limit in route.rateLimits {
                    guard let zone = zoneObjects[limit.zone] else {
                        throw EdgeError.limits("route \(route.prefix): unknown zone '\(limit.zone)'")
                    }
                    rules.append(try RateLimitRule(zone: zone, burst: limit.burst, delay: limit.delay))
                }
                policy = try RateLimitPolicy(rules)
            } catch let error as EdgeError {
                throw error
            } catch {
                throw EdgeError.limits("route \(route.prefix): \(error)")
            }
            var cluster: Cluster?
            if case .proxy(let upstream) = route.action { cluster = clusters[upstream] }
            compiled.append((route.prefix, CompiledRoute(
                        config: route, policy: policy, cluster: cluster, base: base, hsts: config.headers.hsts,
                        removeFromUpstream: config.headers.removeFromUpstream)))
        }
        router = Router(compiled)
        self.clusters = clusters.values.sorted { $0.name < $1.name }
    }
}

/// Rate zones by name, kept across reloads: a zone whose rate and capacity did not change keeps
/// its clients' state, so a reload is no way to reset an abuser's bucket. A shared zone whose
/// only change is in its `shared:` settings (Redis address, sync interval, timeouts) keeps its
/// state too; turning sharing on or off, or changing its mode, makes a new zone (a batched zone
/// keeps a second table, a strict one a queue).
final class ZoneRegistry: @unchecked Sendable {
    private var zones: [String: (ZoneConfig, RateLimitZone)] = [:]
    private let hashSeed: UInt64
    private let shardCount: Int

    init(hashSeed: UInt64, shardCount: Int) {
        self.hashSeed = hashSeed
        self.shardCount = shardCount
    }

    /// The zones in force with their settings (for the shared zones' sync threads); read on the
    /// loading thread after ``update(_:)``.
    var current: [String: (config: ZoneConfig, zone: RateLimitZone)] {
        zones.mapValues { (config: $0.0, zone: $0.1) }
    }

    /// Called only from the thread that loads configurations (start-up, then the reload signal).
    func update(_ limits: LimitsConfig) throws -> [String: RateLimitZone] {
        var next: [String: (ZoneConfig, RateLimitZone)] = [:]
        for (name, zone) in limits.zones {
            if let existing = zones[name], existing.0.rate == zone.rate, existing.0.capacity == zone.capacity,
                existing.0.shared?.mode == zone.shared?.mode,
                existing.1.aggregatesIPv6By64 == limits.aggregateIPv6By64
            {
                next[name] = (zone, existing.1)
                continue
            }
            do {
                let object = try RateLimitZone(
                    name: name, rate: zone.rate, capacity: zone.capacity, shardCount: shardCount,
                    aggregateIPv6By64: limits.aggregateIPv6By64, hashSeed: hashSeed, shared: zone.shared?.mode == .batched,
                    strict: zone.shared?.mode == .strict)
                next[name] = (zone, object)
            } catch {
                throw EdgeError.limits("zone \(name): \(error)")
            }
        }
        zones = next
        return next.mapValues { $0.1 }
    }
}

extension EndpointAddress {
    /// The socket address, resolving a host name now (once per load, never per request).
    func resolve(context: String) throws -> SocketAddress {
        do {
            switch self {
            case .tcp(let host, let port):
                return try SocketAddress(resolving: host == "*" ? "0.0.0.0" : host, port: UInt16(port))
            case .unix(let path):
                return try SocketAddress(unixPath: path)
            }
        } catch {
            throw EdgeError.resolve(self, context: context, reason: "\(error)")
        }
    }
}
