import HTTPTypes
import NIOCore
import NIOEmbedded
import NIOHTTPTypes
import Testing

@testable import Backend

/// A worker's drain, per connection (``WorkerConnectionHandler`` in an `EmbeddedChannel`): a
/// connection is closed only right after a response that says `Connection: close`, so a client
/// never sends a request on a connection the worker is closing: a busy connection after its
/// current response, an idle one after its next request (or once idle for the grace).
@Suite("Supervisor worker drain")
struct SupervisorWorkerDrainTests {
    /// Records what reaches the end of the pipeline: request heads and quiesce events, in order.
    final class Recorder: ChannelInboundHandler {
        typealias InboundIn = HTTPRequestPart
        var seen: [String] = []

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            if case .head(let head) = unwrapInboundIn(data) { seen.append("head \(head.path ?? "")") }
        }

        func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
            if event is ChannelShouldQuiesceEvent { seen.append("quiesce") }
        }
    }

    static func head(_ path: String) -> HTTPRequestPart {
        .head(HTTPRequest(method: .get, scheme: nil, authority: "x", path: path))
    }

    private func channel(drain: WorkerDrain) throws -> (EmbeddedChannel, Recorder) {
        let recorder = Recorder()
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandler(WorkerConnectionHandler(drain: drain, idleGrace: .seconds(2)))
        try channel.pipeline.syncOperations.addHandler(recorder)
        return (channel, recorder)
    }

    /// Writes a whole response through the handler; returns its `Connection` header as sent.
    @discardableResult
    private func respond(_ channel: EmbeddedChannel) throws -> String? {
        try channel.writeOutbound(HTTPResponsePart.head(HTTPResponse(status: .ok)))
        try channel.writeOutbound(HTTPResponsePart.end(nil))
        guard case .head(let head)? = try channel.readOutbound(as: HTTPResponsePart.self) else { return nil }
        _ = try channel.readOutbound(as: HTTPResponsePart.self)
        return head.headerFields[.connection]
    }

    @Test func aBusyConnectionClosesAfterItsCurrentResponseWhichSaysSo() throws {
        let drain = WorkerDrain()
        let (channel, recorder) = try channel(drain: drain)
        try channel.writeInbound(Self.head("/a"))
        drain.start()
        channel.embeddedEventLoop.run()
        #expect(recorder.seen == ["head /a", "quiesce"])
        #expect(try respond(channel) == "close")
    }

    @Test func anIdleKeepAliveConnectionClosesOnlyAfterItsNextRequest() throws {
        let drain = WorkerDrain()
        let (channel, recorder) = try channel(drain: drain)
        try channel.writeInbound(Self.head("/a"))
        #expect(try respond(channel) == nil, "no close before the drain")
        drain.start()
        channel.embeddedEventLoop.run()
        #expect(recorder.seen == ["head /a"], "held back: a request may be on its way")
        try channel.writeInbound(Self.head("/b"))
        #expect(recorder.seen == ["head /a", "head /b", "quiesce"], "the head passes first, so it is answered")
        #expect(try respond(channel) == "close")
        channel.embeddedEventLoop.advanceTime(by: .seconds(5))
        #expect(recorder.seen.count == 3, "the grace timer was cancelled")
    }

    @Test func aFreshConnectionIsAnsweredBeforeItCloses() throws {
        let drain = WorkerDrain()
        let (channel, recorder) = try channel(drain: drain)
        drain.start()
        channel.embeddedEventLoop.run()
        #expect(recorder.seen.isEmpty)
        try channel.writeInbound(Self.head("/late"))
        #expect(recorder.seen == ["head /late", "quiesce"])
    }

    @Test func aConnectionIdleForTheWholeGraceIsClosed() throws {
        let drain = WorkerDrain()
        let (channel, recorder) = try channel(drain: drain)
        drain.start()
        channel.embeddedEventLoop.advanceTime(by: .milliseconds(1999))
        #expect(recorder.seen.isEmpty)
        channel.embeddedEventLoop.advanceTime(by: .milliseconds(1))
        #expect(recorder.seen == ["quiesce"])
    }

    @Test func aConnectionSetUpAfterTheDrainBeganDrainsItself() throws {
        let drain = WorkerDrain()
        drain.start()
        let (channel, recorder) = try channel(drain: drain)
        channel.embeddedEventLoop.run()
        try channel.writeInbound(Self.head("/b"))
        #expect(recorder.seen == ["head /b", "quiesce"])
        #expect(try respond(channel) == "close")
    }

    @Test func theConnectionsAreAskedToCloseOneAfterAnotherOverTheSpread() throws {
        let drain = WorkerDrain(spread: .milliseconds(100))
        let loop = EmbeddedEventLoop()
        var recorders: [Recorder] = []
        for index in 0..<3 {
            let recorder = Recorder()
            let channel = EmbeddedChannel(loop: loop)
            try channel.pipeline.syncOperations.addHandler(WorkerConnectionHandler(drain: drain, idleGrace: .seconds(2)))
            try channel.pipeline.syncOperations.addHandler(recorder)
            try channel.writeInbound(Self.head("/\(index)"))  // busy: it closes after this answer
            recorders.append(recorder)
        }
        let quiesced = { recorders.filter { $0.seen.contains("quiesce") }.count }
        drain.start()
        loop.run()
        #expect(quiesced() == 1, "the first at once")
        loop.advanceTime(by: .milliseconds(49))
        #expect(quiesced() == 1)
        loop.advanceTime(by: .milliseconds(1))
        #expect(quiesced() == 2)
        loop.advanceTime(by: .milliseconds(50))
        #expect(quiesced() == 3, "the last at the end of the spread")
    }

    @Test func theSpreadIsEvenAndStartsAtOnce() {
        #expect(WorkerDrain.delays(count: 3, over: .milliseconds(100)) == [.zero, .milliseconds(50), .milliseconds(100)])
        #expect(WorkerDrain.delays(count: 1, over: .milliseconds(100)) == [.zero])
        #expect(WorkerDrain.delays(count: 2, over: .zero) == [.zero, .zero])
        #expect(WorkerDrain.delays(count: 0, over: .seconds(1)).isEmpty)
    }

    @Test func drainActionsRunOnceEvenWhenRegisteredAfterTheStart() {
        let drain = WorkerDrain()
        let count = Counter()
        drain.onDrain { count.increment() }
        drain.start()
        drain.start()
        drain.onDrain { count.increment() }
        #expect(count.value == 2)
        #expect(drain.isDraining)
    }

    final class Counter: @unchecked Sendable {
        var value = 0
        func increment() { value += 1 }
    }
}
