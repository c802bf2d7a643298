/// The kind of cable a connection uses.
public enum CableType: String, Codable, Sendable, Hashable, CaseIterable {
    case cat5e = "Cat5e"
    case cat6 = "Cat6"
    case cat6a = "Cat6a"
    case cat7 = "Cat7"
    case fiberSingleMode = "Fiber-SM"
    case fiberMultiMode = "Fiber-MM"
    case power = "Power"
    case console = "Console"

    /// The longest run this medium carries, in metres; `nil` when no limit is checked.
    ///
    /// Twisted-pair Ethernet and console (RJ45) runs stop at 100 m, multi-mode fibre at 550 m
    /// (OM3/OM4 at 1-10G) and single-mode at 10 km (10GBASE-LR). Power leads are sized
    /// by current, not length, so they are not checked.
    public var maximumLengthM: Double? {
        switch self {
        case .cat5e, .cat6, .cat6a, .cat7, .console: 100
        case .fiberMultiMode: 550
        case .fiberSingleMode: 10_000
        case .power: nil
        }
    }
}
