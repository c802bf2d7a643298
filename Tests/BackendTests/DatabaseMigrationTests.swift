import Foundation
import Testing

@testable import Backend

@Suite("Database: schema migrations")
struct DatabaseMigrationTests {
    @Test(arguments: TestDatabases.kinds)
    func migratingTwiceAppliesEachVersionOnce(kind: StoreKind) async throws {
        try await TestDatabases.withDatabase(kind, migrated: false) { database in
            #expect(try await Migrator.appliedVersions(database).isEmpty)
            let first = try await Migrator.migrate(database, logger: TestDatabases.quietLogger)
            let second = try await Migrator.migrate(database, logger: TestDatabases.quietLogger)

            #expect(first.applied == Migration.all.map(\.version))
            #expect(first.currentVersion == Migration.latestVersion)
            #expect(second.applied.isEmpty)
            #expect(second.currentVersion == Migration.latestVersion)
            #expect(try await Migrator.appliedVersions(database) == Migration.all.map(\.version))
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func twoWorkersMigratingAtOnceApplyEachVersionOnce(kind: StoreKind) async throws {
        let reports: [Migrator.Report]
        switch kind {
        case .sqlite:
            reports = try await TestDatabases.withTemporaryDirectory { directory in
                var configuration = SQLiteDatabase.Configuration.dataDirectory(directory)
                // The second waits for the first's migration under SQLite's write lock; on a
                // loaded machine that can outlast the default 5 s busy timeout.
                configuration.busyTimeout = .seconds(60)
                // Opened one after the other: switching a new file to WAL from two connections at
                // once can fail with SQLITE_BUSY at once, whatever the busy timeout (a lock
                // upgrade SQLite will not wait for). The migrations below still race.
                let a = try await SQLiteDatabase.open(configuration, logger: TestDatabases.quietLogger)
                let b = try await SQLiteDatabase.open(configuration, logger: TestDatabases.quietLogger)
                async let reportA = Migrator.migrate(a, logger: TestDatabases.quietLogger)
                async let reportB = Migrator.migrate(b, logger: TestDatabases.quietLogger)
                let reports = try await [reportA, reportB]
                #expect(try await Migrator.appliedVersions(a) == Migration.all.map(\.version))
                await a.close()
                await b.close()
                return reports
            }
        case .postgres:
            reports = try await TestDatabases.withPostgresSchema { schema in
                let configuration = try TestDatabases.postgresConfiguration(schema: schema)
                return try await PostgresDatabase.withRunning(configuration, logger: TestDatabases.quietLogger) { a in
                    try await PostgresDatabase.withRunning(configuration, logger: TestDatabases.quietLogger) { b in
                        async let reportA = Migrator.migrate(a, logger: TestDatabases.quietLogger)
                        async let reportB = Migrator.migrate(b, logger: TestDatabases.quietLogger)
                        let reports = try await [reportA, reportB]
                        #expect(try await Migrator.appliedVersions(b) == Migration.all.map(\.version))
                        return reports
                    }
                }
            }
        }
        #expect(reports.map(\.applied).sorted { $0.count < $1.count } == [[], Migration.all.map(\.version)])
        #expect(reports.allSatisfy { $0.currentVersion == Migration.latestVersion })
    }

    @Test(arguments: TestDatabases.kinds)
    func aFailingMigrationLeavesNothingApplied(kind: StoreKind) async throws {
        let broken = Migration(version: 99, name: "broken") { _ in
            ["CREATE TABLE half_done (id INTEGER)", "THIS IS NOT SQL"]
        }
        try await TestDatabases.withDatabase(kind, migrated: false) { database in
            await #expect(throws: StoreError.failed) {
                try await Migrator.migrate(
                    database, migrations: Migration.all + [broken], logger: TestDatabases.quietLogger)
            }
            #expect(try await Migrator.appliedVersions(database).isEmpty)
            #expect(try await database.query(database.dialect.columnNamesSQL, [.text("racks")]).isEmpty)
            #expect(try await database.query(database.dialect.columnNamesSQL, [.text("half_done")]).isEmpty)

            let report = try await Migrator.migrate(database, logger: TestDatabases.quietLogger)
            #expect(report.currentVersion == Migration.latestVersion)
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func theTableCatalogMatchesTheMigratedSchema(kind: StoreKind) async throws {
        try await TestDatabases.withDatabase(kind) { database in
            for table in TableCatalog.all {
                let rows = try await database.query(database.dialect.columnNamesSQL, [.text(table.name)])
                let columns = try rows.map { try $0.string("column_name") }
                #expect(columns == table.columnNames, "columns of \(table.name)")
            }
        }
    }
}
