extension RackWidth {
    /// Whether equipment of this width mounts in a rack of `rack` width.
    ///
    /// Narrow kit goes in wider racks with adapter ears, never the other way:
    ///
    /// | device | racks it fits |
    /// |---|---|
    /// | 11" | 11", 18", 19", 23" |
    /// | 18" | 18", 19", 23" |
    /// | 19" | 19", 23" |
    /// | 23" | 23" |
    public func fits(in rack: RackWidth) -> Bool {
        switch self {
        case .elevenInch: true
        case .eighteenInch: rack != .elevenInch
        case .nineteenInch: rack == .nineteenInch || rack == .twentyThreeInch
        case .twentyThreeInch: rack == .twentyThreeInch
        }
    }
}
