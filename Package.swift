// swift-tools-version:6.1
import PackageDescription

let nio: [Target.Dependency] = [
    .product(name: "NIOCore", package: "swift-nio"),
    .product(name: "NIOPosix", package: "swift-nio"),
    .product(name: "NIOHTTP1", package: "swift-nio"),
    .product(name: "NIOTLS", package: "swift-nio"),
]

/// Release builds of the hot path skip Swift's dynamic exclusivity checks (about 3 % of the
/// edge's CPU in a profile); debug builds and tests keep them.
let hotPath: [SwiftSetting] = [.unsafeFlags(["-enforce-exclusivity=unchecked"], .when(configuration: .release))]

/// The I/O core's targets, also compiled for cross-module optimization: the edge instantiates
/// their generic handler and loop with its own policy (`ProxyHandler<EngineProxyPolicy>`), and
/// without their bodies in the module interface every callback ran unspecialized (generic
/// metadata lookups and witness-table calls per request).
let crossModule: [SwiftSetting] = [
    .unsafeFlags(["-enforce-exclusivity=unchecked", "-cross-module-optimization"], .when(configuration: .release))
]

let package = Package(
    name: "homerack-edge",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "Limits", targets: ["Limits"]),
        // For the in-process benchmark of the edge's request path (Benchmarks/EdgeBenchmarks).
        .library(name: "Edge", targets: ["Edge"]),
        .library(name: "EdgeIOHello", targets: ["EdgeIOHello"]),
        .executable(name: "homerack-edge", targets: ["homerack-edge"]),
        .executable(name: "homerack-backend", targets: ["homerack-backend"]),
        .executable(name: "iocore-hello", targets: ["iocore-hello"]),
        .executable(name: "iocore-proxy", targets: ["iocore-proxy"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.3"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-nio-http2.git", from: "1.46.0"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
        .package(url: "https://github.com/vapor/sqlite-nio.git", from: "1.13.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "4.5.2"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
    ],
    targets: [
        // Per-client rate and connection limits: standard library only, no I/O, no clock reads.
        .target(name: "Limits", swiftSettings: hotPath),
        // A manual clock for driving `Limits` (and anything built on it) in tests.
        .target(name: "LimitsTestUtils", dependencies: ["Limits"]),
        // The programs tests start (tools, servers, built binaries), with posix_spawn: not
        // Foundation's Process, whose run() crashes with many descriptors open, and children
        // that inherit none of the tests' sockets.
        .target(name: "TestProcess"),
        .testTarget(name: "TestProcessTests", dependencies: ["TestProcess"]),
        // The edge's rules that the core's proxy handler and the engine both apply: how a
        // response body is framed, when a failed upstream attempt is retried, when a response
        // is compressed. Standard library only, no I/O.
        .target(name: "EdgeRules", swiftSettings: hotPath),
        // Small mechanisms the edge and the backend share (JSON string escaping, edit distance):
        // standard library only, so the edge's hot path pays no Foundation.
        .target(name: "ServerSupport", swiftSettings: hotPath),
        .testTarget(name: "ServerSupportTests", dependencies: ["ServerSupport"]),
        // The reverse proxy: configuration, the engine (filters, limits, routes, balancing,
        // header rules), the listeners on the edge's own I/O core, reload and drain. No
        // SwiftNIO: the tests keep it for their clients and test servers.
        .target(
            name: "Edge",
            dependencies: [
                "Limits", "ServerSupport", "CHiredis", "EdgeRules", "EdgeIO", "EdgeIOProxy",
                .product(name: "Yams", package: "Yams"),
            ],
            swiftSettings: hotPath
        ),
        // The edge's own I/O core (issue 13): event loops on edge-triggered epoll, connection
        // slots, buffer pools, timing wheels, TLS on OpenSSL, HTTP/2 on nghttp2. Separate
        // targets rather than `Sources/Edge/IO/`, so the core builds and is tested without the
        // engine.
        // CEdgeIO: the C shim for epoll's packed event struct, accept4/eventfd/sendfile and
        // socket options.
        .target(name: "CEdgeIO"),
        // OpenSSL 3 (Debian's libssl-dev) and the C glue EdgeIO's TLS calls (callbacks for SNI,
        // ALPN, ticket keys and OCSP stapling; macro APIs).
        .systemLibrary(name: "COpenSSL", providers: [.apt(["libssl-dev"])]),
        .target(
            name: "CEdgeTLS", dependencies: ["COpenSSL"],
            linkerSettings: [.linkedLibrary("ssl"), .linkedLibrary("crypto")]),
        // nghttp2 (Debian's libnghttp2-dev) and the C callbacks that record its events.
        .systemLibrary(name: "CNghttp2", providers: [.apt(["libnghttp2-dev"])]),
        .target(name: "CEdgeH2", dependencies: ["CNghttp2"], linkerSettings: [.linkedLibrary("nghttp2")]),
        .target(name: "EdgeIO", dependencies: ["CEdgeIO", "CEdgeTLS", "CEdgeH2"], swiftSettings: crossModule),
        // A fixed-response HTTP/1.1 server on the core, for its tests and bench/iocore-hello.
        .target(name: "EdgeIOHello", dependencies: ["EdgeIO"], swiftSettings: hotPath),
        .executableTarget(
            name: "iocore-hello", dependencies: ["EdgeIO", "EdgeIOHello"], path: "Sources/IOCoreHello",
            swiftSettings: hotPath),
        // A minimal HTTP/1.1 reverse proxy on the core (upstream keep-alive pools, relaying with
        // Content-Length and chunked framing) behind the `ProxyPolicy` seam the engine fills;
        // for its tests and bench/compare-proxies.
        // zlib (Debian's zlib1g-dev): deflate for the core's gzipped responses.
        .target(name: "CEdgeZlib", linkerSettings: [.linkedLibrary("z")]),
        .target(name: "EdgeIOProxy", dependencies: ["EdgeIO", "EdgeRules", "CEdgeZlib"], swiftSettings: crossModule),
        .executableTarget(
            name: "iocore-proxy", dependencies: ["EdgeIO", "EdgeIOProxy"], path: "Sources/IOCoreProxy",
            swiftSettings: hotPath),
        .testTarget(
            name: "EdgeIOTests", dependencies: ["EdgeIO", "EdgeIOHello", "EdgeIOProxy", "LimitsTestUtils", "TestProcess"]),
        // `homerack-edge`: a thin entry point over `Edge`.
        .executableTarget(name: "homerack-edge", dependencies: ["Edge"], path: "Sources/EdgeMain"),
        .testTarget(name: "LimitsTests", dependencies: ["Limits", "LimitsTestUtils"]),
        .testTarget(
            name: "EdgeTests",
            dependencies: nio + [
                "Edge", "EdgeIOProxy", "EdgeRules", "CEdgeZlib", "Limits", "LimitsTestUtils", "TestProcess",
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOHTTP2", package: "swift-nio-http2"),
            ]
        ),
        // Cross-process tests: the test servers `scripts/test.sh` starts, and the built binaries.
        .testTarget(name: "IntegrationTests", dependencies: nio + ["Edge", "TestProcess"]),
        // The rack-planning domain (placement, thermal model, optimizer, cables): pure, no I/O.
        .target(name: "RackPlanning"),
        .testTarget(name: "RackPlanningTests", dependencies: ["RackPlanning"]),
        // hiredis (Debian's libhiredis-dev) for Redis command encoding and reply parsing.
        .systemLibrary(name: "CHiredis", providers: [.apt(["libhiredis-dev"])]),
        // The rack API service: routes, services, persistence (SQLite default, PostgreSQL), Redis cache.
        .target(
            name: "Backend",
            dependencies: nio + [
                "RackPlanning", "CHiredis", "ServerSupport",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "SQLiteNIO", package: "sqlite-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            // An uncached layout read spent about 5 % of a worker's CPU in exclusivity checks.
            swiftSettings: hotPath
        ),
        // `homerack-backend`: serve, supervise workers, migrate, copy SQLite into PostgreSQL.
        .executableTarget(
            name: "homerack-backend",
            dependencies: [
                "Backend", .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Sources/BackendMain"
        ),
        // The deployment files (deploy/, monitoring/) exercised as an operator runs them.
        .testTarget(name: "OperationsTests", dependencies: ["TestProcess"]),
        .testTarget(
            name: "BackendTests",
            dependencies: nio + [
                "Backend", "RackPlanning", "TestProcess",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
            ]
        ),
    ]
)
