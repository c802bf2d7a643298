// swift-tools-version:6.1
import PackageDescription

let package = Package(
    name: "homerack-edge",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "Limits", targets: ["Limits"]),
    ],
    targets: [
        // Per-client rate and connection limits: standard library only, no I/O, no clock reads.
        .target(name: "Limits"),
        // A manual clock for driving `Limits` (and anything built on it) in tests.
        .target(name: "LimitsTestUtils", dependencies: ["Limits"]),
        .testTarget(name: "LimitsTests", dependencies: ["Limits", "LimitsTestUtils"]),
        // Checks that the servers `scripts/test.sh` starts are reachable; fails under CI when they are not.
        .testTarget(name: "IntegrationTests"),
    ]
)
