import ArgumentParser

/// (being written)
struct SuperviseCommand: AsyncParsableCommand {
    func run() async throws {
        throw ValidationError("not written yet")
    }
}
