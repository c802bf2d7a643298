import ServiceLifecycle

/// Lets the service group own the embedded database like the PostgreSQL pool: added before the
/// HTTP server, it is closed after the server has drained (services shut down in reverse order).
extension SQLiteDatabase: Service {
    /// Waits for graceful shutdown (or cancellation), then closes the database.
    public func run() async throws {
        try? await gracefulShutdown()
        await close()
    }
}
