/// Names one connection of one event loop: its slot index and the slot's generation, so an id
/// kept after the connection closed (and the slot was reused) is recognised as stale and every
/// operation on it does nothing.
public struct ConnectionID: Hashable, Sendable, CustomStringConvertible {
    public let index: UInt32
    public let generation: UInt32

    @inlinable
    public init(index: UInt32, generation: UInt32) {
        self.index = index
        self.generation = generation
    }

    public var description: String { "conn(\(index)#\(generation))" }
}

/// Why a connection closed, as told to ``EventLoopHandler/closed(_:reason:io:)``.
public enum CloseReason: Hashable, Sendable {
    /// The handler called ``LoopIO/close(_:)`` and the queued output was written.
    case closed
    /// The handler called ``LoopIO/abort(_:)``: closed at once, queued output dropped.
    case aborted
    /// A read or write failed with this errno (ECONNRESET, EPIPE, …).
    case failed(errno: Int32)
    /// The handler consumed nothing from a full input buffer.
    case inputOverflow
    /// An outbound connection could not be established (errno).
    case connectFailed(errno: Int32)
    /// The loop stopped.
    case loopStopped
}
