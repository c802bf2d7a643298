import EdgeRules
import NIOCore
import NIOHPACK
import NIOHTTP1
import NIOHTTP2

/// Headers that can write themselves into any ``HeaderSink``: a proxied message's rewritten
/// headers are produced this way, straight into the output buffer on HTTP/1.1.
protocol HeaderSource {
    func write<Sink: HeaderSink>(into sink: inout Sink)
}

extension HTTPHeaders: HeaderSource {
    func write<Sink: HeaderSink>(into sink: inout Sink) {
        for (name, value) in self { sink.add(name: name, value: value) }
    }
}

/// How one client connection's responses leave ``ClientHandler``.
///
/// On an HTTP/1.1 connection the writer is the HTTP encoder: heads are serialized straight
/// from the rewritten headers into one buffer, and a small body and the end join that buffer, so
/// a typical proxied response is a single write (NIO's encoder would make three, each through
/// the pipeline). On an HTTP/2 stream it writes HTTP/2 frames itself, below the stream's
/// HTTP/1 codec (which then only reads requests): the header block is built directly, and the
/// end of the response rides on the last frame instead of an empty one. When the gzip
/// compressor is in the pipeline, the writer hands it HTTP parts instead.
struct ResponseWriter {
    enum Output {
        /// HTTP/1.x bytes, serialized here.
        case bytes
        /// HTTP/2 frame payloads, written through the context the handler gives (the codec's).
        case http2Frames
        /// `HTTPServerResponsePart`s for a codec below; `compressor` says whether the gzip
        /// compressor is among them (it reads ``CompressionMarker``'s header).
        case parts(compressor: Bool)
    }

    /// Bodies up to this size are copied into the buffer behind the head; larger ones are
    /// written as they are (a copy would cost more than the extra write).
    static let coalesceLimit = 16 * 1024

    let output: Output
    /// Bytes written but not yet handed to the channel (bytes mode).
    private var pending: ByteBuffer?
    private var framing: ResponseFraming.Body = .identity
    /// HTTP/2: the header block not written yet (it may carry the end of the stream).
    private var pendingHeaders: HPACKHeaders?
    /// HTTP/2: the last body part not written yet (it may carry the end of the stream).
    private var pendingData: ByteBuffer?

    init(output: Output) { self.output = output }

    /// Writes a response head.
    /// - Parameters:
    ///   - requestMethod: the method of the request it answers (no body follows a HEAD's answer).
    ///   - compressible: whether the body may be gzipped (see ``CompressionMarker``).
    mutating func writeHead<Headers: HeaderSource>(
        status: HTTPResponseStatus, version: HTTPVersion, headers: Headers, requestMethod: HTTPMethod, compressible: Bool = false,
        context: ChannelHandlerContext
    ) {
        switch output {
        case .bytes:
            var buffer = pending ?? context.channel.allocator.buffer(capacity: 1024)
            pending = nil
            var head = HTTP1ResponseHead(into: buffer, status: status, version: version, requestMethod: requestMethod)
            headers.write(into: &head)
            (buffer, framing) = head.finish()
            pending = buffer
        case .http2Frames:
            var block = HTTP2ResponseHeaders(status: status)
            headers.write(into: &block)
            pendingHeaders = block.block
            framing = ResponseFraming(status: Int(status.code), isHEAD: requestMethod == .HEAD, isCONNECT: requestMethod == .CONNECT).http2
        case .parts(let compressor):
            var built: HTTPHeaders
            if let given = headers as? HTTPHeaders {
                built = given
            } else {
                built = HTTPHeaders()
                headers.write(into: &built)
            }
            if compressor && compressible { built.add(name: CompressionMarker.header, value: "1") }
            context.write(NIOAny(HTTPServerResponsePart.head(HTTPResponseHead(version: version, status: status, headers: built))), promise: nil)
        }
    }

    /// Writes part of the body.
    mutating func writeBody(_ data: IOData, context: ChannelHandlerContext, promise: EventLoopPromise<Void>? = nil) {
        switch output {
        case .bytes: break
        case .http2Frames:
            writeHTTP2Body(data, context: context, promise: promise)
            return
        case .parts:
            context.write(NIOAny(HTTPServerResponsePart.body(data)), promise: promise)
            return
        }
        let size = data.readableBytes
        switch (framing, data) {
        case (.none, _):
            promise?.succeed(())  // a HEAD answer: the body is not sent (the head described it)
            return
        case (_, _) where size == 0:
            break  // an empty chunk would end a chunked body
        case (.identity, .byteBuffer(var bytes)) where size <= Self.coalesceLimit:
            append(&bytes, context: context)
        case (.chunked, .byteBuffer(var bytes)) where size <= Self.coalesceLimit:
            appendChunkSize(size, context: context)
            append(&bytes, context: context)
            pending!.writeStaticString("\r\n")
        case (.identity, _):
            emitPending(context: context)
            context.write(NIOAny(data), promise: nil)
        case (.chunked, _):
            appendChunkSize(size, context: context)
            emitPending(context: context)
            context.write(NIOAny(data), promise: nil)
            var crlf = context.channel.allocator.buffer(capacity: 2)
            crlf.writeStaticString("\r\n")
            pending = crlf
        }
        if let promise { emitPending(context: context, promise: promise) }
    }

    /// Ends the response (the last chunk of a chunked body) and hands everything to the channel.
    mutating func writeEnd(context: ChannelHandlerContext, promise: EventLoopPromise<Void>? = nil) {
        switch output {
        case .bytes: break
        case .http2Frames:
            writeHTTP2End(context: context, promise: promise)
            return
        case .parts:
            context.write(NIOAny(HTTPServerResponsePart.end(nil)), promise: promise)
            return
        }
        if framing == .chunked {
            if pending == nil { pending = context.channel.allocator.buffer(capacity: 5) }
            pending!.writeStaticString("0\r\n\r\n")
        }
        framing = .identity
        // `promise` then means "all of this response has reached the socket": a close waits for it.
        emitPending(context: context, promise: promise)
    }

    /// Hands everything written so far to the channel and flushes it.
    mutating func flush(context: ChannelHandlerContext) {
        emitPending(context: context)
        emitHTTP2Pending(context: context)
        context.flush()
    }

    /// Whether bytes wait for a flush (bytes mode).
    var hasPending: Bool { pending != nil }

    private mutating func append(_ bytes: inout ByteBuffer, context: ChannelHandlerContext) {
        if pending == nil {
            pending = bytes  // nothing to join: keep the buffer as it is, no copy
        } else {
            pending!.writeBuffer(&bytes)
        }
    }

    private mutating func appendChunkSize(_ size: Int, context: ChannelHandlerContext) {
        if pending == nil { pending = context.channel.allocator.buffer(capacity: 16) }
        pending!.writeChunkSize(size)
    }

    // MARK: HTTP/2

    private mutating func writeHTTP2Body(_ data: IOData, context: ChannelHandlerContext, promise: EventLoopPromise<Void>?) {
        guard framing != .none, case .byteBuffer(let bytes) = data, bytes.readableBytes > 0 else {
            // No body after this head (a HEAD's answer), or nothing in the part; file regions
            // never reach an HTTP/2 stream (static files are read in chunks there).
            promise?.succeed(())
            return
        }
        emitHTTP2Pending(context: context)
        if let promise {
            context.write(NIOAny(HTTP2Frame.FramePayload.data(.init(data: .byteBuffer(bytes)))), promise: promise)
        } else {
            pendingData = bytes
        }
    }

    private mutating func writeHTTP2End(context: ChannelHandlerContext, promise: EventLoopPromise<Void>?) {
        framing = .identity
        if let data = pendingData {
            if let headers = pendingHeaders {
                context.write(NIOAny(HTTP2Frame.FramePayload.headers(.init(headers: headers))), promise: nil)
            }
            context.write(NIOAny(HTTP2Frame.FramePayload.data(.init(data: .byteBuffer(data), endStream: true))), promise: promise)
        } else if let headers = pendingHeaders {
            context.write(NIOAny(HTTP2Frame.FramePayload.headers(.init(headers: headers, endStream: true))), promise: promise)
        } else {
            let empty = context.channel.allocator.buffer(capacity: 0)
            context.write(NIOAny(HTTP2Frame.FramePayload.data(.init(data: .byteBuffer(empty), endStream: true))), promise: promise)
        }
        pendingHeaders = nil
        pendingData = nil
    }

    /// Writes the header block and body part held back for the end of the stream.
    private mutating func emitHTTP2Pending(context: ChannelHandlerContext) {
        if let headers = pendingHeaders {
            pendingHeaders = nil
            context.write(NIOAny(HTTP2Frame.FramePayload.headers(.init(headers: headers))), promise: nil)
        }
        if let data = pendingData {
            pendingData = nil
            context.write(NIOAny(HTTP2Frame.FramePayload.data(.init(data: .byteBuffer(data)))), promise: nil)
        }
    }

    /// Hands the joined bytes to the channel; `promise` completes once they, and everything
    /// written before them, have reached the socket (an empty write keeps that order when
    /// nothing is pending).
    private mutating func emitPending(context: ChannelHandlerContext, promise: EventLoopPromise<Void>? = nil) {
        guard let buffer = pending else {
            if let promise {
                context.write(NIOAny(IOData.byteBuffer(context.channel.allocator.buffer(capacity: 0))), promise: promise)
            }
            return
        }
        pending = nil
        context.write(NIOAny(IOData.byteBuffer(buffer)), promise: promise)
    }
}
