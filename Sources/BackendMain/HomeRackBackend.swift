import ArgumentParser

/// `homerack-backend`: the rack API's worker processes and their tools.
@main
struct HomeRackBackend: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "homerack-backend",
        abstract: "The HomeRack rack-planning API: serve it, supervise its workers, manage its database.",
        subcommands: [
            ServeCommand.self, SuperviseCommand.self, WorkerCommand.self, MigrateCommand.self,
            CopyDatabaseCommand.self, HashTokenCommand.self,
        ],
        defaultSubcommand: SuperviseCommand.self
    )
}
