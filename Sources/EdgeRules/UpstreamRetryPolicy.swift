/// What an exchange does after an attempt at an upstream server ended without a response: the
/// retry rule as one table, pure, so each row is a unit test (nginx's
/// `proxy_next_upstream error timeout`, made safe for requests that cannot be replayed).
///
/// | failure | response started | decision |
/// |---|---|---|
/// | any | yes | ``Decision/broken`` (only a close can tell the client) |
/// | connect refused or failed | no | next server, a strike against this one |
/// | connect timed out | no | next server, a strike |
/// | closed before any response byte, on a reused idle connection | no | the same server on a new connection, no strike, no try spent, once, for an idempotent method whose body can be replayed; else 502 without a strike |
/// | closed before any response byte, on a new connection | no | next server with a strike if the method is idempotent and the body can be replayed, else 502 |
/// | no response head within `read_timeout` | no | 504, a strike (the request may be running: never replayed) |
/// | the upstream took no request bytes within `send_timeout` | no | 504, a strike |
///
/// A strike is a passive health failure (`max_fails` within `fail_timeout`). A stale keep-alive
/// connection (the server closed it while it sat idle in the pool, for instance a recycled
/// worker) is not the server's failure, so it costs neither a strike nor a try. A request that
/// is not idempotent is never sent twice (the server may have acted on it before the close),
/// as nginx without `non_idempotent`.
public enum UpstreamRetryPolicy {
    /// Why an attempt ended.
    public enum Failure: Equatable, Sendable {
        case connectFailed
        case connectTimedOut
        case closedBeforeResponse(reusedConnection: Bool)
        case readTimedOut
        case sendTimedOut
    }

    /// What the request allows.
    public struct Request: Equatable, Sendable {
        /// GET, HEAD, PUT, DELETE, OPTIONS, TRACE.
        public var idempotent: Bool
        /// Whether the whole body sent so far is still held (bodies up to 64 KiB), so it can be sent again.
        public var replayable: Bool
        public var responseStarted: Bool
        /// Whether the one stale-connection retry was used already.
        public var staleRetryUsed: Bool

        public init(idempotent: Bool, replayable: Bool, responseStarted: Bool, staleRetryUsed: Bool) {
            self.idempotent = idempotent
            self.replayable = replayable
            self.responseStarted = responseStarted
            self.staleRetryUsed = staleRetryUsed
        }
    }

    public enum Decision: Equatable, Sendable {
        /// Try another server; `strike` counts a passive health failure against this one.
        case nextServer(strike: Bool)
        /// Reconnect to the same server on a new connection (no strike, no try spent).
        case reconnect
        /// Answer the client with this status (502 or 504); `strike` as above.
        case fail(status: Int, strike: Bool)
        /// The response had started: close the client connection.
        case broken(strike: Bool)
    }

    public static func decide(_ failure: Failure, _ request: Request) -> Decision {
        let strike = failure != .closedBeforeResponse(reusedConnection: true)
        if request.responseStarted { return .broken(strike: strike) }
        switch failure {
        case .connectFailed, .connectTimedOut:
            return .nextServer(strike: true)
        case .closedBeforeResponse(reusedConnection: true):
            if request.idempotent && request.replayable && !request.staleRetryUsed { return .reconnect }
            return .fail(status: 502, strike: false)
        case .closedBeforeResponse(reusedConnection: false):
            return request.idempotent && request.replayable ? .nextServer(strike: true) : .fail(status: 502, strike: true)
        case .readTimedOut, .sendTimedOut:
            return .fail(status: 504, strike: true)
        }
    }
}
