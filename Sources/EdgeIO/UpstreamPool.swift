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
    /// When each idle connection was parked (loop milliseconds), parallel to `idle`.
    @usableFromInline var parkedAt: [UInt64]

    /// - Parameter capacity: the bound (nginx's `keepalive N`, per worker there, per loop here).
    public init(capacity: Int) {
        self.capacity = max(0, capacity)
        idle = []
        idle.reserveCapacity(self.capacity)
        parkedAt = []
        parkedAt.reserveCapacity(self.capacity)
    }

    /// Idle connections parked now.
    @inlinable public var count: Int { idle.count }

    /// Takes the most recently parked connection that is still open, or `nil`.
    @inlinable
    public mutating func take(io: borrowing LoopIO) -> ConnectionID? {
        while let connection = idle.popLast() {
            parkedAt.removeLast()
            if io.isOpen(connection) { return connection }
        }
        return nil
    }

    /// Parks an idle connection.
    /// - Parameter now: the loop's clock (``LoopIO/now``), for ``closeIdle(parkedBefore:io:)``.
    /// - Returns: `false` when the pool is full: the caller closes the connection.
    @inlinable
    public mutating func park(_ connection: ConnectionID, now: UInt64) -> Bool {
        guard idle.count < capacity else { return false }
        idle.append(connection)
        parkedAt.append(now)
        return true
    }

    /// Closes the connections parked before `deadline` (the oldest are at the bottom of the
    /// stack), so an idle connection is closed by this side before the upstream's own idle
    /// timeout can close it under a request (nginx's upstream `keepalive_timeout`).
    /// - Returns: how many were closed.
    @inlinable
    @discardableResult
    public mutating func closeIdle(parkedBefore deadline: UInt64, io: inout LoopIO) -> Int {
        var expired = 0
        while expired < idle.count && parkedAt[expired] < deadline { expired += 1 }
        guard expired > 0 else { return 0 }
        for position in 0..<expired { io.close(idle[position]) }
        idle.removeFirst(expired)
        parkedAt.removeFirst(expired)
        return expired
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
                parkedAt.remove(at: position)
                return true
            }
            position -= 1
        }
        return false
    }
}
