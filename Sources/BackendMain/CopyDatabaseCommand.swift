import ArgumentParser
import Backend
import Foundation
import Logging

/// `homerack-backend copy-database --from FILE [--to URL]`: copies the embedded SQLite database
/// into PostgreSQL (or another database), the move from a single-file install to PostgreSQL.
///
/// Both schemas are migrated first; the copy is one transaction on each side, keeps every id,
/// and prints each table's progress (`racks: 40/120`). A target that already holds data is
/// refused and left untouched (``DatabaseCopy`` has no option to overwrite: empty it first).
struct CopyDatabaseCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "copy-database",
        abstract: "Copy a SQLite database into the configured (empty) database.",
        discussion: "Stop the service that uses the SQLite file first: the copy reads it in one transaction.")

    @OptionGroup var options: ConfigurationOptions

    @Option(help: ArgumentHelp("The SQLite database file to copy.", valueName: "sqlite-file"))
    var from: String

    @Option(help: ArgumentHelp("The target database URL (default: DATABASE_URL).", valueName: "url"))
    var to: String?

    @Option(help: "Rows per INSERT.")
    var batchSize = 500

    func validate() throws {
        guard batchSize >= 1 else { throw ValidationError("--batch-size must be at least 1") }
    }

    func run() async throws {
        guard FileManager.default.fileExists(atPath: from) else {
            throw CommandFailure("no SQLite database at \(from)")
        }
        let configuration = try options.load(overriding: to.map { ["DATABASE_URL": $0] } ?? [:])
        BackendLogging.bootstrap(level: configuration.logLevel, format: configuration.logFormat)
        if case .sqlite(let target) = configuration.database, Self.samePath(target.path, from) {
            throw CommandFailure(
                "the target is the source file itself: pass --to postgres://... or set DATABASE_URL")
        }

        let logger = Logger(label: "backend.persistence.copy")
        let source = try await SQLiteDatabase.open(.init(path: from), logger: Logger(label: "backend.persistence"))
        let target: BackendDatabase
        do {
            target = try await BackendDatabase.open(
                configuration.database, logger: Logger(label: "backend.persistence"))
        } catch {
            await source.close()
            throw error
        }
        let report: DatabaseCopy.Report
        do {
            report = try await DatabaseCopy.copy(
                from: source, to: target.database, batchSize: batchSize, logger: logger
            ) { progress in
                print("\(progress.table): \(progress.copiedRows)/\(progress.totalRows)")
            }
        } catch {
            await target.close()
            await source.close()
            throw error
        }
        await target.close()
        await source.close()
        print("copied \(report.totalRows) rows in \(report.tables.count) tables")
    }

    private static func samePath(_ a: String, _ b: String) -> Bool {
        URL(fileURLWithPath: a).standardizedFileURL.resolvingSymlinksInPath()
            == URL(fileURLWithPath: b).standardizedFileURL.resolvingSymlinksInPath()
    }
}
