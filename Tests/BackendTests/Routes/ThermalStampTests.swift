import Foundation
import NIOCore
import RackPlanning
import Testing

@testable import Backend

@Suite("Thermal analysis: stamping cached JSON")
struct ThermalStampTests {
    let analysis = ThermalAnalysis(rack: Rack(id: 3, name: "Lab"), positions: [], timestamp: "")

    @Test func anUnstampedAnalysisGetsTheTimestampInItsLastBytes() throws {
        let stored = ByteBuffer(bytes: try JSONEncoder.api.encode(analysis))
        #expect(stored.readableBytesView.suffix(ThermalAnalysisService.unstampedSuffix.count).elementsEqual(
            ThermalAnalysisService.unstampedSuffix))
        let stamped = try ThermalAnalysisService.stamp(stored, with: "2026-11-27T20:00:00Z")
        let decoded = try JSONDecoder().decode(ThermalAnalysis.self, from: stamped)
        var expected = analysis
        expected.timestamp = "2026-11-27T20:00:00Z"
        #expect(decoded == expected)
    }

    @Test func anyOtherShapeIsDecodedAndStamped() throws {
        var old = analysis
        old.timestamp = "2020-01-01T00:00:00Z"
        let stored = ByteBuffer(bytes: try JSONEncoder().encode(old))
        let stamped = try ThermalAnalysisService.stamp(stored, with: "2026-11-27T20:00:00Z")
        #expect(try JSONDecoder().decode(ThermalAnalysis.self, from: stamped).timestamp == "2026-11-27T20:00:00Z")
        #expect(throws: DecodingError.self) { try ThermalAnalysisService.stamp(ByteBuffer(string: "[]"), with: "x") }
    }
}
