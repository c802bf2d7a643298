import EdgeIO
import Testing

@testable import EdgeIOProxy

/// Every open connection, idle ones included, holds one handler entry: its size is most of the
/// edge's memory per idle keep-alive connection (issue 13's bound: 512 bytes in all).
@Suite struct ProxyHandlerLayoutTests {
    @Test func anEntryHoldsNoPadding() {
        #expect(MemoryLayout<BodyFraming>.size == 16)
        #expect(MemoryLayout<ProxyHandler<FixturePolicy>.Entry>.stride == 96)
    }

    @Test func aBodyFramingKeepsItsKindStateAndCountApart() {
        var framing = BodyFraming(kind: .chunked)
        let input: [UInt8] = Array("a\r\n0123456789\r\n5\r\nabc".utf8)
        let outcome = input.withUnsafeBytes { framing.consume($0, from: 0) }
        #expect(outcome == .body(used: input.count, complete: false))
        #expect(framing.kind == .chunked)
        #expect(framing.announcedBytes == 15)
        #expect(framing.remaining == 2)
        let rest: [UInt8] = Array("de\r\n0\r\n\r\n".utf8)
        #expect(rest.withUnsafeBytes { framing.consume($0, from: 0) } == .body(used: rest.count, complete: true))
        #expect(framing.kind == .none)
    }
}
