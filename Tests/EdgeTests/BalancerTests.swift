import LimitsTestUtils
import Testing

@testable import Edge

@Suite("Balancer")
struct BalancerTests {
    static func candidates(_ specs: [(weight: Int, inFlight: Int)], indexBase: Int = 0) -> [BalancerCandidate] {
        specs.enumerated().map { BalancerCandidate(index: indexBase + $0.offset, weight: $0.element.weight, inFlight: $0.element.inFlight) }
    }

    static func choices(
        _ algorithm: BalanceAlgorithm, _ candidates: [BalancerCandidate], turns: Range<UInt64>, seed: UInt64 = 1
    ) -> [Int] {
        var random = SeededRandom(seed: seed)
        return turns.map { Balancer.choose(algorithm, from: candidates, turn: $0, random: &random) }
    }

    static func counts(_ picks: [Int]) -> [Int: Int] {
        picks.reduce(into: [:]) { $0[$1, default: 0] += 1 }
    }

    // MARK: Round robin

    @Test func roundRobinWithEqualWeightsAlternates() {
        let picks = Self.choices(.roundRobin, Self.candidates([(1, 0), (1, 0)]), turns: 0..<6)
        #expect(picks == [0, 1, 0, 1, 0, 1])
    }

    @Test func roundRobinFollowsWeights() {
        let picks = Self.choices(.roundRobin, Self.candidates([(3, 0), (1, 0)]), turns: 0..<8)
        #expect(picks == [0, 0, 0, 1, 0, 0, 0, 1])
    }

    @Test func roundRobinIgnoresLoad() {
        let picks = Self.choices(.roundRobin, Self.candidates([(1, 50), (1, 0)]), turns: 0..<4)
        #expect(picks == [0, 1, 0, 1])
    }

    @Test func roundRobinReturnsThePoolIndexOfFilteredCandidates() {
        // Servers 0, 1 and 3 are down or tried: the candidates are 2 and 4.
        let candidates = [BalancerCandidate(index: 2, weight: 1, inFlight: 0), BalancerCandidate(index: 4, weight: 2, inFlight: 0)]
        #expect(Self.choices(.roundRobin, candidates, turns: 0..<6) == [2, 4, 4, 2, 4, 4])
    }

    @Test(arguments: BalanceAlgorithm.allCases)
    func singleCandidateIsAlwaysChosen(algorithm: BalanceAlgorithm) {
        let only = [BalancerCandidate(index: 7, weight: 5, inFlight: 100)]
        #expect(Set(Self.choices(algorithm, only, turns: 0..<20)) == [7])
    }

    // MARK: Least connections

    @Test func leastConnectionsPicksTheFewestInFlight() {
        let picks = Self.choices(.leastConnections, Self.candidates([(1, 3), (1, 1), (1, 2)]), turns: 0..<9)
        #expect(Set(picks) == [1])
    }

    @Test func leastConnectionsWeighsInFlightByWeight() {
        // 4 in flight on weight 4 is lighter (1 per unit) than 2 on weight 1.
        let picks = Self.choices(.leastConnections, Self.candidates([(4, 4), (1, 2)]), turns: 0..<6)
        #expect(Set(picks) == [0])
    }

    @Test func leastConnectionsTiesAlternate() {
        let picks = Self.choices(.leastConnections, Self.candidates([(1, 2), (1, 2)]), turns: 0..<6)
        #expect(picks == [0, 1, 0, 1, 0, 1])
    }

    @Test func leastConnectionsTiesNeverPickABusierServer() {
        let picks = Self.choices(.leastConnections, Self.candidates([(1, 0), (1, 5), (1, 0)]), turns: 0..<30)
        let counts = Self.counts(picks)
        #expect(counts[1] == nil)
        #expect((counts[0] ?? 0) > 0 && (counts[2] ?? 0) > 0, "both tied servers get requests: \(counts)")
    }

    // MARK: Power of two choices

    @Test func p2cWithTwoServersAlwaysPicksTheLessLoaded() {
        for seed in 1...20 {
            let picks = Self.choices(.powerOfTwoChoices, Self.candidates([(1, 9), (1, 2)]), turns: 0..<50, seed: UInt64(seed))
            #expect(Set(picks) == [1], "seed \(seed)")
        }
    }

    @Test func p2cNeverPicksTheWorseLoadedOfTheTwoSampled() {
        // Loads 0, 5, 10: any two sampled include a lighter one than 10, so server 2 is never
        // picked; server 1 is picked only when sampled with 2 (one pair in three), server 0
        // whenever it is sampled (two pairs in three).
        let picks = Self.choices(.powerOfTwoChoices, Self.candidates([(1, 0), (1, 5), (1, 10)]), turns: 0..<9_000)
        let counts = Self.counts(picks)
        #expect(counts[2] == nil, "\(counts)")
        #expect((5_600...6_400).contains(counts[0] ?? 0), "\(counts)")
        #expect((2_600...3_400).contains(counts[1] ?? 0), "\(counts)")
    }

    @Test func p2cComparesLoadPerWeight() {
        // 6 in flight on weight 3 (2 per unit) is lighter than 3 on weight 1.
        let picks = Self.choices(.powerOfTwoChoices, Self.candidates([(3, 6), (1, 3)]), turns: 0..<100)
        #expect(Set(picks) == [0])
    }

    @Test func p2cSpreadsEqualLoadsByWeight() {
        let picks = Self.choices(.powerOfTwoChoices, Self.candidates([(1, 0), (3, 0)]), turns: 0..<20_000)
        let share = Double(Self.counts(picks)[1] ?? 0) / 20_000
        #expect(abs(share - 0.75) < 0.02, "weight 3 of 4 got \(share)")
    }

    @Test func p2cSpreadsEqualLoadsByWeightOverManyServers() {
        let weights = [1, 2, 3, 4]
        let picks = Self.choices(.powerOfTwoChoices, Self.candidates(weights.map { ($0, 0) }), turns: 0..<50_000)
        let counts = Self.counts(picks)
        for (index, weight) in weights.enumerated() {
            let share = Double(counts[index] ?? 0) / 50_000
            #expect(abs(share - Double(weight) / 10) < 0.02, "server \(index) (weight \(weight)) got \(share)")
        }
    }

    @Test func p2cIsDeterministicForASeed() {
        let candidates = Self.candidates([(1, 1), (2, 1), (1, 0), (5, 3)])
        let first = Self.choices(.powerOfTwoChoices, candidates, turns: 0..<200, seed: 42)
        let second = Self.choices(.powerOfTwoChoices, candidates, turns: 0..<200, seed: 42)
        #expect(first == second)
    }
}
