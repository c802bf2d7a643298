import EdgeIO

/// HTTP/2 streams whose request waits: for a `limit_req` delay (``ProxyDecision/forwardAfter(milliseconds:upstream:tag:)``)
/// or for the policy's answer from elsewhere (``ProxyDecision/decideLater(milliseconds:)``).
/// An HTTP/1.x request waits unread in its connection's buffer; a stream's bytes are gone from
/// the buffer once the session took them, so its HTTP/1.1 head is kept here (a copy: only
/// waiting requests pay it), with the body DATA that arrives meanwhile. A stream's body held
/// past 64 KiB pauses the connection's reading until the wait ends (the other streams wait
/// with it, as when an upstream does not take a body). The session names a waiting stream's
/// owner with the wait's id (``waitOwner(_:)``), so DATA, the request's end and a reset find it.
extension ProxyHandler {
    struct StreamWait {
        var client: ConnectionID
        var stream: Int32
        /// The HTTP/1.1 head made from the stream's fields.
        var head: [UInt8]
        /// Whether the request had a body when its head came.
        var bodyFollows: Bool
        /// The body received while waiting, and whether it ended.
        var body: [UInt8] = []
        var bodyComplete = false
        /// Where it goes when the wait ends (a delay), or `nil`: decided again then.
        var forward: (upstream: Int, tag: UInt64)?
        var timer: TimerID?
        /// The wait paused the connection's reading (a body over the hold limit).
        var pausedClient = false
    }

    /// The most body a waiting stream holds before its connection's reading pauses.
    static var streamWaitBodyLimit: Int { 64 * 1024 }

    /// The low half of a wait timer's payload (the high half is the wait's id); a connection
    /// slot never reaches it, and ``sweepPayload`` is the one above.
    static var streamWaitPayload: UInt64 { UInt64(UInt32.max - 1) }

    /// The owner a session reports for a waiting stream: the top bit set, the wait's id (31
    /// bits) in the upper half, 0 in the lower half (a file's owner has the top bit clear, an
    /// upstream entry's a lower half that is not 0).
    static func waitOwner(_ id: UInt32) -> UInt64 { 1 << 63 | UInt64(id) << 32 }

    static func waitID(ofOwner owner: UInt64) -> UInt32? {
        owner >> 63 == 1 && owner & 0xffff_ffff == 0 ? UInt32(truncatingIfNeeded: owner >> 32) & 0x7fff_ffff : nil
    }

    /// Keeps `head` and the stream's wait for `milliseconds` (a wait that ended and is waiting
    /// again, `carrying`, keeps the body it held).
    mutating func waitStream(
        _ head: UnsafeRawBufferPointer, stream: Int32, bodyFollows: Bool, forward: (upstream: Int, tag: UInt64)?,
        milliseconds: UInt64, carrying: StreamWait?, _ clientIndex: Int, _ client: ConnectionID, _ session: HTTP2ServerSession,
        io: inout LoopIO
    ) {
        repeat { nextStreamWait = (nextStreamWait &+ 1) & 0x7fff_ffff } while nextStreamWait == 0 || streamWaits[nextStreamWait] != nil
        let id = nextStreamWait
        var wait = carrying ?? StreamWait(client: client, stream: stream, head: [], bodyFollows: bodyFollows)
        wait.head = Array(head)
        wait.forward = forward
        wait.timer = io.armTimer(at: io.now + milliseconds, payload: UInt64(id) << 32 | Self.streamWaitPayload)
        streamWaits[id] = wait
        session.setOwner(Self.waitOwner(id), of: stream)
    }

    /// Body DATA of a waiting stream: held, and past the limit the connection's reading pauses.
    mutating func waitingStreamData(
        _ bytes: UnsafeRawBufferPointer, _ id: UInt32, _ clientIndex: Int, _ client: ConnectionID, io: inout LoopIO
    ) {
        guard streamWaits[id] != nil else { return }
        streamWaits[id]!.body.append(contentsOf: bytes)
        if streamWaits[id]!.body.count > Self.streamWaitBodyLimit && entries[clientIndex].flags & Flag.clientPaused == 0 {
            streamWaits[id]!.pausedClient = true
            entries[clientIndex].flags |= Flag.clientPaused
            io.pauseReading(client)
        }
    }

    /// The policy's answer for a waiting stream came: the stream is decided now (a delay's
    /// wait is not the policy's and keeps its time).
    mutating func streamDecisionArrived(_ client: ConnectionID, stream: Int32, io: inout LoopIO) {
        guard let session = sessions[Int(client.index)], let id = Self.waitID(ofOwner: session.owner(of: stream)),
            streamWaits[id]?.forward == nil
        else { return }
        streamWaitEnded(id, io: &io)
    }

    /// The wait is over (its time, or the policy's answer): the stream goes upstream with what
    /// it held, or is decided again.
    mutating func streamWaitEnded(_ id: UInt32, io: inout LoopIO) {
        guard let wait = streamWaits.removeValue(forKey: id) else { return }
        if let timer = wait.timer { _ = io.cancelTimer(timer) }
        let client = wait.client
        let clientIndex = Int(client.index)
        guard isCurrent(client), clientIndex < sessions.count, let session = sessions[clientIndex] else { return }
        session.setOwner(0, of: wait.stream)
        wait.head.withUnsafeBytes { input in
            guard let head = HTTPRequestHead.parse(input, from: 0) else { return }
            if let forward = wait.forward {
                forwardStream(
                    head, input, upstreamIndex: forward.upstream, tag: forward.tag, stream: wait.stream, bodyFollows: wait.bodyFollows,
                    clientIndex, client, session, io: &io)
                sendWaitedBody(wait, clientIndex, client, session, io: &io)
            } else {
                decideStream(
                    head, input, stream: wait.stream, bodyFollows: wait.bodyFollows, waited: wait, clientIndex, client, session,
                    io: &io)
            }
        }
        if wait.pausedClient { resumeClient(clientIndex, client, io: &io) }
        pumpHTTP2(clientIndex, client, io: &io)
    }

    /// After a waited stream went upstream: the body it held follows its head (nothing if it
    /// was answered instead).
    mutating func sendWaitedBody(
        _ wait: StreamWait, _ clientIndex: Int, _ client: ConnectionID, _ session: HTTP2ServerSession, io: inout LoopIO
    ) {
        guard let slot = streamEntry(session.owner(of: wait.stream), stream: wait.stream, client: client) else { return }
        if !wait.body.isEmpty {
            wait.body.withUnsafeBytes { streamRequestData($0, slot, clientIndex, client, session, io: &io) }
        }
        if wait.bodyComplete, streamEntry(session.owner(of: wait.stream), stream: wait.stream, client: client) == slot {
            streamRequestComplete(slot, io: &io)
        }
    }

    /// A waiting stream was reset, or its connection closed: its exchange ends as the client's
    /// abandonment (499), or the policy forgets the decision it was waiting for.
    mutating func abandonStreamWait(_ id: UInt32, io: inout LoopIO) {
        guard let wait = streamWaits.removeValue(forKey: id) else { return }
        if let timer = wait.timer { _ = io.cancelTimer(timer) }
        let clientIndex = Int(wait.client.index)
        let clientContext = context(entries[clientIndex], wait.client, stream: wait.stream)
        if let forward = wait.forward {
            policy.exchangeEnded(client: clientContext, tag: forward.tag, status: 499, bodyBytes: 0, requestBytes: wait.body.count)
        } else {
            policy.requestAbandoned(clientContext)
        }
        if wait.pausedClient, isCurrent(wait.client) { resumeClient(clientIndex, wait.client, io: &io) }
    }
}
