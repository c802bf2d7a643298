/// What the balancer needs to know about one server at the moment of a choice.
public struct BalancerCandidate: Sendable, Equatable {
    /// The server's position in its pool.
    public var index: Int
    /// Relative share of requests.
    public var weight: Int
    /// Requests in flight to it now, from all event loops.
    public var inFlight: Int

    public init(index: Int, weight: Int, inFlight: Int) {
        self.index = index
        self.weight = weight
        self.inFlight = inFlight
    }
}

/// Picks a server for a request. Pure: the caller passes the candidates (already filtered to the
/// healthy ones not yet tried for this request), a turn counter, and the random source.
///
/// - Round robin walks the weighted sequence: with weights 3 and 1, turns 0..3 go to A, A, A, B.
/// - Least connections takes the fewest in flight relative to weight (`inFlight / weight`),
///   ties broken by the turn so equal servers still alternate.
/// - Power of two choices samples two distinct candidates (weighted) and keeps the one with
///   fewer in flight per weight: nearly as good as least connections, without every loop
///   herding onto the same momentarily idle server.
public enum Balancer {
    /// - Parameters:
    ///   - algorithm: the pool's algorithm.
    ///   - candidates: the servers that may take this request; must not be empty.
    ///   - turn: a counter that grows by one per choice (shared by the pool).
    ///   - random: the random source (seeded in tests).
    /// - Returns: the chosen candidate's ``BalancerCandidate/index``.
    public static func choose<R: RandomNumberGenerator>(
        _ algorithm: BalanceAlgorithm, from candidates: [BalancerCandidate], turn: UInt64, random: inout R
    ) -> Int {
        precondition(!candidates.isEmpty, "the balancer needs at least one candidate")
        if candidates.count == 1 { return candidates[0].index }
        switch algorithm {
        case .roundRobin:
            let total = candidates.reduce(0) { $0 + $1.weight }
            var position = Int(turn % UInt64(total))
            for candidate in candidates {
                if position < candidate.weight { return candidate.index }
                position -= candidate.weight
            }
            preconditionFailure("weighted position beyond the total weight")
        case .leastConnections:
            let start = Int(turn % UInt64(candidates.count))
            var best = candidates[start]
            for offset in 1..<candidates.count {
                let candidate = candidates[(start + offset) % candidates.count]
                if isLess(candidate, than: best) { best = candidate }
            }
            return best.index
        case .powerOfTwoChoices:
            let first = weightedPick(candidates, excluding: nil, random: &random)
            let second = weightedPick(candidates, excluding: first, random: &random)
            return isLess(candidates[second], than: candidates[first]) ? candidates[second].index : candidates[first].index
        }
    }

    /// Fewer requests in flight per unit of weight (cross-multiplied, no division).
    private static func isLess(_ lhs: BalancerCandidate, than rhs: BalancerCandidate) -> Bool {
        lhs.inFlight * rhs.weight < rhs.inFlight * lhs.weight
    }

    /// A position in `candidates` drawn in proportion to weight, other than `excluding`.
    private static func weightedPick<R: RandomNumberGenerator>(
        _ candidates: [BalancerCandidate], excluding: Int?, random: inout R
    ) -> Int {
        let total = candidates.indices.reduce(0) { $0 + ($1 == excluding ? 0 : candidates[$1].weight) }
        var position = Int.random(in: 0..<total, using: &random)
        for (offset, candidate) in candidates.enumerated() where offset != excluding {
            if position < candidate.weight { return offset }
            position -= candidate.weight
        }
        preconditionFailure("weighted position beyond the total weight")
    }
}
