/// What a rule does with a request that is over the steady rate but within the burst.
///
/// These are nginx's three `limit_req` modes; ``nodelay`` is what the HomeRack front used.
public enum DelayPolicy: Hashable, Sendable {
    /// Serve it at once (nginx `nodelay`).
    case nodelay
    /// Hold it until its turn at the steady rate (nginx without `nodelay`).
    case delayAll
    /// Serve the first `after` excess requests at once and hold the rest (nginx `delay=N`).
    case delay(after: Int)
}
