import Limits

/// The edge's whole configuration, validated: every value here is in range and every name
/// resolves (routes name existing upstreams and zones), so the running edge never re-checks it.
///
/// Built from a YAML file by ``ConfigLoader``; each key is documented in `docs/CONFIG.md`.
/// On `SIGHUP` a new one is loaded and swapped in whole, or refused whole.
public struct EdgeConfig: Sendable, Equatable {
    /// The listeners that accept client traffic.
    public var listeners: [ListenerConfig]
    /// The admin listener that serves `/metrics` (and nothing else); `nil` disables it.
    public var admin: AdminConfig?
    /// Event loops (threads); `nil` means one per core.
    public var eventLoops: Int?
    /// Client-side timeouts.
    public var timeouts: ClientTimeouts
    /// Body size and per-client limits.
    public var limits: LimitsConfig
    /// Headers added to every response and removed from upstream responses.
    public var headers: HeadersConfig
    /// Proxies whose `X-Forwarded-For` / `X-Request-ID` are believed.
    public var trustedProxies: [CIDR]
    /// Upstream pools by name.
    public var upstreams: [String: UpstreamConfig]
    /// Routes, in the order written; matching picks the longest prefix.
    public var routes: [RouteConfig]
    /// Access and error logging.
    public var logging: LoggingConfig

    public init(
        listeners: [ListenerConfig], admin: AdminConfig?, eventLoops: Int?, timeouts: ClientTimeouts,
        limits: LimitsConfig, headers: HeadersConfig, trustedProxies: [CIDR], upstreams: [String: UpstreamConfig],
        routes: [RouteConfig], logging: LoggingConfig
    ) {
        self.listeners = listeners
        self.admin = admin
        self.eventLoops = eventLoops
        self.timeouts = timeouts
        self.limits = limits
        self.headers = headers
        self.trustedProxies = trustedProxies
        self.upstreams = upstreams
        self.routes = routes
        self.logging = logging
    }
}

/// An address to listen on or connect to.
public enum EndpointAddress: Sendable, Hashable, CustomStringConvertible {
    /// A host (IPv4, IPv6 or name) and port; port 0 lets the kernel choose (tests).
    case tcp(host: String, port: Int)
    /// A Unix domain socket path.
    case unix(path: String)

    public var description: String {
        switch self {
        case .tcp(let host, let port): return host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
        case .unix(let path): return "unix:\(path)"
        }
    }
}

/// One client-facing listener: plain HTTP, HTTPS (``tls``), or a port that only redirects to
/// HTTPS and answers ACME challenges (``httpsRedirect``).
public struct ListenerConfig: Sendable, Equatable {
    /// A name for logs and metrics (`public`).
    public var name: String
    public var address: EndpointAddress
    /// Connections waiting to be accepted (the listen backlog).
    public var backlog: Int
    /// TLS termination for this listener; `nil` for plain HTTP.
    public var tls: TLSListenerConfig?
    /// When set, the listener serves nothing but ACME challenges and redirects to HTTPS.
    public var httpsRedirect: HTTPSRedirectConfig?

    public init(
        name: String, address: EndpointAddress, backlog: Int = 511, tls: TLSListenerConfig? = nil,
        httpsRedirect: HTTPSRedirectConfig? = nil
    ) {
        self.name = name
        self.address = address
        self.backlog = backlog
        self.tls = tls
        self.httpsRedirect = httpsRedirect
    }
}

/// TLS on a listener: certificates chosen by SNI, HTTP/2 by ALPN.
public struct TLSListenerConfig: Sendable, Equatable {
    /// Certificates; the first is the default for clients that send no (or an unknown) server name.
    public var certificates: [TLSCertificateConfig]
    /// Offer HTTP/2 (`h2`) in ALPN as well as `http/1.1`.
    public var http2: Bool = true
    /// Limits against HTTP/2 abuse.
    public var http2Limits = HTTP2Limits()
    /// The TLS 1.3 suites offered (OpenSSL's `SSL_CTX_set_ciphersuites` list); `nil`:
    /// AES-128-GCM, AES-256-GCM and ChaCha20-Poly1305.
    public var tls13Ciphersuites: String?
    /// Session-ticket key files (48 or 80 bytes, nginx's `ssl_session_ticket_key`): the first
    /// encrypts, all decrypt, re-read on reload. Empty: keys the edge makes and rotates itself.
    public var sessionTicketKeys: [String] = []
    /// How often the certificates' `ocsp_response` files are looked at for a new response.
    public var ocspRefresh: Duration = .seconds(3600)

    public init(certificates: [TLSCertificateConfig]) { self.certificates = certificates }
}

/// One certificate and its key, from PEM files.
public struct TLSCertificateConfig: Sendable, Equatable {
    /// The certificate chain (leaf first), PEM.
    public var certificateChain: String
    /// The private key (ECDSA or RSA), PEM.
    public var privateKey: String
    /// Server names (SNI) this certificate answers for; `*.example.org` matches one label.
    public var serverNames: [String]
    /// A DER OCSP response to staple (`openssl ocsp -respout`), kept fresh by a timer outside
    /// the edge.
    public var ocspResponse: String?

    public init(certificateChain: String, privateKey: String, serverNames: [String] = [], ocspResponse: String? = nil) {
        self.certificateChain = certificateChain
        self.privateKey = privateKey
        self.serverNames = serverNames
        self.ocspResponse = ocspResponse
    }
}

/// HTTP/2 limits, per connection.
public struct HTTP2Limits: Sendable, Equatable {
    /// Streams a client may have open at once (`SETTINGS_MAX_CONCURRENT_STREAMS`).
    public var maxConcurrentStreams: Int = 128
    /// Largest header list accepted, in bytes (`SETTINGS_MAX_HEADER_LIST_SIZE`).
    public var maxHeaderListSize: Int = 16 * 1024
    /// Stream resets a client may cause within ``resetWindow`` before the connection is closed
    /// (the "rapid reset" attack, CVE-2023-44487).
    public var maxResets: Int = 200
    public var resetWindow: Duration = .seconds(30)
    public init() {}
}

/// A plain-HTTP listener that only redirects to HTTPS, as the old front's port 80.
public struct HTTPSRedirectConfig: Sendable, Equatable {
    /// The name to redirect to when the request's `Host` is not one of ``serverNames``
    /// (an arbitrary Host is never reflected into a redirect).
    public var primaryName: String
    /// Names accepted from `Host` as the redirect target.
    public var serverNames: [String]
    /// The HTTPS port in the redirect; `nil` for the default 443.
    public var httpsPort: Int?
    /// Directory served under `/.well-known/acme-challenge/` (Let's Encrypt HTTP-01), if any.
    public var acmeWebroot: String?

    public init(primaryName: String, serverNames: [String] = [], httpsPort: Int? = nil, acmeWebroot: String? = nil) {
        self.primaryName = primaryName
        self.serverNames = serverNames
        self.httpsPort = httpsPort
        self.acmeWebroot = acmeWebroot
    }
}

/// The admin listener (metrics).
public struct AdminConfig: Sendable, Equatable {
    public var address: EndpointAddress
    public init(address: EndpointAddress) { self.address = address }
}

/// Timeouts towards clients, nginx's `client_header_timeout` and friends.
public struct ClientTimeouts: Sendable, Equatable {
    /// Time to receive the whole request head (408 after it).
    public var header: Duration = .seconds(12)
    /// Time between two reads of a request body (408 after it).
    public var body: Duration = .seconds(12)
    /// Idle keep-alive connection lifetime.
    public var keepAlive: Duration = .seconds(15)
    /// Time between two successful writes to a slow client before it is dropped.
    public var send: Duration = .seconds(10)
    /// How long `SIGTERM` waits for open requests before exiting.
    public var shutdownGrace: Duration = .seconds(30)
    /// After the last response on a connection the edge closes, how long it keeps reading (and
    /// discarding) what the client still sends, so that unread bytes do not turn the close into
    /// a reset that destroys the response in the client's receive buffer.
    public var lingering: Duration = .seconds(5)
    public init() {}
}

/// Body size and per-client limits.
public struct LimitsConfig: Sendable, Equatable {
    /// Largest request body accepted, in bytes (413 above it).
    public var maxBodySize: Int = 10 * 1024 * 1024
    /// Concurrent connections per client address; `nil` disables the cap.
    public var connectionsPerClient: Int? = 10
    /// Clients with open connections tracked at most.
    public var connectionTableCapacity: Int = 65_536
    /// Status for requests refused by a rate limit (429, or 503 as nginx).
    public var rateLimitStatus: Int = 429
    /// Status for connections over the per-client cap (503 as nginx).
    public var connectionLimitStatus: Int = 503
    /// Key IPv6 clients by their /64.
    public var aggregateIPv6By64: Bool = false
    /// Rate zones by name.
    public var zones: [String: ZoneConfig] = [:]
    public init() {}
}

/// A rate zone: nginx's `limit_req_zone`.
public struct ZoneConfig: Sendable, Equatable {
    public var rate: Rate
    /// Clients tracked at most (memory is allocated for all of them).
    public var capacity: Int
    /// Shared with the other edges through Redis; `nil` keeps the zone to this edge.
    public var shared: SharedZoneConfig?
    public init(rate: Rate, capacity: Int, shared: SharedZoneConfig? = nil) {
        self.rate = rate
        self.capacity = capacity
        self.shared = shared
    }
}

/// How a zone is shared between edges (`shared:` of a zone; docs/SCALING.md).
public struct SharedZoneConfig: Sendable, Equatable {
    /// How decisions use Redis.
    public enum Mode: String, Sendable, Equatable, CaseIterable {
        /// Decide locally, reconcile with Redis every `syncInterval` (the bound is in docs/SCALING.md).
        case batched
        /// Redis decides each request (one round trip, shared by the requests queued meanwhile);
        /// exact across edges, at a round trip's latency per request.
        case strict
    }

    /// Where Redis is: `redis://[[USER]:PASSWORD@]HOST[:PORT][/DB]`.
    public var redis: RedisAddress
    public var mode: Mode = .batched
    /// Time between two syncs with Redis.
    public var syncInterval: Duration = .milliseconds(10)
    /// Connect and command timeout; a slower answer counts as a failure (and in strict mode, the
    /// longest a request waits for Redis before it is decided locally).
    public var timeout: Duration = .milliseconds(100)
    /// Consecutive failed syncs that make the zone local-only.
    public var failures: Int = 3
    /// Time between attempts to reach Redis again while local-only.
    public var retryInterval: Duration = .seconds(1)

    public init(redis: RedisAddress) {
        self.redis = redis
    }
}

/// A Redis server's address and credentials, from a `redis://` URL.
public struct RedisAddress: Sendable, Equatable, CustomStringConvertible {
    public var host: String
    public var port: Int
    public var user: String?
    public var password: String?
    public var database: Int

    public init(host: String, port: Int = 6379, user: String? = nil, password: String? = nil, database: Int = 0) {
        self.host = host
        self.port = port
        self.user = user
        self.password = password
        self.database = database
    }

    /// The URL with the password redacted, for logs.
    public var description: String {
        let credentials = password == nil ? (user.map { "\($0)@" } ?? "") : "\(user ?? ""):***@"
        let hostText = host.contains(":") ? "[\(host)]" : host
        return "redis://\(credentials)\(hostText):\(port)\(database == 0 ? "" : "/\(database)")"
    }
}

/// Headers the edge adds and removes.
public struct HeadersConfig: Sendable, Equatable {
    /// Added to every response, errors and the edge's own answers included (nginx `always`),
    /// replacing any the upstream sent.
    public var add: [(name: String, value: String)]
    /// Removed from upstream responses.
    public var removeFromUpstream: [String]
    /// `Strict-Transport-Security` on every HTTPS response (never over plain HTTP); `nil` for none.
    public var hsts: String? = "max-age=31536000; includeSubDomains"

    public init(add: [(name: String, value: String)], removeFromUpstream: [String]) {
        self.add = add
        self.removeFromUpstream = removeFromUpstream
    }

    /// The set the HomeRack nginx front sent (`edge-parity.md`), HSTS aside (TLS only).
    public static let homerack = HeadersConfig(
        add: [
            ("X-Frame-Options", "SAMEORIGIN"),
            ("X-Content-Type-Options", "nosniff"),
            ("X-XSS-Protection", "1; mode=block"),
            ("Referrer-Policy", "no-referrer-when-downgrade"),
            ("Content-Security-Policy", "default-src 'self' https: data: blob: 'unsafe-inline'; frame-ancestors 'self';"),
            ("Permissions-Policy", "geolocation=(), microphone=(), camera=()"),
        ],
        removeFromUpstream: ["Server", "X-Powered-By"]
    )

    public static func == (lhs: HeadersConfig, rhs: HeadersConfig) -> Bool {
        lhs.add.map { [$0.name, $0.value] } == rhs.add.map { [$0.name, $0.value] }
            && lhs.removeFromUpstream == rhs.removeFromUpstream && lhs.hsts == rhs.hsts
    }
}

/// An address range in CIDR notation (`10.0.0.0/8`, `::1/128`).
public struct CIDR: Sendable, Hashable, CustomStringConvertible {
    /// The network, as a client key (IPv4 in its mapped form).
    public let network: ClientKey
    /// Prefix length over the 128-bit (mapped) address.
    public let prefixLength: Int

    /// - Returns: `nil` when `text` is not an address with an optional `/len` in range.
    public init?(parsing text: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count <= 2, let address = ClientKey(parsing: parts[0]) else { return nil }
        let maximum = address.isIPv4 ? 32 : 128
        var length = maximum
        if parts.count == 2 {
            guard let value = Int(parts[1]), (0...maximum).contains(value), parts[1].allSatisfy(\.isNumber) else {
                return nil
            }
            length = value
        }
        prefixLength = address.isIPv4 ? 96 + length : length
        network = CIDR.mask(address, prefixLength)
    }

    /// Whether `address` is inside this range.
    public func contains(_ address: ClientKey) -> Bool {
        CIDR.mask(address, prefixLength) == network
    }

    public var description: String {
        network.isIPv4 ? "\(network)/\(prefixLength - 96)" : "\(network)/\(prefixLength)"
    }

    private static func mask(_ key: ClientKey, _ length: Int) -> ClientKey {
        func maskWord(_ word: UInt64, bits: Int) -> UInt64 {
            bits <= 0 ? 0 : bits >= 64 ? word : word & ~(UInt64.max >> UInt64(bits))
        }
        return ClientKey(ipv6High: maskWord(key.high, bits: length), low: maskWord(key.low, bits: length - 64))
    }
}

/// How an upstream pool spreads requests over its servers.
public enum BalanceAlgorithm: String, Sendable, CaseIterable {
    /// Each server in turn, by weight.
    case roundRobin = "round_robin"
    /// The server with the fewest requests in flight (ties by weight, then in turn).
    case leastConnections = "least_connections"
    /// Two servers at random, the one with fewer requests in flight (power of two choices).
    case powerOfTwoChoices = "p2c"
}

/// A pool of upstream servers, nginx's `upstream` block.
public struct UpstreamConfig: Sendable, Equatable {
    public var name: String
    public var servers: [UpstreamServerConfig]
    public var balance: BalanceAlgorithm = .roundRobin
    /// Idle keep-alive connections kept per server and event loop.
    public var keepAlive: Int = 32
    /// Time to establish a connection to one server (per route it can be shortened or lengthened).
    public var connectTimeout: Duration = .seconds(60)
    /// Time to wait for the response head, and between two reads of the response body.
    public var readTimeout: Duration = .seconds(60)
    /// Time between two writes of the request to the upstream.
    public var sendTimeout: Duration = .seconds(60)
    /// Other servers tried for one request at most (nginx `proxy_next_upstream_tries` - 1).
    public var maxRetries: Int = 2
    public var healthCheck: HealthCheckConfig?

    public init(name: String, servers: [UpstreamServerConfig]) {
        self.name = name
        self.servers = servers
    }
}

/// One upstream server.
public struct UpstreamServerConfig: Sendable, Equatable {
    public var address: EndpointAddress
    /// Relative share of requests (1 to 1000).
    public var weight: Int = 1
    /// Failures within ``failTimeout`` that take the server out for ``failTimeout`` (nginx `max_fails`); 0 never.
    public var maxFails: Int = 1
    public var failTimeout: Duration = .seconds(10)

    public init(address: EndpointAddress) { self.address = address }
}

/// Active health checks: a `GET` of ``path`` on every server every ``interval``.
public struct HealthCheckConfig: Sendable, Equatable {
    public var path: String = "/health"
    public var interval: Duration = .seconds(5)
    public var timeout: Duration = .seconds(2)
    /// Consecutive successes that bring a server back.
    public var rise: Int = 2
    /// Consecutive failures that take it out.
    public var fall: Int = 3
    public init() {}
}

/// Where a route's requests go.
public enum RouteAction: Sendable, Equatable {
    /// Proxy to an upstream pool (by name).
    case proxy(upstream: String)
    /// Serve files from a directory.
    case staticFiles(StaticConfig)
    /// Redirect to `location` (with the request's path after the prefix appended when `appendPath`).
    case redirect(location: String, status: Int, appendPath: Bool)
    /// Answer with a fixed status and body.
    case respond(status: Int, body: String, contentType: String)
}

/// A static directory.
public struct StaticConfig: Sendable, Equatable {
    public var root: String
    public var index: String = "index.html"
    /// Serve the index for paths with no file (single-page apps).
    public var spaFallback: Bool = false
    public init(root: String) { self.root = root }
}

/// A route's rate limit: a zone and a burst (nginx `limit_req zone=.. burst=.. nodelay`).
public struct RouteRateLimit: Sendable, Equatable {
    public var zone: String
    public var burst: Int
    public var delay: DelayPolicy
    public init(zone: String, burst: Int, delay: DelayPolicy = .nodelay) {
        self.zone = zone
        self.burst = burst
        self.delay = delay
    }
}

/// One route: requests whose path starts with ``prefix`` (the longest matching prefix wins).
public struct RouteConfig: Sendable, Equatable {
    public var prefix: String
    public var action: RouteAction
    public var rateLimits: [RouteRateLimit] = []
    /// Overrides of the upstream's timeouts for this route.
    public var connectTimeout: Duration?
    public var readTimeout: Duration?
    public var sendTimeout: Duration?
    /// `Cache-Control` set on this route's responses (when not `nil`).
    public var cacheControl: String?
    /// Extra response headers for this route.
    public var addHeaders: [(name: String, value: String)] = []
    /// Whether the route's requests are written to the access log.
    public var accessLog: Bool = true
    /// Gzip text responses for clients that accept it.
    public var compress: Bool = false

    public init(prefix: String, action: RouteAction) {
        self.prefix = prefix
        self.action = action
    }

    public static func == (lhs: RouteConfig, rhs: RouteConfig) -> Bool {
        lhs.prefix == rhs.prefix && lhs.action == rhs.action && lhs.rateLimits == rhs.rateLimits
            && lhs.connectTimeout == rhs.connectTimeout && lhs.readTimeout == rhs.readTimeout
            && lhs.sendTimeout == rhs.sendTimeout && lhs.cacheControl == rhs.cacheControl
            && lhs.addHeaders.map { [$0.name, $0.value] } == rhs.addHeaders.map { [$0.name, $0.value] }
            && lhs.accessLog == rhs.accessLog && lhs.compress == rhs.compress
    }
}

/// Log destinations and level.
public struct LoggingConfig: Sendable, Equatable {
    public enum Destination: Sendable, Equatable {
        case stdout
        case stderr
        case file(String)
        case off
    }

    public enum Level: String, Sendable, CaseIterable, Comparable {
        case debug, info, warning, error

        public static func < (lhs: Level, rhs: Level) -> Bool {
            allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
        }
    }

    public var accessLog: Destination = .stdout
    public var errorLog: Destination = .stderr
    public var level: Level = .info
    public init() {}
}
