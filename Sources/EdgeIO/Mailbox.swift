import CEdgeIO
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// A loop's inbox for messages from other threads: a lock-protected queue and an eventfd the
/// loop's epoll watches. Posting signals the eventfd only when the queue was empty, so a burst
/// of messages costs the loop one wake-up.
public final class Mailbox<Message: Sendable>: Sendable {
    @usableFromInline
    struct State {
        @usableFromInline var messages: [Message] = []
        @usableFromInline var stop = false
        @usableFromInline var closed = false
    }

    @usableFromInline let eventFD: Int32
    @usableFromInline let state: Mutex<State>

    /// - Throws: ``EdgeIOError`` when no eventfd can be created.
    public init() throws {
        let fd = ceio_eventfd()
        guard fd >= 0 else { throw EdgeIOError.eventFD(errno: ceio_errno()) }
        eventFD = fd
        state = Mutex(State())
    }

    deinit { Glibc.close(eventFD) }

    /// Posts a message.
    /// - Returns: `false` when the loop has stopped (the message is dropped).
    @discardableResult
    public func post(_ message: Message) -> Bool {
        let signal: Bool? = state.withLock { state in
            guard !state.closed else { return nil }
            state.messages.append(message)
            return state.messages.count == 1 && !state.stop
        }
        guard let signal else { return false }
        if signal { _ = ceio_eventfd_signal(eventFD) }
        return true
    }

    /// Asks the loop to stop after the messages posted so far.
    func requestStop() {
        state.withLock { $0.stop = true }
        _ = ceio_eventfd_signal(eventFD)
    }

    /// Swaps the queued messages into `messages` (which must be empty; its storage goes back
    /// to the queue, so a steady exchange allocates nothing).
    /// - Returns: whether a stop was requested.
    @inlinable
    func take(into messages: inout [Message]) -> Bool {
        _ = ceio_eventfd_drain(eventFD)
        return state.withLock { state in
            swap(&state.messages, &messages)
            return state.stop
        }
    }

    /// Marks the mailbox closed: later posts return `false`.
    @usableFromInline
    func close() {
        state.withLock { state in
            state.closed = true
            state.messages.removeAll()
        }
    }
}
