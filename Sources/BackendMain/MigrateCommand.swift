import ArgumentParser

/// (being written)
struct MigrateCommand: AsyncParsableCommand {
    func run() async throws {
        throw ValidationError("not written yet")
    }
}
