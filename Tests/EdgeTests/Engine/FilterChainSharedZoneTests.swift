import Limits
import Testing

@testable import Edge

/// A route charged to a strict shared zone: the chain stops at the zone's rule with a question
/// for its store, and resumes with the answer exactly as it goes on after a local decision.
@Suite struct FilterChainSharedZoneTests {
    static let yaml = """
        listeners: [{name: http, address: 127.0.0.1:8080}]
        limits:
          zones:
            strict: {rate: 10r/s, capacity: 100, shared: {redis: "redis://127.0.0.1:1", mode: strict}}
            general: {rate: 10r/s, capacity: 100}
        upstreams: {backend: {servers: [127.0.0.1:9000]}}
        routes:
          - {prefix: /api/, proxy: backend, rate_limit: [{zone: strict, burst: 5, delay: 2}, {zone: general, burst: 0}]}
          - {prefix: /fixed, respond: {status: 418, body: "tea", content_type: text/plain}, rate_limit: {zone: strict, burst: 0}}
        """

    let runtime: EdgeRuntime
    var random = SplitMix64(seed: 1)
    let now = Instant(nanoseconds: 1_000_000_000_000)
    let head = TestHead(target: "/api/x")

    init() throws {
        let config = try ConfigLoader.parse(yaml: Self.yaml, source: "test.yaml", environment: [:])
        runtime = try EdgeRuntime(config: config, generation: 1, zones: ZoneRegistry(hashSeed: 0, shardCount: 1))
    }

    var connection: FilterChain.Connection {
        FilterChain.Connection(
            peer: ClientKey(parsing: "192.0.2.7")!, peerTrusted: false, isHTTP2Stream: false, overConnectionLimit: false,
            httpsRedirect: nil)
    }

    mutating func ask(_ head: TestHead, at time: Instant) throws -> (RequestVerdict, SharedZoneQuestion) {
        let verdict = FilterChain.decide(head, on: connection, runtime: runtime, connectionLimiter: nil, now: time, random: &random)
        guard case .askSharedZone(let question) = verdict.decision else {
            Issue.record("expected a question for the strict zone, got \(verdict.decision)")
            throw TestFailure("no question")
        }
        return (verdict, question)
    }

    @Test mutating func theLocalRulesDecideFirstThenTheStrictZoneIsAsked() throws {
        let (verdict, question) = try ask(head, at: now)
        #expect(question.zone.name == "strict" && question.ruleIndex == 0 && question.delay == .zero)
        #expect(verdict.limitOutcome == "passed", "the local zone passed it")
        // The local zone (burst 0) refuses the next one at once: no round trip for it.
        let second = FilterChain.decide(head, on: connection, runtime: runtime, connectionLimiter: nil, now: now, random: &random)
        #expect(second.decision == .answer(.rateLimited(retryAfter: .milliseconds(100)), route: question.route, close: false))
        #expect(second.refusedBy == .rateLimit(zone: "general"))
    }

    @Test mutating func theStoresAnswerEndsInTheRoutesActionWithTheExactWaitOrRefusal() throws {
        let (verdict, question) = try ask(head, at: now)
        let route = question.route
        // 400 ms ahead: four queued, two free (delay=2), so held 200 ms.
        let admitted = FilterChain.resume(head, verdict: verdict, question: question, answer: .admitted(ahead: .milliseconds(400)), now: now)
        #expect(admitted.decision == .proxy(route, route.cluster!, delay: .milliseconds(200)))
        #expect(admitted.limitOutcome == "delayed")
        let refused = FilterChain.resume(head, verdict: verdict, question: question, answer: .refused(ahead: .milliseconds(650)), now: now)
        #expect(refused.decision == .answer(.rateLimited(retryAfter: .milliseconds(150)), route: route, close: false))
        #expect(refused.refusedBy == .rateLimit(zone: "strict") && refused.limitOutcome == "rejected:strict")
    }

    @Test mutating func withoutAnAnswerTheZoneDecidesOnThisEdgesTable() throws {
        let fixed = TestHead(target: "/fixed")
        let (verdict, question) = try ask(fixed, at: now)
        let first = FilterChain.resume(fixed, verdict: verdict, question: question, answer: .unavailable, now: now)
        #expect(first.decision == .answer(.respond(status: 418, body: "tea", contentType: "text/plain"), route: question.route, close: false))
        let (again, secondQuestion) = try ask(fixed, at: now)
        let second = FilterChain.resume(fixed, verdict: again, question: secondQuestion, answer: .unavailable, now: now)
        #expect(second.decision == .answer(.rateLimited(retryAfter: .milliseconds(100)), route: question.route, close: false))
    }
}
