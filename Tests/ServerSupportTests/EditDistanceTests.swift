import ServerSupport
import Testing

@Suite("Optimal string alignment distance")
struct EditDistanceTests {
    private func distance(_ a: String, _ b: String) -> Int {
        optimalStringAlignmentDistance(Array(a), Array(b))
    }

    @Test func equalWordsAreZeroApart() {
        #expect(distance("backlog", "backlog") == 0)
    }

    @Test func emptyWordsAreTheOtherWordsLengthApart() {
        #expect(distance("", "") == 0)
        #expect(distance("", "abc") == 3)
        #expect(distance("abc", "") == 3)
    }

    @Test func oneInsertionDeletionOrSubstitutionCostsOne() {
        #expect(distance("backlog", "backlogs") == 1)
        #expect(distance("backlogs", "backlog") == 1)
        #expect(distance("backlog", "backlig") == 1)
        #expect(distance("ab", "xab") == 1)
    }

    @Test func aSwapOfNeighboursCostsOne() {
        #expect(distance("backlgo", "backlog") == 1)
        #expect(distance("DATABSE", "DATABASE") == 1)
        #expect(distance("ab", "ba") == 1)
    }

    @Test func editsAddUp() {
        #expect(distance("kitten", "sitting") == 3)
        #expect(distance("flaw", "lawn") == 2)
    }

    /// Optimal string alignment edits no substring twice: `ca` → `abc` is 3, where unrestricted
    /// Damerau-Levenshtein would say 2 (swap, then insert between the swapped letters).
    @Test func aSwappedPairIsNotEditedAgain() {
        #expect(distance("ca", "abc") == 3)
    }

    @Test func theDistanceIsSymmetric() {
        for (a, b) in [("connect_timeout", "conect_timout"), ("ab", "bca"), ("", "x")] {
            #expect(distance(a, b) == distance(b, a))
        }
    }

    @Test func anyEquatableElementsCanBeCompared() {
        #expect(optimalStringAlignmentDistance([1, 2, 3], [1, 3, 2]) == 1)
    }
}
