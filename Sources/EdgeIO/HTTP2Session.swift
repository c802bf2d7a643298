import CEdgeH2

/// HTTP/2 SETTINGS the server advertises.
public struct HTTP2Settings: Sendable {
    public var maxConcurrentStreams: UInt32
    public var initialWindowSize: UInt32
    public var maxHeaderListSize: UInt32
    public var maxFrameSize: UInt32

    public init(
        maxConcurrentStreams: UInt32 = 128, initialWindowSize: UInt32 = 65_535, maxHeaderListSize: UInt32 = 16_384,
        maxFrameSize: UInt32 = 16_384
    ) {
        self.maxConcurrentStreams = maxConcurrentStreams
        self.initialWindowSize = initialWindowSize
        self.maxHeaderListSize = maxHeaderListSize
        self.maxFrameSize = maxFrameSize
    }
}

/// Bounds on what an HTTP/2 peer can make a session hold or do. Each exceeded bound is a
/// connection error answered with GOAWAY (docs/CONFIG.md lists the answers).
public struct HTTP2Limits: Sendable {
    /// PING and SETTINGS ACKs (and RST_STREAMs) waiting to be sent before the peer counts as
    /// flooding (GOAWAY ENHANCE_YOUR_CALM): a peer that sends PINGs but never reads.
    public var maxOutboundAcks: UInt32
    /// Entries accepted in one SETTINGS frame.
    public var maxSettingsEntries: UInt32
    /// CONTINUATION frames accepted after one HEADERS (a CONTINUATION flood).
    public var maxContinuations: UInt32
    /// RST_STREAMs from the peer on streams still open: this many...
    public var resetBurst: UInt32
    /// ...within this many milliseconds (a token bucket refilled over the window); one more:
    /// GOAWAY ENHANCE_YOUR_CALM (rapid reset, CVE-2023-44487). 0: no bound.
    public var resetWindowMilliseconds: UInt32

    /// nghttp2's own defaults for the first three, written out so they are visible and
    /// testable; resets as nghttp2 1.52 bounds them (1,000, refilled at 33 a second).
    public init(
        maxOutboundAcks: UInt32 = 1000, maxSettingsEntries: UInt32 = 32, maxContinuations: UInt32 = 8,
        resetBurst: UInt32 = 1000, resetWindowMilliseconds: UInt32 = 30_000
    ) {
        self.maxOutboundAcks = maxOutboundAcks
        self.maxSettingsEntries = maxSettingsEntries
        self.maxContinuations = maxContinuations
        self.resetBurst = resetBurst
        self.resetWindowMilliseconds = resetWindowMilliseconds
    }
}

/// Where a loop's HTTP/2 sessions record what they received: events plus a byte arena,
/// reused for every `receive` (one per loop; nothing allocated per frame once grown).
public final class HTTP2EventSink {
    @usableFromInline let pointer: UnsafeMutablePointer<ceio_h2_sink>

    public init() {
        guard let sink = ceio_h2_sink_new() else { fatalError("out of memory for the HTTP/2 event sink") }
        pointer = sink
    }

    deinit { ceio_h2_sink_free(pointer) }

    /// One thing a session received. The byte views point into the sink's arena and are valid
    /// until the next ``HTTP2ServerSession/receive(_:sink:)``.
    public struct Event {
        public enum Kind: UInt32 {
            case streamOpened = 1, header, headersComplete, data, requestComplete, streamClosed
        }

        public var kind: Kind
        public var streamID: Int32
        /// RST_STREAM / close error code (``Kind/streamClosed``).
        public var errorCode: UInt32
        /// Header name, or DATA bytes.
        public var first: UnsafeRawBufferPointer
        /// Header value.
        public var second: UnsafeRawBufferPointer
        /// What the owner called the stream (``HTTP2ServerSession/setOwner(_:of:)``; 0 before),
        /// on ``Kind/data``, ``Kind/requestComplete`` and ``Kind/streamClosed``.
        public var owner: UInt64

        @inlinable
        init(
            kind: Kind, streamID: Int32, errorCode: UInt32, first: UnsafeRawBufferPointer, second: UnsafeRawBufferPointer,
            owner: UInt64
        ) {
            self.kind = kind
            self.streamID = streamID
            self.errorCode = errorCode
            self.first = first
            self.second = second
            self.owner = owner
        }
    }

    /// Events recorded since the last receive.
    @inlinable
    public var count: Int { pointer.pointee.count }

    @inlinable
    public subscript(index: Int) -> Event {
        let raw = pointer.pointee.events[index]
        let arena = UnsafeRawPointer(pointer.pointee.arena!)
        return Event(
            kind: Event.Kind(rawValue: raw.kind) ?? .streamClosed, streamID: raw.stream_id, errorCode: raw.error_code,
            first: UnsafeRawBufferPointer(start: arena + Int(raw.a_offset), count: Int(raw.a_length)),
            second: UnsafeRawBufferPointer(start: arena + Int(raw.b_offset), count: Int(raw.b_length)), owner: raw.owner)
    }

    /// Forgets the recorded events (after they were handled).
    @inlinable
    public func reset() { ceio_h2_sink_reset(pointer) }
}

/// Response header fields prepared once in C form (names lower case, ":status" first), so a
/// response is submitted without building anything.
public final class HTTP2ResponseHead {
    @usableFromInline let storage: UnsafeMutableRawPointer
    @usableFromInline let names: UnsafeMutablePointer<UnsafePointer<UInt8>?>
    @usableFromInline let values: UnsafeMutablePointer<UnsafePointer<UInt8>?>
    @usableFromInline let nameLengths: UnsafeMutablePointer<Int>
    @usableFromInline let valueLengths: UnsafeMutablePointer<Int>
    public let count: Int

    public init(_ fields: [(name: String, value: String)]) {
        precondition(fields.count <= 32)
        let bytes = fields.reduce(0) { $0 + $1.name.utf8.count + $1.value.utf8.count }
        storage = UnsafeMutableRawPointer.allocate(byteCount: max(bytes, 1), alignment: 8)
        count = fields.count
        names = .allocate(capacity: count)
        values = .allocate(capacity: count)
        nameLengths = .allocate(capacity: count)
        valueLengths = .allocate(capacity: count)
        var offset = 0
        for (i, field) in fields.enumerated() {
            for (text, isName) in [(field.name, true), (field.value, false)] {
                let utf8 = Array(text.utf8)
                utf8.withUnsafeBytes { (storage + offset).copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
                let start = UnsafePointer((storage + offset).assumingMemoryBound(to: UInt8.self))
                if isName {
                    names[i] = start
                    nameLengths[i] = utf8.count
                } else {
                    values[i] = start
                    valueLengths[i] = utf8.count
                }
                offset += utf8.count
            }
        }
    }

    deinit {
        storage.deallocate()
        names.deallocate()
        values.deallocate()
        nameLengths.deallocate()
        valueLengths.deallocate()
    }
}

/// One connection's HTTP/2 server session (nghttp2, driven from memory: bytes in, events and
/// bytes out, no I/O inside). A plain value holding the session pointer; the owner frees it.
///
/// What the session answers by itself: streams beyond `maxConcurrentStreams` get RST_STREAM
/// REFUSED_STREAM (nghttp2; the client may retry them), a request head over
/// `maxHeaderListSize` gets a 431 response (the handler never sees it), and the bounds of
/// ``HTTP2Limits`` end the connection with GOAWAY.
public struct HTTP2ServerSession {
    @usableFromInline let pointer: OpaquePointer

    /// A session that records into `sink`, with `settings` queued as its first frame.
    public init?(sink: HTTP2EventSink, settings: HTTP2Settings = HTTP2Settings(), limits: HTTP2Limits = HTTP2Limits()) {
        var raw = ceio_h2_settings(
            max_concurrent_streams: settings.maxConcurrentStreams, initial_window_size: settings.initialWindowSize,
            max_header_list_size: settings.maxHeaderListSize, max_frame_size: settings.maxFrameSize)
        var bounds = ceio_h2_limits(
            max_outbound_ack: limits.maxOutboundAcks, max_settings: limits.maxSettingsEntries,
            max_continuations: limits.maxContinuations, reset_burst: limits.resetBurst,
            reset_window_ms: limits.resetWindowMilliseconds)
        guard let session = ceio_h2_server_new(sink.pointer, &raw, &bounds) else { return nil }
        pointer = session
    }

    /// Feeds received bytes; the events are then in `sink` (cleared first).
    /// - Returns: `false` on a connection error (flush, then close).
    @inlinable
    public func receive(_ input: UnsafeRawBufferPointer, sink: HTTP2EventSink) -> Bool {
        ceio_h2_sink_reset(sink.pointer)
        guard !input.isEmpty else { return true }
        let consumed = ceio_h2_receive(pointer, input.baseAddress!.assumingMemoryBound(to: UInt8.self), input.count)
        return consumed >= 0 && sink.pointer.pointee.failed == 0
    }

    /// Queues a response on a stream; `body` must stay valid until the stream closes.
    @inlinable
    @discardableResult
    public func submitResponse(stream: Int32, head: HTTP2ResponseHead, body: UnsafeRawBufferPointer?) -> Bool {
        let bodyStart = body?.baseAddress?.assumingMemoryBound(to: UInt8.self)
        return ceio_h2_submit_response(
            pointer, stream, head.names, head.nameLengths, head.values, head.valueLengths, head.count,
            bodyStart, body?.count ?? 0) == 0
    }

    /// Resets a stream with an HTTP/2 error code.
    @inlinable
    public func resetStream(_ stream: Int32, errorCode: UInt32) { _ = ceio_h2_reset_stream(pointer, stream, errorCode) }

    /// Queues a GOAWAY (graceful drain: streams so far finish, no new ones).
    public func goAway() { _ = ceio_h2_goaway(pointer) }

    /// Moves the frames the session has ready into the connection's output, but no more than
    /// the socket takes: once `limit` bytes wait for it, they are written at once, and when
    /// the socket is full the rest stays in the session until
    /// ``EventLoopHandler/writable(_:io:)`` (call this again then).
    ///
    /// That is what bounds a peer that never reads: its PING and SETTINGS ACKs pile up inside
    /// nghttp2, where ``HTTP2Limits/maxOutboundAcks`` counts them, instead of in pooled
    /// buffers, where nothing would.
    /// - Parameter limit: bytes of queued output before the session waits for the socket;
    ///   `Int.max` to move everything (before a close: what nghttp2 holds is bounded).
    @inlinable
    public func flush(to io: inout LoopIO, connection: ConnectionID, limit: Int) -> FlushResult {
        var queued = limit == .max ? 0 : io.pendingOutputBytes(connection)
        while true {
            if queued >= limit {
                guard io.writeQueuedOutput(connection) else { return .waitingForSocket }  // writable() resumes
                queued = 0
            }
            var data: UnsafePointer<UInt8>?
            let n = ceio_h2_send(pointer, &data)
            if n < 0 { return .failed }
            if n == 0 { return .flushed }
            io.enqueue(UnsafeRawBufferPointer(start: data, count: n), on: connection)
            queued += n
        }
    }

    /// What ``flush(to:connection:limit:)`` did.
    public enum FlushResult {
        /// Everything the session had is queued on the connection.
        case flushed
        /// The socket is full: the session holds the rest until the connection is writable.
        case waitingForSocket
        /// The session failed: close the connection.
        case failed
    }

    /// The send deadline's sweep (call it every send timeout while responses are in flight):
    /// resets with RST_STREAM CANCEL each stream whose response body made no progress since
    /// the previous sweep, as nginx's `send_timeout` does for a stream whose peer keeps its
    /// flow-control window at 0.
    /// - Returns: how many responses are still in flight (0: no need to sweep again).
    @inlinable
    public func resetStalledStreams() -> Int { ceio_h2_reset_stalled(pointer) }

    /// Responses whose bodies are still being sent.
    @inlinable
    public var responsesInFlight: Int { ceio_h2_responses_in_flight(pointer) }

    /// Whether the session still wants to read or write; `false`: close the connection.
    @inlinable
    public var wantsIO: Bool { ceio_h2_wants_io(pointer) != 0 }

    /// Frees the session.
    public func free() { ceio_h2_session_free(pointer) }

    // MARK: Streamed responses (a proxy's: the body arrives after the head)

    /// Fields at most in one ``submitHead(stream:base:spans:count:withBody:)``.
    public static var maxResponseFields: Int { Int(CEIO_H2_MAX_FIELDS) }

    /// Names a stream for its later events (a proxy's upstream connection; not 0).
    @inlinable
    @discardableResult
    public func setOwner(_ owner: UInt64, of stream: Int32) -> Bool { ceio_h2_stream_set_owner(pointer, stream, owner) == 0 }

    /// Submits a response head whose fields are spans of `base` (4 per field: name offset and
    /// length, value offset and length; names lower case, `:status` first; copied). With
    /// `withBody`, the body follows through ``append(_:to:)`` and ``end(_:)``.
    /// - Returns: `false` when the stream is gone (reset by the peer) or over the field bound.
    @inlinable
    public func submitHead(
        stream: Int32, base: UnsafeRawPointer, spans: UnsafePointer<UInt32>, count: Int, withBody: Bool
    ) -> Bool {
        ceio_h2_submit_head(pointer, stream, base.assumingMemoryBound(to: UInt8.self), spans, count, withBody ? 1 : 0) == 0
    }

    /// What ``append(_:to:)`` did.
    public enum AppendResult { case queued, overHighWater, streamGone }

    /// Queues response body bytes (copied). ``AppendResult/overHighWater``: pause the source
    /// until ``nextDrained()`` names the stream's owner.
    @inlinable
    public func append(_ bytes: UnsafeRawBufferPointer, to stream: Int32) -> AppendResult {
        guard let start = bytes.baseAddress else { return .queued }
        switch ceio_h2_stream_append(pointer, stream, start.assumingMemoryBound(to: UInt8.self), bytes.count) {
        case 0: return .queued
        case 1: return .overHighWater
        default: return .streamGone
        }
    }

    /// Ends a streamed response's body.
    @inlinable
    public func end(_ stream: Int32) { _ = ceio_h2_stream_end(pointer, stream) }

    /// The owner of a paused stream that has drained since (once per pause), or `nil`.
    @inlinable
    public func nextDrained() -> UInt64? {
        var owner: UInt64 = 0
        return ceio_h2_next_drained(pointer, &owner) != 0 ? owner : nil
    }

    /// The owners of the streams still open (to release when the connection goes).
    public func owners() -> [UInt64] {
        var owners = [UInt64](repeating: 0, count: Int(ceio_h2_open_streams(pointer)))
        let count = owners.withUnsafeMutableBufferPointer { ceio_h2_owners(pointer, $0.baseAddress, $0.count) }
        return Array(owners[0..<count])
    }

    /// The owner of an open stream (0: none yet, or the stream is gone).
    @inlinable
    public func owner(of stream: Int32) -> UInt64 { ceio_h2_stream_owner(pointer, stream) }

    /// Streams open (accepted and not yet closed).
    @inlinable
    public var openStreams: Int { ceio_h2_open_streams(pointer) }
}
