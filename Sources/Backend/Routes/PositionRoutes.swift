import Hummingbird
import RackPlanning

/// Rack positions: place a device (`POST /racks/{id}/positions`), change a position
/// (`PUT /racks/{id}/positions/{pid}`), remove one (`DELETE`), and move a device
/// (`POST /devices/{id}/move`), per `rack-api.md` §3–§4.
///
/// ``PlacementService`` checks and writes each placement in one transaction holding the rack's
/// lock. Every write then invalidates the cached results (thermal, optimization, layout) of the
/// racks it touched, after the commit and before answering.
struct PositionRoutes {
    let services: BackendServices

    private var placements: PlacementService { PlacementService(store: services.store) }

    func register(on api: RouterGroup<BackendRequestContext>) {
        api.post("racks/{id}/positions") { request, context in
            let rackID = try context.id()
            let body = try await RecordInput.object(request, context: context)
            let input = try RecordInput.create(
                RackPosition(id: nil, rackID: rackID, deviceID: 0, startU: 1), body: body,
                required: ["device_id", "start_u"], readOnly: Self.fixedKeys.subtracting(["device_id"]))
            let position = try await placements.place(
                deviceID: input.deviceID, in: rackID, startU: input.startU, locked: input.locked)
            await services.cache.invalidate(.rack(rackID))
            return try APIResponse.created(position)
        }
        api.put("racks/{id}/positions/{pid}") { request, context in
            let rackID = try context.id()
            let positionID = try context.id("pid")
            let body = try await RecordInput.object(request, context: context)
            let position = try await placements.update(positionID: positionID, in: rackID) { current in
                try RecordInput.update(current, body: body, readOnly: Self.fixedKeys)
            }
            await services.cache.invalidate(.rack(rackID))
            return try APIResponse.json(position)
        }
        api.delete("racks/{id}/positions/{pid}") { _, context in
            let rackID = try context.id()
            let positionID = try context.id("pid")
            try await services.store.deletePosition(id: positionID, rackID: rackID)
            await services.cache.invalidate(.rack(rackID))
            return APIResponse.noContent
        }
        api.post("devices/{id}/move") { request, context in
            let deviceID = try context.id()
            let body = try await RecordInput.decode(DeviceMoveRequest.self, from: request, context: context)
            try body.validate()
            let moved = try await placements.move(deviceID: deviceID, to: body.rackID, startU: body.startUnit)
            let touched = Set([body.rackID] + (moved.previousRackID.map { [$0] } ?? []))
            await services.cache.invalidate(touched.sorted().map(CacheScope.rack))
            return try APIResponse.json(moved.position)
        }
    }

    /// Keys a position body cannot change: where the position lives and what it holds (a
    /// device changes racks through `/devices/{id}/move`).
    private static let fixedKeys: Set<String> = ["rack_id", "device_id", "device"]
}
