/// Why a rack-planning request cannot be answered, with the HTTP status it maps to.
///
/// A struct with a private code rather than a public enum, so new kinds can be added without
/// breaking callers that switch over them. Two errors are equal when they are of the same
/// kind, whatever their details; match with the static members (`error == .rackNotFound`).
/// ``detail`` is safe to show to clients (it never carries storage internals).
public struct RackPlanningError: Error, Hashable, Sendable, CustomStringConvertible {
    private enum Code: Hashable, Sendable {
        case validationFailed
        case rackNotFound
        case deviceNotFound
        case invalidDeviceReference
        case selfConnection
        case nothingToOptimize
        case noValidLayout
    }

    private let code: Code
    /// The HTTP status: 422, 404 or 400.
    public let status: Int
    /// The message for the response body's `detail` (or the validation envelope's `message`).
    public let detail: String
    /// For a 422, every field at fault; empty otherwise.
    public let fieldErrors: [FieldError]

    private init(_ code: Code, status: Int, _ detail: String, fieldErrors: [FieldError] = []) {
        self.code = code
        self.status = status
        self.detail = detail
        self.fieldErrors = fieldErrors
    }

    public var description: String {
        guard !fieldErrors.isEmpty else { return "\(status): \(detail)" }
        return "\(status): \(detail) (\(fieldErrors.map(\.description).joined(separator: "; ")))"
    }

    /// The envelope's `code`: `VALIDATION_ERROR`, `RESOURCE_NOT_FOUND` or `BAD_REQUEST`.
    public var errorCode: String {
        switch code {
        case .validationFailed: "VALIDATION_ERROR"
        case .rackNotFound, .deviceNotFound: "RESOURCE_NOT_FOUND"
        case .invalidDeviceReference, .selfConnection, .nothingToOptimize, .noValidLayout: "BAD_REQUEST"
        }
    }

    /// 422: fields out of range (or, for optimizer weights, not summing to 1).
    public static func validationFailed(_ errors: [FieldError]) -> RackPlanningError {
        RackPlanningError(.validationFailed, status: 422, "Request validation failed", fieldErrors: errors)
    }

    /// 404: no rack with this id.
    public static func rackNotFound(_ id: Int) -> RackPlanningError {
        RackPlanningError(.rackNotFound, status: 404, "Rack \(id) not found")
    }

    /// 404: no device with this id.
    public static func deviceNotFound(_ id: Int) -> RackPlanningError {
        RackPlanningError(.deviceNotFound, status: 404, "Device \(id) not found")
    }

    /// 400: a device must reference exactly one of a specification or a catalog model.
    public static func invalidDeviceReference(_ reason: String) -> RackPlanningError {
        RackPlanningError(.invalidDeviceReference, status: 400, reason)
    }

    /// 400: a connection's two ends are the same device.
    public static func selfConnection(_ deviceID: Int) -> RackPlanningError {
        RackPlanningError(.selfConnection, status: 400, "Cannot connect device \(deviceID) to itself")
    }

    /// 400: the rack holds no device whose size and loads are known.
    public static func nothingToOptimize(rackID: Int) -> RackPlanningError {
        RackPlanningError(
            .nothingToOptimize, status: 400,
            "Rack \(rackID) has no devices with physical specifications to optimize")
    }

    /// 400: every heuristic's layout broke a hard limit; `violations` says which.
    public static func noValidLayout(_ violations: [String]) -> RackPlanningError {
        var detail =
            "No valid optimization solutions found. "
            + "Check that devices fit within rack constraints (height, power, weight, cooling)."
        if !violations.isEmpty { detail += " " + violations.joined(separator: "; ") }
        return RackPlanningError(.noValidLayout, status: 400, detail)
    }

    /// Any ``validationFailed(_:)``, for matching.
    public static let validationFailed = RackPlanningError.validationFailed([])
    /// Any ``rackNotFound(_:)``, for matching.
    public static let rackNotFound = RackPlanningError.rackNotFound(0)
    /// Any ``deviceNotFound(_:)``, for matching.
    public static let deviceNotFound = RackPlanningError.deviceNotFound(0)
    /// Any ``invalidDeviceReference(_:)``, for matching.
    public static let invalidDeviceReference = RackPlanningError.invalidDeviceReference("")
    /// Any ``selfConnection(_:)``, for matching.
    public static let selfConnection = RackPlanningError.selfConnection(0)
    /// Any ``nothingToOptimize(rackID:)``, for matching.
    public static let nothingToOptimize = RackPlanningError.nothingToOptimize(rackID: 0)
    /// Any ``noValidLayout(_:)``, for matching.
    public static let noValidLayout = RackPlanningError.noValidLayout([])

    public static func == (lhs: RackPlanningError, rhs: RackPlanningError) -> Bool { lhs.code == rhs.code }
    public func hash(into hasher: inout Hasher) { hasher.combine(code) }
}
