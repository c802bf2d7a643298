import EdgeIOProxy

/// A route's `compress` on the I/O core: the request's `Accept-Encoding` is read when the
/// route is chosen (``Exchange/compresses``), the response's type, coding, status and length
/// when its head comes (``ResponseCompression``'s rules); the core does the compressing.
extension EngineProxyPolicy {
    mutating func compressesResponse(_ response: EdgeIOProxy.HTTPResponseHead, in input: UnsafeRawBufferPointer, tag: UInt64) -> Bool {
        var compresses = false
        withExchange(tag) { compresses = $0.compresses }
        return compresses && response.gzipEligible(in: input)
    }
}
