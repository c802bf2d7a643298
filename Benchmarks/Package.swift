// swift-tools-version:6.1
import PackageDescription

// Benchmarks live in their own package (as swift-nio's do) so that the root package's build and
// tests never pull in package-benchmark. Run from this directory: `swift package benchmark`.
let package = Package(
    name: "homerack-edge-benchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        // `name:` because a path dependency is otherwise named after its folder, which differs between clones.
        .package(name: "homerack-edge", path: ".."),
        // The repository's current name: `package-benchmark` (as swift-nio still spells it) is a legacy
        // alias that the plugin warns about on every run. Only the MallocInterposer trait (malloc
        // statistics; no jemalloc needed on Swift 6.3): the default RuntimeInterposer trait would add
        // swift-runtime-interposer (ARC counters on Linux), which the package mirror does not have.
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
    ],
    targets: [
        .executableTarget(
            name: "LimitsBenchmarks",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "Limits", package: "homerack-edge"),
            ],
            path: "Benchmarks/LimitsBenchmarks",
            plugins: [
                .plugin(name: "BenchmarkPlugin", package: "benchmark")
            ]
        ),
        // The edge's keep-alive request path in one process (issue 13's per-request budget).
        .executableTarget(
            name: "EdgeBenchmarks",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "Edge", package: "homerack-edge"),
                .product(name: "EdgeIOHello", package: "homerack-edge"),
            ],
            path: "Benchmarks/EdgeBenchmarks",
            plugins: [
                .plugin(name: "BenchmarkPlugin", package: "benchmark")
            ]
        ),
    ]
)
