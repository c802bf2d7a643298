import Limits
import NIOCore
import NIOHTTP1

/// A request of a strict shared zone waiting for Redis: it joins the zone's queue, its answer
/// comes back on this channel's event loop, and the filter chain resumes with it. The wait is
/// bounded by the zone's `timeout` (then the request is decided on this edge's table). The wait
/// is a phase of the connection's machine (``ClientConnection/Phase/askingSharedZone(token:)``):
/// the machine holds body parts and a pipelined request meanwhile, keeps a drain from closing
/// the connection under the request, and tells the answer that counts from a late one (a
/// connection or stream that closed or moved on drops it). What the shell keeps here is what
/// resuming needs: the question, the verdict so far and the head.
extension ClientHandler {
    struct SharedZoneWait {
        let question: SharedZoneQuestion
        let verdict: RequestVerdict
        let head: HTTPRequestHead
        let runtime: EdgeRuntime
        let started: Instant
        var timer: Scheduled<Void>?
    }

    func askSharedZone(
        _ question: SharedZoneQuestion, verdict: RequestVerdict, head: HTTPRequestHead, runtime: EdgeRuntime, started: Instant
    ) {
        let now = clock.now()
        guard let queue = question.zone.strictQueue else {
            preconditionFailure("a strict rule of a zone without a queue")
        }
        sharedZoneAsks &+= 1
        let token = sharedZoneAsks
        let eventLoop = context.eventLoop
        let handler = NIOLoopBound(self, eventLoop: eventLoop)
        let entry = question.entry(client: verdict.client, now: now) { answer in
            eventLoop.execute { handler.value.sharedZoneAnswered(token, answer) }
        }
        // Breaker open (or no sync thread): decided here at once, as a local zone would.
        guard queue.submit(entry) else {
            let resumed = FilterChain.resume(head, verdict: verdict, question: question, answer: .unavailable, now: now)
            act(on: resumed, head: head, runtime: runtime, started: started)
            return
        }
        machine.askSharedZone(token: token)
        var wait = SharedZoneWait(question: question, verdict: verdict, head: head, runtime: runtime, started: started)
        wait.timer = eventLoop.assumeIsolated().scheduleTask(in: TimeAmount(queue.timeout)) { [weak self] in
            self?.sharedZoneAnswered(token, .unavailable)
        }
        sharedZoneWait = wait
    }

    /// The store's answer (or the timeout's) for the request `token`; a second one, or one for
    /// a request whose connection moved on or closed, is dropped.
    func sharedZoneAnswered(_ token: UInt64, _ answer: SharedZoneStrictAnswer) {
        guard machine.sharedZoneAnswered(token: token), context != nil, let wait = sharedZoneWait else { return }
        sharedZoneWait = nil
        wait.timer?.cancel()
        let resumed = FilterChain.resume(wait.head, verdict: wait.verdict, question: wait.question, answer: answer, now: clock.now())
        act(on: resumed, head: wait.head, runtime: wait.runtime, started: wait.started)
        // Body parts (and on HTTP/1 a pipelined next request) held during the wait.
        releasePipelined()
    }

    /// The connection or stream closed (the machine no longer asks): an answer still to come
    /// is dropped, and the zone's timeout with it.
    func dropSharedZoneWait() {
        sharedZoneWait?.timer?.cancel()
        sharedZoneWait = nil
    }
}
