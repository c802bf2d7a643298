import ArgumentParser

/// (being written)
struct CopyDatabaseCommand: AsyncParsableCommand {
    func run() async throws {
        throw ValidationError("not written yet")
    }
}
