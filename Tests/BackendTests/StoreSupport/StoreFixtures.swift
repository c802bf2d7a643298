import Backend
import RackPlanning

/// Small records for the store tests, created through the store under test.
enum StoreFixtures {
    static func rack(_ store: SQLRackStore, name: String = "Main", height: Int = 42) async throws -> Rack {
        try await store.createRack(Rack(id: 0, name: name, location: "Garage", totalHeightU: height))
    }

    static func specification(
        _ store: SQLRackStore, brand: String = "Ubiquiti", model: String = "USW-Pro-24", variant: String? = nil,
        heightU: Double = 1, powerWatts: Double? = 100, width: RackWidth? = .nineteenInch,
        source: SpecSource = .userCustom
    ) async throws -> DeviceSpecification {
        try await store.createSpecification(
            DeviceSpecification(
                id: 0, brand: brand, model: model, variant: variant, heightU: heightU, widthType: width,
                depthMM: 300, weightKG: 4.5, powerWatts: powerWatts, typicalPorts: ["1GbE": 24, "SFP+": 2],
                source: source))
    }

    static func device(
        _ store: SQLRackStore, specification: DeviceSpecification, name: String? = nil,
        access: AccessFrequency = .medium
    ) async throws -> Device {
        try await store.createDevice(
            Device(id: 0, customName: name, specificationID: specification.id, accessFrequency: access))
    }

    /// A brand, a device type and one model of them.
    static func catalog(
        _ store: SQLRackStore, brand: String = "Dell", type: String = "Server", model: String = "PowerEdge R740"
    ) async throws -> (Brand, DeviceType, CatalogModel) {
        let brand = try await store.createBrand(Brand(id: 0, name: brand, slug: brand.lowercased()))
        let type = try await store.createDeviceType(
            DeviceType(id: 0, name: type, slug: type.lowercased(), icon: "🖥️", color: "#336699"))
        let model = try await store.createModel(
            CatalogModel(
                id: 0, brandID: brand.id, deviceTypeID: type.id, name: model, heightU: 2, widthType: "19\"",
                powerWatts: 495, airflowPattern: "Front-to-Back"))
        return (brand, type, model)
    }
}
