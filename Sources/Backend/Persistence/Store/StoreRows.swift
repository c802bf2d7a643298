import Foundation
import RackPlanning

/// Reading the domain's model types from rows, and writing their JSON-valued fields.
///
/// Enumerations stored as text are read leniently (an unknown value becomes the API default)
/// so one odd row, e.g. from an old database copied in, cannot make a whole list unreadable.
enum StoreRows {
    static func rack(_ row: DatabaseRow) throws -> Rack {
        let width = try row.string("width_inches")
        return Rack(
            id: try row.int("id"),
            name: try row.string("name"),
            location: try row.optionalString("location"),
            totalHeightU: try row.int("total_height_u"),
            widthInches: RackWidth(rawValue: width) ?? RackWidth(lenient: width) ?? .nineteenInch,
            depthMM: try row.double("depth_mm"),
            maxWeightKG: try row.double("max_weight_kg"),
            maxPowerWatts: try row.double("max_power_watts"),
            coolingType: try row.string("cooling_type"),
            coolingCapacityBTU: try row.optionalDouble("cooling_capacity_btu"),
            ambientTempC: try row.double("ambient_temp_c"),
            maxInletTempC: try row.double("max_inlet_temp_c"),
            airflowCFM: try row.optionalDouble("airflow_cfm"),
            createdAt: try row.optionalString("created_at"),
            updatedAt: try row.optionalString("updated_at"))
    }

    static func specification(_ row: DatabaseRow) throws -> DeviceSpecification {
        let width = try row.optionalString("width_type")
        return DeviceSpecification(
            id: try row.int("id"),
            brand: try row.string("brand"),
            model: try row.string("model"),
            variant: try row.optionalString("variant"),
            heightU: try row.double("height_u"),
            widthType: width.flatMap { RackWidth(rawValue: $0) ?? RackWidth(lenient: $0) },
            depthMM: try row.optionalDouble("depth_mm"),
            weightKG: try row.optionalDouble("weight_kg"),
            powerWatts: try row.optionalDouble("power_watts"),
            heatOutputBTU: try row.optionalDouble("heat_output_btu"),
            airflowPattern: try row.optionalString("airflow_pattern").flatMap(AirflowPattern.init(lenient:))
                ?? .frontToBack,
            maxOperatingTempC: try row.optionalDouble("max_operating_temp_c"),
            typicalPorts: ports(try row.optionalString("typical_ports")),
            mountingType: try row.optionalString("mounting_type"),
            source: try row.optionalString("source").flatMap(SpecSource.init(rawValue:)) ?? .userCustom,
            sourceURL: try row.optionalString("source_url"),
            confidence: try row.optionalString("confidence").flatMap(Confidence.init(rawValue:)) ?? .medium,
            fetchedAt: try row.optionalString("fetched_at"),
            lastUpdated: try row.optionalString("last_updated"))
    }

    /// A device type with its `model_count` column.
    static func deviceType(_ row: DatabaseRow) throws -> DeviceType {
        DeviceType(
            id: try row.int("id"),
            name: try row.string("name"),
            slug: try row.string("slug"),
            icon: try row.optionalString("icon"),
            description: try row.optionalString("description"),
            color: try row.optionalString("color"),
            createdAt: try row.optionalString("created_at"),
            updatedAt: try row.optionalString("updated_at"),
            modelCount: try row.optionalInt("model_count") ?? 0)
    }

    /// A brand with its `model_count` column.
    static func brand(_ row: DatabaseRow) throws -> Brand {
        Brand(
            id: try row.int("id"),
            name: try row.string("name"),
            slug: try row.string("slug"),
            website: try row.optionalString("website"),
            supportURL: try row.optionalString("support_url"),
            logoURL: try row.optionalString("logo_url"),
            description: try row.optionalString("description"),
            foundedYear: try row.optionalInt("founded_year"),
            headquarters: try row.optionalString("headquarters"),
            lastFetchedAt: try row.optionalString("last_fetched_at"),
            fetchConfidence: try row.optionalString("fetch_confidence"),
            fetchSource: try row.optionalString("fetch_source"),
            createdAt: try row.optionalString("created_at"),
            updatedAt: try row.optionalString("updated_at"),
            modelCount: try row.optionalInt("model_count") ?? 0)
    }

    /// A catalog model from ``SQLRackStore/modelSelect``'s columns (its brand and device type
    /// summaries, and `device_count`).
    static func model(_ row: DatabaseRow) throws -> CatalogModel {
        let brandID = try row.int("brand_id")
        let typeID = try row.int("device_type_id")
        let brand = try row.optionalString("brand_name").map { name in
            CatalogModel.BrandSummary(
                id: brandID, name: name, slug: try row.string("brand_slug"),
                logoURL: try row.optionalString("brand_logo_url"))
        }
        let deviceType = try row.optionalString("type_name").map { name in
            CatalogModel.DeviceTypeSummary(
                id: typeID, name: name, slug: try row.string("type_slug"), icon: try row.optionalString("type_icon"),
                color: try row.optionalString("type_color"))
        }
        return CatalogModel(
            id: try row.int("id"),
            brandID: brandID,
            deviceTypeID: typeID,
            name: try row.string("name"),
            variant: try row.optionalString("variant"),
            description: try row.optionalString("description"),
            releaseDate: try row.optionalString("release_date"),
            endOfLife: try row.optionalString("end_of_life"),
            heightU: try row.optionalDouble("height_u"),
            widthType: try row.optionalString("width_type"),
            depthMM: try row.optionalDouble("depth_mm"),
            weightKG: try row.optionalDouble("weight_kg"),
            powerWatts: try row.optionalDouble("power_watts"),
            heatOutputBTU: try row.optionalDouble("heat_output_btu"),
            airflowPattern: try row.optionalString("airflow_pattern"),
            maxOperatingTempC: try row.optionalDouble("max_operating_temp_c"),
            typicalPorts: ports(try row.optionalString("typical_ports")),
            mountingType: try row.optionalString("mounting_type"),
            datasheetURL: try row.optionalString("datasheet_url"),
            imageURL: try row.optionalString("image_url"),
            source: try row.optionalString("source"),
            confidence: try row.optionalString("confidence"),
            fetchedAt: try row.optionalString("fetched_at"),
            lastUpdated: try row.optionalString("last_updated"),
            brand: brand,
            deviceType: deviceType,
            deviceCount: try row.optionalInt("device_count") ?? 0)
    }

    /// A device without its embedded specification or model (the store adds those).
    static func device(_ row: DatabaseRow) throws -> Device {
        Device(
            id: try row.int("id"),
            customName: try row.optionalString("custom_name"),
            specificationID: try row.optionalInt("specification_id"),
            modelID: try row.optionalInt("model_id"),
            serialNumber: try row.optionalString("serial_number"),
            accessFrequency: try row.optionalString("access_frequency")
                .flatMap { AccessFrequency(rawValue: $0.lowercased()) } ?? .medium,
            notes: try row.optionalString("notes"))
    }

    /// A position without its embedded device.
    static func position(_ row: DatabaseRow) throws -> RackPosition {
        RackPosition(
            id: try row.int("id"),
            rackID: try row.int("rack_id"),
            deviceID: try row.int("device_id"),
            startU: try row.int("start_u"),
            locked: try row.bool("locked"))
    }

    /// A connection without its embedded devices.
    static func connection(_ row: DatabaseRow) throws -> Connection {
        Connection(
            id: try row.int("id"),
            fromDeviceID: try row.int("from_device_id"),
            toDeviceID: try row.int("to_device_id"),
            fromPort: try row.optionalString("from_port"),
            toPort: try row.optionalString("to_port"),
            cableType: try row.optionalString("cable_type").flatMap(CableType.init(rawValue:)) ?? .cat6,
            cableLengthM: try row.optionalDouble("cable_length_m"),
            routingPath: try row.optionalString("routing_path").flatMap(RoutingPath.init(rawValue:)) ?? .direct,
            notes: try row.optionalString("notes"))
    }

    /// `typical_ports` as stored: a JSON object with sorted keys.
    static func portsText(_ ports: [String: Int]?) -> DatabaseValue {
        guard let ports else { return .null }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        guard let data = try? encoder.encode(ports) else { return .null }
        return .text(String(decoding: data, as: UTF8.self))
    }

    private static func ports(_ text: String?) -> [String: Int]? {
        guard let text else { return nil }
        return try? JSONDecoder().decode([String: Int].self, from: Data(text.utf8))
    }
}
