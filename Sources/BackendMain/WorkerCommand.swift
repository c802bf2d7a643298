import ArgumentParser

/// (being written)
struct WorkerCommand: AsyncParsableCommand {
    func run() async throws {
        throw ValidationError("not written yet")
    }
}
