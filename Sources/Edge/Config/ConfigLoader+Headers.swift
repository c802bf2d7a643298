import Yams

extension ConfigLoader {
    /// Headers that describe the connection or the body's framing. The edge sets them from the
    /// response it actually sends; a configured value would contradict the bytes on the wire
    /// (and a fixed `Content-Length` would let a client desynchronise the connection).
    static let managedHeaders: Set<String> = [
        "connection", "content-length", "keep-alive", "proxy-connection", "te", "trailer", "transfer-encoding",
        "upgrade",
    ]

    /// `headers:`, the headers added to every response and removed from upstream responses.
    static func readHeaders(_ node: Node, at path: ConfigKeyPath, reader: ConfigReader) -> HeadersConfig {
        var headers = HeadersConfig.homerack
        guard let mapping = reader.mapping(node, at: path, keys: ["add", "remove_from_upstream"]) else {
            return headers
        }
        // `add: {}` is an empty mapping, not null, so it clears the defaults; omitted keeps them.
        if let node = mapping["add"] {
            headers.add = readHeaderFields(node, at: path.appending("add"), reader: reader)
        }
        if let node = mapping["remove_from_upstream"],
            let items = reader.sequence(node, at: path.appending("remove_from_upstream"))
        {
            headers.removeFromUpstream = items.enumerated().compactMap { index, item in
                reader.value(item, at: path.appending("remove_from_upstream").appending(index: index), headerName)
            }
        }
        return headers
    }

    /// An ordered mapping of header names to values (`headers.add`, a route's `headers`).
    static func readHeaderFields(
        _ node: Node, at path: ConfigKeyPath, reader: ConfigReader
    ) -> [(name: String, value: String)] {
        guard let entries = reader.entries(node, at: path) else { return [] }
        var fields: [(name: String, value: String)] = []
        var seen: [String: String] = [:]
        for entry in entries {
            let fieldPath = path.appending(entry.key)
            let name: String
            do {
                name = try headerName(entry.key)
            } catch {
                reader.report(fieldPath, entry.keyNode, error.message)
                continue
            }
            if let first = seen[name.lowercased()] {
                reader.report(
                    fieldPath, entry.keyNode,
                    "'\(name)' is already set as '\(first)' (header names ignore case); keep one, or join the values with ', '"
                )
                continue
            }
            seen[name.lowercased()] = name
            guard !ConfigMapping.isNull(entry.value) else {
                reader.report(
                    fieldPath, entry.keyNode, "has no value; give one, or remove the line to not send the header")
                continue
            }
            if let value = reader.value(entry.value, at: fieldPath, headerValue) {
                fields.append((name, value))
            }
        }
        return fields
    }

    /// A header name: an RFC 9110 token, and not one of ``managedHeaders``.
    static func headerName(_ text: String) throws(ConfigValueError) -> String {
        let tokenSymbols = "!#$%&'*+-.^_`|~"
        guard !text.isEmpty,
            text.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || tokenSymbols.contains($0)) })
        else {
            throw ConfigValueError(
                "'\(text)' is not a valid header name; use letters, digits and - (e.g. X-Frame-Options), no spaces or ':'"
            )
        }
        guard !managedHeaders.contains(text.lowercased()) else {
            throw ConfigValueError("\(text) is managed by the edge for each response and cannot be configured")
        }
        return text
    }

    /// A header value: no control characters but tab. CR or LF in particular would end the
    /// header early and let the rest of the value inject headers of its own.
    static func headerValue(_ text: String) throws(ConfigValueError) -> String {
        if text.contains(where: { $0 == "\r" || $0 == "\n" || $0 == "\r\n" }) {
            throw ConfigValueError(
                "the value contains a line break, which would split the header; write it on one line (in YAML, a quoted string or a folded >- block)"
            )
        }
        guard !text.unicodeScalars.contains(where: { ($0.value < 0x20 && $0 != "\t") || $0.value == 0x7F }) else {
            throw ConfigValueError("the value contains a control character; remove it")
        }
        return text
    }
}
