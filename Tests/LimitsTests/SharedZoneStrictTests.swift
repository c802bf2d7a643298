import Limits
import LimitsTestUtils
import Synchronization
import Testing

/// A strict zone's queue on a manual clock, its place in the sync state machine, and how the
/// store's answers become nginx `limit_req` outcomes.
@Suite("Shared zone strict mode")
struct SharedZoneStrictTests {
    typealias Queue = SharedZoneStrictQueueState<Int>
    let client = ClientKey(parsing: "192.0.2.10")!

    func entry(_ id: Int, at time: Instant) -> Queue.Entry {
        Queue.Entry(key: client, tolerance: 0, queued: time, waiter: id)
    }

    @Test func aQueueNotServingSendsRequestsBackToBeDecidedLocally() {
        let clock = ManualClock()
        var queue = Queue(timeout: .milliseconds(100))
        #expect(queue.submit(entry(1, at: clock.now)) == .decideLocally)
        #expect(queue.isEmpty)
    }

    @Test func theFirstRequestIntoAnEmptyQueueWakesTheThreadAndATripTakesAllInOrder() {
        let clock = ManualClock()
        var queue = Queue(timeout: .milliseconds(100))
        _ = queue.setServing(true)
        #expect(queue.submit(entry(1, at: clock.now)) == .queued(wake: true))
        #expect(queue.submit(entry(2, at: clock.now)) == .queued(wake: false))
        clock.advance(milliseconds: 1)
        #expect(queue.submit(entry(3, at: clock.now)) == .queued(wake: false))
        let (send, expired) = queue.take(now: clock.now)
        #expect(send.map(\.waiter) == [1, 2, 3])
        #expect(expired.isEmpty)
        #expect(queue.submit(entry(4, at: clock.now)) == .queued(wake: true), "the queue is empty again after a trip")
    }

    @Test func requestsPastTheirTimeoutAreNotSentTheirConnectionDecidedThemAlready() {
        let clock = ManualClock()
        var queue = Queue(timeout: .milliseconds(100))
        _ = queue.setServing(true)
        _ = queue.submit(entry(1, at: clock.now))
        clock.advance(milliseconds: 60)
        _ = queue.submit(entry(2, at: clock.now))
        clock.advance(milliseconds: 40)
        let (send, expired) = queue.take(now: clock.now)
        #expect(expired.map(\.waiter) == [1], "waited exactly the timeout")
        #expect(send.map(\.waiter) == [2])
    }

    @Test func aTripCarriesAtMostItsLimitTheRestWaitForTheNext() {
        let clock = ManualClock()
        var queue = Queue(timeout: .milliseconds(100), tripLimit: 2)
        _ = queue.setServing(true)
        for id in 1...3 { _ = queue.submit(entry(id, at: clock.now)) }
        #expect(queue.take(now: clock.now).send.map(\.waiter) == [1, 2])
        #expect(queue.take(now: clock.now).send.map(\.waiter) == [3])
    }

    @Test func goingOutOfUseHandsBackTheQueuedRequests() {
        let clock = ManualClock()
        var queue = Queue(timeout: .milliseconds(100))
        _ = queue.setServing(true)
        _ = queue.submit(entry(1, at: clock.now))
        _ = queue.submit(entry(2, at: clock.now))
        #expect(queue.setServing(false).map(\.waiter) == [1, 2])
        #expect(queue.isEmpty)
        #expect(queue.submit(entry(3, at: clock.now)) == .decideLocally)
    }

    @Test func theSharedQueueAnswersExpiredAndOrphanedRequestsUnavailable() {
        let clock = ManualClock()
        let queue = SharedZoneStrictQueue()
        let answers = Mutex<[Int: SharedZoneStrictAnswer]>([:])
        func request(_ id: Int) -> SharedZoneStrictQueue.Entry {
            .init(key: client, tolerance: 0, queued: clock.now) { answer in answers.withLock { $0[id] = answer } }
        }
        let owner = ManualClock()  // any object stands for the sync thread
        let wakes = Atomic<Int>(0)
        queue.attach(owner: owner, timeout: .milliseconds(50)) { wakes.add(1, ordering: .relaxed) }
        #expect(!queue.submit(request(0)), "not serving until the thread says so")
        queue.setServing(true)
        #expect(queue.submit(request(1)))
        clock.advance(milliseconds: 50)
        #expect(queue.submit(request(2)))
        #expect(wakes.load(ordering: .relaxed) == 1)
        #expect(queue.take(now: clock.now).count == 1)
        #expect(answers.withLock { $0 } == [1: .unavailable])
        #expect(queue.submit(request(3)))
        queue.detach(owner: ManualClock())
        #expect(queue.isServing, "only the thread serving the queue can stop it")
        queue.detach(owner: owner)
        #expect(answers.withLock { $0[3] } == .unavailable)
        #expect(!queue.submit(request(4)))
    }

    @Test func queuedRequestsStartASyncAtOnceWhileSharedAndNotWhileLocal() {
        let clock = ManualClock()
        var machine = SharedZoneSyncStateMachine(
            configuration: .init(syncInterval: .milliseconds(10), failureThreshold: 1, retryInterval: .seconds(1)), now: clock.now)
        clock.advance(milliseconds: 1)
        #expect(machine.requestsWaiting(now: clock.now) == .sync(probe: false))
        clock.advance(milliseconds: 2)
        let (transition, next) = machine.syncSucceeded(now: clock.now)
        #expect(transition == .none)
        #expect(next == .wait(until: clock.now.advanced(by: .milliseconds(8))), "the schedule counts from the trip's start")
        #expect(machine.requestsWaiting(now: clock.now) == .sync(probe: false))
        #expect(machine.syncFailed(now: clock.now).0 == .fellBackToLocal)
        #expect(machine.requestsWaiting(now: clock.now) == nil, "local: the queue decides locally")
    }

    func strictRule(burst: Int, delay: DelayPolicy = .nodelay) throws -> RateLimitRule {
        let zone = try RateLimitZone(name: "api", rate: Rate(parsing: "10r/s"), capacity: 64, strict: true)
        return try RateLimitRule(zone: zone, burst: burst, delay: delay)
    }

    @Test func theStoresAnswerBecomesTheRulesOutcomeAndTheLocalTableFollowsIt() throws {
        let clock = ManualClock()
        let rule = try strictRule(burst: 5, delay: .delay(after: 2))
        // 300 ms ahead at 100 ms per request: three queued, two of them free, so a 100 ms wait.
        #expect(
            RateLimitPolicy.decide(rule, client: client, answer: .admitted(ahead: .milliseconds(300)), now: clock.now)
                == .delayed(by: .milliseconds(100)))
        #expect(rule.zone.arrivalTime(of: client) == clock.now.advanced(by: .milliseconds(400)))
        #expect(
            RateLimitPolicy.decide(rule, client: client, answer: .admitted(ahead: .milliseconds(100)), now: clock.now)
                == .allowed)
        #expect(rule.zone.arrivalTime(of: client) == clock.now.advanced(by: .milliseconds(400)), "never moved back")
        // Refused 700 ms ahead with a 500 ms burst: the exact wait is 200 ms.
        #expect(
            RateLimitPolicy.decide(rule, client: client, answer: .refused(ahead: .milliseconds(700)), now: clock.now)
                == .rejected(retryAfter: .milliseconds(200), zone: "api"))
        #expect(rule.zone.arrivalTime(of: client) == clock.now.advanced(by: .milliseconds(700)))
    }

    @Test func withoutAnAnswerTheLocalTableDecidesFromTheStatesItFollowed() throws {
        let clock = ManualClock()
        let rule = try strictRule(burst: 1)
        _ = RateLimitPolicy.decide(rule, client: client, answer: .admitted(ahead: .milliseconds(100)), now: clock.now)
        // The client is 200 ms ahead here; a burst of 1 tolerates 100 ms.
        #expect(
            RateLimitPolicy.decide(rule, client: client, answer: .unavailable, now: clock.now)
                == .rejected(retryAfter: .milliseconds(100), zone: "api"))
    }

    @Test func aPolicyChecksItsLocalRulesAndLeavesStrictOnesToTheStore() throws {
        let clock = ManualClock()
        let strict = try strictRule(burst: 0)
        let local = try RateLimitRule(zone: RateLimitZone(name: "general", rate: Rate(parsing: "10r/s"), capacity: 64), burst: 0)
        let policy = try RateLimitPolicy([strict, local])
        #expect(policy.strictRules.map(\.zone.name) == ["api"])
        #expect(policy.localRules.map(\.zone.name) == ["general"])
        #expect(policy.check(client, now: clock.now) == .allowed)
        #expect(strict.zone.arrivalTime(of: client) == nil, "a strict zone is not charged by the local check")
    }
}
