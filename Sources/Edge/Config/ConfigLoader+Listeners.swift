import Limits
import Yams

extension ConfigLoader {
    static let listenerKeys = ["name", "address", "backlog"]

    /// A listening address with where it was written, for the duplicate check.
    struct ListenAddress {
        /// `listeners[1]` or `admin`, for messages.
        let owner: String
        let address: EndpointAddress
        let path: ConfigKeyPath
        let line: Int?
    }

    /// `listeners:`, a non-empty list of `{name, address, backlog}`.
    static func readListeners(
        _ node: Node, at path: ConfigKeyPath, reader: ConfigReader
    ) -> (listeners: [ListenerConfig], addresses: [ListenAddress]) {
        guard let items = reader.sequence(node, at: path) else { return ([], []) }
        guard !items.isEmpty else {
            reader.report(path, node, "no listeners; add at least one, e.g. - address: 0.0.0.0:8080")
            return ([], [])
        }
        var listeners: [ListenerConfig] = []
        var addresses: [ListenAddress] = []
        var names: [String: Int] = [:]
        for (index, item) in items.enumerated() {
            let itemPath = path.appending(index: index)
            guard let mapping = reader.mapping(item, at: itemPath, keys: listenerKeys) else { continue }
            let name = reader.optional(mapping, "name", name(kind: "listener")) ?? "listener\(index)"
            if let first = names[name] {
                reader.report(
                    itemPath.appending("name"), line: mapping.line(of: "name"),
                    "listener name '\(name)' is already used by listeners[\(first)]; names label logs and metrics, give each listener its own"
                )
            } else {
                names[name] = index
            }
            let address = reader.required(mapping, "address", hint: "write the address to listen on, e.g. 0.0.0.0:8080")
            {
                text throws(ConfigValueError) in try EndpointAddress(parsing: text, for: .listen)
            }
            let backlog = reader.optional(mapping, "backlog") { text throws(ConfigValueError) in
                try ConfigValues.integer(text, in: 1...65_535)
            }
            if let address {
                listeners.append(ListenerConfig(name: name, address: address, backlog: backlog ?? 511))
                addresses.append(
                    ListenAddress(
                        owner: "listeners[\(index)]", address: address, path: itemPath.appending("address"),
                        line: mapping.line(of: "address")))
            }
        }
        return (listeners, addresses)
    }

    /// `admin:`, the metrics listener.
    static func readAdmin(_ node: Node, at path: ConfigKeyPath, reader: ConfigReader) -> ListenAddress? {
        guard let mapping = reader.mapping(node, at: path, keys: ["address"]) else { return nil }
        let address = reader.required(
            mapping, "address", hint: "write a local address such as 127.0.0.1:9901, or remove admin: to disable it"
        ) { text throws(ConfigValueError) in try EndpointAddress(parsing: text, for: .listen) }
        return address.map {
            ListenAddress(
                owner: "admin", address: $0, path: path.appending("address"), line: mapping.line(of: "address"))
        }
    }

    /// Reports two listeners (admin included) that would take the same socket, which would only
    /// fail at start, or on a reload, with a bare `EADDRINUSE`.
    static func checkDistinctAddresses(_ addresses: [ListenAddress], reader: ConfigReader) {
        var seen: [String: ListenAddress] = [:]
        for candidate in addresses {
            // Port 0 picks a fresh port for each listener, so several never clash.
            if case .tcp(_, 0) = candidate.address { continue }
            if let first = seen[candidate.address.comparisonKey] {
                reader.report(
                    candidate.path, line: candidate.line,
                    "\(candidate.address) is already used by \(first.owner); give each listener its own address or port"
                )
            } else {
                seen[candidate.address.comparisonKey] = candidate
            }
        }
        // 0.0.0.0:P takes port P on every IPv4 address, so binding one of them on P as well fails.
        for candidate in addresses {
            guard case .tcp(let host, let port) = candidate.address, port != 0, host != "0.0.0.0",
                ClientKey(parsing: host)?.isIPv4 == true, let wildcard = seen["0.0.0.0:\(port)"]
            else { continue }
            reader.report(
                candidate.path, line: candidate.line,
                "\(candidate.address) overlaps \(wildcard.owner) (\(wildcard.address)), which already takes port \(port) on every IPv4 address; use another port or drop one of them"
            )
        }
    }

    /// A name used in logs, metrics and references: letters, digits, `_`, `-` and `.`.
    static func name(kind: String) -> (String) throws(ConfigValueError) -> String {
        { text throws(ConfigValueError) in
            guard !text.isEmpty, text.utf8.count <= 64,
                text.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "_-.".contains($0)) })
            else {
                throw ConfigValueError(
                    "'\(text)' is not a valid \(kind) name; use up to 64 letters, digits, '_', '-' or '.'")
            }
            return text
        }
    }
}
