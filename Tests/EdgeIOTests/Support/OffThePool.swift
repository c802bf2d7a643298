import Foundation

/// Runs blocking socket or process I/O on a thread of its own: on Swift's cooperative pool,
/// which has one thread per core (two here), it would stall every other test's awaits for as
/// long as it blocks.
func offThePool<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread.detachNewThread { continuation.resume(with: Result { try body() }) }
    }
}
