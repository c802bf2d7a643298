/// How a response's body reaches the client, decided in one place for every output the edge
/// writes: HTTP/1.x bytes, HTTP/2 frames and the compressor's parts, for proxied and local
/// answers alike (RFC 9110 §6.4.1, RFC 9112 §6.1–6.3, RFC 9113 §8.1).
///
/// The rules: a 1xx, 204 or 304 status has no content, and its head loses `Content-Length` and
/// `Transfer-Encoding`; an answer to `HEAD` (or `CONNECT`) keeps those fields, which describe what
/// a `GET` would have returned, but carries no body; otherwise a head with a `Content-Length` is
/// sent as it is, an HTTP/1.1 client gets `Transfer-Encoding: chunked`, and an HTTP/1.0 client
/// (which cannot read chunked bodies) gets a body ended by closing the connection. On HTTP/2 a
/// body always ends with its stream, so it is never chunked.
public struct ResponseFraming: Equatable, Sendable {
    /// How the body that follows a head is framed on the wire.
    public enum Body: Equatable, Sendable {
        /// No body may follow.
        case none
        /// As it comes: `Content-Length` says where it ends, or the end of the stream or
        /// connection does.
        case identity
        /// `Transfer-Encoding: chunked`, framed by the writer.
        case chunked
    }

    /// Whether the head keeps its `Content-Length` and `Transfer-Encoding` fields.
    public let keepsFramingFields: Bool
    /// Whether a body is sent after the head.
    public let sendsBody: Bool

    /// - Parameters:
    ///   - status: the response's status code.
    ///   - isHEAD: whether it answers a `HEAD` request.
    ///   - isCONNECT: whether it answers a `CONNECT` request.
    public init(status: Int, isHEAD: Bool, isCONNECT: Bool = false) {
        keepsFramingFields = Self.statusAllowsContent(status) && !isCONNECT
        sendsBody = keepsFramingFields && !isHEAD
    }

    /// Whether a response with this status may have content: not 1xx, 204 or 304.
    public static func statusAllowsContent(_ status: Int) -> Bool {
        status >= 200 && status != 204 && status != 304
    }

    /// HTTP/1.x: how the body is framed, and whether the head needs `Transfer-Encoding: chunked`
    /// added (it never carries the upstream's own: the writer frames the body).
    /// - Parameters:
    ///   - hasContentLength: whether the head has a `Content-Length`.
    ///   - clientIsHTTP11: whether the client speaks HTTP/1.1 (or later).
    public func http1(hasContentLength: Bool, clientIsHTTP11: Bool) -> (body: Body, addsChunked: Bool) {
        guard keepsFramingFields else { return (.none, false) }
        let addsChunked = !hasContentLength && clientIsHTTP11
        guard sendsBody else { return (.none, addsChunked) }
        return (addsChunked ? .chunked : .identity, addsChunked)
    }

    /// HTTP/1.x: whether the body can only end by closing the connection (an HTTP/1.0 client and
    /// a body without `Content-Length`), so the connection must not be kept alive.
    public func endsByClose(hasContentLength: Bool, clientIsHTTP11: Bool) -> Bool {
        sendsBody && !hasContentLength && !clientIsHTTP11
    }

    /// HTTP/2: the body ends with the stream's last DATA frame.
    public var http2: Body { sendsBody ? .identity : .none }
}
