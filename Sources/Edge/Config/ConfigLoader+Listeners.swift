import Foundation
import Limits
import Yams

extension ConfigLoader {
    static let listenerKeys = ["name", "address", "backlog", "tls", "https_redirect", "io"]

    /// nginx's words for a TLS listener, which the generic suggestion would not tie to `tls`.
    static let listenerAliases = [
        "ssl": "tls", "ssl_certificate": "tls", "ssl_certificate_key": "tls", "certificates": "tls",
        "listen": "address", "return": "https_redirect",
    ]

    /// A listening address with where it was written, for the duplicate check.
    struct ListenAddress {
        /// `listeners[1]` or `admin`, for messages.
        let owner: String
        let address: EndpointAddress
        let path: ConfigKeyPath
        let line: Int?
    }

    /// `listeners:`, a non-empty list of `{name, address, backlog, tls | https_redirect}`.
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
            guard let mapping = reader.mapping(item, at: itemPath, keys: listenerKeys, aliases: listenerAliases)
            else { continue }
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
            let (tls, httpsRedirect) = readListenerKind(mapping, at: itemPath, reader: reader)
            // `io` chose between the core and SwiftNIO's pipelines until the SwiftNIO listener
            // was removed; configurations that say `core` still load.
            _ = reader.optional(mapping, "io") { text throws(ConfigValueError) in
                guard text == "core" else {
                    throw ConfigValueError(
                        "io: \(text) is gone: every listener runs on the edge's own I/O core since the SwiftNIO listener was removed; delete the io key"
                    )
                }
                return text
            }
            if let address {
                listeners.append(
                    ListenerConfig(
                        name: name, address: address, backlog: backlog ?? 511, tls: tls, httpsRedirect: httpsRedirect))
                addresses.append(
                    ListenAddress(
                        owner: "listeners[\(index)]", address: address, path: itemPath.appending("address"),
                        line: mapping.line(of: "address")))
            }
        }
        return (listeners, addresses)
    }

    /// A listener's `tls` or `https_redirect`, at most one of them. Both are read even when both
    /// are written, so that the problems inside each are reported too.
    private static func readListenerKind(
        _ mapping: ConfigMapping, at path: ConfigKeyPath, reader: ConfigReader
    ) -> (TLSListenerConfig?, HTTPSRedirectConfig?) {
        let tls = mapping["tls"].flatMap { readTLS($0, at: path.appending("tls"), reader: reader) }
        let redirect = mapping["https_redirect"].flatMap {
            readHTTPSRedirect($0, at: path.appending("https_redirect"), reader: reader)
        }
        let written = mapping.entries.filter { ["tls", "https_redirect"].contains($0.key) }
        if written.count == 2 {
            let second = written[1]
            reader.report(
                path.appending(second.key), second.keyNode,
                "a listener either terminates TLS (tls) or only redirects to HTTPS (https_redirect), not both; put the redirect on a plain-HTTP listener of its own, e.g. address: 0.0.0.0:80"
            )
        }
        return (tls, redirect)
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
        // A wildcard takes its port on every address of its family, so binding one of them on
        // the same port as well fails: 0.0.0.0:P every IPv4 address, [::]:P every IPv6 address
        // and, dual-stack, every IPv4 address too (0.0.0.0:P included).
        for candidate in addresses {
            guard case .tcp(let host, let port) = candidate.address, port != 0, !host.contains("%"),
                let key = ClientKey(parsing: host)
            else { continue }
            let ipv4Wildcard = seen[EndpointAddress.tcp(host: "0.0.0.0", port: port).comparisonKey]
            let ipv6Wildcard = seen[EndpointAddress.tcp(host: "::", port: port).comparisonKey]
            let isWildcard = key == ClientKey(ipv4: 0) || key == ClientKey(ipv6High: 0, low: 0)
            if key.isIPv4, !isWildcard, let wildcard = ipv4Wildcard {
                reader.report(
                    candidate.path, line: candidate.line,
                    "\(candidate.address) overlaps \(wildcard.owner) (\(wildcard.address)), which already takes port \(port) on every IPv4 address; use another port or drop one of them"
                )
            } else if key.isIPv4, ipv6WildcardIsDualStack, let wildcard = ipv6Wildcard {
                reader.report(
                    candidate.path, line: candidate.line,
                    "\(candidate.address) overlaps \(wildcard.owner) (\(wildcard.address)): an IPv6 wildcard listener also accepts IPv4 on Linux (dual-stack, net.ipv6.bindv6only = 0), so it already takes port \(port) on every IPv4 address; drop \(candidate.address) (\(wildcard.address) serves IPv4 clients too) or use another port"
                )
            } else if !key.isIPv4, !isWildcard, let wildcard = ipv6Wildcard {
                reader.report(
                    candidate.path, line: candidate.line,
                    "\(candidate.address) overlaps \(wildcard.owner) (\(wildcard.address)), which already takes port \(port) on every IPv6 address; use another port or drop one of them"
                )
            }
        }
    }

    /// Whether a listener on `[::]` also takes IPv4, as Linux does unless the
    /// `net.ipv6.bindv6only` sysctl is set: the edge does not set `IPV6_V6ONLY` on its sockets,
    /// so the kernel's default decides. Read once; `true` where the setting cannot be read.
    static let ipv6WildcardIsDualStack: Bool = {
        guard let text = try? String(contentsOfFile: "/proc/sys/net/ipv6/bindv6only", encoding: .utf8) else {
            return true
        }
        return text.trimmingCharacters(in: .whitespacesAndNewlines) == "0"
    }()

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
