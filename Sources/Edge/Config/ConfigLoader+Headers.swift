import Foundation
import Yams

extension ConfigLoader {
    /// Headers that describe the connection or the body's framing. The edge sets them from the
    /// response it actually sends; a configured value would contradict the bytes on the wire
    /// (and a fixed `Content-Length` would let a client desynchronise the connection).
    static let managedHeaders: Set<String> = [
        "connection", "content-length", "keep-alive", "proxy-connection", "te", "trailer", "transfer-encoding",
        "upgrade",
    ]

    static let headersKeys = ["add", "remove_from_upstream", "hsts"]

    /// The directives of `Strict-Transport-Security` (RFC 6797, plus `preload`), as usually written.
    static let hstsDirectives = ["max-age", "includeSubDomains", "preload"]

    /// The `max-age` the HSTS preload list (hstspreload.org) requires with `preload`: one year.
    static let hstsPreloadMinimumMaxAge = 31_536_000

    /// `headers:`, the headers added to every response and removed from upstream responses,
    /// and `Strict-Transport-Security` for HTTPS responses.
    static func readHeaders(_ node: Node, at path: ConfigKeyPath, reader: ConfigReader) -> HeadersConfig {
        var headers = HeadersConfig.homerack
        guard
            let mapping = reader.mapping(
                node, at: path, keys: headersKeys,
                aliases: [
                    "strict_transport_security": "hsts", "add_header": "add",
                    "proxy_hide_header": "remove_from_upstream",
                ])
        else {
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
        // `hsts:` with no value keeps the default, like every other key; `off` sends none.
        if let node = mapping["hsts"] {
            if let value = reader.value(node, at: path.appending("hsts"), hsts) { headers.hsts = value }
        }
        if let field = headers.add.first(where: { $0.name.lowercased() == "strict-transport-security" }) {
            reader.report(
                path.appending("add").appending(field.name),
                line: keyLine(field.name, in: mapping["add"]) ?? mapping.line(of: "add"),
                "Strict-Transport-Security is set by headers.hsts, on HTTPS responses only (over plain HTTP browsers ignore it); move the value there"
            )
        }
        return headers
    }

    /// The line of `key` in `node`, when `node` is a mapping that has it.
    private static func keyLine(_ key: String, in node: Node?) -> Int? {
        guard case .mapping(let mapping)? = node else { return nil }
        for (keyNode, _) in mapping {
            if case .scalar(let scalar) = keyNode, scalar.string == key { return keyNode.mark?.line }
        }
        return nil
    }

    /// `headers.hsts`: a `Strict-Transport-Security` value, or `off` (`nil`) for none.
    ///
    /// The directives are checked, not just the characters: a misspelt `includeSubdomain` would
    /// be ignored by browsers and silently leave subdomains unprotected, and `preload` without
    /// what the preload list requires is refused by hstspreload.org.
    /// - Returns: the value as written, or `nil` for `off`.
    static func hsts(_ text: String) throws(ConfigValueError) -> String? {
        if ["off", "false", "no"].contains(text.lowercased()) { return nil }
        let value = try headerValue(text)
        let example = "e.g. max-age=31536000; includeSubDomains"
        guard !value.trimmingCharacters(in: .whitespaces).isEmpty else {
            throw ConfigValueError("is empty; write a policy (\(example)), or off to send no Strict-Transport-Security")
        }
        var maxAge: Int?
        var seen: Set<String> = []
        for part in value.split(separator: ";", omittingEmptySubsequences: false) {
            let directive = part.trimmingCharacters(in: .whitespaces)
            if directive.isEmpty { continue }
            let name = directive.prefix(while: { $0 != "=" }).trimmingCharacters(in: .whitespaces)
            let argument =
                directive.contains("=")
                ? directive.drop(while: { $0 != "=" }).dropFirst().trimmingCharacters(in: .whitespaces) : nil
            guard let canonical = hstsDirectives.first(where: { $0.lowercased() == name.lowercased() }) else {
                throw ConfigValueError(
                    "unknown directive '\(name)'\(ConfigSuggestion.hint(for: name, in: hstsDirectives)) (browsers ignore unknown ones; the directives are max-age, includeSubDomains and preload)"
                )
            }
            guard seen.insert(canonical).inserted else {
                throw ConfigValueError("'\(canonical)' is given twice; keep one")
            }
            if canonical == "max-age" {
                var digits = argument ?? ""
                if digits.count >= 2, digits.hasPrefix("\""), digits.hasSuffix("\"") {
                    digits = String(digits.dropFirst().dropLast())
                }
                guard !digits.isEmpty, digits.allSatisfy({ $0.isASCII && $0.isNumber }), let seconds = Int(digits)
                else {
                    throw ConfigValueError("max-age must be a number of seconds, as max-age=31536000 (one year)")
                }
                maxAge = seconds
            } else if argument != nil {
                throw ConfigValueError("\(canonical) takes no value; write it alone")
            }
        }
        guard let maxAge else {
            throw ConfigValueError("has no max-age, which browsers require; \(example), or off to send none")
        }
        if seen.contains("preload"), maxAge < hstsPreloadMinimumMaxAge || !seen.contains("includeSubDomains") {
            throw ConfigValueError(
                "preload needs max-age of at least \(hstsPreloadMinimumMaxAge) (one year) and includeSubDomains, or the preload list (hstspreload.org) refuses the site; add them, or drop preload"
            )
        }
        return value
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
