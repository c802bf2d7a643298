/// A device mounted in a rack, from `start_u` upward (U1 is the bottom).
///
/// It occupies `start_u` … `start_u + height_u - 1`. ``locked`` changes nothing about
/// placement; it only tells the optimizer to leave the device where it is.
public struct RackPosition: Codable, Sendable, Hashable {
    /// `nil` for positions the optimizer proposes, which are never saved.
    public var id: Int?
    public var rackID: Int
    public var deviceID: Int
    public var startU: Int
    public var locked: Bool
    /// The placed device, as the API embeds it.
    public var device: Device?

    public init(id: Int?, rackID: Int, deviceID: Int, startU: Int, locked: Bool = false, device: Device? = nil) {
        self.id = id
        self.rackID = rackID
        self.deviceID = deviceID
        self.startU = startU
        self.locked = locked
        self.device = device
    }

    /// A position for `device`, embedding it.
    public init(id: Int?, rackID: Int, device: Device, startU: Int, locked: Bool = false) {
        self.init(id: id, rackID: rackID, deviceID: device.id, startU: startU, locked: locked, device: device)
    }

    /// "U<start>", as analyses name positions.
    public var label: String { "U\(startU)" }

    /// Writes `"id": null` for proposed positions rather than leaving the key out, as the API does.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(rackID, forKey: .rackID)
        try container.encode(deviceID, forKey: .deviceID)
        try container.encode(startU, forKey: .startU)
        try container.encode(locked, forKey: .locked)
        try container.encodeIfPresent(device, forKey: .device)
    }

    enum CodingKeys: String, CodingKey {
        case id
        case rackID = "rack_id"
        case deviceID = "device_id"
        case startU = "start_u"
        case locked, device
    }
}
