import ArgumentParser

/// (being written)
struct HashTokenCommand: AsyncParsableCommand {
    func run() async throws {
        throw ValidationError("not written yet")
    }
}
