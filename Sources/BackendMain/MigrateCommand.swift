import ArgumentParser
import Backend
import Logging

/// `homerack-backend migrate`: brings the configured database's schema up to date and exits.
///
/// The service migrates at start-up anyway; this is for deployments that migrate as a separate
/// step (before rolling out workers) and to check that the database is reachable.
struct MigrateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate",
        abstract: "Apply pending schema migrations to the configured database, then exit.")

    @OptionGroup var options: ConfigurationOptions

    func run() async throws {
        let configuration = try options.load()
        BackendLogging.bootstrap(level: configuration.logLevel, format: configuration.logFormat)
        let database = try await BackendDatabase.open(
            configuration.database, logger: Logger(label: "backend.persistence"))
        let report: Migrator.Report
        do {
            report = try await Migrator.migrate(
                database.database, logger: Logger(label: "backend.persistence.migrations"))
        } catch {
            await database.close()
            throw error
        }
        await database.close()
        if report.applied.isEmpty {
            print("schema is current (version \(report.currentVersion))")
        } else {
            let versions = report.applied.map(String.init).joined(separator: ", ")
            print("applied migrations \(versions); schema version \(report.currentVersion)")
        }
    }
}
