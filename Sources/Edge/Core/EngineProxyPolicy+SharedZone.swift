import EdgeIO
import EdgeIOProxy
import Limits

/// Strict shared zones on the core: a request whose route has a strict rule joins the zone's
/// queue, and waits unread in its connection's buffer (``ProxyDecision/decideLater(milliseconds:)``)
/// (an HTTP/2 stream's head kept by the handler) for the store's answer, which the zone's sync
/// thread posts to this policy's loop (``Event/sharedZoneAnswered(connection:stream:token:answer:)``). The handler reads the request
/// again when the answer comes or the zone's `timeout` is up, and ``decide(_:in:client:answer:)``
/// goes on from the wait: ``FilterChain/resume(_:verdict:question:answer:now:)`` with the
/// answer, or with none (decided by this edge's table alone). A second
/// answer, or one for a connection that closed or moved on, is dropped by its token.
extension EngineProxyPolicy {
    enum Event: Sendable {
        /// The store's answer for the request `token` of `connection` (and HTTP/2 `stream`, else 0).
        case sharedZoneAnswered(connection: ConnectionID, stream: Int32, token: UInt64, answer: SharedZoneStrictAnswer)
    }

    /// A request waiting for its zone's store: what resuming the chain needs.
    struct SharedZoneWait {
        let generation: UInt32
        let token: UInt64
        let verdict: RequestVerdict
        let question: SharedZoneQuestion
        /// The configuration the request was decided under (a reload meanwhile does not change it).
        let runtime: EdgeRuntime
        /// When the request was first decided, its method and target (for its access-log line
        /// if the client leaves meanwhile).
        let started: Instant
        let method: String
        let target: String
        var answer: SharedZoneStrictAnswer?
    }

    /// Asks the store of `verdict`'s strict zone: the request waits, and the returned
    /// milliseconds bound the wait. When the zone's queue turns it away (breaker open, no sync
    /// thread), the chain resumes at once as without an answer — and asks the route's next
    /// strict rule, if any — and `nil` comes back with `verdict` decided.
    mutating func askSharedZone(
        _ verdict: inout RequestVerdict, head: CoreRequestHead, client: ClientContext, runtime: EdgeRuntime, started: Instant,
        now: Instant
    ) -> UInt64? {
        while case .askSharedZone(let question) = verdict.decision {
            guard let queue = question.zone.strictQueue else { preconditionFailure("a strict rule of a zone without a queue") }
            sharedZoneAsks &+= 1
            let token = sharedZoneAsks
            let connection = client.connection
            let stream = client.stream
            let post = self.post
            let entry = question.entry(client: verdict.client, now: now) { answer in
                post(.sharedZoneAnswered(connection: connection, stream: stream, token: token, answer: answer))
            }
            if queue.submit(entry) {
                sharedZoneWaits[Self.waitKey(connection, stream: stream)] = SharedZoneWait(
                    generation: connection.generation, token: token, verdict: verdict, question: question, runtime: runtime,
                    started: started, method: head.methodName, target: verdict.target)
                return max(1, queue.timeout.wholeMilliseconds)
            }
            verdict = FilterChain.resume(head, verdict: verdict, question: question, answer: .unavailable, now: now)
        }
        return nil
    }

    /// A wait's key: the connection's slot and the stream (0 for HTTP/1.x).
    static func waitKey(_ connection: ConnectionID, stream: Int32) -> UInt64 {
        UInt64(connection.index) << 32 | UInt64(UInt32(bitPattern: stream))
    }

    /// The store's answer arrived: kept for the request, which the handler then decides again.
    mutating func received(_ event: Event) -> (connection: ConnectionID, stream: Int32)? {
        switch event {
        case .sharedZoneAnswered(let connection, let stream, let token, let answer):
            let key = Self.waitKey(connection, stream: stream)
            guard var wait = sharedZoneWaits[key], wait.generation == connection.generation, wait.token == token,
                wait.answer == nil
            else { return nil }
            wait.answer = answer
            sharedZoneWaits[key] = wait
            return (connection, stream)
        }
    }

    /// The wait of the request `client` decides again, if it was waiting (answered or not: an
    /// answer after this is dropped).
    mutating func resumedSharedZoneWait(_ client: ClientContext) -> SharedZoneWait? {
        guard !sharedZoneWaits.isEmpty,
            let wait = sharedZoneWaits.removeValue(forKey: Self.waitKey(client.connection, stream: client.stream)),
            wait.generation == client.connection.generation
        else { return nil }
        return wait
    }

    /// A waiting stream was reset.
    mutating func requestAbandoned(_ client: ClientContext) {
        guard let wait = resumedSharedZoneWait(client) else { return }
        abandon(wait, connection: client.connection)
    }

    /// The connection closed while its requests waited (one on HTTP/1.x, any of its streams').
    mutating func abandonSharedZoneWaits(_ connection: ConnectionID) {
        guard !sharedZoneWaits.isEmpty else { return }
        for (key, wait) in sharedZoneWaits where key >> 32 == UInt64(connection.index) {
            sharedZoneWaits.removeValue(forKey: key)
            if wait.generation == connection.generation { abandon(wait, connection: connection) }
        }
    }

    /// A request that will not be decided is logged as the client's abandonment (499, nginx's
    /// code) and its lease released.
    mutating func abandon(_ wait: SharedZoneWait, connection: ConnectionID) {
        let peer = connections[Int(connection.index)]
        var record = AccessRecord(
            requestID: wait.verdict.requestID,
            client: wait.verdict.client == peer.peer ? peer.peerText : wait.verdict.client.description,
            method: wait.method, target: wait.target, started: wait.started)
        record.status = 499
        record.route = wait.verdict.routeLabel
        record.logged = wait.verdict.logged
        _ = wait.verdict.requestLease?.release()
        finish(record)
    }
}
