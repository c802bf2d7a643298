import Backend
import NIOCore
import Testing

/// The framing of what workers tell the supervisor, and the request budget that makes a worker
/// recycle itself.
@Suite("Supervisor worker messages and request budget")
struct SupervisorWorkerMessageTests {
    static let messages: [WorkerMessage] = [
        .ready, .heartbeat, .recycling(requests: 10_417), .metrics("a_total 1\n", final: false),
        .metrics("a_total 2\n", final: true), .metrics("", final: false),
    ]

    @Test func everyMessageSurvivesEncodingAndDecoding() throws {
        var buffer = ByteBuffer()
        for message in Self.messages { message.encode(into: &buffer) }
        var decoded: [WorkerMessage] = []
        while let message = try WorkerMessage.decode(from: &buffer) { decoded.append(message) }
        #expect(decoded == Self.messages)
        #expect(buffer.readableBytes == 0)
    }

    @Test func aFrameSplitAcrossReadsDecodesOnceWhole() throws {
        var whole = ByteBuffer()
        WorkerMessage.metrics(String(repeating: "x", count: 300), final: true).encode(into: &whole)
        var partial = ByteBuffer()
        while whole.readableBytes > 1 {
            partial.writeBytes(whole.readBytes(length: 1)!)
            #expect(try WorkerMessage.decode(from: &partial) == nil)
        }
        partial.writeBytes(whole.readBytes(length: 1)!)
        #expect(try WorkerMessage.decode(from: &partial) == .metrics(String(repeating: "x", count: 300), final: true))
    }

    @Test func anUnknownKindOrAnOversizedFrameIsRejected() {
        var unknown = ByteBuffer(bytes: [0x5A, 0, 0, 0, 0])
        #expect(throws: WorkerMessageError.self) { try WorkerMessage.decode(from: &unknown) }
        var oversized = ByteBuffer(bytes: [0x4D, 0xFF, 0xFF, 0xFF, 0xFF])
        #expect(throws: WorkerMessageError.self) { try WorkerMessage.decode(from: &oversized) }
    }

    @Test func theBudgetIsMaxRequestsPlusAJitterDrawnFromTheGenerator() {
        var generator = SplitMix(seed: 7)
        let limits = (0..<200).compactMap { _ in RequestBudget(maxRequests: 1000, jitter: 50, using: &generator).limit }
        #expect(limits.allSatisfy { (1000...1050).contains($0) })
        #expect(Set(limits).count > 20, "the jitter spreads workers' limits")
        var same = SplitMix(seed: 7)
        #expect(RequestBudget(maxRequests: 1000, jitter: 50, using: &same).limit == limits.first)
    }

    @Test func zeroMaxRequestsNeverRecycles() {
        var generator = SplitMix(seed: 1)
        let counter = RequestCounter(budget: RequestBudget(maxRequests: 0, jitter: 100, using: &generator))
        #expect(counter.budget.limit == nil)
        #expect((0..<1000).allSatisfy { _ in !counter.requestArrived() })
    }

    @Test func exactlyTheRequestThatSpendsTheBudgetStartsTheDrain() {
        let counter = RequestCounter(budget: RequestBudget(limit: 3))
        #expect((1...6).map { _ in counter.requestArrived() } == [false, false, true, false, false, false])
        #expect(counter.requests == 6)
    }
}

/// A seeded generator, so a jittered budget is the same on every run.
struct SplitMix: RandomNumberGenerator {
    var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
