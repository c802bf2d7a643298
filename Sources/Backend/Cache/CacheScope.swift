/// What a cached result depends on. Each scope has a generation counter in Redis; a result is
/// stored under the generations of all its scopes, and a write bumps the counters of the scopes it
/// touches, so the old results are never read again (see ``RedisResultCache``).
///
/// Which write invalidates what (after the database commit, before the response):
///
/// | Write | Scopes |
/// |---|---|
/// | rack update or delete | ``rack(_:)`` of that rack |
/// | position place, move, lock, remove | ``rack(_:)`` of the rack (both racks for a move between racks) |
/// | device update or delete | ``rack(_:)`` of every rack it is placed in |
/// | connection create, update, delete | ``rack(_:)`` of the racks of both ends |
/// | specification, catalog model, brand, device type: create, update, delete, logo | ``catalog`` |
/// | cache clear, data import | ``all`` |
public enum CacheScope: Sendable, Hashable, CustomStringConvertible {
    /// Everything cached. Every key depends on it.
    case all
    /// One rack: the rack, its positions, the devices placed in it and their connections.
    case rack(Int)
    /// The shared catalog: device specifications, catalog models, brands, device types. Rack
    /// results depend on it too (heat, power and weight come from specifications and models).
    case catalog

    /// The key of this scope's generation counter (under the cache's namespace).
    var generationKey: String {
        switch self {
        case .all: "gen:all"
        case .rack(let id): "gen:rack:\(id)"
        case .catalog: "gen:catalog"
        }
    }

    public var description: String { generationKey }
}
