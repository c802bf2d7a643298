import NIOCore

extension EventLoopFuture where Value: Sendable {
    /// The future's value, or a failure naming `what` once `timeout` has passed: every wait in
    /// the TLS tests has a deadline.
    func get(within timeout: TimeAmount, _ what: String) async throws -> Value {
        let promise = eventLoop.makePromise(of: Value.self)
        let timer = eventLoop.scheduleTask(in: timeout) {
            promise.fail(TLSTestFailure("timed out after \(timeout) waiting for \(what)"))
        }
        cascade(to: promise)
        promise.futureResult.whenComplete { _ in timer.cancel() }
        return try await promise.futureResult.get()
    }
}

/// Polls `condition` until it holds, failing after `timeout`.
func tlsEventually(
    _ what: String, timeout: Duration = .seconds(5), interval: Duration = .milliseconds(10),
    _ condition: () async throws -> Bool
) async throws {
    let deadline = ContinuousClock.now + timeout
    while try await !condition() {
        guard ContinuousClock.now < deadline else { throw TLSTestFailure("timed out after \(timeout) waiting for \(what)") }
        try await Task.sleep(for: interval)
    }
}
