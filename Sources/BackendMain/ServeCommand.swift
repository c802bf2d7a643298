import ArgumentParser

/// (being written)
struct ServeCommand: AsyncParsableCommand {
    func run() async throws {
        throw ValidationError("not written yet")
    }
}
