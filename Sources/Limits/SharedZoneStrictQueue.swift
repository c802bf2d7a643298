import Synchronization

/// What the store said about one request of a strict zone.
public enum SharedZoneStrictAnswer: Sendable, Equatable {
    /// The store charged the request; before the charge the client was `ahead` of the steady
    /// rate on the store's clock (the request's wait follows from it and the rule's delay policy).
    case admitted(ahead: Duration)
    /// The store refused the request and charged nothing: the client is `ahead` of the steady
    /// rate, more than the rule's burst allows.
    case refused(ahead: Duration)
    /// No answer in time (Redis slow or down, or the breaker open): decide on this edge's table.
    case unavailable
}

/// The requests of a strict zone waiting for the store: the request path queues each one, the
/// zone's sync thread takes everything queued per round trip (so a trip carries every request
/// that arrived while the previous one was away, without a connection per request), and each
/// request's answer goes back through its `waiter`.
///
/// Pure: time comes in as `now`. A request older than `timeout` when the thread takes the queue
/// has been decided locally by its connection already; it is answered ``SharedZoneStrictAnswer/unavailable``
/// and never sent, so the store does not charge a request the edge charged itself.
///
/// ```
///   not serving ──serving(true)──▶ serving ──serving(false)──▶ not serving
///   (submit: decide locally)        (submit: queued)            (queued ones: unavailable)
/// ```
public struct SharedZoneStrictQueueState<Waiter> {
    /// One queued request.
    public struct Entry {
        /// The client, as the zone keys it.
        public var key: ClientKey
        /// The rule's burst as time (`burst × interval`, nanoseconds): the store refuses a client
        /// further ahead than this.
        public var tolerance: UInt64
        /// When the request was queued.
        public var queued: Instant
        public var waiter: Waiter

        public init(key: ClientKey, tolerance: UInt64, queued: Instant, waiter: Waiter) {
            self.key = key
            self.tolerance = tolerance
            self.queued = queued
            self.waiter = waiter
        }
    }

    /// What the request path does after ``submit(_:)``.
    public enum Submitted: Equatable, Sendable {
        /// Queued; `wake`: the queue was empty, so the sync thread may be asleep.
        case queued(wake: Bool)
        /// The store is not in use (breaker open, or no sync thread): decide locally now.
        case decideLocally
    }

    /// Longest a request waits for the store (the zone's `timeout`; a reload may change it).
    public var timeout: Duration
    /// Most requests one round trip carries; the rest wait for the next.
    public let tripLimit: Int
    private(set) var serving = false
    private var entries: [Entry] = []

    public init(timeout: Duration, tripLimit: Int = 4096) {
        precondition(tripLimit > 0)
        self.timeout = timeout
        self.tripLimit = tripLimit
    }

    public var isEmpty: Bool { entries.isEmpty }
    public var count: Int { entries.count }
    public var isServing: Bool { serving }

    /// Queues a request, unless the store is not in use.
    public mutating func submit(_ entry: Entry) -> Submitted {
        guard serving else { return .decideLocally }
        entries.append(entry)
        return .queued(wake: entries.count == 1)
    }

    /// Takes the requests for one round trip (oldest first, at most ``tripLimit``), and those
    /// already past their `timeout` (decided locally by now: answer them unavailable, send none).
    public mutating func take(now: Instant) -> (send: [Entry], expired: [Entry]) {
        guard !entries.isEmpty else { return ([], []) }
        var send: [Entry] = []
        var expired: [Entry] = []
        var taken = 0
        for entry in entries {
            if send.count == tripLimit { break }
            taken += 1
            if now.duration(since: entry.queued) >= timeout {
                expired.append(entry)
            } else {
                send.append(entry)
            }
        }
        entries.removeFirst(taken)
        return (send, expired)
    }

    /// The store comes into use (sync thread started, or Redis answered again) or goes out of
    /// use (breaker opened, thread stopped).
    /// - Returns: the requests queued when it goes out of use, to answer unavailable.
    public mutating func setServing(_ serving: Bool) -> [Entry] {
        self.serving = serving
        guard !serving else { return [] }
        defer { entries.removeAll() }
        return entries
    }
}

extension SharedZoneStrictQueueState: Sendable where Waiter: Sendable {}
extension SharedZoneStrictQueueState.Entry: Sendable where Waiter: Sendable {}

/// A strict zone's queue, shared by the request path (every event loop) and the zone's sync
/// thread; the thread that serves it registers how to wake it.
public final class SharedZoneStrictQueue: Sendable {
    public typealias Waiter = @Sendable (SharedZoneStrictAnswer) -> Void
    public typealias Entry = SharedZoneStrictQueueState<Waiter>.Entry

    private struct Locked: Sendable {
        var state: SharedZoneStrictQueueState<Waiter>
        var owner: ObjectIdentifier?
        var wake: (@Sendable () -> Void)?
    }

    private let locked: Mutex<Locked>

    public init() {
        locked = Mutex(Locked(state: SharedZoneStrictQueueState(timeout: .milliseconds(100))))
    }

    /// Queues a request for the store.
    /// - Returns: `false` when the store is not in use: decide the request locally now (the
    ///   waiter is not called).
    public func submit(_ entry: Entry) -> Bool {
        let (submitted, wake) = locked.withLock { ($0.state.submit(entry), $0.wake) }
        switch submitted {
        case .queued(let first):
            if first { wake?() }
            return true
        case .decideLocally:
            return false
        }
    }

    /// The sync thread `owner` serves the queue from now on (a reload's new thread replaces the
    /// old), with its zone's `timeout`; `wake` rouses it when a request joins an empty queue.
    public func attach(owner: AnyObject, timeout: Duration, wake: @escaping @Sendable () -> Void) {
        locked.withLock {
            $0.owner = ObjectIdentifier(owner)
            $0.wake = wake
            $0.state.timeout = timeout
        }
    }

    /// `owner` stops serving; when it is still the one serving, queued requests are answered
    /// unavailable and new ones are decided locally.
    public func detach(owner: AnyObject) {
        let orphans = locked.withLock { locked -> [Entry] in
            guard locked.owner == ObjectIdentifier(owner) else { return [] }
            locked.owner = nil
            locked.wake = nil
            return locked.state.setServing(false)
        }
        for entry in orphans { entry.waiter(.unavailable) }
    }

    /// Whether requests go to the store (mirrors the breaker); going out of use answers the
    /// queued requests unavailable.
    public func setServing(_ serving: Bool) {
        let orphans = locked.withLock { $0.state.setServing(serving) }
        for entry in orphans { entry.waiter(.unavailable) }
    }

    public var isServing: Bool { locked.withLock { $0.state.isServing } }
    /// Longest a request waits for the store (the serving thread's zone `timeout`).
    public var timeout: Duration { locked.withLock { $0.state.timeout } }
    public var isEmpty: Bool { locked.withLock { $0.state.isEmpty } }

    /// Takes one round trip's requests; the expired ones are answered unavailable here.
    public func take(now: Instant) -> [Entry] {
        let (send, expired) = locked.withLock { $0.state.take(now: now) }
        for entry in expired { entry.waiter(.unavailable) }
        return send
    }
}
