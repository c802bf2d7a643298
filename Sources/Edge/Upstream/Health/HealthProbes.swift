import EdgeIO
import EdgeIOProxy

/// Active health checks on the edge's own I/O core: one outbound-only loop probes every pool
/// that has a `health_check`. Every `interval`, a `GET` of the configured path on each server
/// over a new connection; a 2xx or 3xx response head within `timeout` is a success. The
/// results drive ``ServerHealth/probed(healthy:)``, so `fall` failures take a server out and
/// `rise` successes bring it back, without a client request ever paying for the discovery.
/// The response head is read by the core's own parser (``HTTPResponseHead``): a server whose
/// answers the proxy would refuse (a malformed head) fails its probe too.
///
/// A reload hands the loop the new runtime's checks (``Message/checks(_:)``): the probes in
/// flight are dropped unreported, the new rounds start at once.
struct HealthProbeHandler: EventLoopHandler {
    /// One server to probe, with its pool's settings.
    struct Target: Sendable {
        let pool: String
        let server: UpstreamServer
        let address: EdgeIO.SocketAddress
        /// The whole probe request.
        let request: [UInt8]
        let intervalMilliseconds: UInt64
        let timeoutMilliseconds: UInt64
    }

    enum Message: Sendable {
        /// The checks in force from now on (a pool's servers together, in order; empty: none).
        case checks([Target])
    }

    /// A pool's servers, probed together every interval.
    struct Round {
        var targets: [Int]
        var interval: UInt64
    }

    /// A probe in flight, by its connection's slot.
    struct Probe {
        var connection: ConnectionID
        var target: Int
        var timer: TimerID?
    }

    let logger: EdgeLogger
    var targets: [Target] = []
    var rounds: [Round] = []
    var probes: [Int: Probe] = [:]
    /// Bumped by each new set of checks: a timer of an earlier set is ignored.
    var generation: UInt32 = 0

    init(logger: EdgeLogger) { self.logger = logger }

    // Timer payloads: the kind in bit 0, the round or slot index in bits 1-31, the set's
    // generation in bits 32-61 (the core keeps the top bit).
    static func payload(round: Int, generation: UInt32) -> UInt64 {
        UInt64(generation & 0x3fff_ffff) << 32 | UInt64(round) << 1
    }
    static func payload(probeSlot: Int, generation: UInt32) -> UInt64 {
        UInt64(generation & 0x3fff_ffff) << 32 | UInt64(probeSlot) << 1 | 1
    }

    /// A probe request: `Connection: close`, so a probe never holds an upstream's keep-alive slot.
    static func request(path: String, host: String) -> [UInt8] {
        Array("GET \(path) HTTP/1.1\r\nHost: \(host)\r\nUser-Agent: homerack-edge-health-check\r\nConnection: close\r\n\r\n".utf8)
    }

    mutating func received(message: Message, io: inout LoopIO) {
        switch message {
        case .checks(let next):
            generation = (generation &+ 1) & 0x3fff_ffff
            for probe in probes.values {
                if let timer = probe.timer { _ = io.cancelTimer(timer) }
                io.abort(probe.connection)
            }
            probes = [:]
            targets = next
            rounds = []
            var byPool: [String: Int] = [:]
            for (index, target) in next.enumerated() {
                if let round = byPool[target.pool] {
                    rounds[round].targets.append(index)
                } else {
                    byPool[target.pool] = rounds.count
                    rounds.append(Round(targets: [index], interval: target.intervalMilliseconds))
                }
            }
            for round in rounds.indices {
                _ = io.armTimer(at: io.now, payload: Self.payload(round: round, generation: generation))
            }
        }
    }

    mutating func timerFired(_ timer: TimerID, payload: UInt64, io: inout LoopIO) {
        guard UInt32(truncatingIfNeeded: payload >> 32) == generation else { return }
        let index = Int(UInt32(truncatingIfNeeded: payload) >> 1)
        if payload & 1 == 0 {
            guard index < rounds.count else { return }
            for target in rounds[index].targets { start(target, io: &io) }
            _ = io.armTimer(at: io.now + rounds[index].interval, payload: Self.payload(round: index, generation: generation))
        } else if let probe = probes[index], probe.timer == timer {
            // No answer in time.
            probes[index] = nil
            report(probe.target, healthy: false)
            io.abort(probe.connection)
        }
    }

    /// (The loop does not listen: nothing is accepted.)
    mutating func accepted(_ connection: ConnectionID, io: inout LoopIO) { io.close(connection) }

    mutating func start(_ target: Int, io: inout LoopIO) {
        switch io.connect(to: targets[target].address) {
        case .success(let connection):
            let slot = Int(connection.index)
            let timer = io.armTimer(
                at: io.now + targets[target].timeoutMilliseconds, payload: Self.payload(probeSlot: slot, generation: generation))
            probes[slot] = Probe(connection: connection, target: target, timer: timer)
        case .failure:
            report(target, healthy: false)
        }
    }

    mutating func connectCompleted(_ connection: ConnectionID, error: Int32, io: inout LoopIO) {
        guard error == 0, let probe = probes[Int(connection.index)], probe.connection == connection else { return }
        targets[probe.target].request.withUnsafeBytes { io.write($0, on: connection) }
    }

    mutating func received(_ input: UnsafeRawBufferPointer, on connection: ConnectionID, io: inout LoopIO) -> Int {
        guard let probe = probes[Int(connection.index)], probe.connection == connection else {
            io.close(connection)
            return input.count
        }
        var offset = 0
        while true {
            guard let head = HTTPResponseHead.parse(input, from: offset) else { return offset }  // more to come
            if !head.malformed && head.status >= 100 && head.status < 200 && head.status != 101 {
                offset += head.length  // an interim answer: the final one follows
                continue
            }
            finish(connection, healthy: !head.malformed && head.status >= 200 && head.status < 400, io: &io)
            io.close(connection)
            return input.count
        }
    }

    mutating func closed(_ connection: ConnectionID, reason: CloseReason, io: inout LoopIO) {
        // Closed (or refused) before a head arrived.
        finish(connection, healthy: false, io: &io)
    }

    mutating func finish(_ connection: ConnectionID, healthy: Bool, io: inout LoopIO) {
        let slot = Int(connection.index)
        guard let probe = probes[slot], probe.connection == connection else { return }
        probes[slot] = nil
        if let timer = probe.timer { _ = io.cancelTimer(timer) }
        report(probe.target, healthy: healthy)
    }

    func report(_ index: Int, healthy: Bool) {
        let target = targets[index]
        if target.server.probed(healthy: healthy) {
            logger.warning(
                healthy ? "upstream server is back" : "upstream server failed its health checks",
                [("edge.upstream", target.pool), ("edge.server", target.server.addressText)])
        }
    }
}

/// The loop the health probes run on.
final class HealthProbes: Sendable {
    let group: EdgeIO.EventLoopGroup<HealthProbeHandler>

    /// - Throws: ``EdgeIOError`` when the loop cannot be made.
    init(logger: EdgeLogger) throws {
        group = try EdgeIO.EventLoopGroup(configuration: EventLoopConfiguration(loopCount: 1, listens: false)) { _ in
            HealthProbeHandler(logger: logger)
        }
    }

    /// Probes the servers of `runtime`'s pools that have a health check, from now on.
    func check(_ runtime: EdgeRuntime) {
        var targets: [HealthProbeHandler.Target] = []
        for cluster in runtime.clusters {
            guard let check = cluster.config.healthCheck else { continue }
            for server in cluster.servers {
                targets.append(
                    HealthProbeHandler.Target(
                        pool: cluster.name, server: server, address: server.address,
                        request: HealthProbeHandler.request(path: check.path, host: server.addressText),
                        intervalMilliseconds: max(1, check.interval.wholeMilliseconds),
                        timeoutMilliseconds: max(1, check.timeout.wholeMilliseconds)))
            }
        }
        _ = group.post(.checks(targets), toLoop: 0)
    }

    func stop() { group.stop() }
}
