import EdgeIO
import EdgeRules

/// Gzipped responses (a route's `compress`, asked of the policy per response,
/// ``ProxyPolicy/compressesResponse(_:in:tag:)``): the response loses its `Content-Length`,
/// gains `Content-Encoding: gzip` and `Vary: Accept-Encoding`, and its body's content (the
/// upstream's chunked coding taken off, ``BodyFraming/consumePayload(_:from:_:)``) goes
/// through deflate: flushed at the end of each upstream read (`Z_SYNC_FLUSH`), so a streamed
/// response reaches the client as it comes, and finished with the gzip trailer when the body
/// ends. To an HTTP/1.1 client that keeps its connection the output goes chunked; to any other
/// HTTP/1.x client, delimited by the close; to an HTTP/2 client, appended to the stream.
///
/// The deflate state comes from the loop's ``GzipStreamPool``, attached to the entry that
/// carries the response (the client's for HTTP/1.x, the stream's upstream entry for HTTP/2;
/// ``ProxyFlag/gzip``) and given back wherever the exchange ends: ``finishClient(_:_:status:io:)``,
/// ``answer(_:_:_:close:io:)``, ``detachStream(_:io:)`` and the entry's close.
/// Backpressure is the plain relay's: the output goes through `io.write` (or the stream's
/// buffer), and the upstream pauses while the client's output backs up.
extension ProxyHandler {
    /// Whether `head`'s response is gzipped; when so, a deflater is attached to `slot`.
    mutating func startsGzip(_ head: HTTPResponseHead, _ input: UnsafeRawBufferPointer, framing: BodyFraming, slot: Int, tag: UInt64)
        -> Bool
    {
        guard framing.kind != .none, policy.compressesResponse(head, in: input, tag: tag) else { return false }
        return storage.gzip.attach(slot, contentLength: framing.kind == .length ? head.contentLength : -1)
    }

    /// The upstream's fields a gzipped response drops: its length and framing (the body
    /// changes; the core frames it again).
    static func gzipDrops(_ name: UnsafeRawBufferPointer) -> Bool {
        (name.count == 14 && HTTPScan.matches(name, 0, 14, "content-length"))
            || (name.count == 17 && HTTPScan.matches(name, 0, 17, "transfer-encoding"))
            || (name.count == 4 && HTTPScan.matches(name, 0, 4, "etag"))
    }

    /// The fields a gzipped answer gains: its coding, `Vary`, and the upstream's `ETag` made weak
    /// (`W/"…"`; a weak one stays as it is), as nginx's gzip does: a strong validator names
    /// exact bytes, and the compressed bytes are others (RFC 9110 §8.8.1), so a range or
    /// `If-Match` against it must not pass. `head` is the upstream's response head in `input`.
    static func writeGzipFields(_ input: UnsafeRawBufferPointer, head: HTTPResponseHead, into writer: inout HeadWriter) {
        writer.append("Content-Encoding: gzip\r\nVary: Accept-Encoding\r\n")
        let (from, to) = fieldsRange(input, from: head.start, length: head.length)
        guard let (_, value) = HTTPScan.firstField(input, from: from, to: to, named: "etag") else { return }
        let tag = UnsafeRawBufferPointer(rebasing: input[value])
        writer.append("ETag: ")
        if !(tag.count >= 2 && tag[0] == UInt8(ascii: "W") && tag[1] == UInt8(ascii: "/")) { writer.append("W/") }
        writer.append(tag)
        writer.append("\r\n")
    }

    /// Gives `slot`'s deflater back, if it has one.
    mutating func releaseGzip(_ slot: Int) {
        guard entries[slot].flags & Flag.gzip != 0 else { return }
        entries[slot].flags &= ~Flag.gzip
        storage.gzip.release(slot)
    }

    /// Writes gzip output to an HTTP/1.x client: chunked or as it is, after `head` when the
    /// head has not gone yet (one write for both).
    static func writeGzipOutput(
        _ output: UnsafeMutableRawBufferPointer, last: Bool, chunked: Bool, head: inout UnsafeRawBufferPointer?,
        to client: ConnectionID, io: inout LoopIO
    ) {
        let bytes = chunked ? GzipStreamPool.frameChunk(output, last: last) : UnsafeRawBufferPointer(output)
        if let pending = head {
            head = nil
            io.write(pending, bytes, on: client)
        } else {
            io.write(bytes, on: client)
        }
    }

    /// Relays an HTTP/1.x response body's bytes in `input[offset...]` compressed; `head`, when
    /// given, is the response head, written with the first output.
    mutating func relayGzipBody(
        _ input: UnsafeRawBufferPointer, from offset: Int, _ clientIndex: Int, _ client: ConnectionID, upstream: ConnectionID,
        head: UnsafeRawBufferPointer?, io: inout LoopIO
    ) {
        let pool = storage.gzip
        let chunked = entries[clientIndex].flags & Flag.chunksOut != 0
        var head = head
        var produced = 0
        var fed = false
        let outcome = entries[clientIndex].response.consumePayload(input, from: offset) { bytes in
            fed = true
            pool.deflate(clientIndex, bytes) { output, last in
                produced += output.count
                Self.writeGzipOutput(output, last: last, chunked: chunked, head: &head, to: client, io: &io)
            }
        }
        switch outcome {
        case .malformed:
            if let head { io.write(head, on: client) }
            abortExchange(clientIndex, io: &io)
            io.close(client)
        case .body(let used, let complete):
            if fed || complete {
                pool.flush(clientIndex, finish: complete) { output, last in
                    produced += output.count
                    Self.writeGzipOutput(output, last: last, chunked: chunked, head: &head, to: client, io: &io)
                }
            }
            if let head { io.write(head, on: client) }  // no body bytes came with the head
            entries[clientIndex].bodyBytes += produced
            afterRelay(complete: complete, extra: offset + used < input.count, clientIndex, client, upstream: upstream, io: &io)
        }
    }

    /// Ends a compressed HTTP/1.x body that the upstream ended by closing: the gzip trailer
    /// (and, chunked, the last chunk).
    mutating func finishGzipBody(_ clientIndex: Int, _ client: ConnectionID, io: inout LoopIO) {
        let chunked = entries[clientIndex].flags & Flag.chunksOut != 0
        var head: UnsafeRawBufferPointer? = nil
        var produced = 0
        storage.gzip.flush(clientIndex, finish: true) { output, last in
            produced += output.count
            Self.writeGzipOutput(output, last: last, chunked: chunked, head: &head, to: client, io: &io)
        }
        entries[clientIndex].bodyBytes += produced
    }

    /// Takes an HTTP/2 stream's response body bytes in `input[offset...]` as
    /// ``BodyFraming/consumePayload(_:from:_:)`` does and appends their content to the stream:
    /// as it is, or compressed (flushed at the end of the read, finished with the body).
    /// - Parameters:
    ///   - relayed: increased by the bytes appended.
    ///   - overHighWater: set when the stream's buffer went over its mark.
    mutating func appendStreamPayload(
        _ input: UnsafeRawBufferPointer, from offset: Int, _ slot: Int, _ session: HTTP2ServerSession, relayed: inout Int,
        overHighWater: inout Bool
    ) -> BodyFraming.Outcome {
        let stream = entries[slot].stream
        guard entries[slot].flags & Flag.gzip != 0 else {
            return entries[slot].response.consumePayload(input, from: offset) { bytes in
                relayed += bytes.count
                if session.append(bytes, to: stream) == .overHighWater { overHighWater = true }
            }
        }
        let pool = storage.gzip
        var fed = false
        func append(_ output: UnsafeMutableRawBufferPointer, _ last: Bool) {
            relayed += output.count
            if session.append(UnsafeRawBufferPointer(output), to: stream) == .overHighWater { overHighWater = true }
        }
        let outcome = entries[slot].response.consumePayload(input, from: offset) { bytes in
            fed = true
            pool.deflate(slot, bytes, emit: append)
        }
        if case .body(_, let complete) = outcome, fed || complete {
            pool.flush(slot, finish: complete, emit: append)
        }
        return outcome
    }

    /// Ends a compressed HTTP/2 stream body that the upstream ended by closing (before the
    /// stream's end): the gzip trailer.
    func finishGzipStream(_ slot: Int, stream: Int32, _ session: HTTP2ServerSession) {
        storage.gzip.flush(slot, finish: true) { output, _ in _ = session.append(UnsafeRawBufferPointer(output), to: stream) }
    }
}

extension HTTPRequestHead {
    /// Whether the request's `Accept-Encoding` fields take gzip (``AcceptEncoding``).
    public func acceptsGzip(in input: UnsafeRawBufferPointer) -> Bool {
        var accept = AcceptEncoding()
        forEachField(in: input) { name, value in
            if name.count == 15 && HTTPScan.matches(name, 0, 15, "accept-encoding") { accept.add(value) }
            return true
        }
        return accept.allowsGzip
    }
}

extension HTTPResponseHead {
    /// Whether the response may be gzipped (``ResponseCompression/eligible(status:isHEAD:contentLength:contentEncoded:compressibleType:)``:
    /// a text-like `Content-Type`, no `Content-Encoding`, not 206, not under 20 bytes).
    public func gzipEligible(in input: UnsafeRawBufferPointer) -> Bool {
        var encoded = false
        var compressibleType = false
        var line = start
        while input[line] != 13 { line += 1 }
        _ = HTTPScan.walkFields(input, from: line + 2, to: start + length - 2) { name, colon, value, valueEnd in
            if colon - name == 16 && HTTPScan.matches(input, name, colon, "content-encoding") {
                // `identity` is no coding (RFC 9110 §8.4.1).
                encoded = encoded || !(valueEnd - value == 8 && HTTPScan.matches(input, value, valueEnd, "identity"))
            } else if colon - name == 12 && HTTPScan.matches(input, name, colon, "content-type") {
                compressibleType = ResponseCompression.isCompressibleType(UnsafeRawBufferPointer(rebasing: input[value..<valueEnd]))
            }
            return true
        }
        return ResponseCompression.eligible(
            status: status, isHEAD: false, contentLength: contentLength, contentEncoded: encoded, compressibleType: compressibleType)
    }
}
