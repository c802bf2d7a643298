import EdgeIO
import Foundation
import Limits
import Yams

extension ConfigLoader {
    static let tlsKeys = [
        "certificates", "http2", "http2_limits", "tls13_ciphersuites", "session_ticket_keys", "ocsp_refresh",
    ]
    static let certificateKeys = ["certificate", "key", "server_names", "ocsp_response"]
    /// The most ticket keys a listener takes (OpenSSL's context holds 8).
    static let maxSessionTicketKeys = 8
    /// The range of `ocsp_refresh`: often enough for a test, at least daily for a response
    /// that lives a few days.
    static let ocspRefreshRange: ClosedRange<Duration> = .seconds(1)...(.seconds(86_400))
    static let http2LimitsKeys = ["max_concurrent_streams", "max_header_list_size", "max_resets", "reset_window"]
    static let httpsRedirectKeys = ["primary_name", "server_names", "https_port", "acme_webroot"]

    /// nginx's names for the certificate keys. The generic suggestion would point
    /// `ssl_certificate_key` at `certificate` (the longer name it contains), the wrong file.
    static let certificateAliases = [
        "ssl_certificate": "certificate", "ssl_certificate_key": "key", "server_name": "server_names",
        "ssl_stapling_file": "ocsp_response", "ocsp": "ocsp_response",
    ]

    /// nginx's and HAProxy's names for the listener-wide TLS keys.
    static let tlsAliases = [
        "ssl_certificate": "certificates", "ssl_certificate_key": "certificates",
        "ssl_session_ticket_key": "session_ticket_keys", "ciphersuites": "tls13_ciphersuites",
        "ssl_conf_command": "tls13_ciphersuites", "ssl_stapling_file": "certificates",
    ]

    /// The port an `https://` URL implies, left out of redirects.
    static let defaultHTTPSPort = 443

    /// `tls:` on a listener: `{certificates, http2, http2_limits}`.
    /// - Returns: `nil` when the section is too broken to describe a TLS listener (reported).
    static func readTLS(_ node: Node, at path: ConfigKeyPath, reader: ConfigReader) -> TLSListenerConfig? {
        guard
            let mapping = reader.mapping(
                node, at: path, keys: tlsKeys, aliases: tlsAliases)
        else { return nil }
        var certificates: [TLSCertificateConfig]?
        if let node = mapping["certificates"] {
            certificates = readCertificates(node, at: path.appending("certificates"), reader: reader)
        } else {
            reader.reportMissing(
                mapping, "certificates",
                hint:
                    "list at least one {certificate: FILE, key: FILE}; for development run deploy/generate_ssl_cert.sh and use certs/dev/cert.pem and certs/dev/key.pem"
            )
        }
        var tls = TLSListenerConfig(certificates: certificates ?? [])
        if let value = reader.optional(mapping, "http2", ConfigValues.bool) { tls.http2 = value }
        if let node = mapping["http2_limits"] {
            tls.http2Limits = readHTTP2Limits(node, at: path.appending("http2_limits"), reader: reader)
        }
        if let value = reader.optional(mapping, "tls13_ciphersuites", tls13Ciphersuites) {
            tls.tls13Ciphersuites = value
        }
        if let node = mapping["session_ticket_keys"] {
            tls.sessionTicketKeys = readSessionTicketKeys(node, at: path.appending("session_ticket_keys"), reader: reader)
        }
        if let value = reader.optional(mapping, "ocsp_refresh", ocspRefresh) { tls.ocspRefresh = value }
        guard let certificates, !certificates.isEmpty else { return nil }
        return tls
    }

    /// `certificates:`, a non-empty list of `{certificate, key, server_names}`; the first is the
    /// default, the others are chosen by the server name the client sends (SNI).
    private static func readCertificates(
        _ node: Node, at path: ConfigKeyPath, reader: ConfigReader
    ) -> [TLSCertificateConfig]? {
        guard let items = reader.sequence(node, at: path) else { return nil }
        guard !items.isEmpty else {
            reader.report(
                path, node,
                "no certificates; add at least one, e.g. - {certificate: certs/dev/cert.pem, key: certs/dev/key.pem}")
            return nil
        }
        var certificates: [TLSCertificateConfig] = []
        // Each name (lowercased) and the certificate that claimed it first.
        var claimed: [String: Int] = [:]
        for (index, item) in items.enumerated() {
            let itemPath = path.appending(index: index)
            guard let mapping = reader.mapping(item, at: itemPath, keys: certificateKeys, aliases: certificateAliases)
            else { continue }
            let chain = reader.required(
                mapping, "certificate",
                hint:
                    "give the certificate chain's PEM file, leaf first (Let's Encrypt: /etc/letsencrypt/live/NAME/fullchain.pem)"
            ) { text throws(ConfigValueError) in try ConfigFiles.readableFile(text, role: .certificateChain) }
            let key = reader.required(
                mapping, "key",
                hint: "give the private key's PEM file (Let's Encrypt: /etc/letsencrypt/live/NAME/privkey.pem)"
            ) { text throws(ConfigValueError) in try ConfigFiles.readableFile(text, role: .privateKey) }

            var names: [String] = []
            let namesPath = itemPath.appending("server_names")
            if let node = mapping["server_names"], let list = reader.sequence(node, at: namesPath) {
                for (nameIndex, nameNode) in list.enumerated() {
                    let namePath = namesPath.appending(index: nameIndex)
                    guard let name = reader.value(nameNode, at: namePath, serverName) else { continue }
                    if let first = claimed[name] {
                        reader.report(
                            namePath, nameNode,
                            first == index
                                ? "'\(name)' is listed twice; keep one"
                                : "'\(name)' is already claimed by certificates[\(first)]; a server name selects one certificate, so remove it from one of them"
                        )
                        continue
                    }
                    claimed[name] = index
                    names.append(name)
                }
            }
            // A certificate other than the first is only ever chosen by name.
            if index > 0, mapping["server_names"] == nil || (names.isEmpty && isEmptySequence(mapping["server_names"]))
            {
                reader.report(
                    itemPath, line: mapping.keyLine("server_names") ?? mapping.line,
                    "certificates[\(index)] has no server_names, so no client would ever be given it (only the first certificate is the default); list the names it is for"
                )
            }
            let ocsp = reader.optional(mapping, "ocsp_response", ocspResponse)
            if let chain, let key {
                certificates.append(
                    TLSCertificateConfig(certificateChain: chain, privateKey: key, serverNames: names, ocspResponse: ocsp))
            }
        }
        return certificates
    }

    private static func isEmptySequence(_ node: Node?) -> Bool {
        guard case .sequence(let sequence)? = node else { return false }
        return sequence.isEmpty
    }

    /// `tls13_ciphersuites:`, OpenSSL's `SSL_CTX_set_ciphersuites` list, checked name by name
    /// (OpenSSL alone would drop a misspelt name without a word).
    static func tls13Ciphersuites(_ text: String) throws(ConfigValueError) -> String {
        do {
            try TLSContext.checkTLS13Suites(text)
        } catch {
            throw ConfigValueError(
                "\(error); list TLS 1.3 suites separated by ':', e.g. TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256 (`openssl ciphers -s -tls1_3` lists them)"
            )
        }
        return text
    }

    /// `ocsp_refresh:`, a duration in ``ocspRefreshRange``.
    static func ocspRefresh(_ text: String) throws(ConfigValueError) -> Duration {
        let value = try ConfigValues.duration(text)
        guard ocspRefreshRange.contains(value) else {
            throw ConfigValueError(
                "'\(text)' is out of range; give 1s to 24h (the edge looks at the response files that often; the default is 1h)")
        }
        return value
    }

    /// `ocsp_response:`, a readable DER OCSP response file. Whether it is for the certificate
    /// is checked when the TLS runtime loads the pair (start and reload).
    static func ocspResponse(_ text: String) throws(ConfigValueError) -> String {
        let path = try ConfigFiles.readableFile(text, role: .ocspResponse)
        guard let bytes = FileManager.default.contents(atPath: path) else {
            throw ConfigValueError("'\(text)' cannot be read")
        }
        guard OCSPStapleRefresher.nextUpdate(of: [UInt8](bytes)) != nil else {
            throw ConfigValueError(
                "'\(text)' is not a successful DER OCSP response (\(bytes.count) bytes); write it with `openssl ocsp ... -respout \(text)` (deploy/homerack-ocsp-refresh.sh does), or remove ocsp_response"
            )
        }
        return path
    }

    /// `session_ticket_keys:`, 1 to 8 readable files of 48 or 80 bytes, all of one size, each
    /// listed once: the first encrypts new tickets, all decrypt.
    private static func readSessionTicketKeys(_ node: Node, at path: ConfigKeyPath, reader: ConfigReader) -> [String] {
        guard let items = reader.sequence(node, at: path) else { return [] }
        guard !items.isEmpty else {
            reader.report(
                path, node,
                "no key files; list at least one (made with: openssl rand 80 > ticket.key), or remove session_ticket_keys to let the edge make and rotate its own keys"
            )
            return []
        }
        if items.count > maxSessionTicketKeys {
            reader.report(
                path, node,
                "\(items.count) key files; at most \(maxSessionTicketKeys) (the first encrypts, the others only decrypt tickets issued before a rotation)"
            )
        }
        var paths: [String] = []
        var firstSize: (index: Int, size: Int)?
        for (index, item) in items.enumerated() {
            let itemPath = path.appending(index: index)
            guard let file = reader.value(item, at: itemPath, { text throws(ConfigValueError) in try ConfigFiles.readableFile(text, role: .sessionTicketKey) })
            else { continue }
            if paths.contains(file) {
                reader.report(itemPath, item, "'\(file)' is listed twice; keep one")
                continue
            }
            var info = stat()
            let size = stat(file, &info) == 0 ? Int(info.st_size) : -1
            guard size == 48 || size == 80 else {
                reader.report(
                    itemPath, item,
                    "'\(file)' holds \(size) bytes; a session ticket key file holds 48 or 80 random bytes (nginx's format), e.g. openssl rand 80 > \(file)"
                )
                continue
            }
            if let first = firstSize, first.size != size {
                reader.report(
                    itemPath, item,
                    "'\(file)' holds \(size) bytes but session_ticket_keys[\(first.index)] holds \(first.size); make every key the same size (80 bytes: AES-256)"
                )
                continue
            }
            firstSize = firstSize ?? (index, size)
            paths.append(file)
        }
        return paths
    }

    /// `http2_limits:`, the per-connection HTTP/2 limits.
    private static func readHTTP2Limits(_ node: Node, at path: ConfigKeyPath, reader: ConfigReader) -> HTTP2Limits {
        var limits = HTTP2Limits()
        guard
            let mapping = reader.mapping(
                node, at: path, keys: http2LimitsKeys,
                aliases: [
                    "http2_max_concurrent_streams": "max_concurrent_streams",
                    "http2_max_header_size": "max_header_list_size",
                    "large_client_header_buffers": "max_header_list_size",
                ])
        else { return limits }
        if let value = reader.optional(
            mapping, "max_concurrent_streams",
            { text throws(ConfigValueError) in try ConfigValues.integer(text, in: 1...10_000) })
        {
            limits.maxConcurrentStreams = value
        }
        if let value = reader.optional(
            mapping, "max_header_list_size",
            { text throws(ConfigValueError) in try ConfigValues.size(text, in: 1024...(1 << 20)) })
        {
            limits.maxHeaderListSize = value
        }
        if let value = reader.optional(
            mapping, "max_resets", { text throws(ConfigValueError) in try ConfigValues.integer(text, in: 1...100_000) })
        {
            limits.maxResets = value
        }
        if let value = reader.optional(mapping, "reset_window", ConfigValues.duration) { limits.resetWindow = value }
        return limits
    }

    /// `https_redirect:` on a listener: `{primary_name, server_names, https_port, acme_webroot}`.
    /// - Returns: `nil` when `primary_name` is missing or invalid (reported).
    static func readHTTPSRedirect(_ node: Node, at path: ConfigKeyPath, reader: ConfigReader) -> HTTPSRedirectConfig? {
        guard
            let mapping = reader.mapping(
                node, at: path, keys: httpsRedirectKeys,
                aliases: ["server_name": "server_names", "root": "acme_webroot", "webroot": "acme_webroot"])
        else { return nil }
        let primaryName = reader.required(
            mapping, "primary_name",
            hint:
                "give the name to redirect to when the request's Host is not one of server_names, e.g. primary_name: homerack.example"
        ) { text throws(ConfigValueError) in try redirectHost(text) }

        var names: [String] = []
        let namesPath = path.appending("server_names")
        if let node = mapping["server_names"], let list = reader.sequence(node, at: namesPath) {
            for (index, nameNode) in list.enumerated() {
                let namePath = namesPath.appending(index: index)
                guard let name = reader.value(nameNode, at: namePath, redirectHost) else { continue }
                if names.contains(name) {
                    reader.report(namePath, nameNode, "'\(name)' is listed twice; keep one")
                    continue
                }
                names.append(name)
            }
        }
        let port = reader.optional(mapping, "https_port") { text throws(ConfigValueError) in
            try ConfigValues.integer(text, in: 1...65_535)
        }
        let webroot = reader.optional(mapping, "acme_webroot") { text throws(ConfigValueError) in
            try ConfigFiles.directory(
                text, purpose: "the ACME webroot",
                advice:
                    "create it (mkdir -p \(text)) and give the same directory to certbot with --webroot -w \(text), or remove acme_webroot if this listener answers no ACME challenges"
            )
        }
        guard let primaryName else { return nil }
        // 443 is what https:// implies; the model keeps `nil` for it, so the URL carries no port.
        return HTTPSRedirectConfig(
            primaryName: primaryName, serverNames: names, httpsPort: port == defaultHTTPSPort ? nil : port,
            acmeWebroot: webroot)
    }

    // MARK: Names

    /// A server name a certificate answers for (SNI): a DNS name, or `*.` followed by one, in
    /// lowercase (names are compared without case).
    ///
    /// IP addresses are refused: TLS clients never send one as a server name (RFC 6066), so a
    /// client connecting by address gets the default certificate whatever is listed.
    static func serverName(_ text: String) throws(ConfigValueError) -> String {
        guard !text.isEmpty else { throw ConfigValueError("is empty; give a name such as homerack.example") }
        if isIPAddress(text) {
            throw ConfigValueError(
                "'\(text)' is an IP address; clients never send one as the TLS server name (SNI), so list DNS names only (a client connecting by address gets the first certificate)"
            )
        }
        if text.contains("*") {
            guard text.hasPrefix("*."), !text.dropFirst(2).contains("*") else {
                if text == "*" {
                    throw ConfigValueError(
                        "'*' is not a name; the first certificate already answers every name the others do not list")
                }
                throw ConfigValueError(
                    "'\(text)': a wildcard must be the whole leftmost label, as *.example.org (it matches one label)")
            }
            return "*." + (try dnsName(String(text.dropFirst(2)), original: text))
        }
        return try dnsName(text, original: text)
    }

    /// A host for an HTTPS redirect: a DNS name (no wildcard), an IPv4 address, or an IPv6
    /// address in brackets, as it appears in a URL and in `Host` (`[2001:db8::1]`); in lowercase.
    static func redirectHost(_ text: String) throws(ConfigValueError) -> String {
        guard !text.isEmpty else { throw ConfigValueError("is empty; give a host name such as homerack.example") }
        if text.hasPrefix("[") {
            guard text.hasSuffix("]"), let key = ClientKey(parsing: text.dropFirst().dropLast()), !key.isIPv4,
                !text.contains("%")
            else {
                throw ConfigValueError("'\(text)' is not an IPv6 address in brackets, as [2001:db8::1]")
            }
            return text.lowercased()
        }
        if text.contains(":") {
            let parts = text.split(separator: ":", omittingEmptySubsequences: false)
            if parts.count == 2, !parts[1].isEmpty, parts[1].allSatisfy(\.isNumber) {
                throw ConfigValueError(
                    "'\(text)' has a port; give the name only (\(parts[0])) and the port in https_port")
            }
            throw ConfigValueError("'\(text)': write an IPv6 address in brackets, as [\(text)]")
        }
        if text.contains("*") {
            throw ConfigValueError(
                "'\(text)': wildcards are not allowed here, since the redirect reflects the request's Host; list each name"
            )
        }
        if isIPAddress(text) { return text }
        return try dnsName(text, original: text)
    }

    /// A DNS name: dot-separated labels of letters, digits and `-` (not at either end), each 1-63
    /// characters, 253 in all, the last not all digits; returned in lowercase.
    private static func dnsName(_ name: String, original: String) throws(ConfigValueError) -> String {
        if name.hasSuffix("."), name.count > 1 {
            throw ConfigValueError(
                "'\(original)': write the name without the trailing dot (\(original.dropLast())); clients send it without"
            )
        }
        guard name.allSatisfy(\.isASCII) else {
            throw ConfigValueError(
                "'\(original)' is not ASCII; write an internationalised name in its xn-- (punycode) form, as clients send it"
            )
        }
        let labels = name.split(separator: ".", omittingEmptySubsequences: false)
        for label in labels {
            guard !label.isEmpty else {
                throw ConfigValueError("'\(original)' has an empty label (two dots in a row, or a leading dot)")
            }
            guard label.utf8.count <= 63 else {
                throw ConfigValueError("'\(original)': the label '\(label.prefix(16))…' is longer than 63 characters")
            }
            guard label.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" }) else {
                let bad = label.first(where: { !($0.isLetter || $0.isNumber || $0 == "-") }).map { "'\($0)'" } ?? "it"
                throw ConfigValueError(
                    "'\(original)' is not a valid host name: \(bad) is not allowed (letters, digits, '-' and dots only)"
                )
            }
            guard label.first != "-", label.last != "-" else {
                throw ConfigValueError("'\(original)': a label cannot start or end with '-'")
            }
        }
        guard name.utf8.count <= 253 else {
            throw ConfigValueError("'\(original)' is longer than 253 characters, the most a DNS name may have")
        }
        if let last = labels.last, last.allSatisfy(\.isNumber) {
            throw ConfigValueError(
                "'\(original)' is neither a host name (the last label is all digits) nor an IP address")
        }
        return name.lowercased()
    }

    private static func isIPAddress(_ text: String) -> Bool {
        let bare = text.hasPrefix("[") && text.hasSuffix("]") ? String(text.dropFirst().dropLast()) : text
        return ClientKey(parsing: bare) != nil
    }
}

extension ConfigReader {
    /// ``mapping(_:at:keys:)``, with names from nginx (or other spellings) that stand for one of
    /// `keys` suggested first: `ssl_certificate_key` for `key`, which the generic edit-distance
    /// suggestion would not find.
    func mapping(_ node: Node, at path: ConfigKeyPath, keys: [String], aliases: [String: String]) -> ConfigMapping? {
        guard let entries = entries(node, at: path) else { return nil }
        var known: [ConfigMapping.Entry] = []
        for entry in entries {
            if keys.contains(entry.key) {
                known.append(entry)
                continue
            }
            let normalized = entry.key.lowercased().replacingOccurrences(of: "-", with: "_")
            let suggestion =
                aliases[normalized].flatMap { keys.contains($0) ? $0 : nil }
                ?? ConfigSuggestion.closest(to: entry.key, in: keys)
            let hint = suggestion.map { "did you mean '\($0)'?" } ?? "allowed keys: \(keys.joined(separator: ", "))"
            report(path.appending(entry.key), entry.keyNode, "unknown key '\(entry.key)'; \(hint)")
        }
        return ConfigMapping(path: path, line: node.mark?.line, entries: known)
    }
}
