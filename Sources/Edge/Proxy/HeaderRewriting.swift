/// The header changes the edge makes on the way up and on the way down that are rules rather
/// than per-request values: which incoming fields go, and what the edge adds to every answer.
/// The core's proxy handler leaves out the hop-by-hop fields it knows (`Connection`,
/// `Keep-Alive`, `Proxy-Connection`, `TE`, `Upgrade`, and those a `Connection` header names);
/// ``EngineProxyPolicy`` asks these sets for the rest.
enum HeaderRewriting {
    /// Request fields the edge sets itself, so incoming copies are dropped, and `Expect` (the
    /// edge answered `100-continue` itself).
    static let setUpstream = HeaderNameSet(["x-real-ip", "x-forwarded-for", "x-request-id", "expect"])
    /// Forwarding claims kept only from a trusted proxy.
    static let trustedOnly = HeaderNameSet(["x-forwarded-proto", "x-forwarded-host", "forwarded"])
    /// Hop-by-hop fields (RFC 9110 §7.6.1) the core's copy does not already leave out (it keeps
    /// `Transfer-Encoding`, the body's framing, which it relays as it came).
    static let alsoHopByHopNames = ["trailer", "proxy-authenticate", "proxy-authorization"]
    static let alsoHopByHop = HeaderNameSet(alsoHopByHopNames)
}

/// Headers the edge puts on every response it sends, its own and proxied ones alike.
struct ResponseDecorations: Sendable {
    /// The security headers and route headers, replacing upstream values of the same name.
    let headers: [(name: String, value: String)]
    /// `Cache-Control` to force, if the route sets one.
    let cacheControl: String?
    /// `Strict-Transport-Security`, set only in the variant used on HTTPS connections.
    let hsts: String?
    /// The names whose upstream values this replaces: its headers (but
    /// `Content-Security-Policy`, see ``names(_:cacheControl:hsts:)``), the request ID, and HSTS
    /// and `Cache-Control` when set.
    let names: HeaderNameSet
    /// The same names as strings, for sets that combine them with others.
    let replacedNames: [String]
    /// Everything but the request ID as HTTP/1.1 header lines (`Name: value\r\n` each),
    /// prepared once so a response head takes them in one copy. Never framing headers: the
    /// configuration refuses those.
    let serialized: [UInt8]

    init(headers: [(name: String, value: String)], cacheControl: String?, hsts: String? = nil) {
        self.headers = headers
        self.cacheControl = cacheControl
        self.hsts = hsts
        replacedNames = Self.names(headers, cacheControl: cacheControl, hsts: hsts)
        names = HeaderNameSet(replacedNames)
        var all = headers
        if let hsts { all.append(("Strict-Transport-Security", hsts)) }
        if let cacheControl { all.append(("Cache-Control", cacheControl)) }
        serialized = Array(all.map { "\($0.name): \($0.value)\r\n" }.joined().utf8)
    }

    /// The upstream headers these decorations replace: all they set, but for
    /// `Content-Security-Policy`, which is added beside the upstream's own. Policies only ever
    /// restrict, and a browser enforces each one it gets, so keeping the upstream's (the API's
    /// `sandbox` on uploaded files) can never loosen the edge's.
    private static func names(_ headers: [(name: String, value: String)], cacheControl: String?, hsts: String?) -> [String] {
        var names = headers.map(\.name).filter { $0.lowercased() != "content-security-policy" } + ["x-request-id"]
        if cacheControl != nil { names.append("cache-control") }
        if hsts != nil { names.append("strict-transport-security") }
        return names
    }

    /// The variant for HTTPS connections.
    func secure(hsts: String?) -> ResponseDecorations {
        ResponseDecorations(headers: headers, cacheControl: cacheControl, hsts: hsts)
    }

    /// Whether a header of this name (any case) is one the decorations set.
    func replaces(_ name: String) -> Bool {
        names.contains(name)
    }
}
