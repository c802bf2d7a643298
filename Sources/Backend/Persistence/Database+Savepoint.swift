/// Nested transactions, shared by both drivers: a transaction opened inside another becomes a
/// `SAVEPOINT`, so a store method that needs atomicity can open one whether or not its caller
/// already did, and its failure undoes only its own part.
enum Savepoint {
    /// Runs `body` inside savepoint `sp<depth>` on `session` (a connection in a transaction).
    ///
    /// - Parameters:
    ///   - session: the connection, already inside a transaction.
    ///   - depth: the nesting level, which names the savepoint.
    ///   - nested: the handle `body` receives (one level deeper).
    ///   - body: the work; its error rolls back to the savepoint and is rethrown.
    static func run<T: Sendable>(
        on session: any Database, depth: Int, nested: any Database,
        _ body: @Sendable (any Database) async throws -> T
    ) async throws -> T {
        let name = "sp\(depth)"
        try await session.execute("SAVEPOINT \(name)", [])
        do {
            let value = try await body(nested)
            try await session.execute("RELEASE SAVEPOINT \(name)", [])
            return value
        } catch {
            _ = try? await session.execute("ROLLBACK TO SAVEPOINT \(name)", [])
            _ = try? await session.execute("RELEASE SAVEPOINT \(name)", [])
            throw error
        }
    }
}
