/// A column of a table as the store's decoders name it: its name (how `SELECT *` of the table
/// names it) and its position among the table's columns in ``TableCatalog`` order (where a
/// statement that selects them in that order, like ``LayoutQuery``, puts it).
///
/// One decoder per table (``StoreRows``) then reads a `SELECT *` row by name and a layout row by
/// position, so the mapping from columns to fields is written once.
struct Column: Sendable {
    let name: String
    let index: Int

    /// - Parameters:
    ///   - name: the column's name.
    ///   - columns: the table's columns in order; `name` must be one of them.
    init(_ name: String, of columns: [String]) {
        guard let index = columns.firstIndex(of: name) else {
            preconditionFailure("column \(name) is not among \(columns)")
        }
        self.name = name
        self.index = index
    }
}

/// A row read by ``Column``: a `SELECT *` row by each column's name.
struct NamedColumns: RowValues {
    let row: DatabaseRow

    func value(_ key: Column) -> DatabaseValue { row[key.name] }
    func columnName(_ key: Column) -> String { key.name }
}

/// One table's columns inside a wider ``OrderedRow``: the table's first column is at `offset`.
struct TableSlice: RowValues {
    let row: OrderedRow
    let offset: Int

    func value(_ key: Column) throws -> DatabaseValue { try row.value(at: offset + key.index) }
    func columnName(_ key: Column) -> String { key.name }
}

/// The columns of `racks`.
struct RackColumns: Sendable {
    static let shared = RackColumns(TableCatalog.racks.columnNames)

    let all: [String]
    let id, name, location, totalHeightU, widthInches, depthMM, maxWeightKG, maxPowerWatts, coolingType,
        coolingCapacityBTU, ambientTempC, maxInletTempC, airflowCFM, createdAt, updatedAt: Column

    private init(_ all: [String]) {
        self.all = all
        func c(_ name: String) -> Column { Column(name, of: all) }
        (id, name, location, totalHeightU, widthInches) =
            (c("id"), c("name"), c("location"), c("total_height_u"), c("width_inches"))
        (depthMM, maxWeightKG, maxPowerWatts, coolingType) =
            (c("depth_mm"), c("max_weight_kg"), c("max_power_watts"), c("cooling_type"))
        (coolingCapacityBTU, ambientTempC, maxInletTempC, airflowCFM) =
            (c("cooling_capacity_btu"), c("ambient_temp_c"), c("max_inlet_temp_c"), c("airflow_cfm"))
        (createdAt, updatedAt) = (c("created_at"), c("updated_at"))
    }
}

/// The columns of `device_specifications`.
struct SpecificationColumns: Sendable {
    static let shared = SpecificationColumns(TableCatalog.deviceSpecifications.columnNames)

    let all: [String]
    let id, brand, model, variant, heightU, widthType, depthMM, weightKG, powerWatts, heatOutputBTU,
        airflowPattern, maxOperatingTempC, typicalPorts, mountingType, source, sourceURL, confidence, fetchedAt,
        lastUpdated: Column

    private init(_ all: [String]) {
        self.all = all
        func c(_ name: String) -> Column { Column(name, of: all) }
        (id, brand, model, variant, heightU) = (c("id"), c("brand"), c("model"), c("variant"), c("height_u"))
        (widthType, depthMM, weightKG, powerWatts) =
            (c("width_type"), c("depth_mm"), c("weight_kg"), c("power_watts"))
        (heatOutputBTU, airflowPattern, maxOperatingTempC) =
            (c("heat_output_btu"), c("airflow_pattern"), c("max_operating_temp_c"))
        (typicalPorts, mountingType, source, sourceURL) =
            (c("typical_ports"), c("mounting_type"), c("source"), c("source_url"))
        (confidence, fetchedAt, lastUpdated) = (c("confidence"), c("fetched_at"), c("last_updated"))
    }
}

/// The columns of a catalog model as ``SQLRackStore/modelSelect`` returns them: the table's,
/// then its brand and device type summaries and its device count.
struct ModelColumns: Sendable {
    static let shared = ModelColumns(
        TableCatalog.models.columnNames + [
            "brand_name", "brand_slug", "brand_logo_url", "type_name", "type_slug", "type_icon", "type_color",
            "device_count",
        ])

    let all: [String]
    let id, brandID, deviceTypeID, name, variant, description, releaseDate, endOfLife, heightU, widthType,
        depthMM, weightKG, powerWatts, heatOutputBTU, airflowPattern, maxOperatingTempC, typicalPorts,
        mountingType, datasheetURL, imageURL, source, confidence, fetchedAt, lastUpdated: Column
    let brandName, brandSlug, brandLogoURL, typeName, typeSlug, typeIcon, typeColor, deviceCount: Column

    private init(_ all: [String]) {
        self.all = all
        func c(_ name: String) -> Column { Column(name, of: all) }
        (id, brandID, deviceTypeID, name, variant) =
            (c("id"), c("brand_id"), c("device_type_id"), c("name"), c("variant"))
        (description, releaseDate, endOfLife, heightU) =
            (c("description"), c("release_date"), c("end_of_life"), c("height_u"))
        (widthType, depthMM, weightKG, powerWatts) =
            (c("width_type"), c("depth_mm"), c("weight_kg"), c("power_watts"))
        (heatOutputBTU, airflowPattern, maxOperatingTempC) =
            (c("heat_output_btu"), c("airflow_pattern"), c("max_operating_temp_c"))
        (typicalPorts, mountingType, datasheetURL, imageURL) =
            (c("typical_ports"), c("mounting_type"), c("datasheet_url"), c("image_url"))
        (source, confidence, fetchedAt, lastUpdated) =
            (c("source"), c("confidence"), c("fetched_at"), c("last_updated"))
        (brandName, brandSlug, brandLogoURL) = (c("brand_name"), c("brand_slug"), c("brand_logo_url"))
        (typeName, typeSlug, typeIcon, typeColor) = (c("type_name"), c("type_slug"), c("type_icon"), c("type_color"))
        deviceCount = c("device_count")
    }
}

/// The columns of `devices`.
struct DeviceColumns: Sendable {
    static let shared = DeviceColumns(TableCatalog.devices.columnNames)

    let all: [String]
    let id, customName, specificationID, modelID, serialNumber, accessFrequency, notes: Column

    private init(_ all: [String]) {
        self.all = all
        func c(_ name: String) -> Column { Column(name, of: all) }
        (id, customName, specificationID, modelID) =
            (c("id"), c("custom_name"), c("specification_id"), c("model_id"))
        (serialNumber, accessFrequency, notes) = (c("serial_number"), c("access_frequency"), c("notes"))
    }
}

/// The columns of `rack_positions`.
struct PositionColumns: Sendable {
    static let shared = PositionColumns(TableCatalog.rackPositions.columnNames)

    let all: [String]
    let id, rackID, deviceID, startU, locked: Column

    private init(_ all: [String]) {
        self.all = all
        func c(_ name: String) -> Column { Column(name, of: all) }
        (id, rackID, deviceID, startU, locked) =
            (c("id"), c("rack_id"), c("device_id"), c("start_u"), c("locked"))
    }
}
