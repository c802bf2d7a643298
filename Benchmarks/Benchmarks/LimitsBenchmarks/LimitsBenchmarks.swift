// Benchmarks of the `Limits` library: rate-limit decisions per second (one hot key, many keys, two
// threads), connection-limiter acquire+release, and memory per tracked key.
//
// Run from `Benchmarks/`: `swift package benchmark` (release build; see docs/BENCHMARKS.md).
//
// Time is synthetic: every decision advances an `Instant` by 1 µs, as traffic arriving at one
// request per microsecond would, so the limiter runs its real arithmetic (and, in the memory
// benchmark, never sees an entry drain) without any clock read being measured.

import Benchmark
import Dispatch
import Limits
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

// MARK: - Keys

/// `count` distinct keys: nine in ten IPv4 (10.0.0.0/8 onwards), one in ten IPv6, each IPv6 key in
/// its own /64 so that they stay distinct whether or not a zone aggregates IPv6 by /64.
func distinctKeys(_ count: Int) -> [ClientKey] {
    (0..<count).map(distinctKey)
}

@inline(__always)
func distinctKey(_ index: Int) -> ClientKey {
    if index % 10 == 9 {
        // 2001:db8:<index>::1
        return ClientKey(ipv6High: 0x2001_0DB8_0000_0000 | UInt64(index), low: 1)
    }
    return ClientKey(ipv4: 0x0A00_0000 &+ UInt32(truncatingIfNeeded: index))
}

/// One rule of `burst` on a fresh zone (16 shards, the default).
func makePolicy(name: String, rate: Rate, capacity: Int, burst: Int) -> (RateLimitZone, RateLimitPolicy) {
    let zone = try! RateLimitZone(name: name, rate: rate, capacity: capacity)
    let policy = try! RateLimitPolicy([RateLimitRule(zone: zone, burst: burst)])
    return (zone, policy)
}

/// Resident set size of this process, in bytes (`/proc/self/statm`: the second field, in pages).
func residentBytes() -> Int {
    #if canImport(Glibc)
    let fd = open("/proc/self/statm", O_RDONLY)
    guard fd >= 0 else { return 0 }
    defer { close(fd) }
    var buffer = [UInt8](repeating: 0, count: 256)
    let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
    guard count > 0 else { return 0 }
    let fields = String(decoding: buffer[..<count], as: UTF8.self).split(separator: " ")
    guard fields.count >= 2, let pages = Int(fields[1]) else { return 0 }
    return pages * sysconf(Int32(_SC_PAGESIZE))
    #else
    return 0
    #endif
}

// MARK: - Two threads

/// Runs `body(0)` on the calling thread and `body(1)` on a new thread at the same time, and returns
/// when both are done. A thread of its own rather than `DispatchQueue.concurrentPerform`, which on
/// Linux often ran both halves one after the other on the calling thread (CPU time = wall time).
func onTwoThreads(_ body: @escaping @Sendable (Int) -> Void) {
    #if canImport(Glibc)
    final class Work {
        let run: @Sendable () -> Void
        init(_ run: @escaping @Sendable () -> Void) { self.run = run }
    }
    var thread = pthread_t()
    let work = Unmanaged.passRetained(Work { body(1) }).toOpaque()
    let created = pthread_create(
        &thread, nil,
        { raw in
            Unmanaged<Work>.fromOpaque(raw!).takeRetainedValue().run()
            return nil
        }, work)
    precondition(created == 0, "pthread_create failed: \(created)")
    body(0)
    pthread_join(thread, nil)
    #else
    DispatchQueue.concurrentPerform(iterations: 2, execute: body)
    #endif
}

// MARK: - Custom metrics (memory per key)

enum MemoryMetric {
    /// `zone.allocatedBytes / zone.capacity`: what the tables allocate per slot.
    static let allocatedPerSlot = BenchmarkMetric.custom("allocatedBytes/capacity (B/key)", useScalingFactor: false)
    /// Growth of the resident set from before the zone was made to after it was filled, per tracked key.
    static let residentPerKey = BenchmarkMetric.custom("RSS growth/tracked key (B/key)", useScalingFactor: false)
    /// Keys the zone holds after the fill (below the 1,000,000 offered when a shard overflowed).
    static let trackedKeys = BenchmarkMetric.custom(
        "tracked keys", polarity: .prefersLarger, useScalingFactor: false)
    /// Keys evicted during the fill because their shard was full.
    static let evictions = BenchmarkMetric.custom("evictions", useScalingFactor: false)
}

// MARK: - Benchmarks

let benchmarks: @Sendable () -> Void = {
    // Decision benchmarks: 1,000 decisions per measured iteration (`scalingFactor: .kilo`), so the
    // throughput column is in thousands of decisions per second and the time columns are per
    // decision. Iterations this short are below the 10 ms tick of /proc CPU accounting, so the
    // single-thread benchmarks report wall clock only.
    let decisionMetrics: [BenchmarkMetric] = [.throughput, .wallClock, .mallocCountTotal]
    // `units: .count` keeps the throughput column in whole thousands instead of rounding it to millions.
    let singleThread = Benchmark.Configuration(
        metrics: decisionMetrics, units: [.throughput: .count], warmupIterations: 100, scalingFactor: .kilo,
        maxDuration: .seconds(3), maxIterations: 1_000_000)

    // 1. One client, one zone: the cost of one decision when its entry is hot in cache.
    do {
        var policy: RateLimitPolicy!
        var now: UInt64 = 1_000_000_000
        Benchmark("RateLimit hot key", configuration: singleThread) { benchmark in
            // Locals, so that the loop measures `check` and not the closure's captured boxes.
            let policy = policy!
            let key = ClientKey(ipv4: 0xC000_0201)  // 192.0.2.1
            var time = now
            var allowed = 0
            for _ in benchmark.scaledIterations {
                time &+= 1_000
                if case .allowed = policy.check(key, now: Instant(nanoseconds: time)) { allowed &+= 1 }
            }
            now = time
            blackHole(allowed)
            if allowed != benchmark.scaledIterations.count {
                benchmark.error("expected every decision allowed, got \(allowed)")
            }
        } setup: {
            // 1,000,000 r/s at one request per µs: always within the rate, so every decision is allowed.
            policy = makePolicy(name: "hot", rate: .perSecond(1_000_000), capacity: 65_536, burst: 1_000).1
        }
    }

    // 2. 100,000 distinct clients (a tenth IPv6) cycled in order: every decision finds a cold entry.
    do {
        var policy: RateLimitPolicy!
        var keys: [ClientKey] = []
        var cursor = 0
        var now: UInt64 = 1_000_000_000
        Benchmark("RateLimit many keys", configuration: singleThread) { benchmark in
            let policy = policy!
            let keys = keys
            var index = cursor
            var time = now
            var allowed = 0
            for _ in benchmark.scaledIterations {
                time &+= 1_000
                if case .allowed = policy.check(keys[index], now: Instant(nanoseconds: time)) { allowed &+= 1 }
                index &+= 1
                if index == keys.count { index = 0 }
            }
            cursor = index
            now = time
            blackHole(allowed)
            if allowed != benchmark.scaledIterations.count {
                benchmark.error("expected every decision allowed, got \(allowed)")
            }
        } setup: {
            keys = distinctKeys(100_000)
            // Each key comes back every 100,000 µs = 100 ms; at 100 r/s (10 ms) it has always drained.
            policy = makePolicy(name: "many", rate: .perSecond(100), capacity: 131_072, burst: 10).1
        }
    }

    // 3. Two threads at once on the same zone (this machine has 2 cores). 1,000,000 decisions per
    //    iteration in total, 500,000 per thread, so throughput is in millions of decisions per second
    //    for both threads together; cpuTotal is the CPU time of both threads.
    let twoThreads = Benchmark.Configuration(
        metrics: [.throughput, .wallClock, .cpuTotal, .mallocCountTotal], warmupIterations: 2,
        scalingFactor: .mega, maxDuration: .seconds(5), maxIterations: 1_000)

    do {
        var policy: RateLimitPolicy!
        var epoch: UInt64 = 1_000_000_000
        Benchmark("RateLimit two threads, hot key each", configuration: twoThreads) { benchmark in
            let perThread = benchmark.scaledIterations.count / 2
            let start = epoch
            let policy = policy!
            let allowed = Atomic<Int>(0)
            onTwoThreads { thread in
                // 192.0.2.1 and 192.0.2.2: shards 2 and 5 of 16 with the default seed, so no lock is shared.
                let key = ClientKey(ipv4: 0xC000_0201 &+ UInt32(thread))
                var now = start
                var count = 0
                for _ in 0..<perThread {
                    now &+= 1_000
                    if case .allowed = policy.check(key, now: Instant(nanoseconds: now)) { count &+= 1 }
                }
                allowed.add(count, ordering: .relaxed)
            }
            epoch = start &+ UInt64(perThread) &* 1_000
            blackHole(allowed.load(ordering: .relaxed))
            if allowed.load(ordering: .relaxed) != 2 * perThread {
                benchmark.error("expected every decision allowed, got \(allowed.load(ordering: .relaxed))")
            }
        } setup: {
            policy = makePolicy(name: "hot2", rate: .perSecond(1_000_000), capacity: 65_536, burst: 1_000).1
        }
    }

    do {
        var policy: RateLimitPolicy!
        var keysByThread: [[ClientKey]] = []
        var epoch: UInt64 = 1_000_000_000
        var cursor = 0
        Benchmark("RateLimit two threads, many keys", configuration: twoThreads) { benchmark in
            let perThread = benchmark.scaledIterations.count / 2
            let start = epoch
            let first = cursor
            let policy = policy!
            let keysByThread = keysByThread
            let allowed = Atomic<Int>(0)
            onTwoThreads { thread in
                let keys = keysByThread[thread]
                var now = start
                var index = first % keys.count
                var count = 0
                for _ in 0..<perThread {
                    now &+= 1_000
                    if case .allowed = policy.check(keys[index], now: Instant(nanoseconds: now)) { count &+= 1 }
                    index &+= 1
                    if index == keys.count { index = 0 }
                }
                allowed.add(count, ordering: .relaxed)
            }
            epoch = start &+ UInt64(perThread) &* 1_000
            cursor = (first + perThread) % keysByThread[0].count
            blackHole(allowed.load(ordering: .relaxed))
            if allowed.load(ordering: .relaxed) != 2 * perThread {
                benchmark.error("expected every decision allowed, got \(allowed.load(ordering: .relaxed))")
            }
        } setup: {
            // 100,000 keys, 50,000 per thread (even / odd); each comes back every 50 ms at 100 r/s.
            let keys = distinctKeys(100_000)
            keysByThread = [
                stride(from: 0, to: keys.count, by: 2).map { keys[$0] },
                stride(from: 1, to: keys.count, by: 2).map { keys[$0] },
            ]
            policy = makePolicy(name: "many2", rate: .perSecond(100), capacity: 131_072, burst: 10).1
        }
    }

    // 4. One client opening and closing connections: acquire, then release the lease.
    do {
        var limiter: ConnectionLimiter!
        Benchmark("ConnectionLimiter acquire+release", configuration: singleThread) { benchmark in
            let limiter = limiter!
            let key = ClientKey(ipv4: 0xC000_0201)
            var acquired = 0
            for _ in benchmark.scaledIterations {
                if case .acquired(let lease) = limiter.acquire(key) {
                    acquired &+= 1
                    lease.release()
                }
            }
            blackHole(acquired)
            if acquired != benchmark.scaledIterations.count {
                benchmark.error("expected every connection acquired, got \(acquired)")
            }
        } setup: {
            limiter = try! ConnectionLimiter(limit: 10, capacity: 65_536)
        }
    }

    // 5. Memory per tracked key: a zone with room for 1,000,000 clients, filled with 1,000,000
    //    distinct ones (a tenth IPv6). `scalingFactor: .mega` makes the malloc metrics read per key
    //    (mallocBytesCount = bytes requested per key, memoryLeakedBytes = bytes still held per key,
    //    since the zone is alive when the measurement stops); peakMemoryResidentDelta is the whole
    //    process's growth, to be divided by 1,000,000. One iteration, no warm-up, in a fresh process
    //    (the tool runs each benchmark in its own), so the resident-set figures start from nothing.
    Benchmark(
        "RateLimit memory per tracked key (1M keys)",
        configuration: .init(
            metrics: [
                .mallocBytesCount, .memoryLeakedBytes, .mallocCountTotal, .peakMemoryResidentDelta, .wallClock,
                MemoryMetric.allocatedPerSlot, MemoryMetric.residentPerKey, MemoryMetric.trackedKeys,
                MemoryMetric.evictions,
            ],
            warmupIterations: 0, scalingFactor: .mega, maxDuration: .seconds(10), maxIterations: 1)
    ) { benchmark in
        let keyCount = benchmark.scaledIterations.count
        let residentBefore = residentBytes()
        // 1 request per minute: over the fill's simulated second no entry drains, so none is dropped.
        let (zone, policy) = makePolicy(name: "memory", rate: .perMinute(1), capacity: keyCount, burst: 0)
        var now: UInt64 = 1_000_000_000
        var allowed = 0
        for index in benchmark.scaledIterations {
            now &+= 1_000
            if case .allowed = policy.check(distinctKey(index), now: Instant(nanoseconds: now)) { allowed &+= 1 }
        }
        let residentAfter = residentBytes()
        benchmark.stopMeasurement()  // the zone is still alive: the malloc figures include all of it

        let tracked = zone.trackedClients
        let allocated = zone.allocatedBytes
        blackHole(allowed)
        benchmark.measurement(MemoryMetric.allocatedPerSlot, allocated / zone.capacity)
        benchmark.measurement(MemoryMetric.residentPerKey, (residentAfter - residentBefore) / max(tracked, 1))
        benchmark.measurement(MemoryMetric.trackedKeys, tracked)
        benchmark.measurement(MemoryMetric.evictions, zone.evictions)
        print(
            "memory: capacity \(zone.capacity), offered \(keyCount), allowed \(allowed), tracked \(tracked), "
                + "evictions \(zone.evictions), allocatedBytes \(allocated) "
                + "(\(Double(allocated) / Double(zone.capacity)) B/slot), "
                + "RSS \(residentBefore) -> \(residentAfter) "
                + "(\(Double(residentAfter - residentBefore) / Double(max(tracked, 1))) B/tracked key)")
        withExtendedLifetime(zone) {}
    }
}
