import Backend
import Synchronization
import Testing

/// The database circuit breaker over a fake database that can be made unreachable.
@Suite("Database: circuit breaker")
struct BreakerDatabaseTests {
    /// A database that answers `SELECT`s with one row, or fails as an unreachable server does.
    final class SwitchableDatabase: Database {
        let unreachable = Atomic<Bool>(false)
        let calls = Atomic<Int>(0)
        var dialect: SQLDialect { .postgres }

        func query(_ sql: String, _ binds: [DatabaseValue]) async throws -> [DatabaseRow] {
            calls.add(1, ordering: .relaxed)
            if unreachable.load(ordering: .relaxed) { throw StoreError.unavailable("connection refused") }
            return [DatabaseRow(values: ["one": .integer(1)])]
        }

        /// Prepared reads that reached this database as such.
        let preparedCalls = Atomic<Int>(0)

        func query<Read: PreparedRead>(_ read: Read.Type, _ binds: [DatabaseValue]) async throws -> Read.Result {
            preparedCalls.add(1, ordering: .relaxed)
            let rows = try await query(Read.sql, binds)
            return try Read.decode(rows.map { OrderedRow(values: Array($0.values.values)) })
        }

        func execute(_ sql: String, _ binds: [DatabaseValue]) async throws -> Int {
            calls.add(1, ordering: .relaxed)
            if unreachable.load(ordering: .relaxed) { throw StoreError.unavailable("connection refused") }
            if sql.contains("duplicate") { throw StoreError.conflict("duplicate") }
            return 1
        }

        func transaction<T: Sendable>(_ body: @Sendable (any Database) async throws -> T) async throws -> T {
            try await body(self)
        }
    }

    static let configuration = CircuitBreaker.StateMachine.Configuration(
        failureThreshold: 3, coolDown: .milliseconds(100), probeTimeout: .seconds(2), timeoutOpensImmediately: false)

    @Test func opensAfterThreeFailuresAndThenAnswersWithoutAskingTheDatabase() async throws {
        let base = SwitchableDatabase()
        let database = BreakerDatabase(
            base: base, configuration: .init(failureThreshold: 3, coolDown: .seconds(60), probeTimeout: .seconds(60)))
        // A prepared read (an uncached layout) reaches the database as one (PostgreSQL prepares it)…
        _ = try await database.query(OneRead.self, [])
        #expect(base.preparedCalls.load(ordering: .relaxed) == 1)
        base.unreachable.store(true, ordering: .relaxed)
        for _ in 0..<3 {
            await #expect(throws: StoreError.unavailable) { try await database.query("SELECT 1", []) }
        }
        #expect(database.breaker.mode == .open)
        let callsWhenOpened = base.calls.load(ordering: .relaxed)

        let error = try await #require(throws: StoreError.self) { try await database.query("SELECT 1", []) }
        #expect(error == .unavailable)
        let retryAfter = try #require(error.retryAfter)
        #expect(retryAfter > .seconds(50) && retryAfter <= .seconds(60))
        #expect(base.calls.load(ordering: .relaxed) == callsWhenOpened)
        // …and is answered at once while the breaker is open, like any other.
        await #expect(throws: StoreError.unavailable) { try await database.query(OneRead.self, []) }
        #expect(base.calls.load(ordering: .relaxed) == callsWhenOpened)
        await database.shutdown()
    }

    enum OneRead: PreparedRead {
        static let name = "one"
        static let sql = "SELECT 1"
        static func decode(_ rows: [OrderedRow]) throws -> Int { rows.count }
    }

    @Test func constraintViolationsAreAnswersNotFailures() async throws {
        let base = SwitchableDatabase()
        let database = BreakerDatabase(base: base, configuration: Self.configuration)
        for _ in 0..<5 {
            await #expect(throws: StoreError.conflict) { try await database.execute("duplicate", []) }
        }
        #expect(database.breaker.mode == .closed)
        await database.shutdown()
    }

    @Test func theProberClosesTheBreakerOnceTheDatabaseAnswersWithoutAnyRequest() async throws {
        let base = SwitchableDatabase()
        let database = BreakerDatabase(base: base, configuration: Self.configuration)
        base.unreachable.store(true, ordering: .relaxed)
        for _ in 0..<3 {
            await #expect(throws: StoreError.unavailable) { try await database.query("SELECT 1", []) }
        }
        #expect(database.breaker.mode != .closed)
        // Still down: the prober keeps probing (its calls grow) and the breaker stays open.
        let calls = base.calls.load(ordering: .relaxed)
        try await waitFor("a probe", timeout: .seconds(30)) { base.calls.load(ordering: .relaxed) > calls + 1 }
        #expect(database.breaker.mode != .closed)

        base.unreachable.store(false, ordering: .relaxed)
        try await waitFor("the breaker to close", timeout: .seconds(30)) { database.breaker.mode == .closed }
        #expect(try await database.query("SELECT 1", []).count == 1)
        await database.shutdown()
    }

    /// Polls `condition` every 10 ms until it holds, failing after `timeout`.
    private func waitFor(_ what: String, timeout: Duration, _ condition: () -> Bool) async throws {
        let deadline = ContinuousClock.now + timeout
        while !condition() {
            guard ContinuousClock.now < deadline else {
                Issue.record("timed out after \(timeout) waiting for \(what)")
                return
            }
            try await Task.sleep(for: .milliseconds(10))
        }
    }
}
