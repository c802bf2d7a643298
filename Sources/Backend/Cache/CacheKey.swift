import Foundation
import RackPlanning

/// Names one cacheable result: its family, the parameters that select it, what it depends on,
/// and how long it may be kept (the table of `rack-api.md` §9).
///
/// | Result | Name | Depends on | TTL |
/// |---|---|---|---|
/// | thermal analysis | `thermal:rack:{id}` | the rack, the catalog | 300 s |
/// | optimization | `optimization:rack:{id}` + weights and sorted locked devices | the rack, the catalog | 600 s |
/// | specification search | `search:specs` + query and filters | the catalog | 3600 s |
/// | one specification | `spec:{id}` | the catalog | 3600 s |
/// | rack layout | `layout:rack:{id}` | the rack, the catalog | 600 s |
///
/// The original keyed thermal results by a hash of the rack's `updated_at`, which placing a
/// device does not change; here the rack's generation counter takes that role (see
/// ``CacheScope``).
public struct CacheKey: Sendable, Hashable {
    /// A bounded label for stats and metrics (`thermal`, `optimization`, `spec_search`, `spec`, `layout`).
    public var kind: String
    /// The Redis key's stem, e.g. `thermal:rack:12`.
    public var name: String
    /// The request parameters in one canonical string (`""` when the name says it all). The key
    /// holds their hash; the stored entry holds them in full and a lookup compares them, so a hash
    /// collision is a miss, never someone else's result.
    public var parameters: String
    /// What the result depends on, besides ``CacheScope/all``.
    public var scopes: [CacheScope]
    /// How long Redis keeps the result.
    public var ttl: Duration

    /// - Parameters:
    ///   - kind: a bounded label for stats (never an id).
    ///   - name: the key's stem.
    ///   - parameters: canonical request parameters.
    ///   - scopes: what the result depends on.
    ///   - ttl: how long it may be kept.
    public init(kind: String, name: String, parameters: String = "", scopes: [CacheScope], ttl: Duration) {
        self.kind = kind
        self.name = name
        self.parameters = parameters
        self.scopes = scopes
        self.ttl = ttl
    }

    /// The same key with another TTL (short ones in tests).
    public func expiring(after ttl: Duration) -> CacheKey {
        var key = self
        key.ttl = ttl
        return key
    }

    /// TTLs of `rack-api.md` §9.
    public enum TTL {
        public static let thermal: Duration = .seconds(300)
        public static let optimization: Duration = .seconds(600)
        public static let specSearch: Duration = .seconds(3600)
        public static let specification: Duration = .seconds(3600)
        public static let layout: Duration = .seconds(600)
    }

    /// `GET /racks/{id}/thermal-analysis`. A hit's `timestamp` is the caller's to refresh.
    public static func thermal(rack id: Int) -> CacheKey {
        CacheKey(kind: "thermal", name: "thermal:rack:\(id)", scopes: [.rack(id), .catalog], ttl: TTL.thermal)
    }

    /// `POST /racks/{id}/optimize` with these weights and locked devices (order and repeats of
    /// the locked ids do not matter).
    public static func optimization(rack id: Int, weights: OptimizationWeights, lockedDevices: [Int]) -> CacheKey {
        let locked = Set(lockedDevices).sorted().map(String.init).joined(separator: ",")
        let parameters =
            "cable=\(weights.cable);weight=\(weights.weight);thermal=\(weights.thermal);access=\(weights.access);locked=\(locked)"
        return CacheKey(
            kind: "optimization", name: "optimization:rack:\(id)", parameters: parameters,
            scopes: [.rack(id), .catalog], ttl: TTL.optimization)
    }

    /// `POST /racks/{id}/optimize` for a decoded request body.
    public static func optimization(rack id: Int, request: OptimizationRequest) -> CacheKey {
        optimization(rack: id, weights: request.weights, lockedDevices: request.lockedPositions)
    }

    /// `GET /device-specs/search` (and the spec part of the combined search) for a query and filters.
    public static func specSearch(query: String, filters: [String: String] = [:]) -> CacheKey {
        CacheKey(
            kind: "spec_search", name: "search:specs", parameters: canonical(query: query, filters: filters),
            scopes: [.catalog], ttl: TTL.specSearch)
    }

    /// `GET /device-specs/{id}`.
    public static func specification(id: Int) -> CacheKey {
        CacheKey(kind: "spec", name: "spec:\(id)", scopes: [.catalog], ttl: TTL.specification)
    }

    /// `GET /racks/{id}/layout`.
    public static func layout(rack id: Int) -> CacheKey {
        CacheKey(kind: "layout", name: "layout:rack:\(id)", scopes: [.rack(id), .catalog], ttl: TTL.layout)
    }

    /// JSON, so that no query can imitate another query plus filters (`a&x=1` vs `a` with `x=1`).
    private static func canonical(query: String, filters: [String: String]) -> String {
        struct Canonical: Encodable {
            let q: String
            let f: [String: String]
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // Encoding strings into JSON cannot fail.
        let data = (try? encoder.encode(Canonical(q: query, f: filters))) ?? Data()
        return String(decoding: data, as: UTF8.self)
    }

    /// FNV-1a (64 bit) of ``parameters``, in hex: short keys; collisions are caught on read.
    var parametersHash: String {
        guard !parameters.isEmpty else { return "-" }
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in parameters.utf8 {
            hash ^= UInt64(byte)
            hash &*= 0x0000_0100_0000_01b3
        }
        let hex = String(hash, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }
}
