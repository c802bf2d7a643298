import Testing

@testable import RackPlanning

@Suite("Number formatting and rounding")
struct DecimalFormattingTests {
    @Test func fixedPlaces() {
        #expect(DecimalFormatting.fixed(35.4341, places: 1) == "35.4")
        #expect(DecimalFormatting.fixed(0.740794, places: 2) == "0.74")
        #expect(DecimalFormatting.fixed(2.5, places: 2) == "2.50")
        #expect(DecimalFormatting.fixed(600, places: 0) == "600")
        #expect(DecimalFormatting.fixed(0.04, places: 1) == "0.0")
        #expect(DecimalFormatting.fixed(-3.25, places: 1) == "-3.2")
        #expect(DecimalFormatting.fixed(-0.01, places: 1) == "0.0")
    }

    @Test func percentages() {
        #expect(DecimalFormatting.percent(0.553176, places: 2) == "55.32%")
        #expect(DecimalFormatting.percent(1, places: 2) == "100.00%")
    }

    @Test func roundingHalvesGoToEven() {
        // As Python's round: 0.125 → 0.12, 0.375 → 0.38; 16.666… → 16.67.
        #expect(0.125.rounded(toPlaces: 2) == 0.12)
        #expect(0.375.rounded(toPlaces: 2) == 0.38)
        #expect((7.0 / 42 * 100).rounded(toPlaces: 2) == 16.67)
        #expect(4.9589.rounded(toPlaces: 1) == 5.0)
    }
}
