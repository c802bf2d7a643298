import Yams

extension ConfigLoader {
    /// `timeouts:`, the client-side timeouts; unset ones keep ``ClientTimeouts``' defaults.
    static func readTimeouts(_ node: Node, at path: ConfigKeyPath, reader: ConfigReader) -> ClientTimeouts {
        var timeouts = ClientTimeouts()
        guard
            let mapping = reader.mapping(
                node, at: path, keys: ["client_header", "client_body", "keepalive", "send", "shutdown_grace", "lingering"])
        else { return timeouts }
        let duration = ConfigValues.duration
        if let value = reader.optional(mapping, "client_header", duration) { timeouts.header = value }
        if let value = reader.optional(mapping, "client_body", duration) { timeouts.body = value }
        if let value = reader.optional(mapping, "keepalive", duration) { timeouts.keepAlive = value }
        if let value = reader.optional(mapping, "send", duration) { timeouts.send = value }
        if let value = reader.optional(mapping, "shutdown_grace", duration) { timeouts.shutdownGrace = value }
        if let value = reader.optional(mapping, "lingering", duration) { timeouts.lingering = value }
        return timeouts
    }
}
