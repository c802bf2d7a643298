import Foundation
import RackPlanning
import Testing

@Suite("JSON shapes")
struct ModelCodingTests {
    func object<T: Encodable>(_ value: T) throws -> [String: Any] {
        let data = try JSONEncoder().encode(value)
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    @Test func rackUsesSnakeCaseKeysAndInchSpelling() throws {
        let json = try object(Rack(id: 3, name: "Lab", updatedAt: "2025-01-01T00:00:00Z"))
        #expect(json["total_height_u"] as? Int == 42)
        #expect(json["width_inches"] as? String == "19\"")
        #expect(json["depth_mm"] as? Double == 700)
        #expect(json["max_weight_kg"] as? Double == 500)
        #expect(json["max_power_watts"] as? Double == 5000)
        #expect(json["cooling_type"] as? String == "front-to-back")
        #expect(json["cooling_capacity_btu"] as? Double == 17_000)
        #expect(json["ambient_temp_c"] as? Double == 22)
        #expect(json["max_inlet_temp_c"] as? Double == 27)
        #expect(json["updated_at"] as? String == "2025-01-01T00:00:00Z")
    }

    @Test func specificationDecodesFromTheApisJSON() throws {
        let json = #"""
            {"id": 7, "brand": "Dell", "model": "R740", "variant": null, "height_u": 2, "width_type": "19\"",
             "depth_mm": 715, "weight_kg": 28.6, "power_watts": 750, "heat_output_btu": 2559,
             "airflow_pattern": "front_to_back", "max_operating_temp_c": 35, "typical_ports": {"1GbE": 4},
             "mounting_type": "rails", "source": "manufacturer_spec", "source_url": null, "confidence": "high",
             "fetched_at": null, "last_updated": "2025-02-01T10:00:00Z"}
            """#
        let spec = try JSONDecoder().decode(DeviceSpecification.self, from: Data(json.utf8))
        #expect(spec.widthType == .nineteenInch)
        #expect(spec.typicalPorts == ["1GbE": 4])
        #expect(spec.source == .manufacturerSpec)
        #expect(spec.confidence == .high)
        #expect(spec.heatOutputBTU == 2559)
    }

    @Test func deviceEmbedsItsRecordsUnderApiKeys() throws {
        let device = Fixture.modelDevice(4, heightU: 1, access: .high)
        let json = try object(device)
        #expect(json["access_frequency"] as? String == "high")
        #expect(json["model_id"] as? Int == 204)
        let model = try #require(json["catalog_model"] as? [String: Any])
        #expect(model["brand_id"] as? Int == 1)
        #expect((model["brand"] as? [String: Any])?["slug"] as? String == "ubiquiti")
        let decoded = try JSONDecoder().decode(Device.self, from: JSONEncoder().encode(device))
        #expect(decoded == device)
    }

    @Test func accessFrequencyIsLowercaseOnly() {
        #expect(AccessFrequency.allCases.map(\.rawValue) == ["low", "medium", "high"])
        #expect(throws: (any Error).self) {
            try JSONDecoder().decode([AccessFrequency].self, from: Data(#"["HIGH"]"#.utf8))
        }
    }

    @Test func enumSpellings() {
        #expect(RackWidth.allCases.map(\.rawValue) == ["11\"", "18\"", "19\"", "23\""])
        #expect(
            AirflowPattern.allCases.map(\.rawValue) == ["front_to_back", "back_to_front", "side_to_side", "passive"])
        #expect(
            SpecSource.allCases.map(\.rawValue) == ["web_fetched", "manufacturer_spec", "community", "user_custom"])
        #expect(Confidence.allCases.map(\.rawValue) == ["high", "medium", "low"])
    }

    @Test func positionWritesNullIdAndConnectionRoundTrips() throws {
        let json = try object(RackPosition(id: nil, rackID: 2, deviceID: 3, startU: 4))
        #expect(json["id"] is NSNull)
        #expect(json["rack_id"] as? Int == 2)
        #expect(json["device_id"] as? Int == 3)
        #expect(json["start_u"] as? Int == 4)
        #expect(json["locked"] as? Bool == false)

        let connection = Connection(
            id: 1, fromDeviceID: 1, toDeviceID: 2, cableType: .fiberSingleMode, cableLengthM: 12,
            routingPath: .cableTray)
        let encoded = try object(connection)
        #expect(encoded["cable_type"] as? String == "Fiber-SM")
        #expect(encoded["routing_path"] as? String == "cable_tray")
        #expect(encoded["cable_length_m"] as? Double == 12)
        #expect(try JSONDecoder().decode(Connection.self, from: JSONEncoder().encode(connection)) == connection)
    }

    @Test func analysisResponsesUseTheDocumentedKeys() throws {
        let positions = [Fixture.position(Fixture.device(1, heatBTU: 2500), at: 3)]
        let analysis = try object(ThermalAnalysis(rack: Fixture.rack(), positions: positions, timestamp: "now"))
        #expect(
            Set(analysis.keys) == [
                "rack_id", "rack_name", "heat_distribution", "cooling_efficiency", "hot_spots", "airflow_conflicts",
                "recommendations", "timestamp",
            ])
        let cooling = try #require(analysis["cooling_efficiency"] as? [String: Any])
        #expect(
            Set(cooling.keys) == [
                "cooling_capacity_btu_hr", "cooling_capacity_tons", "heat_load_btu_hr", "utilization_percent",
                "remaining_capacity_btu_hr", "remaining_capacity_tons", "status",
            ])
        let spot = try #require((analysis["hot_spots"] as? [[String: Any]])?.first)
        #expect(spot["heat_output_btu_hr"] as? Double == 2500)
        #expect(spot["severity"] as? String == "high")

        let layout = try object(RackLayout(rack: Fixture.rack(), positions: positions))
        #expect(
            Set(layout.keys) == ["rack", "positions", "utilization_percent", "total_weight_kg", "total_power_watts"])

        let bill = try object(BillOfMaterials(rackID: 1, connections: [], positions: []))
        #expect(Set(bill.keys) == ["cables", "cable_summary", "total_cables", "total_cost"])
        #expect(bill["total_cost"] is NSNull)
    }
}
