import LimitsTestUtils
import Testing

@testable import Edge

@Suite("Request ID")
struct RequestIDTests {
    @Test(arguments: [
        "0123456789abcdef0123456789abcdef", "550e8400-e29b-41d4-a716-446655440000", "01ARZ3NDEKTSV4RRFFQ69G5FAV",
        "lb-1:abc_DEF.2", "x", String(repeating: "a", count: 128),
    ])
    func acceptsWellFormedIDs(id: String) {
        #expect(RequestID.isWellFormed(Substring(id)))
    }

    @Test(arguments: [
        "", String(repeating: "a", count: 129), "has space", "crlf\r\nX-Injected: 1", "semi;colon", "<script>", "é",
        "tab\there", "quote\"", "slash/",
    ])
    func refusesMalformedIDs(id: String) {
        #expect(!RequestID.isWellFormed(Substring(id)))
    }

    @Test func generatedIDsAre32LowercaseHexDigits() {
        var random = SeededRandom(seed: 7)
        for _ in 0..<100 {
            let id = RequestID.generate(using: &random).description
            #expect(id.count == 32)
            #expect(id.allSatisfy { "0123456789abcdef".contains($0) }, "\(id)")
            #expect(RequestID.isWellFormed(Substring(id)))
        }
    }

    @Test func generatedIDsDifferAndFollowTheSeed() {
        var random = SeededRandom(seed: 7)
        let ids = (0..<1000).map { _ in RequestID.generate(using: &random).description }
        #expect(Set(ids).count == 1000)
        var replay = SeededRandom(seed: 7)
        #expect(RequestID.generate(using: &replay).description == ids[0])
    }

    /// A generated ID's bytes, written where it goes without a string, are its text; a given
    /// one's are the text it came with.
    @Test func anIDsBytesAreItsText() {
        var random = SeededRandom(seed: 11)
        let generated = RequestID.generate(using: &random)
        #expect(generated.withBytes { Array($0) } == Array(generated.description.utf8))
        #expect(RequestID.given("abc-123").withBytes { Array($0) } == Array("abc-123".utf8))
        #expect(RequestID.generated(0x0123_4567_89AB_CDEF, 0).description == "fedcba9876543210" + String(repeating: "0", count: 16))
    }
}
