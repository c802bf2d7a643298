import Logging
import NIOPosix
import PostgresNIO
import ServiceLifecycle
import Synchronization

/// The PostgreSQL store: PostgresNIO's pooled ``PostgresClient`` behind ``Database``.
///
/// ## Lifecycle
/// The pool does its work (opening, keeping alive and replacing connections) in ``run()``,
/// which must be running before any query can lease a connection. Two ways to provide it:
/// - In the service, add the database to the `ServiceGroup` (it is a `Service`); `run()`
///   returns when the group shuts down gracefully or its task is cancelled, closing the pool.
///   Start-up then calls ``waitUntilReachable()`` and ``Migrator/migrate(_:migrations:logger:now:)``
///   before the HTTP server accepts requests.
/// - In a command or a test, ``withRunning(_:logger:_:)`` runs the pool around a closure.
///
/// ## Behaviour
/// Statements are written with `?` placeholders and rewritten to `$n`. A read (a statement
/// starting with `SELECT`, outside a transaction) that fails because its connection broke is
/// retried once on another connection; writes are never retried, since the server may have
/// applied them. Waiting for a connection is bounded by
/// ``Configuration-swift.struct/leaseTimeout``, so requests fail with ``StoreError/unavailable``
/// instead of hanging while the database is down. A transaction inside a transaction is a
/// `SAVEPOINT`. A connection found broken is closed at once, so the pool replaces it.
public final class PostgresDatabase: Database, Service {
    public let dialect = SQLDialect.postgres
    public let configuration: Configuration
    /// The pool in use, and the signal that ends its ``run()`` generation when it is replaced.
    private let generation:
        Mutex<(client: PostgresClient, replaced: AsyncStream<Void>.Continuation, ended: AsyncStream<Void>)>
    private let lastReplacement = Mutex<ContinuousClock.Instant?>(nil)
    /// Operations leasing or holding a connection now (the pool filler waits while there are any).
    private let operationsInFlight = Atomic<Int>(0)
    /// What ends a wait for a connection after `leaseTimeout` (``withConnection(timeout:_:)``).
    private let leaseDeadlines = LeaseDeadlines()
    /// Whether ``fillPool()`` was called, and the pool generations waiting for it.
    private let filling = Mutex(FillingState())

    private struct FillingState {
        var allowed = false
        var nextWaiter = 0
        var waiters: [Int: CheckedContinuation<Bool, Never>] = [:]
    }
    let logger: Logger

    /// The pool in use.
    var client: PostgresClient { generation.withLock { $0.client } }
    private let counterState = Mutex(Counters())

    /// How often the driver had to recover; for metrics and tests.
    public struct Counters: Sendable, Hashable {
        /// Reads that failed on a broken connection and were run again.
        public var retriedReads = 0
        /// Operations that gave up waiting for a connection.
        public var leaseTimeouts = 0
        /// Pools replaced after an outage (``replacePool()``).
        public var poolReplacements = 0
    }

    /// Creates the pool; nothing connects until ``run()`` runs.
    ///
    /// - Parameters:
    ///   - configuration: the server, pool sizing and timeouts.
    ///   - logger: the driver's logger (`backend.persistence.postgres` by default), also the
    ///     pool's background logger.
    public init(configuration: Configuration, logger: Logger = Logger(label: "backend.persistence.postgres")) {
        self.configuration = configuration
        self.logger = logger
        let (ended, replaced) = AsyncStream<Void>.makeStream()
        self.generation = Mutex(
            (
                PostgresClient(configuration: configuration.clientConfiguration, backgroundLogger: logger), replaced,
                ended
            ))
    }

    /// The recovery counters so far.
    public var counters: Counters { counterState.withLock { $0 } }

    /// Runs the connection pool until graceful shutdown or cancellation, then closes it.
    /// Call it once, in a long-running task (or let the `ServiceGroup` do so).
    public func run() async throws {
        logger.info(
            "starting PostgreSQL pool",
            metadata: [
                "backend.db.url": "\(configuration.redactedDescription)",
                "backend.db.pool_min": "\(configuration.pool.minimumConnections)",
                "backend.db.pool_max": "\(configuration.pool.maximumConnections)",
            ])
        // One generation per pool: ``replacePool()`` ends the current one (its pool closes) and
        // the loop runs the new pool.
        while !Task.isCancelled {
            let (client, ended) = generation.withLock { ($0.client, $0.ended) }
            await withTaskGroup(of: Void.self) { group in
                group.addTask { await client.run() }
                group.addTask { for await _ in ended {} }
                if let filler = self.filler {
                    group.addTask {
                        guard await self.fillingAllowed() else { return }
                        await filler.run(client, logger: self.logger) {
                            self.operationsInFlight.load(ordering: .relaxed) > 0
                        }
                    }
                }
                await group.next()
                group.cancelAll()
            }
        }
        logger.info("PostgreSQL pool closed")
    }

    /// Opens the rest of the pool's minimum (`DB_POOL_MIN`) in the background, one connection at a
    /// time, and keeps it open; the pool starts with one connection (``PoolFiller``). A worker
    /// calls this once it is ready, so it serves as soon as it has one connection. Idempotent;
    /// applies to pools that replace this one too.
    public func fillPool() {
        let waiters = filling.withLock { state -> [CheckedContinuation<Bool, Never>] in
            state.allowed = true
            defer { state.waiters = [:] }
            return Array(state.waiters.values)
        }
        for waiter in waiters { waiter.resume(returning: true) }
    }

    /// Waits until ``fillPool()`` is called.
    /// - Returns: `false` when the task was cancelled first (the pool's generation ended).
    private func fillingAllowed() async -> Bool {
        let id = filling.withLock { state in
            defer { state.nextWaiter += 1 }
            return state.nextWaiter
        }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Bool, Never>) in
                let decided = filling.withLock { state -> Bool? in
                    if state.allowed { return true }
                    if Task.isCancelled { return false }
                    state.waiters[id] = continuation
                    return nil
                }
                if let decided { continuation.resume(returning: decided) }
            }
        } onCancel: {
            filling.withLock { $0.waiters.removeValue(forKey: id) }?.resume(returning: false)
        }
    }

    /// What grows the pool beyond its first connection, when the minimum asks for more.
    private var filler: PoolFiller? {
        let pool = configuration.pool
        guard pool.minimumConnections > 1 else { return nil }
        return PoolFiller(
            target: pool.minimumConnections,
            period: max(.seconds(1), pool.idleTimeout / 2),
            leaseTimeout: min(configuration.leaseTimeout, .milliseconds(500)))
    }

    /// Replaces the pool with a fresh one, whose connections are attempted at once: the old
    /// pool, after an outage, retries each connection only at the end of a backoff that has grown
    /// to seconds. Operations waiting on the old pool fail (as unavailable); new ones use the new
    /// pool as soon as ``run()`` starts it. At most once every 5 s.
    /// - Returns: whether the pool was replaced.
    @discardableResult
    public func replacePool() -> Bool {
        let now = ContinuousClock.now
        let allowed = lastReplacement.withLock { last -> Bool in
            if let last, now - last < .seconds(5) { return false }
            last = now
            return true
        }
        guard allowed else { return false }
        let fresh = PostgresClient(configuration: configuration.clientConfiguration, backgroundLogger: logger)
        let (ended, replaced) = AsyncStream<Void>.makeStream()
        let old = generation.withLock { current in
            defer { current = (fresh, replaced, ended) }
            return current.replaced
        }
        old.finish()
        counterState.withLock { $0.poolReplacements += 1 }
        logger.info("PostgreSQL pool replaced: the server is listening again")
        return true
    }

    /// Whether the server accepts TCP connections (it may still refuse sessions while it starts).
    /// - Parameter timeout: how long the connection attempt may take.
    public func isListening(timeout: Duration = .milliseconds(500)) async -> Bool {
        let bootstrap = ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connectTimeout(TimeAmount(timeout))
        do {
            let channel = try await bootstrap.connect(host: configuration.host, port: configuration.port).get()
            try? await channel.close()
            return true
        } catch {
            return false
        }
    }

    /// Runs `body` with a database whose pool runs for the closure's duration.
    ///
    /// - Parameters:
    ///   - configuration: the server and pool.
    ///   - logger: the driver's logger.
    ///   - body: the work; the pool closes when it returns or throws.
    /// - Returns: what `body` returns.
    public static func withRunning<T: Sendable>(
        _ configuration: Configuration,
        logger: Logger = Logger(label: "backend.persistence.postgres"),
        _ body: (PostgresDatabase) async throws -> T
    ) async throws -> T {
        let database = PostgresDatabase(configuration: configuration, logger: logger)
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await database.run() }
            defer { group.cancelAll() }
            return try await body(database)
        }
    }

    /// Waits, with bounded retries and backoff, until the server answers `SELECT 1`.
    ///
    /// Start-up calls this before migrating, because the database container may still be
    /// starting. Each failed attempt is logged (warning) with the next delay.
    /// - Throws: ``StoreError/unavailable`` after ``Configuration-swift.struct/startup`` attempts.
    public func waitUntilReachable() async throws {
        let policy = configuration.startup
        var backoff = Backoff(initial: policy.initialDelay, maximum: policy.maximumDelay)
        for attempt in 1...policy.attempts {
            do {
                _ = try await withConnection(timeout: policy.attemptTimeout) { connection in
                    try await Self.run(PostgresQuery(unsafeSQL: "SELECT 1"), on: connection, logger: self.logger)
                }
                logger.info("PostgreSQL is reachable", metadata: ["backend.db.attempt": "\(attempt)"])
                return
            } catch {
                let mapped = Self.storeError(error)
                guard attempt < policy.attempts else {
                    logger.error(
                        "PostgreSQL is unreachable; giving up",
                        metadata: ["backend.db.attempts": "\(attempt)", "backend.db.error": "\(mapped.detail)"])
                    throw StoreError.unavailable("PostgreSQL is unreachable", underlying: error)
                }
                let delay = backoff.next()
                logger.warning(
                    "PostgreSQL is not reachable yet; retrying",
                    metadata: [
                        "backend.db.attempt": "\(attempt)", "backend.db.retry_in": "\(delay)",
                        "backend.db.url": "\(configuration.redactedDescription)",
                    ])
                try await Task.sleep(for: delay)
            }
        }
    }

    // MARK: Database

    public func query(_ sql: String, _ binds: [DatabaseValue]) async throws -> [DatabaseRow] {
        let query = try Self.makeQuery(sql, binds)
        do {
            return try await runRows(query)
        } catch  where PostgresPlaceholders.isRead(sql) && Self.isBrokenConnection(error) {
            counterState.withLock { $0.retriedReads += 1 }
            logger.debug("read failed on a broken connection; retrying once on another")
            do {
                return try await runRows(query)
            } catch {
                throw Self.translate(error)
            }
        } catch {
            throw Self.translate(error)
        }
    }

    /// Runs the read as a statement prepared once per connection (PostgresNIO prepares it on a
    /// connection's first use and keeps it), retried once on another connection like any read;
    /// its rows are decoded after the connection is returned.
    public func query<Read: PreparedRead>(_ read: Read.Type, _ binds: [DatabaseValue]) async throws -> Read.Result {
        let statement = PreparedStatement<Read>(binds: binds)
        func attempt() async throws -> [OrderedRow] {
            try await withConnection(timeout: configuration.leaseTimeout) { connection in
                try await Self.run(statement, on: connection, logger: self.logger)
            }
        }
        let rows: [OrderedRow]
        do {
            rows = try await attempt()
        } catch  where Self.isBrokenConnection(error) {
            counterState.withLock { $0.retriedReads += 1 }
            logger.debug("read failed on a broken connection; retrying once on another")
            do {
                rows = try await attempt()
            } catch {
                throw Self.translate(error)
            }
        } catch {
            throw Self.translate(error)
        }
        return try Self.decode(Read.self, rows)
    }

    /// The read's result from its rows; a cell that cannot be decoded (cells are decoded only
    /// now, ``PostgresCells``) fails as it did while the rows were read, as the store's error.
    static func decode<Read: PreparedRead>(_ read: Read.Type, _ rows: [OrderedRow]) throws -> Read.Result {
        do {
            return try Read.decode(rows)
        } catch let error as RowDecodingError {
            throw error
        } catch {
            throw translate(error)
        }
    }

    @discardableResult
    public func execute(_ sql: String, _ binds: [DatabaseValue]) async throws -> Int {
        let query = try Self.makeQuery(sql, binds)
        do {
            return try await withConnection(timeout: configuration.leaseTimeout) { connection in
                try await Self.run(query, on: connection, logger: self.logger).metadata.rows ?? 0
            }
        } catch {
            throw Self.translate(error)
        }
    }

    public func transaction<T: Sendable>(_ body: @Sendable (any Database) async throws -> T) async throws -> T {
        do {
            return try await withConnection(timeout: configuration.leaseTimeout) { connection in
                let session = PostgresSession(connection: connection, logger: self.logger, depth: 1)
                _ = try await session.execute(SQLDialect.postgres.beginTransactionSQL, [])
                do {
                    let value = try await body(session)
                    _ = try await session.execute("COMMIT", [])
                    return value
                } catch {
                    do {
                        _ = try await session.execute("ROLLBACK", [])
                    } catch {
                        self.logger.debug(
                            "rollback after a failed transaction failed", metadata: ["backend.db.error": "\(error)"])
                    }
                    throw error
                }
            }
        } catch {
            // The body's own errors pass through; only the driver's are translated.
            throw Self.translate(error)
        }
    }

    // MARK: Internals

    private func runRows(_ query: PostgresQuery) async throws -> [DatabaseRow] {
        try await withConnection(timeout: configuration.leaseTimeout) { connection in
            try Self.rows(try await Self.run(query, on: connection, logger: self.logger))
        }
    }

    /// Leases a connection for `body`, failing with ``StoreError/unavailable`` when none is
    /// handed over within `timeout`.
    ///
    /// The pool waits indefinitely for a connection while it retries the server in the
    /// background (its own circuit breaker trips only after a minute), so a child task leases
    /// the connection and hands it to this task through a ``LeaseHandoff`` while a deadline
    /// races it (``LeaseDeadlines``: within one tick of `timeout`). `body` runs here, in the
    /// caller's task; the child holds the lease until `body` is done. A connection that arrives
    /// after the deadline is released unused, so a timed-out write is never applied.
    private func withConnection<T: Sendable>(
        timeout: Duration, _ body: (PostgresConnection) async throws -> T
    ) async throws -> T {
        let handoff = LeaseHandoff()
        let client = self.client
        operationsInFlight.add(1, ordering: .relaxed)
        defer { operationsInFlight.subtract(1, ordering: .relaxed) }
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                do {
                    // The pool may hand out a connection whose close it has not processed yet (the
                    // server just dropped it); a query written to it would never complete, so such
                    // a lease is returned and another one taken.
                    for attempt in 1...3 {
                        let used = try await client.withConnection { connection in
                            if connection.isClosed { return false }
                            guard handoff.deliver(connection) else { return true }
                            await handoff.waitUntilReturned()
                            return true
                        }
                        if used { return }
                        try await Task.sleep(for: .milliseconds(5 * attempt))
                    }
                    handoff.fail(ConnectionClosed())
                } catch {
                    handoff.fail(error)
                }
            }
            let wait = leaseDeadlines.add(handoff, timeout: timeout)
            let connection: PostgresConnection
            do {
                defer { leaseDeadlines.remove(wait) }
                connection = try await handoff.connection()
            } catch {
                if error is LeaseTimedOut { counterState.withLock { $0.leaseTimeouts += 1 } }
                group.cancelAll()
                throw error
            }
            // Once given back, the child releases the lease and ends; the group waits for it.
            defer { handoff.giveBack() }
            return try await body(connection)
        }
    }

    /// Runs `query` and collects its rows and affected-row count.
    ///
    /// The wait also ends when the connection closes: a query written to a connection that is
    /// closing may otherwise never complete.
    static func run(_ query: PostgresQuery, on connection: PostgresConnection, logger: Logger) async throws
        -> PostgresQueryResult
    {
        let result = futureQuery(query, on: connection, logger: logger)
        let outcome = result.eventLoop.makePromise(of: PostgresQueryResult.self)
        result.cascade(to: outcome)
        let watch = ConnectionCloseWatch.shared.watch(connection) { outcome.fail(ConnectionClosed()) }
        defer { ConnectionCloseWatch.shared.end(watch) }
        do {
            return try await outcome.futureResult.get()
        } catch  where isBrokenConnection(error) {
            // Close it for good before the lease returns: the pool then drops it (its close
            // callback runs first) and a retry cannot be handed the same dead connection.
            let closing: EventLoopFuture<Void> = connection.close()
            closing.whenComplete { _ in }
            try? await connection.closeFuture.get()
            throw error
        }
    }

    /// Runs a prepared read and collects its rows; like ``run(_:on:logger:)``, the wait also ends
    /// when the connection closes, and a broken connection is closed for good before the lease
    /// returns.
    static func run<Read: PreparedRead>(
        _ statement: PreparedStatement<Read>, on connection: PostgresConnection, logger: Logger
    ) async throws -> [OrderedRow] {
        let outcome = connection.eventLoop.makePromise(of: [OrderedRow].self)
        let watch = ConnectionCloseWatch.shared.watch(connection) { outcome.fail(ConnectionClosed()) }
        defer { ConnectionCloseWatch.shared.end(watch) }
        let work = Task {
            do {
                var rows: [OrderedRow] = []
                for try await row in try await connection.execute(statement, logger: logger) { rows.append(row) }
                outcome.succeed(rows)
            } catch {
                outcome.fail(error)
            }
        }
        do {
            return try await outcome.futureResult.get()
        } catch  where isBrokenConnection(error) {
            work.cancel()
            let closing: EventLoopFuture<Void> = connection.close()
            closing.whenComplete { _ in }
            try? await connection.closeFuture.get()
            throw error
        }
    }

    /// The future-returning `query` (its result carries the affected-row count); a synchronous
    /// function so overload resolution cannot pick the async row-sequence variant.
    private static func futureQuery(_ query: PostgresQuery, on connection: PostgresConnection, logger: Logger)
        -> EventLoopFuture<PostgresQueryResult>
    {
        connection.query(query, logger: logger)
    }
}

struct LeaseTimedOut: Error {}

/// A ``PreparedRead`` as PostgresNIO prepares it: named after the read, its SQL with `$n`
/// placeholders, its rows by column position.
struct PreparedStatement<Read: PreparedRead>: PostgresPreparedStatement {
    typealias Row = OrderedRow

    static var name: String { Read.name }
    static var sql: String { PreparedSQL.text(for: Read.self) }

    let binds: [DatabaseValue]

    func makeBindings() throws -> PostgresBindings { PostgresDatabase.bindings(binds) }

    /// The row with its cells undecoded: the read decodes the ones it uses (``PostgresCells``).
    func decodeRow(_ row: PostgresRow) -> OrderedRow { OrderedRow(cells: PostgresCells(row)) }
}

/// Each prepared read's SQL rewritten to `$n` placeholders once, not at every run.
private enum PreparedSQL {
    private static let rewritten = Mutex<[ObjectIdentifier: String]>([:])

    static func text<Read: PreparedRead>(for read: Read.Type) -> String {
        let key = ObjectIdentifier(read)
        if let text = rewritten.withLock({ $0[key] }) { return text }
        let text = PostgresPlaceholders.rewrite(Read.sql)
        rewritten.withLock { $0[key] = text }
        return text
    }
}

/// The leased connection was (or became) closed before the query completed.
struct ConnectionClosed: Error {}

/// Exponential backoff: `initial`, doubling, capped at `maximum`.
struct Backoff: Sendable {
    private var current: Duration
    private let maximum: Duration

    init(initial: Duration, maximum: Duration) {
        self.current = initial
        self.maximum = maximum
    }

    mutating func next() -> Duration {
        let delay = min(current, maximum)
        current = min(current * 2, maximum)
        return delay
    }
}

/// The connection inside one ``PostgresDatabase`` transaction. Valid only while the
/// transaction's body runs; no retries (a broken connection has lost the transaction).
struct PostgresSession: Database {
    let connection: PostgresConnection
    let logger: Logger
    let depth: Int

    var dialect: SQLDialect { .postgres }

    func query(_ sql: String, _ binds: [DatabaseValue]) async throws -> [DatabaseRow] {
        do {
            let query = try PostgresDatabase.makeQuery(sql, binds)
            return try PostgresDatabase.rows(try await PostgresDatabase.run(query, on: connection, logger: logger))
        } catch {
            throw PostgresDatabase.translate(error)
        }
    }

    @discardableResult
    func execute(_ sql: String, _ binds: [DatabaseValue]) async throws -> Int {
        do {
            let query = try PostgresDatabase.makeQuery(sql, binds)
            return try await PostgresDatabase.run(query, on: connection, logger: logger).metadata.rows ?? 0
        } catch {
            throw PostgresDatabase.translate(error)
        }
    }

    func query<Read: PreparedRead>(_ read: Read.Type, _ binds: [DatabaseValue]) async throws -> Read.Result {
        let rows: [OrderedRow]
        do {
            rows = try await PostgresDatabase.run(PreparedStatement<Read>(binds: binds), on: connection, logger: logger)
        } catch {
            throw PostgresDatabase.translate(error)
        }
        return try PostgresDatabase.decode(Read.self, rows)
    }

    func transaction<T: Sendable>(_ body: @Sendable (any Database) async throws -> T) async throws -> T {
        let nested = PostgresSession(connection: connection, logger: logger, depth: depth + 1)
        return try await Savepoint.run(on: self, depth: depth, nested: nested, body)
    }
}
