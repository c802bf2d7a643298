import EdgeRules
import Testing

@testable import Edge

/// One proxied request's attempts, event by event: when it starts, what each failure leads to
/// in each phase, and whether the upstream connection is reused.
@Suite struct UpstreamExchangeMachineTests {
    typealias Machine = UpstreamExchangeMachine

    func machine(waitsForEnd: Bool = true, idempotent: Bool = true, upgrade: Bool = false) -> Machine {
        Machine(waitsForEnd: waitsForEnd, idempotent: idempotent, upgradeRequested: upgrade)
    }

    @Test func aBodilessRequestStartsOnceItsEndArrived() {
        var exchange = machine(waitsForEnd: true)
        let outcome1 = exchange.start()
        #expect(!outcome1)  // the head came, its end not yet
        let outcome2 = exchange.requestEnd()
        #expect(outcome2 == .startAttempt)
        exchange.attemptBegan(reused: false)
        let outcome3 = exchange.requestEnd()
        #expect(outcome3 == .none)  // a second end is ignored
    }

    @Test func aDelayedBodilessRequestStartsWhenTheDelayPasses() {
        var exchange = machine(waitsForEnd: true)
        let outcome4 = exchange.requestEnd()
        #expect(outcome4 == .none)  // ended while the rate limit held it
        let outcome5 = exchange.start()
        #expect(outcome5)
    }

    @Test func aStreamedBodyForwardsItsEndOnlyOnceConnected() {
        var exchange = machine(waitsForEnd: false)
        let outcome6 = exchange.start()
        #expect(outcome6)
        exchange.attemptBegan(reused: false)
        #expect(!exchange.isConnected)
        var early = exchange
        let outcome7 = early.requestEnd()
        #expect(outcome7 == .none)  // goes up with the connection
        exchange.connected()
        #expect(exchange.isConnected)
        let outcome8 = exchange.requestEnd()
        #expect(outcome8 == .forwardEnd)
    }

    /// Every failure in every phase before and after the response started.
    @Test func failuresByPhase() {
        struct Row {
            var name: String
            var reused: Bool
            var connected: Bool
            var responseStarted: Bool
            var idempotent: Bool
            var replayable: Bool
            var failure: UpstreamRetryPolicy.Failure
            var expected: Machine.AfterFailure
        }
        let rows: [Row] = [
            Row(name: "connect refused", reused: false, connected: false, responseStarted: false, idempotent: false, replayable: false,
                failure: .connectFailed, expected: .nextServer(strike: true)),
            Row(name: "connect timed out", reused: false, connected: false, responseStarted: false, idempotent: false, replayable: false,
                failure: .connectTimedOut, expected: .nextServer(strike: true)),
            Row(name: "stale pooled connection", reused: true, connected: true, responseStarted: false, idempotent: true, replayable: true,
                failure: .closedBeforeResponse(reusedConnection: false), expected: .reconnect),
            Row(name: "stale pooled connection, POST", reused: true, connected: true, responseStarted: false, idempotent: false, replayable: true,
                failure: .closedBeforeResponse(reusedConnection: false), expected: .fail(status: 502, strike: false)),
            Row(name: "new connection reset, GET", reused: false, connected: true, responseStarted: false, idempotent: true, replayable: true,
                failure: .closedBeforeResponse(reusedConnection: false), expected: .nextServer(strike: true)),
            Row(name: "new connection reset, body too big to replay", reused: false, connected: true, responseStarted: false, idempotent: true,
                replayable: false, failure: .closedBeforeResponse(reusedConnection: false), expected: .fail(status: 502, strike: true)),
            Row(name: "read timeout", reused: false, connected: true, responseStarted: false, idempotent: true, replayable: true,
                failure: .readTimedOut, expected: .fail(status: 504, strike: true)),
            Row(name: "send timeout", reused: false, connected: true, responseStarted: false, idempotent: true, replayable: true,
                failure: .sendTimedOut, expected: .fail(status: 504, strike: true)),
            Row(name: "reset mid-response", reused: false, connected: true, responseStarted: true, idempotent: true, replayable: true,
                failure: .closedBeforeResponse(reusedConnection: false), expected: .broken(strike: true)),
            Row(name: "stale connection mid-response", reused: true, connected: true, responseStarted: true, idempotent: true, replayable: true,
                failure: .closedBeforeResponse(reusedConnection: false), expected: .broken(strike: true)),
            Row(name: "read timeout mid-response", reused: false, connected: true, responseStarted: true, idempotent: true, replayable: true,
                failure: .readTimedOut, expected: .broken(strike: true)),
        ]
        for row in rows {
            var exchange = machine(waitsForEnd: false, idempotent: row.idempotent)
            _ = exchange.start()
            exchange.attemptBegan(reused: row.reused)
            if row.connected { exchange.connected() }
            if row.responseStarted { _ = exchange.responseHead(status: 200) }
            let outcome9 = exchange.attemptFailed(row.failure, replayable: row.replayable)
            #expect(outcome9 == row.expected, "\(row.name)")
        }
    }

    @Test func theStaleConnectionRetryIsUsedOnce() {
        var exchange = machine()
        _ = exchange.requestEnd()
        exchange.attemptBegan(reused: true)
        let outcome10 = exchange.attemptFailed(.closedBeforeResponse(reusedConnection: true), replayable: true)
        #expect(outcome10 == .reconnect)
        exchange.attemptBegan(reused: true)  // another pooled one, stale too
        let outcome11 = exchange.attemptFailed(.closedBeforeResponse(reusedConnection: true), replayable: true)
        #expect(outcome11 == .fail(status: 502, strike: false))
        #expect(exchange.isFinished)
    }

    @Test func noServerLeftAnswers504AfterAConnectTimeoutElse502() {
        var timedOut = machine()
        timedOut.attemptBegan(reused: false)
        _ = timedOut.attemptFailed(.connectTimedOut, replayable: true)
        let outcome12 = timedOut.exhausted()
        #expect(outcome12 == 504)
        let outcome13 = timedOut.exhausted()
        #expect(outcome13 == nil)  // finished

        var refused = machine()
        refused.attemptBegan(reused: false)
        _ = refused.attemptFailed(.connectFailed, replayable: true)
        let outcome14 = refused.exhausted()
        #expect(outcome14 == 502)
    }

    @Test func theConnectionIsReusedOnlyWhenBothMessagesCompleted() {
        var whole = machine()
        _ = whole.requestEnd()
        whole.attemptBegan(reused: false)
        whole.connected()
        let outcome15 = whole.responseHead(status: 200)
        #expect(!outcome15)
        let outcome16 = whole.responseEnd(upstreamKeepsConnection: true)
        #expect(outcome16 == .finished(reuseConnection: true))
        let outcome17 = whole.responseEnd(upstreamKeepsConnection: true)
        #expect(outcome17 == .ignored)

        var early = machine(waitsForEnd: false)
        _ = early.start()
        early.attemptBegan(reused: false)
        early.connected()
        _ = early.responseHead(status: 413)  // answered before the body was sent whole
        let outcome18 = early.responseEnd(upstreamKeepsConnection: true)
        #expect(outcome18 == .finished(reuseConnection: false))

        var closing = machine()
        _ = closing.requestEnd()
        closing.attemptBegan(reused: false)
        _ = closing.responseHead(status: 200)
        let outcome19 = closing.responseEnd(upstreamKeepsConnection: false)
        #expect(outcome19 == .finished(reuseConnection: false))
    }

    @Test func anUpgradeAnsweredWith101BecomesATunnel() {
        var upgrade = machine(upgrade: true)
        _ = upgrade.requestEnd()
        upgrade.attemptBegan(reused: false)
        let outcome20 = upgrade.responseHead(status: 101)
        #expect(outcome20)
        let outcome21 = upgrade.responseEnd(upstreamKeepsConnection: false)
        #expect(outcome21 == .tunnel)

        var refused = machine(upgrade: true)
        _ = refused.requestEnd()
        refused.attemptBegan(reused: false)
        let outcome22 = refused.responseHead(status: 403)
        #expect(!outcome22)
        var plain = machine(upgrade: false)
        let outcome23 = plain.responseHead(status: 101)
        #expect(!outcome23)  // no upgrade was asked for
    }

    @Test func anAbortedExchangeIgnoresEverythingAfterButRemembersItsResponse() {
        var exchange = machine()
        _ = exchange.requestEnd()
        exchange.attemptBegan(reused: false)
        _ = exchange.responseHead(status: 200)
        let outcome24 = exchange.abort()
        #expect(outcome24)
        let outcome25 = exchange.abort()
        #expect(!outcome25)
        #expect(exchange.responseStarted)  // a body stall after the head can only close
        let outcome26 = exchange.attemptFailed(.readTimedOut, replayable: true)
        #expect(outcome26 == .ignored)
        let outcome27 = exchange.responseEnd(upstreamKeepsConnection: true)
        #expect(outcome27 == .ignored)
        let outcome28 = exchange.requestEnd()
        #expect(outcome28 == .none)
    }
}
