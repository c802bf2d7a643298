import Foundation
import NIOCore
import PostgresNIO
import Testing

@testable import Backend

/// A statement's close handler lives only while the statement does: the per-statement
/// `closeFuture` callbacks it replaces kept every result a connection had read alive until the
/// connection closed (a worker grew by about 16 KB per uncached layout).
@Suite("Database: connection close watch")
struct ConnectionCloseWatchTests {
    @Test(.enabled(if: TestDatabases.postgresRequired))
    func aHandlerIsDroppedWhenItsStatementEndsAndRunsWhenItsConnectionCloses() async throws {
        var configuration = try TestDatabases.postgresConfiguration(schema: nil)
        configuration.pool = .init(minimumConnections: 1, maximumConnections: 1, keepAliveFrequency: nil)
        try await PostgresDatabase.withRunning(configuration, logger: TestDatabases.quietLogger) { database in
            try await database.waitUntilReachable()
            let watch = ConnectionCloseWatch()
            try await database.client.withConnection { connection in
                for _ in 0..<1_000 {
                    let token = watch.watch(connection) { Issue.record("a handler ran for an ended statement") }
                    watch.end(token)
                }
                #expect(watch.watchedStatements == 0, "ended statements left handlers behind")

                // A statement still waiting when its connection closes is ended by the close.
                await withCheckedContinuation { (closed: CheckedContinuation<Void, Never>) in
                    _ = watch.watch(connection) { closed.resume() }
                    let closing: EventLoopFuture<Void> = connection.close()
                    closing.whenComplete { _ in }
                }
                #expect(watch.watchedStatements == 0)
            }
        }
    }

    /// The store's statements leave nothing registered once they return, plain and prepared alike
    /// (one connection, so the one checked is the one they ran on).
    @Test(.enabled(if: TestDatabases.postgresRequired))
    func theStoresStatementsLeaveNoHandlerBehind() async throws {
        try await TestDatabases.withPostgresSchema { schema in
            var configuration = try TestDatabases.postgresConfiguration(schema: schema)
            configuration.pool = .init(minimumConnections: 1, maximumConnections: 1, keepAliveFrequency: nil)
            try await PostgresDatabase.withRunning(configuration, logger: TestDatabases.quietLogger) { database in
                try await Migrator.migrate(database, logger: TestDatabases.quietLogger)
                let store = SQLRackStore(database: database)
                let rack = try await StoreFixtures.rack(store, name: "watched")
                for _ in 0..<50 {
                    _ = try await database.query("SELECT 1 AS one", [])
                    _ = try await store.layout(rackID: rack.id)
                }
                try await database.client.withConnection { connection in
                    #expect(ConnectionCloseWatch.shared.watchedStatements(on: connection) == 0)
                }
            }
        }
    }
}
