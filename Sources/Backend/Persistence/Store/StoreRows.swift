import Foundation
import RackPlanning

/// Reading the domain's model types from rows, and writing their JSON-valued fields.
///
/// Enumerations stored as text are read leniently (an unknown value becomes the API default)
/// so one odd row, e.g. from an old database copied in, cannot make a whole list unreadable.
enum StoreRows {
    static func rack(_ row: DatabaseRow) throws -> Rack {
        try rack(from: NamedColumns(row: row))
    }

    /// The same from a row read by ``Column``: a `SELECT *` row, or the table's slice of a wider row.
    static func rack<Row: RowValues>(from row: Row) throws -> Rack where Row.Key == Column {
        let c = RackColumns.shared
        let width = try row.string(c.widthInches)
        return Rack(
            id: try row.int(c.id),
            name: try row.string(c.name),
            location: try row.optionalString(c.location),
            totalHeightU: try row.int(c.totalHeightU),
            widthInches: RackWidth(rawValue: width) ?? RackWidth(lenient: width) ?? .nineteenInch,
            depthMM: try row.double(c.depthMM),
            maxWeightKG: try row.double(c.maxWeightKG),
            maxPowerWatts: try row.double(c.maxPowerWatts),
            coolingType: try row.string(c.coolingType),
            coolingCapacityBTU: try row.optionalDouble(c.coolingCapacityBTU),
            ambientTempC: try row.double(c.ambientTempC),
            maxInletTempC: try row.double(c.maxInletTempC),
            airflowCFM: try row.optionalDouble(c.airflowCFM),
            createdAt: try row.optionalString(c.createdAt),
            updatedAt: try row.optionalString(c.updatedAt))
    }

    static func specification(_ row: DatabaseRow) throws -> DeviceSpecification {
        try specification(from: NamedColumns(row: row))
    }

    /// The same from a row read by ``Column``: a `SELECT *` row, or the table's slice of a wider row.
    static func specification<Row: RowValues>(from row: Row) throws -> DeviceSpecification
    where Row.Key == Column {
        let c = SpecificationColumns.shared
        let width = try row.optionalString(c.widthType)
        return DeviceSpecification(
            id: try row.int(c.id),
            brand: try row.string(c.brand),
            model: try row.string(c.model),
            variant: try row.optionalString(c.variant),
            heightU: try row.double(c.heightU),
            widthType: width.flatMap { RackWidth(rawValue: $0) ?? RackWidth(lenient: $0) },
            depthMM: try row.optionalDouble(c.depthMM),
            weightKG: try row.optionalDouble(c.weightKG),
            powerWatts: try row.optionalDouble(c.powerWatts),
            heatOutputBTU: try row.optionalDouble(c.heatOutputBTU),
            airflowPattern: try row.optionalString(c.airflowPattern).flatMap(AirflowPattern.init(lenient:))
                ?? .frontToBack,
            maxOperatingTempC: try row.optionalDouble(c.maxOperatingTempC),
            typicalPorts: ports(try row.optionalString(c.typicalPorts)),
            mountingType: try row.optionalString(c.mountingType),
            source: try row.optionalString(c.source).flatMap(SpecSource.init(rawValue:)) ?? .userCustom,
            sourceURL: try row.optionalString(c.sourceURL),
            confidence: try row.optionalString(c.confidence).flatMap(Confidence.init(rawValue:)) ?? .medium,
            fetchedAt: try row.optionalString(c.fetchedAt),
            lastUpdated: try row.optionalString(c.lastUpdated))
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
        try model(from: NamedColumns(row: row))
    }

    /// The same from a row read by ``Column``: a `SELECT *` row, or the table's slice of a wider row.
    static func model<Row: RowValues>(from row: Row) throws -> CatalogModel where Row.Key == Column {
        let c = ModelColumns.shared
        let brandID = try row.int(c.brandID)
        let typeID = try row.int(c.deviceTypeID)
        let brand = try row.optionalString(c.brandName).map { name in
            CatalogModel.BrandSummary(
                id: brandID, name: name, slug: try row.string(c.brandSlug),
                logoURL: try row.optionalString(c.brandLogoURL))
        }
        let deviceType = try row.optionalString(c.typeName).map { name in
            CatalogModel.DeviceTypeSummary(
                id: typeID, name: name, slug: try row.string(c.typeSlug), icon: try row.optionalString(c.typeIcon),
                color: try row.optionalString(c.typeColor))
        }
        return CatalogModel(
            id: try row.int(c.id),
            brandID: brandID,
            deviceTypeID: typeID,
            name: try row.string(c.name),
            variant: try row.optionalString(c.variant),
            description: try row.optionalString(c.description),
            releaseDate: try row.optionalString(c.releaseDate),
            endOfLife: try row.optionalString(c.endOfLife),
            heightU: try row.optionalDouble(c.heightU),
            widthType: try row.optionalString(c.widthType),
            depthMM: try row.optionalDouble(c.depthMM),
            weightKG: try row.optionalDouble(c.weightKG),
            powerWatts: try row.optionalDouble(c.powerWatts),
            heatOutputBTU: try row.optionalDouble(c.heatOutputBTU),
            airflowPattern: try row.optionalString(c.airflowPattern),
            maxOperatingTempC: try row.optionalDouble(c.maxOperatingTempC),
            typicalPorts: ports(try row.optionalString(c.typicalPorts)),
            mountingType: try row.optionalString(c.mountingType),
            datasheetURL: try row.optionalString(c.datasheetURL),
            imageURL: try row.optionalString(c.imageURL),
            source: try row.optionalString(c.source),
            confidence: try row.optionalString(c.confidence),
            fetchedAt: try row.optionalString(c.fetchedAt),
            lastUpdated: try row.optionalString(c.lastUpdated),
            brand: brand,
            deviceType: deviceType,
            deviceCount: try row.optionalInt(c.deviceCount) ?? 0)
    }

    /// A device without its embedded specification or model (the store adds those).
    static func device(_ row: DatabaseRow) throws -> Device {
        try device(from: NamedColumns(row: row))
    }

    /// The same from a row read by ``Column``: a `SELECT *` row, or the table's slice of a wider row.
    static func device<Row: RowValues>(from row: Row) throws -> Device where Row.Key == Column {
        let c = DeviceColumns.shared
        return Device(
            id: try row.int(c.id),
            customName: try row.optionalString(c.customName),
            specificationID: try row.optionalInt(c.specificationID),
            modelID: try row.optionalInt(c.modelID),
            serialNumber: try row.optionalString(c.serialNumber),
            accessFrequency: try row.optionalString(c.accessFrequency)
                .flatMap { AccessFrequency(rawValue: $0.lowercased()) } ?? .medium,
            notes: try row.optionalString(c.notes))
    }

    /// A position without its embedded device.
    static func position(_ row: DatabaseRow) throws -> RackPosition {
        try position(from: NamedColumns(row: row))
    }

    /// The same from a row read by ``Column``: a `SELECT *` row, or the table's slice of a wider row.
    static func position<Row: RowValues>(from row: Row) throws -> RackPosition where Row.Key == Column {
        let c = PositionColumns.shared
        return RackPosition(
            id: try row.int(c.id),
            rackID: try row.int(c.rackID),
            deviceID: try row.int(c.deviceID),
            startU: try row.int(c.startU),
            locked: try row.bool(c.locked))
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
