/// Whether a device may go where a ``PlacementRequest`` asks, and if not, why.
///
/// The HTTP layer answers with ``status`` and ``detail``; the cases are in the order the rules
/// are checked (404s, then 400s, then 409s), and only the first failure is reported.
public enum PlacementDecision: Hashable, Sendable {
    /// The device fits; it will block these Us (empty for zero-U and sub-U kit).
    case accepted(occupying: Range<Int>)
    /// 404: no such rack.
    case rackNotFound(rackID: Int)
    /// 404: no such device.
    case deviceNotFound(deviceID: Int)
    /// 400: the device has neither a specification nor a catalog model with a height.
    case missingPhysicalData(deviceID: Int)
    /// 400: the device would start below U1, or its top U would pass the rack's top U.
    case outOfBounds(startU: Int, heightU: Double, totalHeightU: Int)
    /// 400: the device is wider than the rack.
    case widthIncompatible(device: RackWidth, rack: RackWidth)
    /// 409: the device already has a position (in this or another rack); move it instead.
    case alreadyPlaced(rackID: Int, startU: Int)
    /// 409: these Us are taken, by these devices.
    case overlap(units: [Int], deviceIDs: [Int])

    /// The HTTP status: 201 when accepted, else 404, 400 or 409.
    public var status: Int {
        switch self {
        case .accepted: 201
        case .rackNotFound, .deviceNotFound: 404
        case .missingPhysicalData, .outOfBounds, .widthIncompatible: 400
        case .alreadyPlaced, .overlap: 409
        }
    }

    /// Whether the placement may be saved.
    public var isAccepted: Bool {
        if case .accepted = self { return true }
        return false
    }

    /// The response's `detail` text.
    public var detail: String {
        switch self {
        case .accepted(let units):
            guard let last = units.last, let first = units.first else { return "Placed; occupies no rack units" }
            return first == last ? "Placed at U\(first)" : "Placed at U\(first)-U\(last)"
        case .rackNotFound(let rackID):
            return "Rack \(rackID) not found"
        case .deviceNotFound(let deviceID):
            return "Device \(deviceID) not found"
        case .missingPhysicalData(let deviceID):
            return "Device \(deviceID) has no specification or catalog model with a height; it cannot be placed"
        case .outOfBounds(let startU, let heightU, let totalHeightU):
            let height = FieldValidator.text(heightU)
            guard startU >= 1, startU <= totalHeightU else {
                return "Position U\(startU) is outside this \(totalHeightU)U rack (U1-U\(totalHeightU))"
            }
            let top = DecimalFormatting.fixed(
                Double(startU) + heightU - 1, places: heightU == heightU.rounded() ? 0 : 1)
            return "A \(height)U device at U\(startU) would reach U\(top), above the top of this \(totalHeightU)U rack"
        case .widthIncompatible(let device, let rack):
            return "Device width \(device.rawValue) does not fit a \(rack.rawValue) rack"
        case .alreadyPlaced(let rackID, let startU):
            return "Device is already placed in rack \(rackID) at U\(startU); move it instead"
        case .overlap(let units, let deviceIDs):
            let unitList = units.map { "U\($0)" }.joined(separator: ", ")
            let deviceList = deviceIDs.map(String.init).joined(separator: ", ")
            return "Position conflicts with existing devices at \(unitList) (device \(deviceList))"
        }
    }
}
