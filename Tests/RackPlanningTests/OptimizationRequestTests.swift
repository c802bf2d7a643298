import Foundation
import RackPlanning
import Testing

@Suite("Optimization request validation")
struct OptimizationRequestTests {
    func decode(_ json: String) throws -> OptimizationRequest {
        try JSONDecoder().decode(OptimizationRequest.self, from: Data(json.utf8))
    }

    @Test func defaultWeightsAreValid() {
        // 0.30 + 0.25 + 0.25 + 0.20 = 1.00
        #expect(OptimizationRequest().fieldErrors().isEmpty)
        #expect(
            OptimizationWeights.standard == OptimizationWeights(cable: 0.3, weight: 0.25, thermal: 0.25, access: 0.2))
    }

    @Test func emptyBodyDecodesToTheDefaults() throws {
        let request = try decode("{}")
        #expect(request.lockedPositions == [])
        #expect(request.weights == .standard)
    }

    @Test func omittedWeightsKeepTheirDefaults() throws {
        // cable 0.5 with the other defaults: 0.5 + 0.25 + 0.25 + 0.2 = 1.2 → the sum error.
        let request = try decode(#"{"locked_positions": [4, 2], "weights": {"cable": 0.5}}"#)
        #expect(request.lockedPositions == [4, 2])
        #expect(request.weights == OptimizationWeights(cable: 0.5))
        #expect(
            request.fieldErrors() == [
                FieldError(
                    field: "weights", message: "Weights must sum to 1.0 (within 0.01); they sum to 1.20",
                    type: "value_error")
            ])
    }

    @Test func eachWeightMustBeBetweenZeroAndOne() {
        let weights = OptimizationWeights(cable: 1.5, weight: -0.1, thermal: 0.25, access: 0.2)
        #expect(
            weights.fieldErrors() == [
                FieldError(
                    field: "weights.cable", message: "Input should be less than or equal to 1", type: "less_than_equal"),
                FieldError(
                    field: "weights.weight", message: "Input should be greater than or equal to 0",
                    type: "greater_than_equal"),
            ])
    }

    @Test func sumIsCheckedOverAllFourWeights() {
        // 0.3 + 0.25 + 0.25 + 0.1 = 0.9: every weight is in range, the sum is not.
        let errors = OptimizationWeights(cable: 0.3, weight: 0.25, thermal: 0.25, access: 0.1).fieldErrors()
        #expect(errors.map(\.field) == ["weights"])
        #expect(errors.map(\.type) == ["value_error"])
    }

    @Test func partialSumsFarFromOneDoNotMatter() {
        // Running sums 0.1, 0.2, 0.3, then 1.0: only the full sum counts, and it is 1.
        #expect(OptimizationWeights(cable: 0.1, weight: 0.1, thermal: 0.1, access: 0.7).fieldErrors().isEmpty)
    }

    @Test func partialSumReachingOneEarlyIsNotEnough() {
        // Running sum is 1.0 after `cable` alone; the full sum is 1.5 → rejected.
        let errors = OptimizationWeights(cable: 1.0, weight: 0, thermal: 0, access: 0.5).fieldErrors()
        #expect(errors.map(\.field) == ["weights"])
    }

    @Test func sumWithinOneHundredthIsAccepted() {
        // 0.99 and 1.01 are on the edge of the band and pass; 0.985 and 1.015 do not.
        #expect(OptimizationWeights(cable: 0.29, weight: 0.25, thermal: 0.25, access: 0.2).fieldErrors().isEmpty)
        #expect(OptimizationWeights(cable: 0.31, weight: 0.25, thermal: 0.25, access: 0.2).fieldErrors().isEmpty)
        #expect(!OptimizationWeights(cable: 0.285, weight: 0.25, thermal: 0.25, access: 0.2).fieldErrors().isEmpty)
        #expect(!OptimizationWeights(cable: 0.315, weight: 0.25, thermal: 0.25, access: 0.2).fieldErrors().isEmpty)
    }

    @Test func sumIsNotReportedWhenAWeightIsOutOfRange() {
        // 2 + 0 + 0 + 0 is both out of range and off the sum; only the range is reported.
        let errors = OptimizationWeights(cable: 2, weight: 0, thermal: 0, access: 0).fieldErrors()
        #expect(errors.map(\.field) == ["weights.cable"])
    }

    @Test func notANumberIsRefused() {
        let errors = OptimizationWeights(cable: .nan).fieldErrors()
        #expect(errors.map(\.type) == ["finite_number"])
    }

    @Test func validateThrowsTheUnprocessableEntityError() {
        let request = OptimizationRequest(weights: .init(access: 0.9))
        #expect(throws: RackPlanningError.validationFailed) { try request.validate() }
    }
}
