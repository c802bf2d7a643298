import NIOHTTP1
import NIOHTTPCompression

/// Which responses get gzip: the handler that builds a response marks it with an internal header
/// when its route compresses and its type is text-like; the compressor's predicate takes the
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

    /// Marks a proxied response for compression when its route asks for it and the body is text
    /// that the upstream has not already encoded.
    static func mark(_ headers: inout HTTPHeaders, status: HTTPResponseStatus, routeCompresses: Bool) {
        guard routeCompresses, status.code != 204, status.code != 304, !headers.contains(name: "content-encoding"),
            let type = headers.first(name: "content-type"), MediaTypes.isCompressible(type)
        else { return }
        headers.add(name: header, value: "1")
    }
}
