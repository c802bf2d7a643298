import RackPlanning

/// Creating, updating and deleting devices: the reference rule every device write keeps, and
/// the cache invalidation a write to a placed device needs.
///
/// A device references exactly one of a specification or a catalog model (400 otherwise, see
/// ``DeviceReference``); the store answers 404 for a reference to a record that does not exist.
/// Updating or deleting a placed device changes what its rack's layout, thermal analysis and
/// optimization read, so the rack it is placed in is read *before* the write (a delete removes
/// the position) and its cached results are invalidated after the commit, before answering.
struct DeviceWrites {
    let store: any RackRepository
    let cache: any ResultCache

    /// Keys of a device body that are embedded records, never written through a device.
    static let embeddedKeys: Set<String> = ["specification", "catalog_model"]

    init(services: BackendServices) {
        self.store = services.store
        self.cache = services.cache
    }

    /// Stores a new device (it is placed nowhere, so no cached result depends on it).
    /// - Parameter device: a validated device; its `id` is ignored.
    /// - Returns: the stored device, embedding its specification or catalog model.
    /// - Throws: ``RackPlanningError/invalidDeviceReference(_:)`` (400) unless exactly one
    ///   reference is set; ``StoreError/invalidReference(_:underlying:file:line:)`` (404) naming
    ///   a missing specification or model.
    func create(_ device: Device) async throws -> Device {
        try Self.checkReference(device)
        return try await store.createDevice(device)
    }

    /// Applies a partial `PUT` body to a device.
    ///
    /// The body may switch the device to another reference, but the result must still name
    /// exactly one: moving a specification device to a catalog model means sending
    /// `{"specification_id": null, "model_id": 7}`.
    /// - Parameters:
    ///   - id: the device.
    ///   - body: the request's JSON object, laid over the stored device.
    /// - Returns: the updated device.
    /// - Throws: 404 for an unknown device or reference, 400 for a broken reference rule, 422 for
    ///   invalid fields.
    func update(id: Int, body: JSONObject) async throws -> Device {
        let (updated, rackID) = try await store.transaction { store in
            let current = try await store.device(id: id)
            let device = try RecordInput.update(current, body: body, readOnly: Self.embeddedKeys)
            try Self.checkReference(device)
            let rackID = try await store.position(deviceID: id)?.rackID
            return (try await store.updateDevice(device), rackID)
        }
        if let rackID { await cache.invalidate(.rack(rackID)) }
        return updated
    }

    /// Deletes a device with its position and connections.
    /// - Parameter id: the device.
    /// - Throws: ``StoreError/notFound(_:file:line:)`` (404) for an unknown device.
    func delete(id: Int) async throws {
        let rackID = try await store.transaction { store in
            let rackID = try await store.position(deviceID: id)?.rackID
            try await store.deleteDevice(id: id)
            return rackID
        }
        if let rackID { await cache.invalidate(.rack(rackID)) }
    }

    /// - Throws: ``RackPlanningError/invalidDeviceReference(_:)`` (400) unless exactly one of
    ///   `specification_id` and `model_id` is set.
    static func checkReference(_ device: Device) throws {
        _ = try DeviceReference(specificationID: device.specificationID, modelID: device.modelID)
    }
}
