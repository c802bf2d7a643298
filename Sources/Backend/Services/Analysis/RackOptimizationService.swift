import RackPlanning

/// Proposes a better layout for a rack (`rack-api.md` §6) with ``RackOptimizer``; nothing is
/// saved. Results are cached under ``CacheKey/optimization(rack:request:)``, keyed by the
/// weights and the locked devices.
///
/// The candidates are the rack's own devices (the reference service took every device with a
/// specification, in any rack), and the cable score sees the connections with an end in the rack.
struct RackOptimizationService: Sendable {
    let store: any RackRepository
    let cache: any ResultCache

    /// The proposed layout for rack `rackID`.
    /// - Throws: 422 for weights out of range or not summing to 1 (before anything is read),
    ///   404 when there is no such rack, 400 when it holds nothing to optimize or no heuristic
    ///   finds a layout within its limits.
    func optimize(rackID: Int, request: OptimizationRequest) async throws -> OptimizationResult {
        try request.validate()
        return try await cache.cached(.optimization(rack: rackID, request: request)) {
            let layout = try await store.layout(rackID: rackID)
            let connections = try await store.connections(filter: ConnectionFilter(rackID: rackID), page: .all)
            return try RackOptimizer.optimize(
                request, rackID: rackID, rack: layout.rack, positions: layout.positions, connections: connections)
        }
    }
}
