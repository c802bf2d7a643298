import NIOCore
import NIOHTTP1

/// The header changes the edge makes on the way up and on the way down, in one place.
///
/// Each direction is one pass over the incoming headers that copies what may be forwarded, then
/// appends the edge's own; no header is searched for or removed twice.
enum HeaderRewriting {
    /// Hop-by-hop headers (RFC 9110 §7.6.1) that describe one connection and must not be forwarded.
    static let hopByHop = HeaderNameSet([
        "connection", "keep-alive", "proxy-connection", "te", "trailer", "transfer-encoding", "upgrade",
        "proxy-authenticate", "proxy-authorization",
    ])

    /// Headers a `Connection` token may never remove: the message's framing and its target.
    /// (`Connection: Content-Length` must not turn a body into a second, smuggled request.)
    static let protectedFromConnectionTokens: Set<String> = ["content-length", "transfer-encoding", "host"]

    /// The lowercased names a message's `Connection` header lists (hop-by-hop by declaration),
    /// leaving out those removed anyway (`keep-alive`, the usual one) and the option `close`.
    static func connectionTokens(_ headers: HTTPHeaders) -> [String] {
        var named: [String] = []
        for (name, value) in headers where connectionHeader.contains(name) {
            if plainConnectionOptions.contains(value) { continue }  // the usual value: nothing to look at
            for token in value.split(separator: ",") {
                let trimmed = String(Substring(token).trimmingSpaces)
                if trimmed.isEmpty || hopByHop.contains(trimmed) || closeOption.contains(trimmed) { continue }
                let name = trimmed.lowercased()
                if !protectedFromConnectionTokens.contains(name) { named.append(name) }
            }
        }
        return named
    }

    private static let closeOption = HeaderNameSet(["close"])
    private static let connectionHeader = HeaderNameSet(["connection"])
    /// Whole `Connection` values that name no header (compared like names: without case).
    private static let plainConnectionOptions = HeaderNameSet(["keep-alive", "close"])

    /// Adds to `sink` the headers of `headers` that may be forwarded: without hop-by-hop ones,
    /// those the `Connection` header names, and those `dropping` refuses (given the name as
    /// sent; match it case-insensitively).
    static func forward<Sink: HeaderSink>(_ headers: HTTPHeaders, into sink: inout Sink, dropping: (String) -> Bool) {
        let tokens = connectionTokens(headers)
        let named = tokens.isEmpty ? nil : HeaderNameSet(tokens)
        for (name, value) in headers {
            if hopByHop.contains(name) || dropping(name) || (named?.contains(name) ?? false) { continue }
            sink.add(name: name, value: value)
        }
    }

    /// Copies `headers` without the headers ``forward(_:into:dropping:)`` leaves out.
    static func forwardable(_ headers: HTTPHeaders, extra: Int, dropping: (String) -> Bool) -> HTTPHeaders {
        var result = HTTPHeaders()
        result.reserveCapacity(headers.count + extra)
        forward(headers, into: &result, dropping: dropping)
        return result
    }

    /// Request headers the edge sets itself, so incoming copies are dropped, and `Expect` (the
    /// edge answered `100-continue` itself).
    static let setUpstream = HeaderNameSet(["x-real-ip", "x-forwarded-for", "x-request-id", "expect"])
    /// Forwarding claims kept only from a trusted proxy.
    static let trustedOnly = HeaderNameSet(["x-forwarded-proto", "x-forwarded-host", "forwarded"])

    /// The request head sent upstream: hop-by-hop headers removed (the body's framing kept),
    /// `Host` kept, the client's address in `X-Real-IP` and appended to `X-Forwarded-For`,
    /// `X-Forwarded-Proto`, the request ID.
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
        var headers = HTTPHeaders()
        headers.reserveCapacity(head.headers.count + 7)
        writeUpstreamRequestHeaders(
            head, into: &headers, clientAddress: clientAddress, peerAddress: peerAddress, fromTrustedPeer: fromTrustedPeer,
            scheme: scheme, requestID: requestID, upgrade: upgrade)
        return HTTPRequestHead(version: .http1_1, method: head.method, uri: head.uri, headers: headers)
    }

    /// The same head as HTTP/1.1 bytes, ready to write to an upstream connection.
    static func upstreamRequestBytes(
        _ head: HTTPRequestHead, clientAddress: String, peerAddress: String, fromTrustedPeer: Bool, scheme: String,
        requestID: String, upgrade: String?, allocator: ByteBufferAllocator
    ) -> ByteBuffer {
        var lines = HTTP1HeaderLines(into: allocator.buffer(capacity: 512))
        lines.buffer.writeString(head.method.rawValue)
        lines.buffer.writeStaticString(" ")
        lines.buffer.writeString(head.uri)
        lines.buffer.writeStaticString(" HTTP/1.1\r\n")
        writeUpstreamRequestHeaders(
            head, into: &lines, clientAddress: clientAddress, peerAddress: peerAddress, fromTrustedPeer: fromTrustedPeer,
            scheme: scheme, requestID: requestID, upgrade: upgrade)
        lines.buffer.writeStaticString("\r\n")
        return lines.buffer
    }

    private static func writeUpstreamRequestHeaders<Sink: HeaderSink>(
        _ head: HTTPRequestHead, into headers: inout Sink, clientAddress: String, peerAddress: String, fromTrustedPeer: Bool,
        scheme: String, requestID: String, upgrade: String?
    ) {
        let incoming = head.headers
        let incomingForwardedFor = fromTrustedPeer ? incoming["x-forwarded-for"].joined(separator: ", ") : ""
        let keepProto = fromTrustedPeer && incoming.contains(name: "x-forwarded-proto")
        forward(incoming, into: &headers) { name in
            setUpstream.contains(name) || (!fromTrustedPeer && trustedOnly.contains(name))
        }
        // The body's framing survives the hop-by-hop removal: a chunked body stays chunked
        // (llhttp accepted the request only if chunked was its final coding).
        if incoming.contains(name: "transfer-encoding") {
            headers.add(name: "Transfer-Encoding", value: "chunked")
        }
        headers.add(name: "X-Real-IP", value: clientAddress)
        headers.add(
            name: "X-Forwarded-For",
            value: incomingForwardedFor.isEmpty ? peerAddress : "\(incomingForwardedFor), \(peerAddress)")
        if !keepProto { headers.add(name: "X-Forwarded-Proto", value: scheme) }
        headers.add(name: "X-Request-ID", value: requestID)
        if let upgrade {
            headers.add(name: "Connection", value: "upgrade")
            headers.add(name: "Upgrade", value: upgrade)
        }
    }

    /// The response head sent to the client for an upstream response (see ``ClientResponseHeaders``).
    /// - Parameter version: the client's HTTP version (an HTTP/1.0 client must not get chunked bodies).
    static func clientResponseHead(
        _ upstream: HTTPResponseHead, remove: HeaderNameSet, decorations: ResponseDecorations, requestID: String,
        keepAlive: Bool, version: HTTPVersion = .http1_1
    ) -> HTTPResponseHead {
        let rewritten = ClientResponseHeaders(
            upstream: upstream, remove: remove, decorations: decorations, requestID: requestID, keepAlive: keepAlive, version: version)
        var headers = HTTPHeaders()
        headers.reserveCapacity(upstream.headers.count + decorations.headers.count + 4)
        rewritten.write(into: &headers)
        return HTTPResponseHead(version: version, status: upstream.status, headers: headers)
    }
}

/// The headers of an upstream response as the client gets them: hop-by-hop headers and the
/// configured ones (`Server`, `X-Powered-By`) removed, then the edge's headers applied. Written
/// into whatever the connection needs (see ``ResponseWriter``), in one pass.
struct ClientResponseHeaders: HeaderSource {
    let upstream: HTTPResponseHead
    let remove: HeaderNameSet
    let decorations: ResponseDecorations
    let requestID: String
    /// Whether the client connection stays open after this response.
    let keepAlive: Bool
    /// The client's HTTP version.
    let version: HTTPVersion

    func write<Sink: HeaderSink>(into sink: inout Sink) {
        let upgrade = upstream.status == .switchingProtocols ? upstream.headers["upgrade"].first : nil
        HeaderRewriting.forward(upstream.headers, into: &sink) { name in
            decorations.replaces(name) || remove.contains(name)
        }
        decorations.append(to: &sink, requestID: requestID)
        if let upgrade {
            sink.add(name: "Connection", value: "upgrade")
            sink.add(name: "Upgrade", value: upgrade)
        } else if let connection = HTTPHeaders.connectionValue(keepAlive: keepAlive, version: version) {
            sink.add(name: "Connection", value: connection)
        }
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
    /// The names whose upstream values this replaces: its headers (but
    /// `Content-Security-Policy`, see ``names(_:cacheControl:hsts:)``), the request ID, and HSTS
    /// and `Cache-Control` when set.
    private(set) var names: HeaderNameSet
    /// Everything but the request ID, prepared once (serialized for HTTP/1.1).
    private(set) var fixed: PreparedHeaders

    init(headers: [(name: String, value: String)], cacheControl: String?, hsts: String? = nil) {
        self.headers = headers
        self.cacheControl = cacheControl
        self.hsts = hsts
        self.names = Self.names(headers, cacheControl: cacheControl, hsts: hsts)
        self.fixed = Self.fixed(headers, cacheControl: cacheControl, hsts: hsts)
    }

    private static func fixed(_ headers: [(name: String, value: String)], cacheControl: String?, hsts: String?) -> PreparedHeaders {
        var all = headers
        if let hsts { all.append(("Strict-Transport-Security", hsts)) }
        if let cacheControl { all.append(("Cache-Control", cacheControl)) }
        return PreparedHeaders(all)
    }

    /// The upstream headers these decorations replace: all they set, but for
    /// `Content-Security-Policy`, which is added beside the upstream's own. Policies only ever
    /// restrict, and a browser enforces each one it gets, so keeping the upstream's (the API's
    /// `sandbox` on uploaded files) can never loosen the edge's.
    private static func names(_ headers: [(name: String, value: String)], cacheControl: String?, hsts: String?) -> HeaderNameSet {
        var names = headers.map(\.name).filter { $0.lowercased() != "content-security-policy" } + ["x-request-id"]
        if cacheControl != nil { names.append("cache-control") }
        if hsts != nil { names.append("strict-transport-security") }
        return HeaderNameSet(names)
    }

    /// The variant for HTTPS connections.
    func secure(hsts: String?) -> ResponseDecorations {
        var copy = self
        copy.hsts = hsts
        copy.names = Self.names(headers, cacheControl: cacheControl, hsts: hsts)
        copy.fixed = Self.fixed(headers, cacheControl: cacheControl, hsts: hsts)
        return copy
    }

    /// Sets the decorations on `headers`, replacing any of the same names.
    func apply(to headers: inout HTTPHeaders, requestID: String) {
        if headers.contains(where: { replaces($0.name) }) {
            headers = HTTPHeaders(headers.filter { !replaces($0.name) })
        }
        append(to: &headers, requestID: requestID)
    }

    /// Whether a header of this name (any case) is one the decorations set.
    func replaces(_ name: String) -> Bool {
        names.contains(name)
    }

    /// Appends the decorations to headers that hold none of them.
    func append<Sink: HeaderSink>(to headers: inout Sink, requestID: String) {
        headers.add(prepared: fixed)
        headers.add(requestID: requestID)
    }
}

extension HTTPHeaders {
    /// Marks a message as keeping the connection open or closing it, in the terms of its HTTP
    /// version (1.1 keeps it open unless `close`; 1.0 closes it unless `keep-alive`), which is
    /// what NIO's pipeline reads `isKeepAlive` from.
    mutating func setKeepAlive(_ keepAlive: Bool, version: HTTPVersion = .http1_1) {
        if contains(name: "connection") { remove(name: "connection") }
        if let value = Self.connectionValue(keepAlive: keepAlive, version: version) { add(name: "Connection", value: value) }
    }

    /// The `Connection` value that says so, if the version's default does not.
    static func connectionValue(keepAlive: Bool, version: HTTPVersion) -> String? {
        if version.major == 1 && version.minor == 0 { return keepAlive ? "keep-alive" : nil }
        return keepAlive ? nil : "close"
    }
}
