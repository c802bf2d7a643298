import Synchronization

/// A value worked out the first time it is read, from any thread, and kept; or set outright.
///
/// For what a worker may never need but would otherwise compute while it starts: every worker
/// start competes for the CPU with the workers serving, once per `MAX_REQUESTS` requests.
final class OnceValue<Value: Sendable>: Sendable {
    private enum State {
        case pending(@Sendable () -> Value)
        case computed(Value)
    }

    private let state: Mutex<State>

    init(_ compute: @escaping @Sendable () -> Value) {
        state = Mutex(.pending(compute))
    }

    /// The value, computed now if this is the first read (under the lock, so exactly once).
    var value: Value {
        state.withLock { state in
            switch state {
            case .computed(let value):
                return value
            case .pending(let compute):
                let value = compute()
                state = .computed(value)
                return value
            }
        }
    }
}
