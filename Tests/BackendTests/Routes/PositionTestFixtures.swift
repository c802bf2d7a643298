import Backend
import Foundation
import HummingbirdTesting
import RackPlanning
import Testing

/// Racks, devices and placements for the position and analysis route tests.
///
/// Racks and positions go through the routes under test; specifications, catalog models and
/// devices go straight into the store, so these tests do not depend on other route groups.
struct PlacementFixture: Sendable {
    let api: APIClient
    let store: any RackRepository

    init(_ api: APIClient, _ services: BackendServices) {
        self.api = api
        self.store = services.store
    }

    /// A rack created through `POST /api/racks`.
    /// - Parameter fields: any other rack fields (`width_inches`, `cooling_capacity_btu`, ...).
    func rack(
        _ name: String = "Main", height: Int = 42, fields: [String: any Sendable] = [:]
    ) async throws -> Rack {
        var body = fields
        body["name"] = name
        body["total_height_u"] = height
        let response = try await api.post("/api/racks", body)
        try #require(response.status == .created, "rack not created: \(response.text)")
        return try response.decode(Rack.self)
    }

    /// A device of a new specification (each with its own model name, so they never clash).
    func device(
        _ name: String? = nil, heightU: Double = 1, watts: Double? = 100, heatBTU: Double? = nil,
        width: RackWidth? = .nineteenInch, airflow: AirflowPattern = .frontToBack, weightKG: Double? = 5,
        access: AccessFrequency = .medium
    ) async throws -> Device {
        let specification = try await store.createSpecification(
            DeviceSpecification(
                id: 0, brand: "Acme", model: "M-\(UUID().uuidString.prefix(8))", heightU: heightU, widthType: width,
                depthMM: 400, weightKG: weightKG, powerWatts: watts, heatOutputBTU: heatBTU, airflowPattern: airflow))
        return try await store.createDevice(
            Device(id: 0, customName: name, specificationID: specification.id, accessFrequency: access))
    }

    /// A device of a catalog model (Dell PowerEdge R740: 2U, 19", 495 W), with no specification.
    func catalogDevice(_ name: String? = nil) async throws -> Device {
        let store = try #require(store as? SQLRackStore)
        let (_, _, model) = try await StoreFixtures.catalog(store)
        return try await store.createDevice(Device(id: 0, customName: name, modelID: model.id))
    }

    /// `POST /api/racks/{rack}/positions`.
    func place(_ device: Device, in rack: Rack, at startU: Int, locked: Bool? = nil) async throws -> TestResponse {
        var body: [String: any Sendable] = ["device_id": device.id, "start_u": startU]
        if let locked { body["locked"] = locked }
        return try await api.post("/api/racks/\(rack.id)/positions", body)
    }

    /// Places a device and returns the created position (the test fails unless it is a 201).
    func placed(_ device: Device, in rack: Rack, at startU: Int, locked: Bool? = nil) async throws -> RackPosition {
        let response = try await place(device, in: rack, at: startU, locked: locked)
        try #require(response.status == .created, "not placed: \(response.text)")
        return try response.decode(RackPosition.self)
    }

    /// The rack's stored positions as `(device id, start_u)`, lowest first.
    func layout(of rack: Rack) async throws -> [(deviceID: Int, startU: Int)] {
        try await store.layout(rackID: rack.id).positions.map { ($0.deviceID, $0.startU) }
    }
}

extension TestResponse {
    /// The error envelope's message (`detail`).
    var detailMessage: String { object["detail"] as? String ?? "" }
}
