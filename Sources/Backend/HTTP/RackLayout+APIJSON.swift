import NIOCore
import RackPlanning

extension RackLayout {
    /// The layout as the API's JSON, written directly: the same bytes as ``JSONEncoder/api``
    /// (sorted keys, `nil` optionals left out, a position's `id` written even when `nil`), at a
    /// fraction of its cost. Each object's keys below are in the encoder's order.
    /// - Throws: ``NonFiniteNumber`` when a figure is NaN or infinite (the encoder refuses those too).
    func apiJSON() throws -> ByteBuffer {
        var writer = APIJSONWriter(capacity: 1024 + positions.count * 1536)
        writer.beginObject()
        writer.key("positions")
        writer.beginArray()
        for position in positions {
            writer.element()
            try position.writeAPIJSON(to: &writer)
        }
        writer.endArray()
        writer.key("rack")
        try rack.writeAPIJSON(to: &writer)
        try writer.member("total_power_watts", totalPowerWatts)
        try writer.member("total_weight_kg", totalWeightKG)
        try writer.member("utilization_percent", utilizationPercent)
        writer.endObject()
        return writer.buffer
    }
}

extension Rack {
    fileprivate func writeAPIJSON(to writer: inout APIJSONWriter) throws {
        writer.beginObject()
        try writer.member("airflow_cfm", airflowCFM)
        try writer.member("ambient_temp_c", ambientTempC)
        try writer.member("cooling_capacity_btu", coolingCapacityBTU)
        writer.member("cooling_type", coolingType)
        writer.member("created_at", createdAt)
        try writer.member("depth_mm", depthMM)
        writer.member("id", id)
        writer.member("location", location)
        try writer.member("max_inlet_temp_c", maxInletTempC)
        try writer.member("max_power_watts", maxPowerWatts)
        try writer.member("max_weight_kg", maxWeightKG)
        writer.member("name", name)
        writer.member("total_height_u", totalHeightU)
        writer.member("updated_at", updatedAt)
        writer.member("width_inches", widthInches.rawValue)
        writer.endObject()
    }
}

extension RackPosition {
    fileprivate func writeAPIJSON(to writer: inout APIJSONWriter) throws {
        writer.beginObject()
        if let device {
            writer.key("device")
            try device.writeAPIJSON(to: &writer)
        }
        writer.member("device_id", deviceID)
        writer.key("id")
        if let id { writer.int(id) } else { writer.null() }
        writer.member("locked", locked)
        writer.member("rack_id", rackID)
        writer.member("start_u", startU)
        writer.endObject()
    }
}

extension Device {
    fileprivate func writeAPIJSON(to writer: inout APIJSONWriter) throws {
        writer.beginObject()
        writer.member("access_frequency", accessFrequency.rawValue)
        if let catalogModel {
            writer.key("catalog_model")
            try catalogModel.writeAPIJSON(to: &writer)
        }
        writer.member("custom_name", customName)
        writer.member("id", id)
        writer.member("model_id", modelID)
        writer.member("notes", notes)
        writer.member("serial_number", serialNumber)
        if let specification {
            writer.key("specification")
            try specification.writeAPIJSON(to: &writer)
        }
        writer.member("specification_id", specificationID)
        writer.endObject()
    }
}

extension DeviceSpecification {
    fileprivate func writeAPIJSON(to writer: inout APIJSONWriter) throws {
        writer.beginObject()
        writer.member("airflow_pattern", airflowPattern.rawValue)
        writer.member("brand", brand)
        writer.member("confidence", confidence.rawValue)
        try writer.member("depth_mm", depthMM)
        writer.member("fetched_at", fetchedAt)
        try writer.member("heat_output_btu", heatOutputBTU)
        try writer.member("height_u", heightU)
        writer.member("id", id)
        writer.member("last_updated", lastUpdated)
        try writer.member("max_operating_temp_c", maxOperatingTempC)
        writer.member("model", model)
        writer.member("mounting_type", mountingType)
        try writer.member("power_watts", powerWatts)
        writer.member("source", source.rawValue)
        writer.member("source_url", sourceURL)
        writer.member("typical_ports", typicalPorts)
        writer.member("variant", variant)
        try writer.member("weight_kg", weightKG)
        writer.member("width_type", widthType?.rawValue)
        writer.endObject()
    }
}

extension CatalogModel {
    fileprivate func writeAPIJSON(to writer: inout APIJSONWriter) throws {
        writer.beginObject()
        writer.member("airflow_pattern", airflowPattern)
        if let brand {
            writer.key("brand")
            writer.beginObject()
            writer.member("id", brand.id)
            writer.member("logo_url", brand.logoURL)
            writer.member("name", brand.name)
            writer.member("slug", brand.slug)
            writer.endObject()
        }
        writer.member("brand_id", brandID)
        writer.member("confidence", confidence)
        writer.member("datasheet_url", datasheetURL)
        try writer.member("depth_mm", depthMM)
        writer.member("description", description)
        writer.member("device_count", deviceCount)
        if let deviceType {
            writer.key("device_type")
            writer.beginObject()
            writer.member("color", deviceType.color)
            writer.member("icon", deviceType.icon)
            writer.member("id", deviceType.id)
            writer.member("name", deviceType.name)
            writer.member("slug", deviceType.slug)
            writer.endObject()
        }
        writer.member("device_type_id", deviceTypeID)
        writer.member("end_of_life", endOfLife)
        writer.member("fetched_at", fetchedAt)
        try writer.member("heat_output_btu", heatOutputBTU)
        try writer.member("height_u", heightU)
        writer.member("id", id)
        writer.member("image_url", imageURL)
        writer.member("last_updated", lastUpdated)
        try writer.member("max_operating_temp_c", maxOperatingTempC)
        writer.member("mounting_type", mountingType)
        writer.member("name", name)
        try writer.member("power_watts", powerWatts)
        writer.member("release_date", releaseDate)
        writer.member("source", source)
        writer.member("typical_ports", typicalPorts)
        writer.member("variant", variant)
        try writer.member("weight_kg", weightKG)
        writer.member("width_type", widthType)
        writer.endObject()
    }
}
