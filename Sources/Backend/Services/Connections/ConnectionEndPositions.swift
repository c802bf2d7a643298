import RackPlanning

/// Where the devices at the ends of some connections are placed, read from the store: what
/// cable lengths, checks, service loops and bills of materials are computed from, and which
/// racks' cached results a connection write invalidates.
struct ConnectionEndPositions: Sendable {
    private let byDevice: [Int: RackPosition]

    /// Reads the position of every distinct end device (one read each), with devices embedded
    /// so the length estimate can see their depths.
    /// - Parameters:
    ///   - deviceIDs: the end devices; repeats are read once.
    ///   - store: the store (or a transaction's) to read from.
    init(deviceIDs: some Sequence<Int>, store: any RackRepository) async throws {
        var byDevice: [Int: RackPosition] = [:]
        var seen: Set<Int> = []
        for id in deviceIDs where seen.insert(id).inserted {
            if let position = try await store.position(deviceID: id) { byDevice[id] = position }
        }
        self.byDevice = byDevice
    }

    /// The positions of both ends of every one of `connections`.
    init(of connections: [Connection], store: any RackRepository) async throws {
        try await self.init(deviceIDs: connections.flatMap { [$0.fromDeviceID, $0.toDeviceID] }, store: store)
    }

    /// Where `deviceID` is placed, if it is one of the ends read and is placed.
    subscript(deviceID: Int) -> RackPosition? { byDevice[deviceID] }

    /// Every position read, for the domain's checks over many connections.
    var all: [RackPosition] { Array(byDevice.values) }

    /// The racks holding either end of `connection`.
    func racks(of connection: Connection) -> Set<Int> {
        Set([self[connection.fromDeviceID], self[connection.toDeviceID]].compactMap { $0?.rackID })
    }
}
