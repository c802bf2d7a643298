import RackPlanning

/// The body of `POST /devices/{id}/move`: `{rack_id, start_unit}` (the names the original UI
/// sends; `start_unit` is a position's `start_u`).
struct DeviceMoveRequest: Decodable, Sendable, FieldValidatable {
    var rackID: Int
    var startUnit: Int

    /// `start_unit` within 1-100, the range a position's `start_u` has; whether it fits the
    /// target rack is a placement rule (400), checked later.
    func fieldErrors() -> [FieldError] {
        var check = FieldValidator()
        check.integer("start_unit", startUnit, in: 1...100)
        return check.errors
    }

    enum CodingKeys: String, CodingKey {
        case rackID = "rack_id"
        case startUnit = "start_unit"
    }
}
