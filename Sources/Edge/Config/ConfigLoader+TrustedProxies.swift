import Yams

extension ConfigLoader {
    /// `trusted_proxies:`, a list of CIDR ranges (`10.0.0.0/8`, `::1/128`; a bare address is a
    /// single host).
    static func readTrustedProxies(_ node: Node, at path: ConfigKeyPath, reader: ConfigReader) -> [CIDR] {
        guard let items = reader.sequence(node, at: path) else { return [] }
        return items.enumerated().compactMap { index, item in
            reader.value(item, at: path.appending(index: index)) { text throws(ConfigValueError) in
                guard let range = CIDR(parsing: text) else {
                    throw ConfigValueError(
                        "'\(text)' is not an address range; write an IPv4 or IPv6 address with an optional prefix length, e.g. 10.0.0.0/8 or \"::1/128\" (quote IPv6 ranges)"
                    )
                }
                return range
            }
        }
    }
}
