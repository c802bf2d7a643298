import Limits
import Synchronization

/// What every connection shares: the current runtime (swapped on reload), limits, metrics, logs.
final class EdgeState: Sendable {
    private let runtimeBox: Mutex<EdgeRuntime>
    let metrics: EdgeMetrics
    let logger: EdgeLogger
    let accessLog: LogSink
    /// The per-client connection cap: kept across reloads that change only its limit, replaced
    /// by one that turns it on or off or changes its table (see ``EdgeServer/reload(_:)``).
    private let limiterBox: Mutex<ConnectionLimiter?>

    init(
        runtime: EdgeRuntime, metrics: EdgeMetrics, logger: EdgeLogger, accessLog: LogSink,
        connectionLimiter: ConnectionLimiter?
    ) {
        self.runtimeBox = Mutex(runtime)
        self.metrics = metrics
        self.logger = logger
        self.accessLog = accessLog
        self.limiterBox = Mutex(connectionLimiter)
    }

    /// The per-client connection cap new connections and requests count against (`nil`: off).
    /// A lease keeps the limiter it came from, so connections opened before a replacement are
    /// released where they were counted.
    var connectionLimiter: ConnectionLimiter? { limiterBox.withLock { $0 } }

    func replaceConnectionLimiter(with limiter: ConnectionLimiter?) {
        limiterBox.withLock { $0 = limiter }
    }

    /// Counts runtime swaps, so a loop can keep the runtime it read and read it again only
    /// after a reload (``EngineProxyPolicy/currentRuntime()``) instead of taking the lock per
    /// request.
    let runtimeVersion = Atomic<Int>(0)

    /// The runtime new requests use.
    var runtime: EdgeRuntime { runtimeBox.withLock { $0 } }

    func swapRuntime(_ runtime: EdgeRuntime) {
        runtimeBox.withLock { $0 = runtime }
        runtimeVersion.add(1, ordering: .releasing)
    }

    /// A finished request's metrics and access-log line.
    /// - Parameters:
    ///   - shard: the metrics shard of the serving loop.
    ///   - now: when the request ended.
    func finish(_ record: AccessRecord, shard: Int, now: Instant) {
        let seconds = Double(now.duration(since: record.started).nanosecondsClamped) / 1e9
        metrics.recordRequest(shard: shard, route: record.route ?? "none", method: record.method, status: record.status, seconds: seconds)
        if record.logged, accessLog.isEnabled { accessLog.write(record.jsonLine(durationSeconds: seconds)) }
    }
}

/// A fast, seedable random source for choices that need no secrecy (balancing, request IDs):
/// the system generator costs a system call per number.
struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
