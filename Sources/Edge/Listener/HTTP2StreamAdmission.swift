import NIOCore
import NIOHTTP2

/// Which of a client's streams an HTTP/2 connection takes, and what its `GOAWAY` tells the
/// client about them (RFC 9113 §5.1.2, §6.8), where swift-nio-http2 does otherwise:
///
/// - swift-nio-http2 treats a stream beyond `SETTINGS_MAX_CONCURRENT_STREAMS` as a connection
///   error: `GOAWAY PROTOCOL_ERROR` and every open stream lost. nginx and HAProxy refuse just
///   that stream with `RST_STREAM REFUSED_STREAM`, which tells the client it may retry it. So
///   swift-nio-http2 is configured with twice the limit (``enforcedLimit``), the client is told
///   the configured limit (``HTTP2SettingsAdvertiser`` rewrites it in the first SETTINGS frame),
///   and the streams between the two are refused here.
/// - swift-nio-http2 puts 2³¹−1 (or 0 for a misbehaving peer) in its error `GOAWAY`s. A GOAWAY
///   must name the last stream the server processed, so that the client knows which requests
///   it may safely retry: ``HTTP2SettingsAdvertiser`` puts in ``lastProcessed``.
///
/// One per connection, confined to its event loop.
final class HTTP2StreamAdmission {
    /// The limit the client is told.
    let advertisedLimit: Int
    /// The highest stream ID handed to a request handler (0 before any).
    private(set) var lastProcessed: UInt32 = 0
    private var open = 0

    init(advertisedLimit: Int) { self.advertisedLimit = advertisedLimit }

    /// The limit swift-nio-http2 enforces as a connection error: far enough above the
    /// advertised one that a client which ignores the advertised limit meets refused streams
    /// first.
    var enforcedLimit: Int { advertisedLimit * 2 }

    /// A client stream opened: whether it is served (then it counts until `closed`) or refused.
    func admit(streamID: UInt32) -> Bool {
        guard open < advertisedLimit else { return false }
        open += 1
        lastProcessed = max(lastProcessed, streamID)
        return true
    }

    /// A served stream closed.
    func closed() { open -= 1 }
}

/// Adjusts two frames swift-nio-http2 writes (see ``HTTP2StreamAdmission``): the connection's
/// first SETTINGS frame gets the advertised `SETTINGS_MAX_CONCURRENT_STREAMS`, and every error
/// GOAWAY the last processed stream ID. It sits between TLS and the HTTP/2 handler and follows the
/// frame boundaries of what the handler writes (frame headers are always written whole, a
/// control frame in one buffer with its payload), so it only ever edits a frame it has parsed.
final class HTTP2SettingsAdvertiser: ChannelOutboundHandler, RemovableChannelHandler {
    typealias OutboundIn = IOData
    typealias OutboundOut = IOData

    private let admission: HTTP2StreamAdmission
    /// Bytes of the current frame's payload still to pass before the next frame header.
    private var payloadRemaining = 0
    private var sawSettings = false

    init(admission: HTTP2StreamAdmission) { self.admission = admission }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        guard case .byteBuffer(var buffer) = unwrapOutboundIn(data) else {
            context.write(data, promise: promise)  // file regions never reach an HTTP/2 connection
            return
        }
        var offset = buffer.readerIndex
        let end = buffer.writerIndex
        while offset < end {
            if payloadRemaining > 0 {
                let skip = min(payloadRemaining, end - offset)
                payloadRemaining -= skip
                offset += skip
                continue
            }
            guard end - offset >= 9, let length = buffer.getInteger(at: offset, as: UInt32.self).map({ Int($0 >> 8) }),
                let type = buffer.getInteger(at: offset + 3, as: UInt8.self),
                let flags = buffer.getInteger(at: offset + 4, as: UInt8.self)
            else { break }  // not at a whole frame header: leave the rest as it is
            let payload = offset + 9
            if payload + length <= end {
                if type == 0x4, flags & 0x1 == 0, !sawSettings {
                    sawSettings = true
                    Self.setMaxConcurrentStreams(&buffer, payload: payload, length: length, to: UInt32(admission.advertisedLimit))
                } else if type == 0x7, length >= 8, buffer.getInteger(at: payload + 4, as: UInt32.self) != 0 {
                    // An error GOAWAY (the connection closes right after it). A graceful one
                    // (NO_ERROR, on drain) keeps swift-nio-http2's value: it goes on serving
                    // streams the client sent before it saw that GOAWAY.
                    buffer.setInteger(admission.lastProcessed & 0x7FFF_FFFF, at: payload)
                }
                offset = payload + length
            } else {
                payloadRemaining = payload + length - end
                offset = end
            }
        }
        context.write(wrapOutboundOut(.byteBuffer(buffer)), promise: promise)
    }

    private static func setMaxConcurrentStreams(_ buffer: inout ByteBuffer, payload: Int, length: Int, to value: UInt32) {
        var setting = payload
        while setting + 6 <= payload + length {
            if buffer.getInteger(at: setting, as: UInt16.self) == 0x3 { buffer.setInteger(value, at: setting + 2) }
            setting += 6
        }
    }
}

/// The first handler of each HTTP/2 stream: refuses a stream beyond the advertised limit with
/// `RST_STREAM REFUSED_STREAM` (so the client may retry it), and releases a served stream's
/// place when it closes.
final class HTTP2StreamGate: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTP2Frame.FramePayload
    typealias OutboundOut = HTTP2Frame.FramePayload

    /// Admits the stream of `channel` (returns `true`: add the request handlers) or installs a
    /// gate that refuses it (returns `false`).
    static func admit(_ channel: any Channel, admission: HTTP2StreamAdmission) throws -> Bool {
        let streamID = try channel.syncOptions?.getOption(HTTP2StreamChannelOptions.streamID)
        guard admission.admit(streamID: UInt32(streamID.map { Int($0) } ?? 0)) else {
            try channel.pipeline.syncOperations.addHandler(HTTP2StreamGate())
            return false
        }
        channel.closeFuture.assumeIsolated().whenComplete { _ in admission.closed() }
        return true
    }

    func channelActive(context: ChannelHandlerContext) {
        context.writeAndFlush(wrapOutboundOut(.rstStream(.refusedStream)), promise: nil)
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {}  // a refused stream's frames are dropped
}
