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

    /// Runs the command the arguments name; the supervisor's own worker line
    /// (``WorkerCommand/SpawnLine``) is read without ArgumentParser.
    ///
    /// The supervisor starts a worker every `MAX_REQUESTS` requests, and ArgumentParser's
    /// reflection of the command tree (each command's options, the completion-script check) was
    /// about a tenth of a worker's start-up CPU. Any other line, `worker --help` or
    /// `worker --config FILE` included, goes through ArgumentParser as before.
    static func main() async {
        guard let line = WorkerCommand.SpawnLine(CommandLine.arguments.dropFirst()) else {
            await main(nil)
            return
        }
        do {
            try await WorkerCommand.run(fd: line.fd, supervisorFD: line.supervisorFD, slot: line.slot, config: nil)
        } catch {
            exit(withError: error)
        }
    }
}
