import Foundation
import RackPlanning

/// A rack's thermal analysis (`rack-api.md` §5), computed from its layout and cached under
/// ``CacheKey/thermal(rack:)``.
///
/// The analysis depends only on the layout, so a cached one stays right until a write
/// invalidates the rack or the catalog; only its `timestamp` would go stale, and every answer,
/// hit or miss, is stamped with the time of the request (`rack-api.md` §9).
struct ThermalAnalysisService: Sendable {
    let store: any RackRepository
    let cache: any ResultCache
    let now: @Sendable () -> Date

    /// The analysis of rack `rackID`, stamped now.
    /// - Throws: 404 when there is no such rack.
    func analysis(rackID: Int) async throws -> ThermalAnalysis {
        let timestamp = Timestamp.string(from: now())
        var analysis = try await cache.cached(.thermal(rack: rackID)) {
            let layout = try await store.layout(rackID: rackID)
            return ThermalAnalysis(rack: layout.rack, positions: layout.positions, timestamp: timestamp)
        }
        analysis.timestamp = timestamp
        return analysis
    }
}
