/// A request to put a device in a rack at a U: a new position, a moved one or an updated one.
public struct PlacementRequest: Sendable, Hashable {
    public var rackID: Int
    public var deviceID: Int
    /// The bottom U the device would occupy.
    public var startU: Int

    public init(rackID: Int, deviceID: Int, startU: Int) {
        self.rackID = rackID
        self.deviceID = deviceID
        self.startU = startU
    }
}
