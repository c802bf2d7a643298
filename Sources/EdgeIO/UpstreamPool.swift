/// One loop's idle keep-alive connections to one upstream address: a bounded LIFO stack.
///
/// Per loop, so no lock: the loop that parks a connection is the only one that takes it.
/// LIFO hands out the most recently used connection (warm in the upstream's caches, least
/// likely to have hit the upstream's idle timeout) and leaves the coldest at the bottom, where
/// the upstream's own timeout closes them. A parked connection that closes (the upstream's
/// idle timeout, a reset) must be reported with ``remove(_:)`` from the handler's
/// ``EventLoopHandler/closed(_:reason:io:)``; ``take(io:)`` also skips ids that went stale.
public struct UpstreamPool: Sendable {
    /// The most idle connections kept; a connection offered beyond it is to be closed.
    public let capacity: Int
    @usableFromInline var idle: [ConnectionID]

    /// - Parameter capacity: the bound (nginx's `keepalive N`, per worker there, per loop here).
    public init(capacity: Int) {
        self.capacity = max(0, capacity)
        idle = []
        idle.reserveCapacity(self.capacity)
    }

    /// Idle connections parked now.
    @inlinable public var count: Int { idle.count }

    /// Takes the most recently parked connection that is still open, or `nil`.
    @inlinable
    public mutating func take(io: borrowing LoopIO) -> ConnectionID? {
        while let connection = idle.popLast() {
            if io.isOpen(connection) { return connection }
        }
        return nil
    }

    /// Parks an idle connection.
    /// - Returns: `false` when the pool is full: the caller closes the connection.
    @inlinable
    public mutating func park(_ connection: ConnectionID) -> Bool {
        guard idle.count < capacity else { return false }
        idle.append(connection)
        return true
    }

    /// Forgets a parked connection that closed.
    /// - Returns: whether it was parked here.
    @inlinable
    @discardableResult
    public mutating func remove(_ connection: ConnectionID) -> Bool {
        var position = idle.count - 1
        while position >= 0 {
            if idle[position] == connection {
                idle.remove(at: position)
                return true
            }
            position -= 1
        }
        return false
    }
}
