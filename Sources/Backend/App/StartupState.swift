import Synchronization

/// Whether this worker has finished starting (schema migrations applied), for
/// `/api/health/startup` and `/api/health/ready`. Shared by reference: the bootstrap marks it,
/// the health routes read it.
public final class StartupState: Sendable {
    private let done: Atomic<Bool>

    public init(migrationsDone: Bool = false) {
        self.done = Atomic(migrationsDone)
    }

    public var migrationsDone: Bool { done.load(ordering: .acquiring) }

    public func markMigrationsDone() {
        done.store(true, ordering: .releasing)
    }
}
