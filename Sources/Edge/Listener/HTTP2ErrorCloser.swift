import NIOCore
import NIOHTTP2

/// The last handler of an HTTP/2 connection: closes the connection after a connection-level
/// error (a rapid-reset flood, a header flood, a protocol violation), for which the HTTP/2
/// handler has already sent `GOAWAY`, instead of leaving it open until the idle timeout.
///
/// A stream-level error (a malformed request: an uppercase or connection-specific header, a
/// missing or bad pseudo-header, a body that disagrees with its `content-length`) is reported
/// here too, after the HTTP/2 handler has reset that one stream: the connection and its other
/// streams go on (RFC 9113 §5.4.2). swift-nio-http2 reports both kinds through `errorCaught`
/// with the bare error, so the kind is told by the error's type: the header-block and
/// content-length validation errors below are the ones its stream state machine turns into
/// stream errors.
final class HTTP2ErrorCloser: ChannelInboundHandler {
    typealias InboundIn = NIOAny

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard !Self.isStreamError(error) else { return }
        // The HTTP/2 handler reports the error before it has written and flushed its GOAWAY (it
        // does so as it finishes the read): close once the current read is fully handled, so the
        // client learns why.
        context.eventLoop.assumeIsolated().execute {
            context.flush()
            context.close(promise: nil)
        }
    }

    /// Whether swift-nio-http2 answered `error` with `RST_STREAM` on one stream only.
    static func isStreamError(_ error: any Error) -> Bool {
        switch error {
        case is NIOHTTP2Errors.StreamError,
            is NIOHTTP2Errors.InvalidHTTP2HeaderFieldName, is NIOHTTP2Errors.InvalidHTTP2HeaderFieldValue,
            is NIOHTTP2Errors.ForbiddenHeaderField, is NIOHTTP2Errors.MissingPseudoHeader,
            is NIOHTTP2Errors.DuplicatePseudoHeader, is NIOHTTP2Errors.PseudoHeaderAfterRegularHeader,
            is NIOHTTP2Errors.UnknownPseudoHeader, is NIOHTTP2Errors.UnsupportedPseudoHeader,
            is NIOHTTP2Errors.InvalidPseudoHeaders, is NIOHTTP2Errors.InvalidPseudoHeaderValue,
            is NIOHTTP2Errors.MissingHostHeader, is NIOHTTP2Errors.DuplicateHostHeader,
            is NIOHTTP2Errors.EmptyPathHeader, is NIOHTTP2Errors.TrailersWithoutEndStream,
            is NIOHTTP2Errors.ContentLengthViolated, is NIOHTTP2Errors.ContentLengthHeadersMismatch,
            is NIOHTTP2Errors.ContentLengthHeaderNegative, is NIOHTTP2Errors.ContentLengthHeaderMalformedValue:
            return true
        default:
            return false
        }
    }
}
