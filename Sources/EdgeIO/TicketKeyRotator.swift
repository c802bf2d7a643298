import CEdgeIO
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// Keeps a ``TLSContext``'s session-ticket keys on a ``TicketKeyRing`` schedule, from a thread
/// of its own: keys change a few times a day, and the context (OpenSSL's `SSL_CTX`) is shared by
/// every loop, so no loop has to own the timer. New keys are 80 random bytes from the system.
public final class TicketKeyRotator: Sendable {
    private struct State {
        var ring: TicketKeyRing
        var stopped = false
        var rotations = 0
        /// The last failure to install keys (the context keeps its previous keys).
        var failure: String?
    }

    private let state: Mutex<State>
    private let context: TLSContext
    private let thread: Mutex<UInt64?> = Mutex(nil)

    /// Installs a first random key and starts rotating.
    /// - Parameters:
    ///   - rotation: milliseconds between new keys.
    ///   - decryptOnly: earlier keys that still decrypt (see ``TicketKeyRing``).
    /// - Throws: ``TLSError`` when the context refuses the keys, ``EdgeIOError`` when the
    ///   thread cannot start.
    public init(context: TLSContext, rotation: UInt64, decryptOnly: Int) throws {
        self.context = context
        let ring = TicketKeyRing(
            rotation: rotation, decryptOnly: decryptOnly, firstKey: Self.randomKey(), now: Self.nowMilliseconds())
        try context.setTicketKeys(ring.keys)
        state = Mutex(State(ring: ring))
        let handle = try startLoopThread(name: "edge-ticket-keys") { [self] in run() }
        thread.withLock { $0 = handle }
    }

    /// Keys installed since the start (the first one not counted).
    public var rotations: Int { state.withLock { $0.rotations } }
    /// Why the last rotation could not install its keys, if it could not.
    public var failure: String? { state.withLock { $0.failure } }

    /// Stops rotating (idempotent); the context keeps the keys it has. Call it before letting the
    /// rotator go: its thread holds it until then.
    public func stop() {
        state.withLock { $0.stopped = true }
        if let handle = thread.withLock({ handle in defer { handle = nil }; return handle }) { ceio_thread_join(handle) }
    }

    private func run() {
        while true {
            let now = Self.nowMilliseconds()
            let (stopped, keys, next) = state.withLock { state -> (Bool, [[UInt8]]?, UInt64) in
                if state.stopped { return (true, nil, 0) }
                let keys = state.ring.advance(now: now, newKey: Self.randomKey)
                return (false, keys, state.ring.nextRotation)
            }
            if stopped { return }
            if let keys {
                do {
                    try context.setTicketKeys(keys)
                    state.withLock {
                        $0.rotations += 1
                        $0.failure = nil
                    }
                } catch {
                    state.withLock { $0.failure = "\(error)" }
                }
            }
            // Sleep until the next key is due, waking at least every 100 ms to see a stop.
            let wait = min(next &- min(next, Self.nowMilliseconds()), 100)
            usleep(useconds_t(max(wait, 1) * 1000))
        }
    }

    private static func randomKey() -> [UInt8] {
        var generator = SystemRandomNumberGenerator()
        return (0..<80).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
    }

    private static func nowMilliseconds() -> UInt64 { ceio_monotonic_ns() / 1_000_000 }
}
