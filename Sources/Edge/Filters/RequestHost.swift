/// The host a request names, checked as RFC 9112 §3.2 requires before anything routes or
/// forwards it, and its target brought to origin form.
///
/// An HTTP/1.1 request without `Host`, any request with more than one `Host` line (or one that
/// lists several values), a `Host` that is not a host and optional port, and an absolute-form
/// target (`GET http://a.example/x`) whose authority differs from `Host` are refused with 400,
/// as nginx does: two hosts forwarded as they came would let the edge and the server behind it
/// route one request to two different sites. An absolute-form target that agrees with `Host` is
/// rewritten to origin form (`/x`), so routing, redirects and the upstream see the path.
enum RequestHost {
    enum Verdict: Equatable {
        /// The request may go on; `target` is its origin-form target when it came in absolute form.
        case valid(originFormTarget: String?)
        /// The request is refused with 400; the text says why (it goes into the answer's message).
        case invalid(String)
    }

    /// Checks a request's `Host` lines against its version and target.
    /// - Parameters:
    ///   - target: the request target as it came (`/path?q`, `http://host/path`, `*`).
    ///   - host: the first `Host` line's value, if any.
    ///   - hostCount: how many `Host` lines the request has.
    ///   - requiresHost: whether the request's version requires `Host` (HTTP/1.1; not 1.0).
    static func check(target: String, host: String?, hostCount: Int, requiresHost: Bool) -> Verdict {
        guard let absolute = AbsoluteTarget(target) else {
            return checkNotAbsolute(hostCount: hostCount, firstHostValid: host.map(isValidHost) ?? true, requiresHost: requiresHost)
        }
        if hostCount > 1 { return .invalid(Self.moreThanOneHost) }
        if let host, !isValidHost(host) { return .invalid(Self.notAHost) }
        guard let authority = absolute.authority, !authority.isEmpty, isValidHost(authority) else {
            return .invalid("the request target's authority is not a host name with an optional port")
        }
        if let host, !sameAuthority(host, authority, defaultPort: absolute.defaultPort) {
            return .invalid("the Host header does not match the host in the request target")
        }
        if host == nil && requiresHost { return .invalid(Self.hostRequired) }
        return .valid(originFormTarget: absolute.originForm)
    }

    /// ``check(target:host:hostCount:requiresHost:)`` for a target not in absolute form (origin
    /// form, nearly every request): decided from the count of `Host` lines and whether the first
    /// is a host, which the filter chain reads from the head's bytes without making a string.
    static func checkNotAbsolute(hostCount: Int, firstHostValid: Bool, requiresHost: Bool) -> Verdict {
        if hostCount > 1 { return .invalid(Self.moreThanOneHost) }
        if hostCount == 1 && !firstHostValid { return .invalid(Self.notAHost) }
        if hostCount == 0 && requiresHost { return .invalid(Self.hostRequired) }
        return .valid(originFormTarget: nil)
    }

    static let moreThanOneHost = "the request has more than one Host header"
    static let notAHost = "the Host header is not a host name with an optional port"
    static let hostRequired = "an HTTP/1.1 request needs a Host header"

    /// `reg-name`, IPv4 or bracketed IPv6, then an optional `:port` of up to five digits (RFC
    /// 3986 §3.2.2). Empty is allowed for `Host` (RFC 9112 §3.2: a target without authority).
    /// One pass over the bytes: every request's `Host` goes through here.
    static func isValidHost(_ value: String) -> Bool {
        var value = value
        return value.withUTF8 { isValidHost(bytes: UnsafeRawBufferPointer($0)) }
    }

    /// ``isValidHost(_:)`` on a value's bytes.
    static func isValidHost(bytes: UnsafeRawBufferPointer) -> Bool {
        var i = 0
        if bytes.first == UInt8(ascii: "[") {
            i = 1
            while i < bytes.count, bytes[i] != UInt8(ascii: "]") {
                guard isHexDigit(bytes[i]) || bytes[i] == UInt8(ascii: ":") || bytes[i] == UInt8(ascii: ".") else {
                    return false
                }
                i += 1
            }
            guard i < bytes.count, i > 1 else { return false }  // no `]`, or nothing inside
            i += 1
            guard i == bytes.count || bytes[i] == UInt8(ascii: ":") else { return false }
        } else {
            while i < bytes.count, bytes[i] != UInt8(ascii: ":") {
                guard isRegNameByte(bytes[i]) else { return false }
                i += 1
            }
        }
        guard i < bytes.count else { return true }  // no port
        let port = bytes[(i + 1)...]
        return port.count <= 5 && port.allSatisfy { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }
    }

    /// Unreserved, percent and sub-delimiters, but not `,` (a list of hosts is refused).
    private static func isRegNameByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            return true
        case UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"), UInt8(ascii: "%"), UInt8(ascii: "!"),
            UInt8(ascii: "$"), UInt8(ascii: "&"), UInt8(ascii: "'"), UInt8(ascii: "("), UInt8(ascii: ")"), UInt8(ascii: "*"),
            UInt8(ascii: "+"), UInt8(ascii: ";"), UInt8(ascii: "="):
            return true
        default:
            return false
        }
    }

    private static func isHexDigit(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains(byte)
            || (UInt8(ascii: "A")...UInt8(ascii: "F")).contains(byte)
    }

    /// Whether two `host[:port]` authorities name the same place: host without case, and a
    /// missing port is the scheme's default.
    static func sameAuthority(_ lhs: String, _ rhs: String, defaultPort: Int) -> Bool {
        func split(_ text: String) -> (host: String, port: Int) {
            let host = HTTPSRedirect.hostWithoutPort(text)
            let rest = text.dropFirst(host.count)
            let port = rest.hasPrefix(":") ? Int(rest.dropFirst()) ?? -1 : defaultPort
            return (host.lowercased(), port)
        }
        let (left, right) = (split(lhs), split(rhs))
        return left.host == right.host && left.port == right.port
    }

    /// An `http://` or `https://` request target, taken apart.
    struct AbsoluteTarget {
        let authority: String?
        let originForm: String
        let defaultPort: Int

        init?(_ target: String) {
            // Origin form (`/path`), nearly every request: not absolute, decided on one byte.
            guard let first = target.utf8.first, first != UInt8(ascii: "/") else { return nil }
            let lower = target.prefix(8).lowercased()
            let schemeLength: Int
            if lower.hasPrefix("http://") {
                schemeLength = 7
                defaultPort = 80
            } else if lower.hasPrefix("https://") {
                schemeLength = 8
                defaultPort = 443
            } else {
                return nil
            }
            let rest = target.dropFirst(schemeLength)
            let end = rest.firstIndex { $0 == "/" || $0 == "?" || $0 == "#" } ?? rest.endIndex
            let authority = rest[..<end]
            self.authority = authority.contains("@") ? nil : String(authority)
            let tail = rest[end...].prefix { $0 != "#" }
            originForm = tail.hasPrefix("/") ? String(tail) : "/" + tail
        }
    }
}
