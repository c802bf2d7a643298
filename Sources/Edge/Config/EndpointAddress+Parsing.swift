import Limits

extension EndpointAddress {
    /// What an address is for: listening accepts wildcards and port 0, connecting does not.
    enum Use {
        /// A listener or the admin listener.
        case listen
        /// An upstream server.
        case connect
    }

    /// Linux's `sun_path` holds 108 bytes including the terminating NUL.
    static let maximumUnixPathLength = 107

    /// Parses `host:port`, `[::1]:8080`, `0.0.0.0:80`, `*:80` (listening only) or `unix:/path`.
    ///
    /// `*` is every IPv4 address (`0.0.0.0`), as in nginx's `listen *:80`; `[::]:80` listens on
    /// IPv6. Port 0 lets the kernel choose, which only tests want, so only listeners take it.
    /// - Throws: ``ConfigValueError`` saying which part is wrong and what to write.
    init(parsing text: String, for use: Use) throws(ConfigValueError) {
        let forms =
            use == .listen
            ? "host:port, [ipv6]:port, *:port or unix:/path (e.g. 0.0.0.0:8080)"
            : "host:port, [ipv6]:port or unix:/path (e.g. 127.0.0.1:8000)"
        if text.hasPrefix("unix:") {
            let path = String(text.dropFirst(5))
            guard !path.isEmpty else {
                throw ConfigValueError("'\(text)' has no socket path; write unix:/run/app.sock")
            }
            guard path.utf8.count <= Self.maximumUnixPathLength else {
                throw ConfigValueError(
                    "socket path is \(path.utf8.count) bytes; Unix sockets allow at most \(Self.maximumUnixPathLength), use a shorter path"
                )
            }
            guard !path.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) else {
                throw ConfigValueError("socket path contains a control character")
            }
            self = .unix(path: path)
            return
        }
        guard !text.isEmpty else { throw ConfigValueError("empty address; expected \(forms)") }
        guard !text.contains("://") else {
            throw ConfigValueError("'\(text)' is a URL; give only the address, \(forms)")
        }
        let host: Substring
        let portText: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else {
                throw ConfigValueError("'\(text)' has no closing ']'; write IPv6 addresses as [::1]:8080")
            }
            host = text[text.index(after: text.startIndex)..<close]
            let afterBracket = text[text.index(after: close)...]
            guard afterBracket.first == ":" else {
                throw ConfigValueError("'\(text)' has no port; write [\(host)]:PORT")
            }
            portText = afterBracket.dropFirst()
            guard let key = ClientKey(parsing: host), !key.isIPv4 || host.contains(":") else {
                throw ConfigValueError("'\(host)' is not an IPv6 address; expected \(forms)")
            }
        } else {
            let colons = text.count(where: { $0 == ":" })
            guard colons <= 1 else {
                throw ConfigValueError("'\(text)': put an IPv6 address in brackets, as [::1]:8080")
            }
            guard colons == 1, let colon = text.lastIndex(of: ":") else {
                if text.allSatisfy(\.isNumber) {
                    throw ConfigValueError(
                        "'\(text)' has no host; write \(use == .listen ? "*:\(text) (every IPv4 address) or 127.0.0.1:\(text)" : "127.0.0.1:\(text)")"
                    )
                }
                throw ConfigValueError("'\(text)' has no port; expected \(forms)")
            }
            host = text[..<colon]
            portText = text[text.index(after: colon)...]
            guard !host.isEmpty else { throw ConfigValueError("'\(text)' has no host; expected \(forms)") }
            if host != "*" { try Self.checkHost(host, in: text) }
        }
        guard !portText.isEmpty, portText.allSatisfy({ $0.isASCII && $0.isNumber }), let port = Int(portText),
            port <= 65_535
        else {
            throw ConfigValueError("'\(portText)' is not a port; use a number from \(use == .listen ? 0 : 1) to 65535")
        }
        switch use {
        case .listen:
            self = .tcp(host: host == "*" ? "0.0.0.0" : String(host), port: port)
        case .connect:
            guard host != "*" else {
                throw ConfigValueError(
                    "'*' only makes sense for listening; give the server's address, as 127.0.0.1:\(port)")
            }
            guard port != 0 else {
                throw ConfigValueError("port 0 only makes sense for listening; give the server's port")
            }
            if let key = ClientKey(parsing: host), key == ClientKey(ipv4: 0) || key == ClientKey(ipv6High: 0, low: 0) {
                throw ConfigValueError(
                    "'\(host)' means every address when listening and cannot be connected to; for this machine use \(key.isIPv4 ? "127.0.0.1" : "[::1]")"
                )
            }
            self = .tcp(host: String(host), port: port)
        }
    }

    /// Accepts an IPv4 address or a DNS name (letters, digits, `-` and `_` in dot-separated labels).
    private static func checkHost(_ host: Substring, in text: String) throws(ConfigValueError) {
        if host.allSatisfy({ $0 == "." || ($0.isASCII && $0.isNumber) }) {
            guard let key = ClientKey(parsing: host), key.isIPv4 else {
                throw ConfigValueError(
                    "'\(host)' is not a valid IPv4 address (four numbers 0-255, no leading zeros)")
            }
            return
        }
        let labels = host.split(separator: ".", omittingEmptySubsequences: false)
        let valid =
            host.utf8.count <= 253
            && labels.allSatisfy { label in
                !label.isEmpty && label.utf8.count <= 63 && label.first != "-" && label.last != "-"
                    && label.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }
            }
        guard valid else {
            throw ConfigValueError("'\(host)' is not a host name or IP address (in '\(text)')")
        }
    }

    /// A form two addresses share exactly when they bind or reach the same socket: `*` and
    /// `0.0.0.0` are one, as are `[::1]` and `[0:0::1]`, and host names ignore case.
    var comparisonKey: String {
        switch self {
        case .unix(let path):
            return "unix:\(path)"
        case .tcp(let host, let port):
            if !host.contains("%"), let key = ClientKey(parsing: host) {
                return "\(key.isIPv4 ? "\(key)" : "[\(key)]"):\(port)"
            }
            return "\(host.lowercased()):\(port)"
        }
    }
}
