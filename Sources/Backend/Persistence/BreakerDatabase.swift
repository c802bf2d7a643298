import Logging
import Synchronization

/// A ``Database`` behind a circuit breaker, so that while PostgreSQL is unreachable requests get
/// their `503` at once instead of each waiting out the lease timeout.
///
/// - A failure is a ``StoreError/unavailable`` (the connection broke, none was leased within
///   `DB_TIMEOUT`); every other outcome, constraint violations included, means the database
///   answered. `DB_BREAKER_THRESHOLD` failures in a row open the breaker.
/// - While open, every operation fails at once with ``StoreError/unavailable`` carrying the
///   cool-down's remaining time (the `Retry-After` header), and readiness says so.
/// - While it is not closed, a prober task starts a `SELECT 1` every cool-down
///   (`DB_BREAKER_COOLDOWN`); the first answered closes the breaker. For PostgreSQL it also
///   checks every 100 ms whether the server listens: once it does again, the pool is replaced
///   by a fresh one (``Reconnect``) and probed at once; the old pool would retry only at the end
///   of a reconnect backoff grown to seconds during the outage. So the pool is re-established in
///   the background before requests are let through again. Requests are never the probe:
///   until the prober closes the breaker, every one is answered at once.
///
/// Transactions count once, as a whole. Nested operations inside one (on the session the body
/// receives) bypass the breaker: they run on the connection already leased.
public final class BreakerDatabase: Database {
    public let base: any Database
    public let breaker: CircuitBreaker
    /// For PostgreSQL: whether the server listens again, and how to replace its pool then.
    private let reconnect: Reconnect?
    /// What the prober does besides probing, when the guarded database is PostgreSQL.
    public struct Reconnect: Sendable {
        /// Whether the server accepts connections again.
        public var isListening: @Sendable () async -> Bool
        /// Replaces the pool with a fresh one (at most once every few seconds).
        public var replacePool: @Sendable () -> Void

        public init(isListening: @escaping @Sendable () async -> Bool, replacePool: @escaping @Sendable () -> Void) {
            self.isListening = isListening
            self.replacePool = replacePool
        }
    }
    private let prober = Mutex<Task<Void, Never>?>(nil)
    private let logger: Logger

    public var dialect: SQLDialect { base.dialect }

    /// - Parameters:
    ///   - base: the database to guard (PostgreSQL).
    ///   - configuration: threshold and cool-down; the probe timeout should exceed the lease
    ///     timeout.
    ///   - reconnect: for PostgreSQL, how to notice the server is back and replace its pool.
    ///   - logger: transitions are logged at warning (opened) and info (closed).
    public init(
        base: any Database, configuration: CircuitBreaker.StateMachine.Configuration, reconnect: Reconnect? = nil,
        logger: Logger = Logger(label: "backend.persistence.breaker")
    ) {
        self.base = base
        self.reconnect = reconnect
        self.breaker = CircuitBreaker(name: "database", configuration: configuration, logger: logger)
        self.logger = logger
    }

    public func query(_ sql: String, _ binds: [DatabaseValue]) async throws -> [DatabaseRow] {
        try await guarded { try await self.base.query(sql, binds) }
    }

    public func query<Read: PreparedRead>(_ read: Read.Type, _ binds: [DatabaseValue]) async throws -> Read.Result {
        try await guarded { try await self.base.query(read, binds) }
    }

    @discardableResult
    public func execute(_ sql: String, _ binds: [DatabaseValue]) async throws -> Int {
        try await guarded { try await self.base.execute(sql, binds) }
    }

    public func transaction<T: Sendable>(_ body: @Sendable (any Database) async throws -> T) async throws -> T {
        guard let ticket = permit() else { throw rejection() }
        return try await report(ticket) { try await base.transaction(body) }
    }

    /// Stops the prober (when the database closes).
    public func shutdown() async {
        let task = prober.withLock { task -> Task<Void, Never>? in
            defer { task = nil }
            return task
        }
        task?.cancel()
        await task?.value
    }

    // MARK: Internals

    private func guarded<T: Sendable>(_ operation: () async throws -> T) async throws -> T {
        guard let ticket = permit() else { throw rejection() }
        return try await report(ticket, operation)
    }

    /// A ticket while the breaker is closed; none otherwise. Requests are never the half-open
    /// probe: the prober is, so no request waits on a database that may still be down.
    private func permit() -> CircuitBreaker.StateMachine.Ticket? {
        guard breaker.mode == .closed else { return nil }
        return breaker.permit()
    }

    private func report<T: Sendable>(
        _ ticket: CircuitBreaker.StateMachine.Ticket, _ operation: () async throws -> T
    ) async throws -> T {
        do {
            let value = try await operation()
            breaker.succeeded(ticket)
            return value
        } catch let error as StoreError where error == .unavailable {
            breaker.failed(ticket, error: error, isTimeout: false)
            if breaker.mode != .closed { startProber() }
            throw error
        } catch is CancellationError {
            // Neither outcome: a lost probe is replaced after the probe timeout.
            throw CancellationError()
        } catch {
            breaker.succeeded(ticket)  // the database answered (a constraint, a body's own error)
            throw error
        }
    }

    private func rejection() -> StoreError {
        startProber()
        return StoreError.unavailable(
            "The database is unavailable; retry shortly", retryAfter: breaker.retryAfter ?? .seconds(1))
    }

    /// Starts the task that probes the database while the breaker is not closed, unless it runs.
    private func startProber() {
        prober.withLock { task in
            guard task == nil else { return }
            task = Task { [weak self] in
                await self?.probeUntilClosed()
                self?.prober.withLock { $0 = nil }
            }
        }
    }

    /// Every cool-down, starts a `SELECT 1` (each waits at most `DB_TIMEOUT` for a connection),
    /// without waiting for the previous one: the first to be answered closes the breaker. Each
    /// lease also asks the pool for a connection at once, so the pool reconnects within a
    /// cool-down of the server's return instead of at the end of its own backoff.
    /// How long a probe through the current pool may take before the pool is replaced.
    static let poolGrace = Duration.milliseconds(200)
    /// How often the prober checks whether PostgreSQL listens (cheap: a TCP connect).
    static let listenCheckInterval = Duration.milliseconds(100)

    private func probeUntilClosed() async {
        let interval = max(breaker.configuration.coolDown, .milliseconds(50))
        let clock = ContinuousClock()
        await withTaskGroup(of: Void.self) { group in
            func probe() {
                group.addTask { [base, breaker] in
                    if (try? await base.query("SELECT 1", [])) != nil { breaker.externalProbeSucceeded() }
                }
            }
            // The database just failed: the first probe waits a cool-down too.
            var nextProbe = clock.now.advanced(by: interval)
            var wasListening = true
            while !Task.isCancelled, breaker.mode != .closed {
                guard let reconnect else {
                    try? await Task.sleep(until: nextProbe)
                    guard !Task.isCancelled, breaker.mode != .closed else { break }
                    probe()
                    nextProbe = clock.now.advanced(by: interval)
                    continue
                }
                try? await Task.sleep(for: Self.listenCheckInterval)
                guard !Task.isCancelled, breaker.mode != .closed else { break }
                let listening = await reconnect.isListening()
                defer { wasListening = listening }
                if listening, !wasListening {
                    // Back after an outage: the old pool waits out a reconnect backoff grown to
                    // seconds; a fresh one connects at once. Probe through it straight away.
                    reconnect.replacePool()
                    probe()
                    nextProbe = clock.now.advanced(by: interval)
                } else if clock.now >= nextProbe {
                    probe()
                    nextProbe = clock.now.advanced(by: interval)
                    guard listening else { continue }
                    // Listening all along (an overload opened the breaker, or the outage was not
                    // seen): the pool gets a moment to answer by itself and keep its connections;
                    // if it does not, it is replaced (at most once every 5 s).
                    try? await Task.sleep(for: min(interval, Self.poolGrace))
                    if breaker.mode != .closed { reconnect.replacePool() }
                }
            }
            group.cancelAll()
        }
    }
}
