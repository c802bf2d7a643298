import RackPlanning

extension DeviceSpecification {
    /// How people name this make of device: "brand model", then the variant when there is one
    /// ("Ubiquiti USW-Pro-24 PoE"), so two variants of a model never read the same in a list of
    /// near matches, search results or bulk-created device names.
    var displayName: String {
        let base = "\(brand) \(model)"
        guard let variant, !variant.isEmpty else { return base }
        return "\(base) \(variant)"
    }
}
