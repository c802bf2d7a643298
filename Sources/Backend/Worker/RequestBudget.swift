import Synchronization

/// How many requests a worker serves before it recycles itself: gunicorn's `max_requests` plus
/// a random share of `max_requests_jitter`, so workers started together do not all recycle at
/// the same moment.
public struct RequestBudget: Sendable, Hashable {
    /// The number of requests after which the worker drains and exits; `nil` never.
    public let limit: Int?

    /// - Parameters:
    ///   - maxRequests: `MAX_REQUESTS`; 0 turns recycling off.
    ///   - jitter: `MAX_REQUESTS_JITTER`: up to this many requests are added at random.
    ///   - generator: the randomness (a seeded one in tests).
    public init(maxRequests: Int, jitter: Int, using generator: inout some RandomNumberGenerator) {
        guard maxRequests > 0 else {
            limit = nil
            return
        }
        limit = maxRequests + Int.random(in: 0...max(jitter, 0), using: &generator)
    }

    public init(limit: Int?) {
        self.limit = limit
    }
}

/// Counts a worker's requests against its ``RequestBudget``, from any thread.
public final class RequestCounter: Sendable {
    private let count = Atomic<Int>(0)
    public let budget: RequestBudget

    public init(budget: RequestBudget) {
        self.budget = budget
    }

    /// Requests counted so far.
    public var requests: Int { count.load(ordering: .relaxed) }

    /// Counts one request.
    /// - Returns: `true` for exactly one request, the one that uses up the budget: the caller
    ///   starts the drain. The requests after it (already on open connections) are still served.
    public func requestArrived() -> Bool {
        let counted = count.wrappingAdd(1, ordering: .relaxed).newValue
        return counted == budget.limit
    }
}
