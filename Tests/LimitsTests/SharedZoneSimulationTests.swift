import Limits
import LimitsTestUtils
import Testing

/// Several edges sharing one zone through a simulated store, on one manual clock: the
/// over-admission bound of docs/SCALING.md ("How far a shared zone can over-admit"), checked
/// over every window of a run, for client patterns that spread requests in different ways.
/// Serialized: each simulation is CPU-bound on a test pool thread for a while.
@Suite("Shared zone simulation", .serialized)
struct SharedZoneSimulationTests {
    /// One edge: its own zone and policy, its sync state machine, and the batch it has out.
    struct SimulatedEdge {
        let zone: RateLimitZone
        let policy: RateLimitPolicy
        var machine: SharedZoneSyncStateMachine
        var action: SharedZoneSyncStateMachine.Action
        var inFlight: (batch: SharedZoneBatch, reachesStore: Instant, returns: Instant, replies: [SharedZoneBatch.Reply]?)?
        var lastRefresh: Instant
    }

    struct Parameters {
        var edges = 2
        var rate = 100  // r/s
        var burst = 5
        var syncInterval: Duration = .milliseconds(5)
        var roundTrip: Duration = .milliseconds(1)
        /// How often idle clients are refreshed (the edge's `SharedZoneSync.idleRefreshInterval`).
        var refreshInterval: Duration = .milliseconds(50)
        var shared = true
        var duration: Duration = .seconds(20)
        /// The client's request rate, as a multiple of the zone's rate.
        var clientRateMultiple = 2
        var step: Duration = .microseconds(50)

        /// D = S + R + 2ρ (R = max(S, refresh interval)): every admission is in every tracking
        /// edge's view after this long.
        var visibilityLag: Duration { syncInterval + max(syncInterval, refreshInterval) + roundTrip * 2 }

        /// The documented bound on the excess over one edge's limit, in requests:
        /// 2 (N − 1) (burst + 1 + r·D).
        var excessBound: Double {
            2 * Double(edges - 1) * (Double(burst + 1) + Double(rate) * visibilityLag.seconds)
        }

        /// What one edge alone admits at most in a window of `window`: r·W + burst + 1.
        func singleEdgeLimit(_ window: Duration) -> Double {
            Double(rate) * window.seconds + Double(burst + 1)
        }
    }

    let client = ClientKey(parsing: "198.51.100.7")!

    /// Runs a client at `clientRateMultiple` × the rate, sending request `n` to edge `pick(n)`
    /// (a negative pick leaves that request's slot idle).
    /// - Returns: the times of the admitted requests.
    func run(_ parameters: Parameters, pick: (Int) -> Int) throws -> [Instant] {
        let clock = ManualClock()
        let rate = try Rate(parsing: "\(parameters.rate)r/s")
        var store = SimulatedSharedStore()
        let configuration = SharedZoneSyncStateMachine.Configuration(syncInterval: parameters.syncInterval)
        var edges = try (0..<parameters.edges).map { index -> SimulatedEdge in
            let zone = try RateLimitZone(name: "api", rate: rate, capacity: 1024, shared: parameters.shared)
            var machine = SharedZoneSyncStateMachine(configuration: configuration, now: clock.now)
            let action = machine.timerFired(now: clock.now)
            return SimulatedEdge(
                zone: zone, policy: try RateLimitPolicy([RateLimitRule(zone: zone, burst: parameters.burst)]),
                machine: machine, action: action, lastRefresh: clock.now)
        }
        let end = clock.now.advanced(by: parameters.duration)
        let requestGap = Duration.nanoseconds(Int64(rate.interval) / Int64(parameters.clientRateMultiple))
        var nextRequest = clock.now
        var sent = 0
        var admitted: [Instant] = []
        while clock.now < end {
            let now = clock.now
            for index in edges.indices where parameters.shared {
                // The store handles batches in the order they reach it, on the shared clock.
                if var flight = edges[index].inFlight {
                    if flight.replies == nil, flight.reachesStore <= now {
                        flight.replies = store.charge(flight.batch, interval: rate.interval, now: flight.reachesStore)
                        edges[index].inFlight = flight
                    }
                    if let replies = flight.replies, flight.returns <= now {
                        edges[index].zone.merge(flight.batch, replies: replies, now: now)
                        edges[index].inFlight = nil
                        edges[index].action = edges[index].machine.syncSucceeded(now: now).1
                    }
                }
                if edges[index].inFlight == nil, case .wait(let until) = edges[index].action, until <= now {
                    edges[index].action = edges[index].machine.timerFired(now: now)
                }
                if edges[index].inFlight == nil, case .sync = edges[index].action {
                    let refreshing = now >= edges[index].lastRefresh.advanced(by: max(parameters.syncInterval, parameters.refreshInterval))
                    if refreshing { edges[index].lastRefresh = now }
                    let batch = edges[index].zone.cutSyncBatch(now: now, refreshingIdle: refreshing)
                    if batch.isEmpty {
                        edges[index].action = edges[index].machine.syncSkipped(now: now)
                    } else {
                        edges[index].inFlight = (
                            batch, now.advanced(by: parameters.roundTrip / 2), now.advanced(by: parameters.roundTrip), nil
                        )
                    }
                }
            }
            while nextRequest <= now {
                let choice = pick(sent)
                sent += 1
                if choice >= 0 {
                    let edge = choice % edges.count
                    if case .rejected = edges[edge].policy.check(client, now: nextRequest) {} else { admitted.append(nextRequest) }
                }
                nextRequest = nextRequest.advanced(by: requestGap)
            }
            clock.advance(by: parameters.step)
        }
        return admitted
    }

    /// The most admissions in any window of length `window` (each window starting at an admission).
    func maximum(in admitted: [Instant], window: Duration) -> Int {
        var best = 0
        var last = 0
        for first in admitted.indices {
            let limit = admitted[first].advanced(by: window)
            if last < first { last = first }
            while last + 1 < admitted.count, admitted[last + 1] < limit { last += 1 }
            best = max(best, last - first + 1)
        }
        return best
    }

    let windows: [Duration] = [.milliseconds(20), .milliseconds(100), .seconds(1), .seconds(5), .seconds(19)]

    func expectWithinBound(_ parameters: Parameters, _ admitted: [Instant], _ pattern: String) {
        for window in windows {
            let most = maximum(in: admitted, window: window)
            let allowed = parameters.singleEdgeLimit(window) + parameters.excessBound
            #expect(
                Double(most) <= allowed,
                "\(pattern): \(most) admitted in a \(window) window; the bound is \(allowed) (single edge \(parameters.singleEdgeLimit(window)))"
            )
        }
    }

    @Test func twoEdgesAlternatingStayWithinTheBound() throws {
        let parameters = Parameters()
        let admitted = try run(parameters) { $0 % 2 }
        expectWithinBound(parameters, admitted, "alternating")
        // Over the whole run the zone holds the rate: 20 s at 100 r/s, plus the burst and the bound.
        #expect(admitted.count >= 2000, "the zone must still admit its rate (\(admitted.count))")
        #expect(Double(admitted.count) <= parameters.singleEdgeLimit(.seconds(20)) + parameters.excessBound)
    }

    @Test func twoEdgesWithoutSharingAdmitTwiceTheLimit() throws {
        var parameters = Parameters()
        parameters.shared = false
        let admitted = try run(parameters) { $0 % 2 }
        // Each edge sees exactly its rate, so every request passes: twice what one edge allows.
        #expect(admitted.count >= 3990, "local zones on two edges admit about twice the limit (\(admitted.count))")
    }

    @Test func fourEdgesRandomSpreadStaysWithinTheBound() throws {
        var parameters = Parameters()
        parameters.edges = 4
        parameters.clientRateMultiple = 4
        var random = SeededRandom(seed: 42)
        let choices = (0..<100_000).map { _ in Int(random.next() % 4) }
        let admitted = try run(parameters) { choices[$0 % choices.count] }
        expectWithinBound(parameters, admitted, "random over 4 edges")
    }

    @Test func dwellingOnEachEdgeInTurnStaysWithinTheBound() throws {
        // The pattern that defeats syncing only what was admitted: the client stays on one edge
        // long enough for the others' view of it to age, then moves on. Edges keep refreshing
        // clients whose state has not drained, so the others still see it.
        var parameters = Parameters()
        parameters.edges = 3
        parameters.clientRateMultiple = 3
        var random = SeededRandom(seed: 7)
        var choices: [Int] = []
        var edge = 0
        while choices.count < 100_000 {
            let dwell = Int(random.next() % 200) + 1
            choices += Array(repeating: edge, count: dwell)
            edge = (edge + 1 + Int(random.next() % 2)) % 3
        }
        let admitted = try run(parameters) { choices[$0] }
        expectWithinBound(parameters, admitted, "dwelling")
    }

    @Test func burstsAfterIdlePeriodsOnFourEdgesStayWithinTheBound() throws {
        // The first-contact case: 20 × the rate for 300 ms, over all four edges at random, then
        // idle long enough for every edge's view to drain, again and again. Each burst meets
        // edges that no longer track the client.
        var parameters = Parameters()
        parameters.edges = 4
        parameters.clientRateMultiple = 20
        var random = SeededRandom(seed: 11)
        let perSecond = parameters.rate * parameters.clientRateMultiple
        let admitted = try run(parameters) { index in
            let inCycle = index % (perSecond * 2)  // a 2 s cycle: 300 ms of requests, then idle
            return inCycle < perSecond * 3 / 10 ? Int(random.next() % 4) : -1
        }
        expectWithinBound(parameters, admitted, "bursts after idle")
        // Local zones would let each burst through on every edge; sharing keeps each near one edge's.
        let bursts = 10
        #expect(admitted.count <= bursts * Int(parameters.singleEdgeLimit(.milliseconds(300)) + parameters.excessBound))
    }

    @Test func slowSyncWidensTheBoundAsDocumented() throws {
        var parameters = Parameters()
        parameters.syncInterval = .milliseconds(50)
        parameters.roundTrip = .milliseconds(10)
        parameters.clientRateMultiple = 4
        let admitted = try run(parameters) { $0 % 2 }
        expectWithinBound(parameters, admitted, "50 ms sync")
    }
}

extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
