import NIOCore
import Synchronization

/// The worker's "stop taking work" switch, shared by its server and every connection.
///
/// Draining closes the worker's copy of the listening socket (the supervisor's copy keeps the
/// address open, so new connections queue for the next worker) and asks every open connection
/// to close once its current request is answered. A connection set up after the switch flipped
/// quiesces itself, so none is missed however the drain and an accept interleave.
///
/// The open connections are asked one after another, evenly over `spread`
/// (`WORKER_DRAIN_SPREAD`), not all at once: each close makes the client (the edge) open a new
/// connection to another worker, which costs that worker about 0.27 ms of CPU, and a recycled
/// worker's thirty-odd connections closing together made every request in flight wait behind
/// the reconnections.
public final class WorkerDrain: Sendable {
    private struct State {
        var draining = false
        var connections: [ObjectIdentifier: any Channel] = [:]
        var onDrain: [@Sendable () -> Void] = []
    }

    private let state = Mutex(State())
    private let spread: Duration

    /// - Parameter spread: the time over which the open connections are asked to close.
    public init(spread: Duration = .zero) {
        self.spread = spread
    }

    /// When each of `count` connections is asked to close, from the drain's start: evenly from
    /// zero to `spread`, the first at once.
    static func delays(count: Int, over spread: Duration) -> [Duration] {
        guard count > 1, spread > .zero else { return Array(repeating: .zero, count: count) }
        return (0..<count).map { spread * (Double($0) / Double(count - 1)) }
    }

    public var isDraining: Bool { state.withLock { $0.draining } }

    /// Runs `action` when the drain starts (at once if it has started).
    public func onDrain(_ action: @escaping @Sendable () -> Void) {
        let runNow = state.withLock { state -> Bool in
            if state.draining { return true }
            state.onDrain.append(action)
            return false
        }
        if runNow { action() }
    }

    /// Starts the drain (once; later calls do nothing): runs the ``onDrain(_:)`` actions and
    /// sends every registered connection a `ChannelShouldQuiesceEvent`, spread over `spread`.
    public func start() {
        let (actions, connections) = state.withLock { state -> ([@Sendable () -> Void], [any Channel]) in
            guard !state.draining else { return ([], []) }
            state.draining = true
            defer {
                state.onDrain = []
                state.connections = [:]
            }
            return (state.onDrain, Array(state.connections.values))
        }
        for action in actions { action() }
        for (channel, delay) in zip(connections, Self.delays(count: connections.count, over: spread)) {
            if delay == .zero {
                channel.pipeline.fireUserInboundEventTriggered(ChannelShouldQuiesceEvent())
            } else {
                channel.eventLoop.scheduleTask(in: TimeAmount(delay)) {
                    channel.pipeline.fireUserInboundEventTriggered(ChannelShouldQuiesceEvent())
                }
            }
        }
    }

    /// A connection's handler joined.
    /// - Returns: `false` when the drain has already started: the connection should quiesce now.
    func register(_ channel: any Channel) -> Bool {
        state.withLock { state in
            guard !state.draining else { return false }
            state.connections[ObjectIdentifier(channel)] = channel
            return true
        }
    }

    func unregister(_ channel: any Channel) {
        _ = state.withLock { $0.connections.removeValue(forKey: ObjectIdentifier(channel)) }
    }
}
