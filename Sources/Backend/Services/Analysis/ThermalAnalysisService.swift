import Foundation
import NIOCore
import RackPlanning

/// A rack's thermal analysis (`rack-api.md` §5), computed from its layout and cached under
/// ``CacheKey/thermal(rack:)``.
///
/// The analysis depends only on the layout, so a cached one stays right until a write
/// invalidates the rack or the catalog; only its `timestamp` would go stale, and every answer,
/// hit or miss, is stamped with the time of the request (`rack-api.md` §9).
///
/// Hits are the hot path of the API, so the cached JSON is answered without decoding it: the
/// analysis is stored with an empty `timestamp`, which the API's encoder (sorted keys) writes
/// last, as the object's closing `"timestamp":""}`, and a hit puts the request's time into those
/// final bytes. A stored value of any other shape is decoded and stamped the slow way.
struct ThermalAnalysisService: Sendable {
    let store: any RackRepository
    let cache: any ResultCache
    let now: @Sendable () -> Date

    /// The end of every stored analysis: its unset timestamp, the last key of the object.
    static let unstampedSuffix = Array(#""timestamp":""}"#.utf8)

    /// The analysis of rack `rackID` as the API's JSON, stamped now.
    /// - Throws: 404 when there is no such rack.
    func analysisJSON(rackID: Int) async throws -> ByteBuffer {
        let timestamp = Timestamp.string(from: now())
        let stored = try await cache.cachedJSON(.thermal(rack: rackID)) {
            let layout = try await store.layout(rackID: rackID)
            return ThermalAnalysis(rack: layout.rack, positions: layout.positions, timestamp: "")
        }
        return try Self.stamp(stored, with: timestamp)
    }

    /// `json` (an analysis stored unstamped) with `timestamp` in it.
    static func stamp(_ json: ByteBuffer, with timestamp: String) throws -> ByteBuffer {
        let bytes = json.readableBytesView
        guard bytes.count >= unstampedSuffix.count, bytes.suffix(unstampedSuffix.count).elementsEqual(unstampedSuffix)
        else {
            var analysis = try JSONDecoder().decode(ThermalAnalysis.self, from: json)
            analysis.timestamp = timestamp
            return ByteBuffer(bytes: try JSONEncoder.api.encode(analysis))
        }
        var stamped = ByteBuffer()
        stamped.reserveCapacity(bytes.count + timestamp.utf8.count + 2)
        stamped.writeBytes(bytes.dropLast(2))  // up to and including `"timestamp":"`
        stamped.writeString(timestamp)  // ISO-8601: nothing in it needs escaping
        stamped.writeBytes(#""}"#.utf8)
        return stamped
    }
}
