/// Positions by device id (the first position wins if a device somehow holds two).
struct PositionIndex {
    private var byDevice: [Int: RackPosition] = [:]

    init(_ positions: [RackPosition]) {
        for position in positions where byDevice[position.deviceID] == nil { byDevice[position.deviceID] = position }
    }

    subscript(deviceID: Int) -> RackPosition? { byDevice[deviceID] }
}
