import NIOHTTP1

/// The header changes the edge makes on the way up and on the way down, in one place.
enum HeaderRewriting {
    /// Hop-by-hop headers (RFC 9110 §7.6.1) that describe one connection and must not be forwarded.
    static let hopByHop: Set<String> = [
        "connection", "keep-alive", "proxy-connection", "te", "trailer", "transfer-encoding", "upgrade",
        "proxy-authenticate", "proxy-authorization",
    ]

    /// Removes hop-by-hop headers, and any header the `Connection` header names.
    static func removeHopByHop(_ headers: inout HTTPHeaders) {
        var named: [String] = []
        for value in headers["connection"] {
            for token in value.split(separator: ",") {
                let name = Substring(token).trimmingSpaces.lowercased()
                if !name.isEmpty { named.append(name) }
            }
        }
        for name in hopByHop where headers.contains(name: name) { headers.remove(name: name) }
        for name in named { headers.remove(name: name) }
    }

    /// The request head sent upstream: hop-by-hop headers removed, `Host` kept, the client's
    /// address in `X-Real-IP` and appended to `X-Forwarded-For`, `X-Forwarded-Proto`, the request ID.
    /// - Parameters:
    ///   - head: the client's request head.
    ///   - clientAddress: the real client (after trusted-proxy resolution).
    ///   - peerAddress: the TCP peer, appended to `X-Forwarded-For` (nginx's `$proxy_add_x_forwarded_for`).
    ///   - fromTrustedPeer: whether the incoming forwarding headers may be kept.
    ///   - scheme: `http` or `https`.
    ///   - requestID: the request's ID.
    ///   - upgrade: the `Upgrade` value to keep (WebSocket), if the request asked for one.
    static func upstreamRequestHead(
        _ head: HTTPRequestHead, clientAddress: String, peerAddress: String, fromTrustedPeer: Bool, scheme: String,
        requestID: String, upgrade: String?
    ) -> HTTPRequestHead {
        var headers = head.headers
        removeHopByHop(&headers)
        let incomingForwardedFor = fromTrustedPeer ? headers["x-forwarded-for"].joined(separator: ", ") : ""
        if !fromTrustedPeer {
            // An untrusted client's own claims are dropped, so the upstream can believe these headers.
            headers.remove(name: "x-forwarded-proto")
            headers.remove(name: "x-forwarded-host")
            headers.remove(name: "forwarded")
        }
        headers.replaceOrAdd(name: "X-Real-IP", value: clientAddress)
        headers.replaceOrAdd(
            name: "X-Forwarded-For",
            value: incomingForwardedFor.isEmpty ? peerAddress : "\(incomingForwardedFor), \(peerAddress)")
        if !(fromTrustedPeer && headers.contains(name: "x-forwarded-proto")) {
            headers.replaceOrAdd(name: "X-Forwarded-Proto", value: scheme)
        }
        headers.replaceOrAdd(name: "X-Request-ID", value: requestID)
        if let upgrade {
            headers.add(name: "Connection", value: "upgrade")
            headers.add(name: "Upgrade", value: upgrade)
        }
        return HTTPRequestHead(version: .http1_1, method: head.method, uri: head.uri, headers: headers)
    }

    /// The response head sent to the client for an upstream response: hop-by-hop headers and the
    /// configured ones (`Server`, `X-Powered-By`) removed, then the edge's headers applied.
    static func clientResponseHead(
        _ upstream: HTTPResponseHead, remove: [String], decorations: ResponseDecorations, requestID: String,
        keepAlive: Bool
    ) -> HTTPResponseHead {
        var headers = upstream.headers
        let upgrade = upstream.status == .switchingProtocols ? headers["upgrade"].first : nil
        removeHopByHop(&headers)
        for name in remove where headers.contains(name: name) { headers.remove(name: name) }
        decorations.apply(to: &headers, requestID: requestID)
        if let upgrade {
            headers.add(name: "Connection", value: "upgrade")
            headers.add(name: "Upgrade", value: upgrade)
        } else {
            headers.setKeepAlive(keepAlive)
        }
        return HTTPResponseHead(version: .http1_1, status: upstream.status, headers: headers)
    }
}

/// Headers the edge puts on every response it sends, its own and proxied ones alike.
struct ResponseDecorations: Sendable {
    /// The security headers and route headers, replacing upstream values of the same name.
    var headers: [(name: String, value: String)]
    /// `Cache-Control` to force, if the route sets one.
    var cacheControl: String?
    /// `Strict-Transport-Security`, set only in the variant used on HTTPS connections.
    var hsts: String? = nil

    /// The variant for HTTPS connections.
    func secure(hsts: String?) -> ResponseDecorations {
        var copy = self
        copy.hsts = hsts
        return copy
    }

    func apply(to headers: inout HTTPHeaders, requestID: String) {
        for (name, value) in self.headers { headers.replaceOrAdd(name: name, value: value) }
        if let hsts { headers.replaceOrAdd(name: "Strict-Transport-Security", value: hsts) }
        if let cacheControl { headers.replaceOrAdd(name: "Cache-Control", value: cacheControl) }
        headers.replaceOrAdd(name: "X-Request-ID", value: requestID)
    }
}

extension HTTPHeaders {
    /// Marks an HTTP/1.1 message as keeping the connection open (no header) or closing it
    /// (`Connection: close`), which is what NIO's pipeline reads `isKeepAlive` from.
    mutating func setKeepAlive(_ keepAlive: Bool) {
        remove(name: "connection")
        if !keepAlive { add(name: "Connection", value: "close") }
    }
}
