import Limits
import Testing

@testable import Edge

/// The client connection's life, event by event, on a manual clock: no sockets, no sleeps.
@Suite struct ClientConnectionTests {
    final class FakeExchange {
        var requestEnded = false
    }

    typealias Machine = ClientConnection<FakeExchange>

    static let timeouts = Machine.Timeouts(header: .seconds(12), keepAlive: .seconds(15), body: .seconds(12), lingering: .seconds(5))
    let t0 = Instant(nanoseconds: 5_000_000_000)

    func machine(_ mode: Machine.Mode = .http1) -> Machine { Machine(mode: mode, timeouts: Self.timeouts) }

    // MARK: Waiting for a head

    @Test func firstRequestHasTheHeaderTimeoutThenKeepAliveIdle() {
        var connection = machine()
        #expect(connection.activated(now: t0) == .arm(t0.advanced(by: .seconds(12))))
        #expect(connection.waitExpired() == .close)  // idle, nothing started: close quietly
        let outcome1 = connection.headReceived(keepAlive: true)
        #expect(outcome1 == .disarm)
        let outcome2 = connection.beginLocal(mustClose: false, hasBody: false)
        #expect(outcome2)
        let outcome3 = connection.localRequestEnded(now: t0, pipelinedWaiting: false)
        #expect(outcome3 == nil)
        let later = t0.advanced(by: .seconds(1))
        let outcome4 = connection.localResponseEnded(now: later, pipelinedWaiting: false)
        #expect(outcome4 == .nextRequest(.arm(later.advanced(by: .seconds(15)))))
    }

    @Test func aHeadThatStartedGetsHeaderTimeFromItsFirstByteAnd408() {
        var connection = machine()
        _ = connection.activated(now: t0)
        let first = t0.advanced(by: .seconds(3))
        let outcome5 = connection.headStarted(at: first)
        #expect(outcome5 == .arm(first.advanced(by: .seconds(12))))
        // A second partial read does not move the deadline (it counts from the first byte).
        let outcome6 = connection.headStarted(at: first.advanced(by: .seconds(5)))
        #expect(outcome6 == .unchanged)
        #expect(connection.waitExpired() == .requestTimeout)
    }

    @Test func http2StreamsHaveNoConnectionTimers() {
        var connection = machine(.http2Stream)
        #expect(connection.activated(now: t0) == .unchanged)
        let outcome7 = connection.headStarted(at: t0)
        #expect(outcome7 == .unchanged)
        _ = connection.headReceived(keepAlive: true)
        _ = connection.beginLocal(mustClose: false, hasBody: false)
        _ = connection.localRequestEnded(now: t0, pipelinedWaiting: false)
        let outcome8 = connection.localResponseEnded(now: t0, pipelinedWaiting: false)
        #expect(outcome8 == .streamDone)
        let outcome9 = connection.lastAnswerWritten(unreadInput: true, stillOpen: true, now: t0)
        #expect(outcome9 == nil)  // streams never linger
    }

    // MARK: Keep-alive and close: every way a response can end

    struct Row {
        var name: String
        var clientKeepAlive: Bool
        var mustClose: Bool
        var draining: Bool
        var requestEndedFirst: Bool
        var pipelined: Bool
        var expected: Machine.AfterResponse
    }

    @Test func aLocalAnswerGoesOnOrClosesByOneRule() {
        let keepAlive = Machine.AfterResponse.nextRequest(.arm(t0.advanced(by: .seconds(15))))
        let rows: [Row] = [
            Row(name: "keep-alive", clientKeepAlive: true, mustClose: false, draining: false, requestEndedFirst: true, pipelined: false, expected: keepAlive),
            Row(name: "Connection: close", clientKeepAlive: false, mustClose: false, draining: false, requestEndedFirst: true, pipelined: false, expected: .close(unreadInput: false)),
            Row(name: "close with a pipelined request read", clientKeepAlive: false, mustClose: false, draining: false, requestEndedFirst: true, pipelined: true, expected: .close(unreadInput: true)),
            Row(name: "answer must close (413)", clientKeepAlive: true, mustClose: true, draining: false, requestEndedFirst: false, pipelined: false, expected: .close(unreadInput: true)),
            Row(name: "draining", clientKeepAlive: true, mustClose: false, draining: true, requestEndedFirst: true, pipelined: false, expected: .close(unreadInput: false)),
            Row(name: "body still arriving", clientKeepAlive: true, mustClose: false, draining: false, requestEndedFirst: false, pipelined: false, expected: .awaitRequestEnd),
        ]
        for row in rows {
            var connection = machine()
            _ = connection.activated(now: t0)
            _ = connection.headReceived(keepAlive: row.clientKeepAlive)
            if row.draining { _ = connection.drain(pipelinedWaiting: false) }
            let stays = connection.beginLocal(mustClose: row.mustClose, hasBody: !row.requestEndedFirst)
            #expect(stays == (row.clientKeepAlive && !row.mustClose && !row.draining), "\(row.name)")
            if row.requestEndedFirst { _ = connection.localRequestEnded(now: t0, pipelinedWaiting: row.pipelined) }
            let outcome10 = connection.localResponseEnded(now: t0, pipelinedWaiting: row.pipelined)
            #expect(outcome10 == row.expected, "\(row.name)")
        }
    }

    @Test func aRefusedBodyIsNotReadAndAKeptBodyIsDrainedFirst() {
        var refused = machine()
        _ = refused.headReceived(keepAlive: true)
        let outcome11 = refused.beginLocal(mustClose: true, hasBody: true)
        #expect(!outcome11)
        let outcome12 = refused.readRequested()
        #expect(!outcome12)  // reads stop: the close ends the body
        #expect(refused.reads.owed)

        var kept = machine()
        _ = kept.headReceived(keepAlive: true)
        let outcome13 = kept.beginLocal(mustClose: false, hasBody: true)
        #expect(outcome13)
        let outcome14 = kept.readRequested()
        #expect(outcome14)  // the body is read and dropped
        let outcome15 = kept.localResponseEnded(now: t0, pipelinedWaiting: false)
        #expect(outcome15 == .awaitRequestEnd)
        let outcome16 = kept.localRequestEnded(now: t0, pipelinedWaiting: false)
        #expect(outcome16 == .nextRequest(.arm(t0.advanced(by: .seconds(15)))))
    }

    @Test func aDrainBetweenTheAnswerAndTheBodysEndCloses() {
        var connection = machine()
        _ = connection.headReceived(keepAlive: true)
        _ = connection.beginLocal(mustClose: false, hasBody: true)
        let outcome17 = connection.localResponseEnded(now: t0, pipelinedWaiting: false)
        #expect(outcome17 == .awaitRequestEnd)
        let outcome18 = connection.drain(pipelinedWaiting: false)
        #expect(!outcome18)  // a request is in progress
        let outcome19 = connection.localRequestEnded(now: t0, pipelinedWaiting: false)
        #expect(outcome19 == .close(unreadInput: false))
    }

    @Test func aProxiedResponseGoesOnOrCloses() {
        let exchange = FakeExchange()
        var connection = machine()
        _ = connection.headReceived(keepAlive: true)
        connection.beginProxy(exchange, delayed: false, pausesReads: false)
        let outcome20 = connection.exchangeFinished(keepAlive: true, requestEnded: true, now: t0, pipelinedWaiting: false)
        #expect(outcome20
            == .nextRequest(.arm(t0.advanced(by: .seconds(15)))))

        var cut = machine()
        _ = cut.headReceived(keepAlive: true)
        cut.beginProxy(exchange, delayed: false, pausesReads: true)
        // The upstream answered before the body was read whole: close, lingering for the rest.
        let outcome21 = cut.exchangeFinished(keepAlive: false, requestEnded: false, now: t0, pipelinedWaiting: false)
        #expect(outcome21 == .close(unreadInput: true))
    }

    /// An HTTP/2 request's head never asks for keep-alive (it is HTTP/2.0 to NIO's HTTP/1
    /// types), and a stream carries one request: once its request has ended, the HTTP/2 layer
    /// closes the stream after the answer, draining or not; only a stream whose client is still
    /// sending is closed (reset) by the edge.
    @Test func aStreamWhoseRequestEndedIsDoneWhateverItsKeepAlive() {
        let exchange = FakeExchange()
        for (keepAlive, draining) in [(false, false), (true, true), (false, true)] {
            var stream = machine(.http2Stream)
            _ = stream.headReceived(keepAlive: keepAlive)
            stream.beginProxy(exchange, delayed: false, pausesReads: false)
            if draining { _ = stream.drain(pipelinedWaiting: false) }
            let done = stream.exchangeFinished(keepAlive: keepAlive, requestEnded: true, now: t0, pipelinedWaiting: false)
            #expect(done == .streamDone, "keepAlive \(keepAlive), draining \(draining)")
        }
        var sending = machine(.http2Stream)
        _ = sending.headReceived(keepAlive: false)
        sending.beginProxy(exchange, delayed: false, pausesReads: true)
        let cut = sending.exchangeFinished(keepAlive: false, requestEnded: false, now: t0, pipelinedWaiting: false)
        #expect(cut == .close(unreadInput: true))
    }

    /// A strict shared zone's wait is a phase: parts are held, no head wait runs (a pipelined
    /// head's first bytes do not start one), a drain waits for the request, only the current
    /// ask's answer counts, and the request then goes on like any other.
    @Test func askingASharedZoneHoldsTheRequestUntilItsAnswer() {
        let exchange = FakeExchange()
        var connection = machine()
        _ = connection.activated(now: t0)
        _ = connection.headReceived(keepAlive: true)
        connection.askSharedZone(token: 7)
        #expect(connection.holdsNextRequest { $0.requestEnded })
        let headWait = connection.headStarted(at: t0)
        #expect(headWait == .unchanged)
        #expect(connection.waitExpired() == .none)
        let closesNow = connection.drain(pipelinedWaiting: false)
        #expect(!closesNow)  // the request in progress finishes
        #expect(!connection.sharedZoneAnswered(token: 6))  // a late answer to an earlier ask
        #expect(connection.sharedZoneAnswered(token: 7))
        connection.beginProxy(exchange, delayed: false, pausesReads: false)
        #expect(!connection.sharedZoneAnswered(token: 7))  // a second answer: dropped
        exchange.requestEnded = true
        let after = connection.exchangeFinished(keepAlive: true, requestEnded: true, now: t0, pipelinedWaiting: false)
        #expect(after == .close(unreadInput: false))  // drained: closes after the answer

        var closed = machine()
        _ = closed.headReceived(keepAlive: true)
        closed.askSharedZone(token: 1)
        let abandoned = closed.closed()
        #expect(abandoned == nil)
        #expect(!closed.sharedZoneAnswered(token: 1))  // the connection left: nobody waits
    }

    @Test func aFailedExchangeAnswersAndKeepsTheConnectionOnlyWhenTheRequestWasRead() {
        let exchange = FakeExchange()
        var whole = machine()
        _ = whole.headReceived(keepAlive: true)
        whole.beginProxy(exchange, delayed: false, pausesReads: false)
        let outcome22 = whole.exchangeFailed(requestEnded: true, mustClose: false)
        #expect(outcome22)
        let outcome23 = whole.localResponseEnded(now: t0, pipelinedWaiting: false)
        #expect(outcome23 == .nextRequest(.arm(t0.advanced(by: .seconds(15)))))

        var partial = machine()
        _ = partial.headReceived(keepAlive: true)
        partial.beginProxy(exchange, delayed: false, pausesReads: true)
        let outcome24 = partial.exchangeFailed(requestEnded: false, mustClose: false)
        #expect(!outcome24)
        let outcome25 = partial.localResponseEnded(now: t0, pipelinedWaiting: false)
        #expect(outcome25 == .close(unreadInput: true))
    }

    @Test func aDelayedRequestStartsOnlyIfTheConnectionWaitsForIt() {
        let exchange = FakeExchange()
        var connection = machine()
        _ = connection.headReceived(keepAlive: true)
        connection.beginProxy(exchange, delayed: true, pausesReads: false)
        let outcome26 = connection.delayElapsed(exchange)
        #expect(outcome26)
        let outcome27 = connection.delayElapsed(exchange)
        #expect(!outcome27)  // already started

        var gone = machine()
        _ = gone.headReceived(keepAlive: true)
        gone.beginProxy(exchange, delayed: true, pausesReads: false)
        let outcome28 = gone.closed()
        #expect(outcome28 === exchange)  // the close abandons it
        let outcome29 = gone.delayElapsed(exchange)
        #expect(!outcome29)
    }

    // MARK: Pipelining, draining, lingering

    @Test func pipelinedPartsWaitWhileTheAnswerGoesOut() {
        let exchange = FakeExchange()
        var connection = machine()
        #expect(!connection.holdsNextRequest { $0.requestEnded })
        _ = connection.headReceived(keepAlive: true)
        connection.beginProxy(exchange, delayed: false, pausesReads: false)
        #expect(!connection.holdsNextRequest { $0.requestEnded })
        exchange.requestEnded = true
        #expect(connection.holdsNextRequest { $0.requestEnded })
        let outcome30 = connection.setPipelineHold(true)
        #expect(!outcome30)
        let outcome31 = connection.readRequested()
        #expect(!outcome31)
        let outcome32 = connection.setPipelineHold(false)
        #expect(outcome32)  // the owed read is due now
    }

    @Test func drainClosesAnIdleConnectionAtOnceButNotOneWithPipelinedWork() {
        var idle = machine()
        _ = idle.activated(now: t0)
        let outcome33 = idle.drain(pipelinedWaiting: false)
        #expect(outcome33)
        var busy = machine()
        _ = busy.activated(now: t0)
        let outcome34 = busy.drain(pipelinedWaiting: true)
        #expect(!outcome34)
        #expect(!busy.keepsAlive())
        var stream = machine(.http2Stream)
        let outcome35 = stream.drain(pipelinedWaiting: false)
        #expect(!outcome35)  // the HTTP/2 connection sends GOAWAY instead
    }

    @Test func lingeringOnlyWithUnreadInputOnAnOpenHTTP1Connection() {
        var connection = machine()
        let outcome36 = connection.lastAnswerWritten(unreadInput: false, stillOpen: true, now: t0)
        #expect(outcome36 == nil)
        var closedAlready = machine()
        let outcome37 = closedAlready.lastAnswerWritten(unreadInput: true, stillOpen: false, now: t0)
        #expect(outcome37 == nil)
        var lingering = machine()
        _ = lingering.headReceived(keepAlive: true)
        _ = lingering.beginLocal(mustClose: true, hasBody: true)
        let outcome38 = lingering.lastAnswerWritten(unreadInput: true, stillOpen: true, now: t0)
        #expect(outcome38 == t0.advanced(by: .seconds(5)))
        let outcome39 = lingering.readRequested()
        #expect(outcome39)  // reads go on (and are dropped below the decoder)
        #expect(lingering.waitExpired() == .close)
    }

    // MARK: The body timeout

    @Test func theBodyTimeoutCountsFromTheLastReadAndNotWhileTheEdgePausedIt() {
        let exchange = FakeExchange()
        var connection = machine()
        _ = connection.headReceived(keepAlive: true)
        connection.beginProxy(exchange, delayed: false, pausesReads: false)
        let lastRead = t0.advanced(by: .seconds(10))
        let fired = t0.advanced(by: .seconds(12))
        // Bytes came 2 s ago: look again when 12 s from them have passed.
        #expect(connection.bodyTimerFired(now: fired, lastRead: lastRead, requestEnded: false) == .rearm(lastRead.advanced(by: .seconds(12))))
        // Stalled for the whole timeout.
        #expect(connection.bodyTimerFired(now: lastRead.advanced(by: .seconds(12)), lastRead: lastRead, requestEnded: false) == .timedOut)
        // Our own backpressure: the client is not to blame.
        _ = connection.setBackpressure(true)
        #expect(connection.bodyTimerFired(now: fired.advanced(by: .seconds(60)), lastRead: lastRead, requestEnded: false)
            == .rearm(fired.advanced(by: .seconds(72))))
        // The body ended: nothing to time.
        #expect(connection.bodyTimerFired(now: fired, lastRead: lastRead, requestEnded: true) == .none)
    }

    @Test func aStreamingHTTP2UploadIsTimedPerDataFrame() {
        // The shell records each DATA frame as a read (`lastRead`); a steady upload longer than
        // `body` in total never times out, a stalled one does.
        let exchange = FakeExchange()
        var stream = machine(.http2Stream)
        _ = stream.headReceived(keepAlive: true)
        stream.beginProxy(exchange, delayed: false, pausesReads: false)
        var now = t0
        var lastRead = t0
        for _ in 0..<10 {  // 50 s of frames every 5 s
            now = now.advanced(by: .seconds(5))
            lastRead = now
            #expect(stream.bodyTimerFired(now: now, lastRead: lastRead, requestEnded: false) != .timedOut)
        }
        #expect(stream.bodyTimerFired(now: now.advanced(by: .seconds(12)), lastRead: lastRead, requestEnded: false) == .timedOut)
    }
}

/// Every phase against every event the machine takes in any phase: what each one does there.
/// (`headReceived` is the one event with a precondition: a head can only be parsed while the
/// connection waits for one, which the HTTP decoder guarantees.)
@Suite struct ClientConnectionPhaseTableTests {
    typealias Machine = ClientConnection<ClientConnectionTests.FakeExchange>
    static let t0 = Instant(nanoseconds: 9_000_000_000)

    /// A machine brought into each phase through its own events.
    static func phases() -> [(String, Machine)] {
        let exchange = ClientConnectionTests.FakeExchange()
        func fresh() -> Machine { Machine(mode: .http1, timeouts: ClientConnectionTests.timeouts) }
        let idle = fresh()
        _ = idle.activated(now: t0)
        var started = fresh()
        _ = started.headStarted(at: t0)
        var local = fresh()
        _ = local.headReceived(keepAlive: true)
        _ = local.beginLocal(mustClose: false, hasBody: true)
        var localAnswered = local
        _ = localAnswered.localResponseEnded(now: t0, pipelinedWaiting: false)
        var delayed = fresh()
        _ = delayed.headReceived(keepAlive: true)
        delayed.beginProxy(exchange, delayed: true, pausesReads: false)
        var proxying = fresh()
        _ = proxying.headReceived(keepAlive: true)
        proxying.beginProxy(exchange, delayed: false, pausesReads: false)
        var closing = fresh()
        closing.startClosing()
        var lingering = fresh()
        _ = lingering.lastAnswerWritten(unreadInput: true, stillOpen: true, now: t0)
        var asking = fresh()
        _ = asking.headReceived(keepAlive: true)
        asking.askSharedZone(token: 1)
        return [
            ("idle", idle), ("head started", started), ("local", local), ("local answered", localAnswered),
            ("delayed", delayed), ("proxying", proxying), ("closing", closing), ("lingering", lingering),
            ("asking shared zone", asking),
        ]
    }

    struct Expected {
        var waitExpiry: Machine.WaitExpiry
        var headStartArms: Bool
        var drainClosesNow: Bool
        var readsNow: Bool
        var closeAbandons: Bool
        var bodyTimer: Bool  // whether a body timer firing can time the request out
        var holdsNext = false  // whether parts arriving now wait (for a request whose body is still to come)
        var takesZoneAnswer = false  // whether a shared zone's answer to ask 1 goes on
    }

    static let expected: [String: Expected] = [
        "idle": Expected(waitExpiry: .close, headStartArms: true, drainClosesNow: true, readsNow: true, closeAbandons: false, bodyTimer: false),
        "head started": Expected(waitExpiry: .requestTimeout, headStartArms: false, drainClosesNow: true, readsNow: true, closeAbandons: false, bodyTimer: false),
        "local": Expected(waitExpiry: .none, headStartArms: false, drainClosesNow: false, readsNow: true, closeAbandons: false, bodyTimer: false),
        "local answered": Expected(waitExpiry: .none, headStartArms: false, drainClosesNow: false, readsNow: true, closeAbandons: false, bodyTimer: false),
        "delayed": Expected(waitExpiry: .none, headStartArms: false, drainClosesNow: false, readsNow: true, closeAbandons: true, bodyTimer: false),
        "proxying": Expected(waitExpiry: .none, headStartArms: false, drainClosesNow: false, readsNow: true, closeAbandons: true, bodyTimer: true),
        "closing": Expected(waitExpiry: .none, headStartArms: false, drainClosesNow: false, readsNow: true, closeAbandons: false, bodyTimer: false),
        "lingering": Expected(waitExpiry: .close, headStartArms: false, drainClosesNow: false, readsNow: true, closeAbandons: false, bodyTimer: false),
        "asking shared zone": Expected(
            waitExpiry: .none, headStartArms: false, drainClosesNow: false, readsNow: true, closeAbandons: false, bodyTimer: false,
            holdsNext: true, takesZoneAnswer: true),
    ]

    @Test func everyPhaseAgainstEveryEvent() {
        let phases = Self.phases()
        #expect(phases.count == Self.expected.count)
        for (name, machine) in phases {
            guard let want = Self.expected[name] else {
                Issue.record("no expectation for \(name)")
                continue
            }
            #expect(machine.waitExpired() == want.waitExpiry, "waitExpired in \(name)")
            var m = machine
            let arms = m.headStarted(at: Self.t0)
            #expect((arms != .unchanged) == want.headStartArms, "headStarted in \(name)")
            m = machine
            let closesNow = m.drain(pipelinedWaiting: false)
            #expect(closesNow == want.drainClosesNow, "drain in \(name)")
            #expect(!m.keepsAlive(), "after a drain nothing keeps alive (\(name))")
            m = machine
            let reads = m.readRequested()
            #expect(reads == want.readsNow, "read in \(name)")
            m = machine
            let abandoned = m.closed()
            #expect((abandoned != nil) == want.closeAbandons, "close in \(name)")
            if case .closing = m.phase {} else { Issue.record("close leaves \(name) closing") }
            let fired = machine.bodyTimerFired(now: Self.t0.advanced(by: .seconds(60)), lastRead: Self.t0, requestEnded: false)
            #expect((fired == .timedOut) == want.bodyTimer, "body timer in \(name)")
            #expect(machine.holdsNextRequest { $0.requestEnded } == want.holdsNext, "parts held in \(name)")
            #expect(machine.sharedZoneAnswered(token: 1) == want.takesZoneAnswer, "zone answer in \(name)")
            // An HTTP/2 stream never lingers, whatever its phase.
            var stream = Machine(mode: .http2Stream, timeouts: ClientConnectionTests.timeouts)
            #expect(stream.lastAnswerWritten(unreadInput: true, stillOpen: true, now: Self.t0) == nil)
        }
    }
}
