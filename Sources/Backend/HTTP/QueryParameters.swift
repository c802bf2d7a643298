import Hummingbird
import RackPlanning

/// Typed reads of path and query parameters, each failure a 422 naming the parameter (FastAPI's
/// behaviour, which the API's clients know).
extension Request {
    /// `skip` (≥ 0, default 0) and `limit` (1–1000, default 100).
    public func page() throws -> Page {
        let skip = try intQuery("skip", in: 0...Int.max) ?? 0
        let limit = try intQuery("limit", in: 1...1000) ?? 100
        return Page(skip: skip, limit: limit)
    }

    /// An optional integer query parameter within `range`.
    public func intQuery(_ name: String, in range: ClosedRange<Int> = Int.min...Int.max) throws -> Int? {
        guard let raw = uri.queryParameters[Substring(name)] else { return nil }
        guard let value = Int(raw) else {
            throw APIError.invalidField(name, "Input should be a valid integer", type: "int_parsing")
        }
        guard range.contains(value) else {
            let message =
                value < range.lowerBound
                ? "Input should be greater than or equal to \(range.lowerBound)"
                : "Input should be less than or equal to \(range.upperBound)"
            throw APIError.invalidField(
                name, message, type: value < range.lowerBound ? "greater_than_equal" : "less_than_equal")
        }
        return value
    }

    /// An optional string query parameter; empty counts as absent.
    public func stringQuery(_ name: String) -> String? {
        guard let raw = uri.queryParameters[Substring(name)], !raw.isEmpty else { return nil }
        return String(raw)
    }

    /// A required, non-empty string query parameter.
    public func requiredStringQuery(_ name: String) throws -> String {
        guard let value = stringQuery(name) else {
            throw APIError.invalidField(name, "Field required", type: "missing")
        }
        return value
    }

    /// An optional enum query parameter (by raw value). Present but empty (`width_type=`) is
    /// refused like any other value outside the enum: absent is the way to not filter.
    public func enumQuery<T: RawRepresentable>(_ name: String, as type: T.Type) throws -> T?
    where T.RawValue == String {
        guard let raw = uri.queryParameters[Substring(name)] else { return nil }
        guard let value = T(rawValue: String(raw)) else {
            throw APIError.invalidField(name, "Input is not an accepted value", type: "enum")
        }
        return value
    }
}

extension BackendRequestContext {
    /// An integer path parameter (`/racks/{id}`); 422 when it is not an integer.
    public func id(_ name: String = "id") throws -> Int {
        guard let raw = parameters.get(name), let value = Int(raw) else {
            throw APIError.invalidField(name, "Input should be a valid integer", type: "int_parsing")
        }
        return value
    }
}
