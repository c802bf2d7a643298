import Backend
import Foundation
import NIOCore
import Synchronization

/// A cache that caches nothing and reports whatever statistics and server info a test sets:
/// for health and metrics tests that need a breaker state without a Redis outage.
final class FixedStatisticsCache: ResultCache {
    private let state: Mutex<(statistics: CacheStatistics, info: RedisServerInfo?)>
    private let invalidations = Mutex<[[CacheScope]]>([])

    init(_ statistics: CacheStatistics, info: RedisServerInfo? = nil) {
        state = Mutex((statistics, info))
    }

    /// What ``statistics()`` reports.
    var current: CacheStatistics {
        get { state.withLock { $0.statistics } }
        set { state.withLock { $0.statistics = newValue } }
    }

    /// Every `invalidate` call's scopes, in order.
    var invalidated: [[CacheScope]] { invalidations.withLock { $0 } }

    func lookupJSON(_ key: CacheKey) async -> CacheLookup<StoredJSON> {
        await NoResultCache().lookupJSON(key)
    }

    func storeJSON(_ json: ByteBuffer, for ticket: CacheTicket) async {}

    func invalidate(_ scopes: [CacheScope]) async {
        invalidations.withLock { $0.append(scopes) }
    }

    func statistics() async -> CacheStatistics { current }

    func serverInfo() async -> RedisServerInfo? { state.withLock { $0.info } }
}

/// Disk and memory readings a test chooses.
struct FixedResources: SystemResourceReading {
    var disk: ResourceUsage?
    var memory: ResourceUsage?

    /// Readings at these percentages of 1000 bytes used.
    init(diskPercent: Int?, memoryPercent: Int?) {
        disk = diskPercent.map { ResourceUsage(totalBytes: 1000, availableBytes: Int64(1000 - $0 * 10)) }
        memory = memoryPercent.map { ResourceUsage(totalBytes: 1000, availableBytes: Int64(1000 - $0 * 10)) }
    }

    func diskUsage(at path: String) -> ResourceUsage? { disk }
    func memoryUsage() -> ResourceUsage? { memory }
}
