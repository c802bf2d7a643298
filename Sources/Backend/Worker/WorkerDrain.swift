import NIOCore
import Synchronization

/// The worker's "stop taking work" switch, shared by its server and every connection.
///
/// Draining closes the worker's copy of the listening socket (the supervisor's copy keeps the
/// address open, so new connections queue for the next worker) and asks every open connection
/// to close once its current request is answered. A connection set up after the switch flipped
/// quiesces itself, so none is missed however the drain and an accept interleave.
public final class WorkerDrain: Sendable {
    private struct State {
        var draining = false
        var connections: [ObjectIdentifier: any Channel] = [:]
        var onDrain: [@Sendable () -> Void] = []
    }

    private let state = Mutex(State())

    public init() {}

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
    /// sends every registered connection a `ChannelShouldQuiesceEvent`.
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
        for channel in connections {
            channel.pipeline.fireUserInboundEventTriggered(ChannelShouldQuiesceEvent())
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
