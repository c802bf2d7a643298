import Limits

/// The port-80 behaviour of the old front, made safer: `/.well-known/acme-challenge/` from a
/// webroot, everything else redirected to HTTPS with `301` for GET/HEAD and `308` otherwise (so
/// a POST is not turned into a GET), keeping path and query. The request's `Host` is used only
/// when it is one of the configured names; anything else redirects to the primary name, so an
/// attacker's Host is never reflected into a `Location`.
final class HTTPSRedirect: Sendable {
    let config: HTTPSRedirectConfig
    /// The ACME challenge route (a static directory), when a webroot is configured.
    let acmeRoute: CompiledRoute?
    let acmeStatic: StaticConfig?
    private let names: Set<String>

    static let acmePrefix = "/.well-known/acme-challenge/"

    init(config: HTTPSRedirectConfig, headers: [(name: String, value: String)]) {
        self.config = config
        names = Set(([config.primaryName] + config.serverNames).map { $0.lowercased() })
        if let webroot = config.acmeWebroot {
            let directory = StaticConfig(root: webroot + Self.acmePrefix)
            var route = RouteConfig(prefix: Self.acmePrefix, action: .staticFiles(directory))
            route.cacheControl = "no-store"
            acmeRoute = CompiledRoute(config: route, policy: .unlimited, cluster: nil, base: headers, hsts: nil)
            acmeStatic = directory
        } else {
            acmeRoute = nil
            acmeStatic = nil
        }
    }

    /// The redirect for a request with this method kind, `Host` and target.
    func redirect(isGETOrHEAD: Bool, host: String?, target: String) -> (status: Int, location: String) {
        let status = isGETOrHEAD ? 301 : 308
        let host = host.map(Self.hostWithoutPort)?.lowercased()
        let name = host.flatMap { names.contains($0) ? $0 : nil } ?? config.primaryName
        let authority = config.httpsPort.map { $0 == 443 ? name : "\(name):\($0)" } ?? name
        let target = target.hasPrefix("/") ? target : "/"
        return (status, "https://\(authority)\(target)")
    }

    /// `example.org:80` → `example.org`, `[::1]:80` → `[::1]`.
    static func hostWithoutPort(_ host: String) -> String {
        if host.hasPrefix("[") { return host.firstIndex(of: "]").map { String(host[...$0]) } ?? host }
        return host.split(separator: ":", maxSplits: 1).first.map(String.init) ?? host
    }
}
