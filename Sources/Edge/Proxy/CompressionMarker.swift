import NIOHTTP1
import EdgeRules
import NIOHTTPCompression

/// Which responses get gzip: the response writer marks a head with an internal header when its
/// route compresses and its type is text-like (and the connection has a compressor at all); the compressor's predicate takes the
/// marker off again, so it never reaches the client, and compresses only marked responses
/// (and only for clients whose `Accept-Encoding` allows it).
enum CompressionMarker {
    static let header = "x-homerack-edge-compress"

    static func makeCompressor() -> HTTPResponseCompressor {
        HTTPResponseCompressor(initialByteBufferCapacity: 4096) { head, supported in
            guard head.headers.contains(name: header) else { return .doNotCompress }
            head.headers.remove(name: header)
            // A compressed answer says that another client could get it otherwise (as the core's).
            if supported { head.headers.add(name: "Vary", value: "Accept-Encoding") }
            return .compressIfPossible
        }
    }

    /// Whether a proxied response may be compressed: its route asks for it and the response is
    /// one the rules both shells share allow (``ResponseCompression``: text that the upstream has
    /// not already encoded, with a body of at least 20 bytes, not a 206). (``ResponseWriter``
    /// adds the marker when the connection has a compressor.)
    static func isCompressible(_ headers: HTTPHeaders, status: HTTPResponseStatus, isHEAD: Bool, routeCompresses: Bool) -> Bool {
        guard routeCompresses, let type = headers.first(name: "content-type") else { return false }
        let encoded = headers[canonicalForm: "content-encoding"].contains { $0.lowercased() != "identity" }
        let length = headers.first(name: "content-length").flatMap { Int($0) } ?? -1
        return ResponseCompression.eligible(
            status: Int(status.code), isHEAD: isHEAD, contentLength: length, contentEncoded: encoded,
            compressibleType: MediaTypes.isCompressible(type))
    }
}
