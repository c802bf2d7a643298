import RackPlanning

/// Small builders so each test states only the figures its hand computation uses.
enum Fixture {
    static func rack(
        id: Int = 1, name: String = "Lab", heightU: Int = 42, width: RackWidth = .nineteenInch,
        maxWeightKG: Double = 500, maxPowerWatts: Double = 5000, coolingBTU: Double? = 17_000
    ) -> Rack {
        Rack(
            id: id, name: name, totalHeightU: heightU, widthInches: width, maxWeightKG: maxWeightKG,
            maxPowerWatts: maxPowerWatts, coolingCapacityBTU: coolingBTU)
    }

    /// A device backed by a specification with the given figures (brand "Acme", model "M<id>").
    static func device(
        _ id: Int, name: String? = nil, heightU: Double = 1, watts: Double? = nil, heatBTU: Double? = nil,
        weightKG: Double? = nil, airflow: AirflowPattern = .frontToBack, width: RackWidth? = nil,
        depthMM: Double? = nil, access: AccessFrequency = .medium
    ) -> Device {
        Device(
            id: id, customName: name, accessFrequency: access,
            specification: DeviceSpecification(
                id: 100 + id, brand: "Acme", model: "M\(id)", heightU: heightU, widthType: width, depthMM: depthMM,
                weightKG: weightKG, powerWatts: watts, heatOutputBTU: heatBTU, airflowPattern: airflow))
    }

    /// A device backed by a catalog model (no specification).
    static func modelDevice(
        _ id: Int, heightU: Double?, watts: Double? = nil, width: String? = nil, airflow: String? = nil,
        access: AccessFrequency = .medium
    ) -> Device {
        Device(
            id: id, accessFrequency: access,
            catalogModel: CatalogModel(
                id: 200 + id, brandID: 1, deviceTypeID: 1, name: "Model \(id)", heightU: heightU, widthType: width,
                powerWatts: watts, airflowPattern: airflow,
                brand: .init(id: 1, name: "Ubiquiti", slug: "ubiquiti")))
    }

    /// A device with no physical data at all.
    static func bareDevice(_ id: Int) -> Device { Device(id: id, customName: "Mystery \(id)") }

    static func position(_ device: Device, at startU: Int, rack: Int = 1, id: Int? = nil, locked: Bool = false)
        -> RackPosition
    {
        RackPosition(id: id ?? device.id + 1000, rackID: rack, device: device, startU: startU, locked: locked)
    }

    static func candidate(_ device: Device, at startU: Int, locked: Bool = false) -> PlacementCandidate {
        PlacementCandidate(device: device, profile: device.physicalProfile!, currentStartU: startU, locked: locked)
    }

    static func planned(_ candidate: PlacementCandidate, at startU: Int) -> PlannedPosition {
        PlannedPosition(candidate: candidate, startU: startU)
    }
}

/// `abs(a - b) < tolerance`, for hand-computed decimals.
func approx(_ a: Double, _ b: Double, tolerance: Double = 1e-6) -> Bool { abs(a - b) < tolerance }
