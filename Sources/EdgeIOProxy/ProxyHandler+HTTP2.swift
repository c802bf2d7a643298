import EdgeIO
import EdgeRules

/// What a loop's HTTP/2 clients share, made with its first one: the session event sink, the
/// request-head collector, the HTTP/1.1 head made from a stream, and a response head's fields
/// laid out for nghttp2.
final class HTTP2Storage {
    let sink = HTTP2EventSink()
    var collector: HTTP2HeadCollector
    /// The HTTP/1.1 head made from a stream's fields (what the policy decides on).
    let request: UnsafeMutableRawPointer
    /// A response head's names and values (lower-case names), and their spans, 4 per field.
    let fieldBytes: UnsafeMutableRawPointer
    let spans: UnsafeMutablePointer<UInt32>
    let capacity: Int

    init(capacity: Int) {
        self.capacity = capacity
        collector = HTTP2HeadCollector(capacity: capacity)
        request = .allocate(byteCount: capacity, alignment: 16)
        fieldBytes = .allocate(byteCount: capacity, alignment: 16)
        spans = .allocate(capacity: 4 * HTTP2ServerSession.maxResponseFields)
    }

    deinit {
        collector.deallocate()
        request.deallocate()
        fieldBytes.deallocate()
        spans.deallocate()
    }
}

/// HTTP/2 clients (ALPN `h2`): one nghttp2 session per connection, each stream an exchange
/// of the same proxy path as an HTTP/1.1 request. A stream's head becomes an HTTP/1.1 head
/// (``HTTP2HeadCollector``) that the policy decides on exactly as on any other request; the
/// forwarded request and the upstream's response are HTTP/1.1 on an upstream connection of
/// the same pools. The stream's exchange lives on that upstream connection's entry
/// (``Entry/stream``, ``ProxyFlag/http2Stream``): no record per stream besides it, and the
/// session names each stream's entry (its owner) in the events it reports.
///
/// Backpressure both ways: a stream holding more than 64 KiB of response body pauses its
/// upstream until the client takes it (nghttp2's flow control and the socket), and request
/// body bytes an upstream does not take pause the client's reading.
extension ProxyHandler {
    static var http2OutputLimit: Int { 64 * 1024 }

    /// The HTTP/2 error code for a stream the proxy gives up on after its response started.
    static var http2InternalError: UInt32 { 2 }

    /// The owner a session reports for a stream served by upstream entry `upstream` (never 0).
    static func owner(_ upstream: ConnectionID) -> UInt64 {
        UInt64(upstream.generation) << 32 | UInt64(upstream.index + 1)
    }

    /// The entry that serves `stream` of `client`, from the owner its session reported.
    func streamEntry(_ owner: UInt64, stream: Int32, client: ConnectionID) -> Int? {
        guard owner != 0 else { return nil }
        let index = Int(truncatingIfNeeded: owner & 0xffff_ffff) - 1
        guard index >= 0, index < entries.count, entries[index].generation == UInt32(truncatingIfNeeded: owner >> 32),
            entries[index].role == .upstream, entries[index].flags & Flag.http2Stream != 0,
            entries[index].stream == stream, entries[index].peer == client
        else { return nil }
        return index
    }

    // MARK: - The client connection

    mutating func acceptedHTTP2(_ index: Int, _ client: ConnectionID, io: inout LoopIO) {
        if storage.http2 == nil { storage.http2 = HTTP2Storage(capacity: headCapacity) }
        guard
            let session = HTTP2ServerSession(
                sink: storage.http2!.sink, settings: configuration.http2Settings, limits: configuration.http2Limits)
        else {
            io.abort(client)
            return
        }
        while sessions.count <= index { sessions.append(nil) }
        sessions[index] = session
        entries[index].flags |= Flag.http2
        pumpHTTP2(index, client, io: &io)  // our SETTINGS
    }

    mutating func clientReceivedHTTP2(_ input: UnsafeRawBufferPointer, _ index: Int, _ client: ConnectionID, io: inout LoopIO)
        -> Int
    {
        guard let session = sessions[index] else { return input.count }
        let healthy = session.receive(input, sink: storage.http2!.sink)
        handleHTTP2Events(index, client, session, io: &io)
        guard healthy else {
            // A connection error: the GOAWAY the session queued goes out, then the connection
            // closes (its streams end in closedHTTP2).
            _ = session.flush(to: &io, connection: client, limit: .max)
            storage.http2!.sink.reset()
            entries[index].flags |= Flag.closing
            io.close(client)
            return input.count
        }
        pumpHTTP2(index, client, io: &io)
        return input.count
    }

    /// Acts on what the session recorded (after a receive, or a flush: a stream closes when
    /// its last frame is sent), then forgets it. Sends nothing itself (``pumpHTTP2(_:_:io:)``
    /// does, after).
    mutating func handleHTTP2Events(_ index: Int, _ client: ConnectionID, _ session: HTTP2ServerSession, io: inout LoopIO) {
        let h2 = storage.http2!
        if !partialHeads.isEmpty, let saved = partialHeads.removeValue(forKey: index) { h2.collector.restore(saved) }
        let sink = h2.sink
        let count = sink.count
        var i = 0
        while i < count {
            let event = sink[i]
            switch event.kind {
            case .streamOpened:
                h2.collector.begin(stream: event.streamID)
            case .header:
                // (Trailers arrive outside a head: not forwarded.)
                if h2.collector.active && h2.collector.stream == event.streamID {
                    h2.collector.add(name: event.first, value: event.second)
                }
            case .headersComplete:
                guard h2.collector.active && h2.collector.stream == event.streamID else { break }
                h2.collector.active = false
                let ends = i + 1 < count && sink[i + 1].kind == .requestComplete && sink[i + 1].streamID == event.streamID
                if ends { i += 1 }
                startStream(index, client, session, stream: event.streamID, bodyFollows: !ends, io: &io)
            case .data:
                // (The owner now, not at recording: a stream's head and body may come in one read.)
                let owner = session.owner(of: event.streamID)
                if let upstream = streamEntry(owner, stream: event.streamID, client: client) {
                    streamRequestData(event.first, upstream, index, client, session, io: &io)
                } else if let wait = Self.waitID(ofOwner: owner) {
                    waitingStreamData(event.first, wait, index, client, io: &io)
                }
            case .requestComplete:
                let owner = session.owner(of: event.streamID)
                if let upstream = streamEntry(owner, stream: event.streamID, client: client) {
                    streamRequestComplete(upstream, io: &io)
                } else if let wait = Self.waitID(ofOwner: owner) {
                    streamWaits[wait]?.bodyComplete = true
                }
            case .streamClosed:
                if h2.collector.active && h2.collector.stream == event.streamID { h2.collector.active = false }
                if let file = Self.fileID(ofOwner: event.owner) { releaseStreamFile(file) }
                if let wait = Self.waitID(ofOwner: event.owner) { abandonStreamWait(wait, io: &io) }
                if let upstream = streamEntry(event.owner, stream: event.streamID, client: client) {
                    // Closed before its response ended: reset by the client (or by the send
                    // deadline's sweep). The upstream connection is in an unknown state.
                    let status = entries[upstream].status == 0 ? 499 : Int(entries[upstream].status)
                    endStream(upstream, client, status: status)
                    abortStream(upstream, io: &io)
                }
            }
            i += 1
        }
        if h2.collector.active {
            // A read ended inside a head: kept for this client's next read.
            partialHeads[index] = h2.collector.save()
            h2.collector.active = false
        }
        sink.reset()
    }

    /// Moves the session's frames to the socket (no faster than it takes them), acts on what
    /// that closed, reads again the upstreams whose streams drained, closes the connection
    /// when the session is done (or drained), and keeps the client's timer: the idle timeout
    /// while no stream is open, else the send deadline's sweep.
    mutating func pumpHTTP2(_ index: Int, _ client: ConnectionID, io: inout LoopIO) {
        guard let session = sessions[index], entries[index].flags & Flag.closing == 0 else { return }
        let sink = storage.http2!.sink
        var result: HTTP2ServerSession.FlushResult
        // Again while drained file streams appended more (their bytes wait for a flush).
        var filesAppended = true
        while filesAppended {
            filesAppended = false
            repeat {
                result = session.flush(to: &io, connection: client, limit: Self.http2OutputLimit)
                guard sink.count > 0 else { break }
                handleHTTP2Events(index, client, session, io: &io)
            } while result == .flushed
            if result == .failed {
                entries[index].flags |= Flag.closing
                io.abort(client)
                return
            }
            guard entries[index].flags & Flag.streamsPaused != 0 else { break }
            entries[index].flags &= ~Flag.streamsPaused
            while let owner = session.nextDrained() {
                if let file = Self.fileID(ofOwner: owner) {
                    if pumpStreamFile(file) { filesAppended = true }
                    continue
                }
                let upstreamIndex = Int(truncatingIfNeeded: owner & 0xffff_ffff) - 1
                guard upstreamIndex >= 0, upstreamIndex < entries.count,
                    entries[upstreamIndex].generation == UInt32(truncatingIfNeeded: owner >> 32),
                    entries[upstreamIndex].flags & Flag.upstreamPaused != 0
                else { continue }
                entries[upstreamIndex].flags &= ~Flag.upstreamPaused
                io.resumeReading(ConnectionID(index: UInt32(upstreamIndex), generation: entries[upstreamIndex].generation))
            }
            // Streams still over the mark keep the flag (they were paused again, or not drained).
            if session.responsesInFlight > 0 { entries[index].flags |= Flag.streamsPaused }
        }
        let open = session.openStreams
        if !session.wantsIO || (draining && open == 0) {
            entries[index].flags |= Flag.closing
            io.close(client)
            return
        }
        if open == 0 {
            armTimer(index, .idle, after: configuration.clientIdleTimeout, io: &io)
        } else if entries[index].timer == nil || entries[index].timerKind != .clientSend {
            armTimer(index, .clientSend, after: configuration.clientSendTimeout, io: &io)
        }
    }

    mutating func writableHTTP2(_ index: Int, _ connection: ConnectionID, io: inout LoopIO) {
        if entries[index].flags & Flag.http2 != 0 {
            pumpHTTP2(index, connection, io: &io)
            return
        }
        // A stream's upstream took the request body it was given: the client is read again.
        let client = entries[index].peer
        guard isCurrent(client), io.pendingOutputBytes(connection) == 0 else { return }
        let clientIndex = Int(client.index)
        if entries[clientIndex].flags & Flag.clientPaused != 0 {
            entries[clientIndex].flags &= ~Flag.clientPaused
            io.resumeReading(client)
        }
        if entries[index].timerKind == .upstreamSend { armStreamTimer(index, io: &io) }
    }

    /// The client connection closed: its streams' exchanges end (499 for those whose response
    /// had not ended) and their upstream connections are dropped.
    mutating func closedHTTP2(_ entry: Entry, _ client: ConnectionID, io: inout LoopIO) {
        let index = Int(client.index)
        partialHeads.removeValue(forKey: index)
        if index < sessions.count, let session = sessions[index] {
            sessions[index] = nil
            for owner in session.owners() {
                if let file = Self.fileID(ofOwner: owner) {
                    releaseStreamFile(file)
                    continue
                }
                if let wait = Self.waitID(ofOwner: owner) {
                    abandonStreamWait(wait, io: &io)
                    continue
                }
                let upstreamIndex = Int(truncatingIfNeeded: owner & 0xffff_ffff) - 1
                guard upstreamIndex >= 0, upstreamIndex < entries.count,
                    entries[upstreamIndex].generation == UInt32(truncatingIfNeeded: owner >> 32),
                    entries[upstreamIndex].flags & Flag.http2Stream != 0, entries[upstreamIndex].peer == client
                else { continue }
                let status = entries[upstreamIndex].status == 0 ? 499 : Int(entries[upstreamIndex].status)
                if entries[upstreamIndex].flags & Flag.exchangeOpen != 0 {
                    policy.exchangeEnded(
                        client: context(entry, client), tag: entries[upstreamIndex].tag, status: status,
                        bodyBytes: entries[upstreamIndex].bodyBytes, requestBytes: Self.streamRequestBytes(entries[upstreamIndex]))
                }
                entries[upstreamIndex].flags &= ~Flag.exchangeOpen
                abortStream(upstreamIndex, io: &io)
            }
            session.free()
        }
        policy.connectionClosed(context(entry, client))
    }

    mutating func drainHTTP2(_ index: Int, _ client: ConnectionID, io: inout LoopIO) {
        guard let session = sessions[index] else { return }
        // GOAWAY: the streams so far finish, no new ones; the connection closes after them.
        session.goAway()
        pumpHTTP2(index, client, io: &io)
    }

    mutating func timerFiredHTTP2(_ index: Int, _ connection: ConnectionID, io: inout LoopIO) {
        if entries[index].flags & Flag.http2 != 0 {
            guard let session = sessions[index] else { return }
            if entries[index].timerKind == .idle && session.openStreams == 0 {
                // Idle: GOAWAY, then the close.
                session.goAway()
                _ = session.flush(to: &io, connection: connection, limit: .max)
                storage.http2!.sink.reset()
                entries[index].flags |= Flag.closing
                io.close(connection)
                return
            }
            // The send deadline's sweep: streams whose response made no progress are reset.
            _ = session.resetStalledStreams()
            pumpHTTP2(index, connection, io: &io)
            return
        }
        // A stream's timer, on its upstream entry.
        let client = entries[index].peer
        guard isCurrent(client), let session = sessions[Int(client.index)] else {
            io.abort(connection)
            return
        }
        let clientIndex = Int(client.index)
        let entry = entries[index]
        switch entry.timerKind {
        case .connect:
            // Not connected in time: the retry rule may send it to the next server.
            detachStream(index, io: &io)
            io.abort(connection)
            streamRetryOrFail(entry, client, session, failure: .connectTimedOut, io: &io)
        case .clientBody:
            // The client stopped sending the body: 408, and the upstream got part of a request.
            abortStream(index, io: &io)
            answerStream(
                408, stream: entry.stream, tag: entry.tag, isHEAD: false, requestBytes: Self.streamRequestBytes(entry), clientIndex,
                client, session, io: &io)
        default:
            // The upstream did not take the request or answer in time: 504 (a strike).
            policy.upstreamFailed(tag: entry.tag)
            abortStream(index, io: &io)
            answerStream(
                504, stream: entry.stream, tag: entry.tag, isHEAD: false, requestBytes: Self.streamRequestBytes(entry), clientIndex,
                client, session, io: &io)
        }
        pumpHTTP2(clientIndex, client, io: &io)
    }

    // MARK: - A stream's request

    mutating func startStream(
        _ clientIndex: Int, _ client: ConnectionID, _ session: HTTP2ServerSession, stream: Int32, bodyFollows: Bool,
        io: inout LoopIO
    ) {
        requests += 1
        let h2 = storage.http2!
        let overflowed = h2.collector.overflowed
        guard let length = h2.collector.write(into: h2.request, capacity: h2.capacity, bodyFollows: bodyFollows),
            let head = HTTPRequestHead.parse(UnsafeRawBufferPointer(start: h2.request, count: length), from: 0),
            !head.malformed
        else {
            answerStream(overflowed ? 431 : 400, stream: stream, tag: nil, isHEAD: false, clientIndex, client, session, io: &io)
            return
        }
        decideStream(
            head, UnsafeRawBufferPointer(start: h2.request, count: length), stream: stream, bodyFollows: bodyFollows, waited: nil,
            clientIndex, client, session, io: &io)
    }

    /// Asks the policy about a stream's request (`input` holds its HTTP/1.1 head) and acts on
    /// the decision. `waited`: the stream's wait that ended (its body received meanwhile goes
    /// upstream after the head).
    mutating func decideStream(
        _ head: HTTPRequestHead, _ input: UnsafeRawBufferPointer, stream: Int32, bodyFollows: Bool, waited: StreamWait?,
        _ clientIndex: Int, _ client: ConnectionID, _ session: HTTP2ServerSession, io: inout LoopIO
    ) {
        let clientContext = context(entries[clientIndex], client, stream: stream)
        var answerWriter = HeadWriter(base: headBuffer, capacity: headCapacity)
        switch policy.decide(head, in: input, client: clientContext, answer: &answerWriter) {
        case .respond(let status, _):
            answerStream(status, stream: stream, tag: nil, isHEAD: head.isHEAD, clientIndex, client, session, io: &io)
        case .answered:
            if answerWriter.overflowed
                || !submitHTTP1Response(
                    UnsafeRawBufferPointer(start: headBuffer, count: answerWriter.count), stream: stream, isHEAD: head.isHEAD,
                    session)
            {
                answerStream(500, stream: stream, tag: nil, isHEAD: head.isHEAD, clientIndex, client, session, io: &io)
            }
        case .file(let descriptor, let offset, let count, _):
            if answerWriter.overflowed {
                Self.closeFile(descriptor)
                answerStream(500, stream: stream, tag: nil, isHEAD: head.isHEAD, clientIndex, client, session, io: &io)
            } else {
                startStreamFile(
                    head: UnsafeRawBufferPointer(start: headBuffer, count: answerWriter.count), descriptor: descriptor,
                    offset: offset, count: count, stream: stream, clientIndex, client, session, io: &io)
            }
        case .decideLater(let milliseconds):
            waitStream(
                input, stream: stream, bodyFollows: bodyFollows, forward: nil, milliseconds: milliseconds, carrying: waited,
                clientIndex, client, session, io: &io)
        case .forwardAfter(let milliseconds, let upstreamIndex, let tag):
            waitStream(
                input, stream: stream, bodyFollows: bodyFollows, forward: (upstreamIndex, tag), milliseconds: milliseconds,
                carrying: waited, clientIndex, client, session, io: &io)
        case .forward(let upstreamIndex, let tag):
            forwardStream(
                head, input, upstreamIndex: upstreamIndex, tag: tag, stream: stream, bodyFollows: bodyFollows, clientIndex,
                client, session, io: &io)
            if let waited { sendWaitedBody(waited, clientIndex, client, session, io: &io) }
        }
    }

    mutating func forwardStream(
        _ head: HTTPRequestHead, _ input: UnsafeRawBufferPointer, upstreamIndex: Int, tag: UInt64, stream: Int32,
        bodyFollows: Bool, _ clientIndex: Int, _ client: ConnectionID, _ session: HTTP2ServerSession, io: inout LoopIO
    ) {
        if head.contentLength > configuration.maxRequestBody {
            answerStream(413, stream: stream, tag: tag, isHEAD: head.isHEAD, clientIndex, client, session, io: &io)
            return
        }
        var writer = HeadWriter(base: headBuffer, capacity: headCapacity)
        let rewroteLine = policy.writeRequestLine(head, in: input, tag: tag, into: &writer)
        Self.copyHead(
            input, from: head.start, to: head.start + head.length, keepStartLine: !rewroteLine, into: &writer,
            policy: &policy, drop: { $0.dropsRequestField($1) })
        policy.writeRequestFields(head, in: input, client: context(entries[clientIndex], client), tag: tag, into: &writer)
        writer.append("\r\n")
        if writer.overflowed {
            answerStream(431, stream: stream, tag: tag, isHEAD: head.isHEAD, clientIndex, client, session, io: &io)
            return
        }
        guard let upstream = upstreamConnection(upstreamIndex, io: &io) else {
            badGateway += 1
            answerStream(502, stream: stream, tag: tag, isHEAD: head.isHEAD, clientIndex, client, session, io: &io)
            return
        }
        let slot = Int(upstream.index)
        var flags = entries[slot].flags | Flag.http2Stream | Flag.exchangeOpen
        if head.isHEAD { flags |= Flag.headRequest }
        if Self.isIdempotent(input, head) { flags |= Flag.idempotent }
        if head.chunked { flags |= Flag.requestChunked }
        entries[slot].flags = flags
        entries[slot].peer = client
        entries[slot].stream = stream
        entries[slot].tag = tag
        entries[slot].status = 0
        entries[slot].bodyBytes = 0
        entries[slot].request = BodyFraming(kind: .none)
        entries[slot].phase = bodyFollows ? .sendingBody : .awaitingResponse
        session.setOwner(Self.owner(upstream), of: stream)
        // A bodiless request is kept until the first response byte, for a retry.
        if !bodyFollows { keepForReplay(slot, count: writer.count) }
        io.write(UnsafeRawBufferPointer(start: headBuffer, count: writer.count), on: upstream)
        armStreamTimer(slot, io: &io)
    }

    mutating func streamRequestData(
        _ bytes: UnsafeRawBufferPointer, _ slot: Int, _ clientIndex: Int, _ client: ConnectionID,
        _ session: HTTP2ServerSession, io: inout LoopIO
    ) {
        guard entries[slot].phase == .sendingBody, !bytes.isEmpty else { return }
        let upstream = ConnectionID(index: UInt32(slot), generation: entries[slot].generation)
        // Until the response starts, `bodyBytes` counts the request body (the size limit).
        entries[slot].bodyBytes += bytes.count
        if entries[slot].bodyBytes > configuration.maxRequestBody {
            let entry = entries[slot]
            abortStream(slot, io: &io)
            answerStream(
                413, stream: entry.stream, tag: entry.tag, isHEAD: false, requestBytes: Self.streamRequestBytes(entry), clientIndex,
                client, session, io: &io)
            return
        }
        if entries[slot].flags & Flag.requestChunked != 0 {
            writeChunk(bytes, to: upstream, io: &io)
        } else {
            io.write(bytes, on: upstream)
        }
        if io.pendingOutputBytes(upstream) > 0 && entries[clientIndex].flags & Flag.clientPaused == 0 {
            // The upstream is not taking the body: stop reading the client (all its streams).
            entries[clientIndex].flags |= Flag.clientPaused
            io.pauseReading(client)
        }
        armStreamTimer(slot, io: &io)
    }

    /// Reads a client paused for a backed-up upstream again.
    mutating func resumeClient(_ clientIndex: Int, _ client: ConnectionID, io: inout LoopIO) {
        guard entries[clientIndex].flags & Flag.clientPaused != 0 else { return }
        entries[clientIndex].flags &= ~Flag.clientPaused
        io.resumeReading(client)
    }

    mutating func streamRequestComplete(_ slot: Int, io: inout LoopIO) {
        guard entries[slot].phase == .sendingBody else { return }
        if entries[slot].flags & Flag.requestChunked != 0 {
            io.write(
                UnsafeRawBufferPointer(start: Self.lastChunk.utf8Start, count: 5),
                on: ConnectionID(index: UInt32(slot), generation: entries[slot].generation))
        }
        entries[slot].phase = .awaitingResponse
        armStreamTimer(slot, io: &io)
    }

    // MARK: - A stream's response

    mutating func streamUpstreamReceived(
        _ input: UnsafeRawBufferPointer, _ slot: Int, _ upstream: ConnectionID, io: inout LoopIO
    ) -> Int {
        let client = entries[slot].peer
        guard isCurrent(client), let session = sessions[Int(client.index)] else {
            abortStream(slot, io: &io)
            return input.count
        }
        let clientIndex = Int(client.index)
        releaseReplay(slot)  // the upstream answers: the request can no longer be replayed
        var offset = 0
        if entries[slot].phase != .relayingBody {
            while true {
                guard let head = HTTPResponseHead.parse(input, from: offset) else { return offset }
                if head.malformed || head.status == 101 {
                    failStream(slot, 502, clientIndex, client, session, io: &io)
                    pumpHTTP2(clientIndex, client, io: &io)
                    return input.count
                }
                if head.status >= 100 && head.status < 200 {
                    offset += head.length  // interim responses are not relayed over HTTP/2
                    continue
                }
                guard startStreamRelay(head, input, slot, clientIndex, client, session, io: &io) else {
                    pumpHTTP2(clientIndex, client, io: &io)
                    return input.count
                }
                offset += head.length
                break
            }
        }
        if entries[slot].flags & Flag.http2Stream != 0 {
            relayStreamBody(input, from: offset, slot, upstream, clientIndex, client, session, io: &io)
        }
        pumpHTTP2(clientIndex, client, io: &io)
        return input.count
    }

    /// Sends the response head on the stream. - Returns: `false` when the exchange ended instead.
    mutating func startStreamRelay(
        _ head: HTTPResponseHead, _ input: UnsafeRawBufferPointer, _ slot: Int, _ clientIndex: Int, _ client: ConnectionID,
        _ session: HTTP2ServerSession, io: inout LoopIO
    ) -> Bool {
        let flags = entries[slot].flags
        let framing = Self.responseFraming(head, headRequest: flags & Flag.headRequest != 0)
        // The connection is kept when the upstream keeps it and the request went whole.
        if head.upstreamKeepsAlive && framing.kind != .untilClose && entries[slot].phase != .sendingBody {
            entries[slot].flags |= Flag.upstreamReusable
        }
        entries[slot].response = framing
        entries[slot].status = UInt16(head.status)
        entries[slot].phase = .relayingBody
        // From here `bodyBytes` counts the response; the request's count is kept for the log.
        entries[slot].request = BodyFraming(completedBytes: entries[slot].bodyBytes)
        entries[slot].bodyBytes = 0
        cancelTimer(slot, io: &io)
        var writer = HeadWriter(base: headBuffer, capacity: headCapacity)
        let tag = entries[slot].tag
        let gzip = startsGzip(head, input, framing: framing, slot: slot, tag: tag)
        if gzip { entries[slot].flags |= Flag.gzip }
        Self.copyHead(
            input, from: head.start, to: head.start + head.length, connectionNamesFields: head.connectionNamesFields,
            into: &writer, policy: &policy, drop: { (gzip && Self.gzipDrops($1)) || $0.dropsResponseField($1, tag: tag) })
        policy.writeResponseFields(status: head.status, client: context(entries[clientIndex], client), tag: tag, into: &writer)
        if gzip { Self.writeGzipFields(input, head: head, into: &writer) }
        writer.append("\r\n")
        guard !writer.overflowed,
            submitHead(
                UnsafeRawBufferPointer(start: headBuffer, count: writer.count), stream: entries[slot].stream,
                withBody: framing.kind != .none, session)
        else {
            failStream(slot, 502, clientIndex, client, session, io: &io)
            return false
        }
        return true
    }

    mutating func relayStreamBody(
        _ input: UnsafeRawBufferPointer, from offset: Int, _ slot: Int, _ upstream: ConnectionID, _ clientIndex: Int,
        _ client: ConnectionID, _ session: HTTP2ServerSession, io: inout LoopIO
    ) {
        let stream = entries[slot].stream
        var overHighWater = false
        var relayed = 0
        let outcome = appendStreamPayload(input, from: offset, slot, session, relayed: &relayed, overHighWater: &overHighWater)
        entries[slot].bodyBytes += relayed
        switch outcome {
        case .malformed:
            // The upstream's chunked coding broke mid-body: the stream is reset.
            session.resetStream(stream, errorCode: Self.http2InternalError)
            endStream(slot, client, status: Int(entries[slot].status))
            abortStream(slot, io: &io)
        case .body(let used, let complete):
            if complete {
                session.end(stream)
                finishStream(slot, upstream, client, reusable: offset + used == input.count, io: &io)
            } else if overHighWater && entries[slot].flags & Flag.upstreamPaused == 0 {
                entries[slot].flags |= Flag.upstreamPaused
                entries[clientIndex].flags |= Flag.streamsPaused
                io.pauseReading(upstream)
            }
        }
    }

    /// The response is complete: the exchange ends, the upstream connection goes back to its
    /// pool (or closes), and the stream is no longer the entry's.
    mutating func finishStream(_ slot: Int, _ upstream: ConnectionID, _ client: ConnectionID, reusable: Bool, io: inout LoopIO) {
        endStream(slot, client, status: Int(entries[slot].status))
        let flags = entries[slot].flags
        cancelTimer(slot, io: &io)
        detachStream(slot, io: &io)
        if flags & Flag.upstreamPaused != 0 { io.resumeReading(upstream) }
        if reusable && flags & Flag.upstreamReusable != 0 && !draining
            && pools[Int(entries[slot].upstream)].park(upstream, now: io.now)
        {
            entries[slot].flags = Flag.pooled
            if sweepTimer == nil && configuration.upstreamIdleTimeout > 0 {
                sweepTimer = io.armTimer(at: io.now + Self.sweepInterval(configuration), payload: Self.sweepPayload)
            }
        } else {
            entries[slot].flags = 0
            io.close(upstream)
        }
    }

    /// The upstream connection of a stream closed (or failed to connect).
    mutating func streamUpstreamClosed(_ entry: Entry, _ upstream: ConnectionID, reason: CloseReason, io: inout LoopIO) {
        let client = entry.peer
        guard isCurrent(client), let session = sessions[Int(client.index)] else {
            if entry.replay >= 0 { storage.replays.release(entry.replay) }
            return
        }
        let clientIndex = Int(client.index)
        switch entry.phase {
        case .relayingBody:
            if entry.replay >= 0 { storage.replays.release(entry.replay) }
            if entry.response.kind == .untilClose && entry.flags & Flag.upstreamEnded != 0 {
                if entry.flags & Flag.gzip != 0 { finishGzipStream(Int(upstream.index), stream: entry.stream, session) }
                session.end(entry.stream)  // a body delimited by the close: complete
            } else {
                session.resetStream(entry.stream, errorCode: Self.http2InternalError)
            }
            session.setOwner(0, of: entry.stream)
            if entry.flags & Flag.exchangeOpen != 0 {
                policy.exchangeEnded(
                    client: context(entries[clientIndex], client), tag: entry.tag, status: Int(entry.status),
                    bodyBytes: entry.bodyBytes, requestBytes: Self.streamRequestBytes(entry))
            }
        case .sendingBody, .awaitingResponse:
            streamRetryOrFail(entry, client, session, failure: Self.attemptFailure(entry, reason), io: &io)
        case .idle, .tunnel:  // (streams never tunnel: HTTP/2 has no Upgrade)
            if entry.replay >= 0 { storage.replays.release(entry.replay) }
        }
        pumpHTTP2(clientIndex, client, io: &io)
    }

    /// A stream's attempt ended before any response byte: as ``retryOrFail(_:_:failure:upstreamIndex:io:)``
    /// decides for HTTP/1.1, the kept request goes to the same server again (a stale pooled
    /// connection) or the next one, or the stream gets 502. `entry` is the attempt's entry as
    /// it was (its slot already let go); its kept request is used or released here.
    mutating func streamRetryOrFail(
        _ entry: Entry, _ client: ConnectionID, _ session: HTTP2ServerSession, failure: UpstreamRetryPolicy.Failure,
        io: inout LoopIO
    ) {
        let kept = entry.replay >= 0
        let decision = UpstreamRetryPolicy.decide(
            failure,
            .init(
                idempotent: entry.flags & Flag.idempotent != 0, replayable: kept, responseStarted: false,
                staleRetryUsed: entry.flags & Flag.staleRetried != 0))
        var target: Int?
        var staleRetry = false
        switch decision {
        case .reconnect:
            target = Int(entry.upstream)
            staleRetry = true
        case .nextServer(let strike):
            if kept {
                target = policy.nextUpstream(tag: entry.tag, afterFailure: strike)
            } else if strike {
                policy.upstreamFailed(tag: entry.tag)
            }
        case .fail(_, let strike), .broken(let strike):
            if strike { policy.upstreamFailed(tag: entry.tag) }
        }
        if let target, let upstream = connectUpstream(target, io: &io) {
            replays += 1
            let slot = Int(upstream.index)
            let carried = Flag.http2Stream | Flag.exchangeOpen | Flag.headRequest | Flag.idempotent | Flag.requestChunked
                | Flag.staleRetried
            entries[slot].flags |= entry.flags & carried | (staleRetry ? Flag.staleRetried : 0)
            entries[slot].peer = client
            entries[slot].stream = entry.stream
            entries[slot].tag = entry.tag
            entries[slot].phase = entry.phase
            entries[slot].replay = entry.replay
            entries[slot].replayLength = entry.replayLength
            session.setOwner(Self.owner(upstream), of: entry.stream)
            io.write(
                UnsafeRawBufferPointer(start: storage.replays.base(entry.replay), count: Int(entry.replayLength)), on: upstream)
            armStreamTimer(slot, io: &io)
            return
        }
        if kept { storage.replays.release(entry.replay) }
        badGateway += 1
        answerStream(
            502, stream: entry.stream, tag: entry.flags & Flag.exchangeOpen != 0 ? entry.tag : nil,
            isHEAD: entry.flags & Flag.headRequest != 0, requestBytes: Self.streamRequestBytes(entry), Int(client.index), client,
            session, io: &io)
    }

    // MARK: - Ending a stream's exchange

    /// A stream's request body bytes so far: counted in `bodyBytes` until the response starts,
    /// kept in the entry's request framing from then on.
    static func streamRequestBytes(_ entry: Entry) -> Int {
        entry.phase == .relayingBody ? entry.request.receivedBytes : entry.bodyBytes
    }

    /// Tells the policy that the stream's exchange ended (once).
    mutating func endStream(_ slot: Int, _ client: ConnectionID, status: Int) {
        guard entries[slot].flags & Flag.exchangeOpen != 0 else { return }
        entries[slot].flags &= ~Flag.exchangeOpen
        policy.exchangeEnded(
            client: context(entries[Int(client.index)], client), tag: entries[slot].tag, status: status,
            bodyBytes: entries[slot].bodyBytes, requestBytes: Self.streamRequestBytes(entries[slot]))
    }

    /// The entry no longer carries its stream (its kept request released, its timer stopped,
    /// the session told to report the stream to nobody).
    ///
    /// A client whose reading this stream's upstream may have paused is read again (a
    /// stream still backed up pauses it again at its next DATA).
    mutating func detachStream(_ slot: Int, io: inout LoopIO) {
        let client = entries[slot].peer
        if isCurrent(client), Int(client.index) < sessions.count, let session = sessions[Int(client.index)] {
            session.setOwner(0, of: entries[slot].stream)
            resumeClient(Int(client.index), client, io: &io)
        }
        releaseGzip(slot)
        entries[slot].flags &= ~(Flag.http2Stream | Flag.exchangeOpen)
        entries[slot].peer = ConnectionID(index: .max, generation: 0)
        entries[slot].stream = 0
        entries[slot].replay = -1  // (the caller holds or releases it)
    }

    /// Drops a stream's upstream connection (its state unknown) and its kept request.
    mutating func abortStream(_ slot: Int, io: inout LoopIO) {
        releaseReplay(slot)
        cancelTimer(slot, io: &io)
        detachStream(slot, io: &io)
        io.abort(ConnectionID(index: UInt32(slot), generation: entries[slot].generation))
    }

    /// The upstream failed before its response head: `status` on the stream, the connection dropped.
    mutating func failStream(
        _ slot: Int, _ status: Int, _ clientIndex: Int, _ client: ConnectionID, _ session: HTTP2ServerSession,
        io: inout LoopIO
    ) {
        let entry = entries[slot]
        badGateway += 1
        abortStream(slot, io: &io)
        answerStream(
            status, stream: entry.stream, tag: entry.flags & Flag.exchangeOpen != 0 ? entry.tag : nil,
            isHEAD: entry.flags & Flag.headRequest != 0, requestBytes: Self.streamRequestBytes(entry), clientIndex, client,
            session, io: &io)
    }

    /// Answers a stream locally with `status` (the policy's envelope, else the short plain
    /// answer); with `tag`, the forwarded exchange ends with it.
    mutating func answerStream(
        _ status: Int, stream: Int32, tag: UInt64?, isHEAD: Bool, requestBytes: Int = 0, _ clientIndex: Int,
        _ client: ConnectionID, _ session: HTTP2ServerSession, io: inout LoopIO
    ) {
        let clientContext = context(entries[clientIndex], client)
        var writer = HeadWriter(base: headBuffer, capacity: headCapacity)
        let answer: UnsafeRawBufferPointer
        if policy.writeAnswer(status: status, tag: tag, client: clientContext, close: false, http10: false, into: &writer),
            !writer.overflowed
        {
            answer = UnsafeRawBufferPointer(start: headBuffer, count: writer.count)
        } else {
            answer = UnsafeRawBufferPointer(answers[2 * Self.answerPosition(status)])
        }
        if !submitHTTP1Response(answer, stream: stream, isHEAD: isHEAD, session) {
            session.resetStream(stream, errorCode: Self.http2InternalError)
        }
        session.setOwner(0, of: stream)
        if let tag {
            policy.exchangeEnded(client: clientContext, tag: tag, status: status, bodyBytes: 0, requestBytes: requestBytes)
        }
    }

    // MARK: - HTTP/1.1 heads as HTTP/2 responses

    /// Submits a whole HTTP/1.1 response (head and `Content-Length` body) on a stream.
    func submitHTTP1Response(_ bytes: UnsafeRawBufferPointer, stream: Int32, isHEAD: Bool, _ session: HTTP2ServerSession) -> Bool {
        guard let head = HTTPResponseHead.parse(bytes, from: 0), !head.malformed else { return false }
        let body = UnsafeRawBufferPointer(rebasing: bytes[head.length...])
        let sendsBody = !isHEAD && !body.isEmpty
        guard submitHead(UnsafeRawBufferPointer(rebasing: bytes[0..<head.length]), stream: stream, withBody: sendsBody, session)
        else { return false }
        if sendsBody {
            _ = session.append(body, to: stream)
            session.end(stream)
        }
        return true
    }

    /// Submits an HTTP/1.1 response head (status line, fields, blank line) as an HTTP/2 one:
    /// `:status`, then each field with its name in lower case, minus the fields HTTP/2 forbids
    /// (connection-specific ones, RFC 9113 §8.2.2).
    func submitHead(_ bytes: UnsafeRawBufferPointer, stream: Int32, withBody: Bool, _ session: HTTP2ServerSession) -> Bool {
        guard let head = HTTPResponseHead.parse(bytes, from: 0), !head.malformed else { return false }
        let h2 = storage.http2!
        let out = h2.fieldBytes
        let spans = h2.spans
        var used = 0
        var count = 0
        var fits = true
        func add(name: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer, lowercase: Bool) {
            guard fits, count < HTTP2ServerSession.maxResponseFields, used + name.count + value.count <= h2.capacity else {
                fits = false
                return
            }
            spans[4 * count] = UInt32(used)
            spans[4 * count + 1] = UInt32(name.count)
            for i in 0..<name.count {
                let c = name[i]
                out.storeBytes(of: lowercase && c >= 65 && c <= 90 ? c | 0x20 : c, toByteOffset: used + i, as: UInt8.self)
            }
            used += name.count
            spans[4 * count + 2] = UInt32(used)
            spans[4 * count + 3] = UInt32(value.count)
            if let source = value.baseAddress { (out + used).copyMemory(from: source, byteCount: value.count) }
            used += value.count
            count += 1
        }
        let status: StaticString = ":status"
        add(
            name: UnsafeRawBufferPointer(start: status.utf8Start, count: status.utf8CodeUnitCount),
            value: UnsafeRawBufferPointer(rebasing: bytes[9..<12]), lowercase: false)
        var line = 0
        while bytes[line] != 13 { line += 1 }
        _ = HTTPScan.walkFields(bytes, from: line + 2, to: head.length - 2) { name, colon, value, valueEnd in
            let forbidden =
                HTTPScan.isHopByHop(bytes, name, colon)
                || (colon - name == 17 && HTTPScan.matches(bytes, name, colon, "transfer-encoding"))
            if !forbidden {
                add(
                    name: UnsafeRawBufferPointer(rebasing: bytes[name..<colon]),
                    value: UnsafeRawBufferPointer(rebasing: bytes[value..<valueEnd]), lowercase: true)
            }
            return fits
        }
        guard fits else { return false }
        return session.submitHead(stream: stream, base: out, spans: spans, count: count, withBody: withBody)
    }

    // MARK: - Timers

    /// A stream's timer on its upstream entry, by where the exchange stands (as
    /// ``armUpstreamTimer(_:io:)`` for HTTP/1.1): connect, the upstream taking the body, the
    /// client's next body bytes, the response head; none while the body is relayed.
    mutating func armStreamTimer(_ slot: Int, io: inout LoopIO) {
        let timeouts = policy.upstreamTimeouts(tag: entries[slot].tag)
        let fallback = configuration.upstreamTimeout
        let upstream = ConnectionID(index: UInt32(slot), generation: entries[slot].generation)
        if entries[slot].flags & Flag.connected == 0 {
            armTimer(slot, .connect, after: timeouts?.connect ?? fallback, io: &io)
        } else if io.pendingOutputBytes(upstream) > 0 {
            armTimer(slot, .upstreamSend, after: timeouts?.send ?? fallback, io: &io)
        } else if entries[slot].phase == .sendingBody {
            armTimer(slot, .clientBody, after: configuration.clientBodyTimeout, io: &io)
        } else if entries[slot].phase == .awaitingResponse {
            armTimer(slot, .response, after: timeouts?.response ?? fallback, io: &io)
        } else {
            cancelTimer(slot, io: &io)
        }
    }
}
