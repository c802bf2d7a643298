import NIOHTTP1
import NIOHTTPCompression

/// Which responses get gzip: the response writer marks a head with an internal header when its
/// route compresses and its type is text-like (and the connection has a compressor at all); the compressor's predicate takes the
/// marker off again, so it never reaches the client, and compresses only marked responses
/// (and only for clients whose `Accept-Encoding` allows it).
enum CompressionMarker {
    static let header = "x-homerack-edge-compress"

    static func makeCompressor() -> HTTPResponseCompressor {
        HTTPResponseCompressor(initialByteBufferCapacity: 4096) { head, _ in
            guard head.headers.contains(name: header) else { return .doNotCompress }
            head.headers.remove(name: header)
            return .compressIfPossible
        }
    }

    /// Whether a proxied response may be compressed: its route asks for it and the body is text
    /// that the upstream has not already encoded. (``ResponseWriter`` adds the marker when the
    /// connection has a compressor.)
    static func isCompressible(_ headers: HTTPHeaders, status: HTTPResponseStatus, routeCompresses: Bool) -> Bool {
        guard routeCompresses, status.code != 204, status.code != 304, !headers.contains(name: "content-encoding"),
            let type = headers.first(name: "content-type")
        else { return false }
        return MediaTypes.isCompressible(type)
    }
}
