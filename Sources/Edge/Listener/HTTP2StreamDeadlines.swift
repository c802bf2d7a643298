import NIOCore

/// The deadlines of one HTTP/2 connection's streams on one timer of the connection: each
/// stream's upstream read timeout while its exchange runs, then its answer's send deadline
/// (see ``ClientConnection/streamAnswerEnded(now:)``).
///
/// Why not a timer per stream: a stream lives for one request, so a timer of its own is
/// scheduled into the loop's timer heap when the exchange starts and cancelled when the stream
/// closes, and NIO cancels by a linear search of that heap. The send deadline, earlier than the
/// read timeout it replaces, moved that timer earlier, which is a second schedule and cancel:
/// two heap insertions and two heap scans per request, measurable on an HTTP/2 request that
/// costs ~60 µs in all. Here a stream's deadline is a field of its ``Entry``; arming, moving and
/// clearing it are stores plus a link or unlink in a list. The connection's one timer moves
/// only when a deadline comes earlier than its wake-up (the first send deadline after a
/// wake-up, or a route with a shorter read timeout), and when it wakes it walks the armed
/// entries (at most the streams open on the connection), expires those whose deadline has
/// passed and sleeps until the earliest of the rest: about one walk per `timeouts.send` per
/// busy connection.
///
/// Confined to the connection's event loop.
final class HTTP2StreamDeadlines {
    /// What an entry tells when its deadline passes (the stream's ``ClientHandler``).
    protocol Owner: AnyObject {
        func upstreamDeadlinePassed()
    }

    /// One stream's deadline. Made by ``entry(for:)``; the stream's handler clears it
    /// (``disarm()`` or ``cancel()``) before it goes away, which also unlinks it.
    final class Entry {
        fileprivate let queue: HTTP2StreamDeadlines
        /// Told when the deadline passes (weak: the stream's handler owns the entry).
        fileprivate weak var owner: (any Owner)?
        /// The deadline; `nil` while none is armed (the entry is then not in the list).
        fileprivate(set) var deadline: NIODeadline?
        // The list of armed entries: `next` holds, `previous` does not (no cycle).
        fileprivate var next: Entry?
        fileprivate unowned(unsafe) var previous: Entry?
        fileprivate var linked = false

        fileprivate init(queue: HTTP2StreamDeadlines, owner: any Owner) {
            self.queue = queue
            self.owner = owner
        }

        /// Sets the deadline (replacing any earlier one), as ``LazyTimer/arm(at:)``.
        func arm(at deadline: NIODeadline) { queue.arm(self, at: deadline) }

        /// Clears the deadline.
        func disarm() { queue.disarm(self) }

        /// Clears the deadline; the stream is going away (the same as ``disarm()``: the
        /// connection's timer is shared, nothing of the stream's is scheduled).
        func cancel() { queue.disarm(self) }
    }

    private var timer: LazyTimer!
    /// The armed entries, in no particular order.
    private var first: Entry?
    /// When the timer wakes next (it may find nothing due); `nil` while it is not armed.
    private var wake: NIODeadline?

    init(eventLoop: any EventLoop) {
        timer = LazyTimer(eventLoop: eventLoop) { [weak self] in self?.wakeUp() }
    }

    /// An entry for the stream `owner` handles.
    func entry(for owner: any Owner) -> Entry { Entry(queue: self, owner: owner) }

    /// Stops the timer and drops every entry: the connection has closed.
    func close() {
        timer.cancel()
        wake = nil
        while let entry = first { unlink(entry) }
    }

    fileprivate func arm(_ entry: Entry, at deadline: NIODeadline) {
        entry.deadline = deadline
        if !entry.linked { link(entry) }
        if let wake, wake <= deadline { return }  // it wakes early enough and will look again
        wake = deadline
        timer.arm(at: deadline)
    }

    fileprivate func disarm(_ entry: Entry) {
        entry.deadline = nil
        // The timer keeps its wake-up: it finds nothing due, or only later deadlines.
        if entry.linked { unlink(entry) }
    }

    private func link(_ entry: Entry) {
        entry.linked = true
        entry.previous = nil
        entry.next = first
        first?.previous = entry
        first = entry
    }

    private func unlink(_ entry: Entry) {
        entry.linked = false
        if let previous = entry.previous { previous.next = entry.next } else { first = entry.next }
        entry.next?.previous = entry.previous
        entry.next = nil
        entry.previous = nil
    }

    /// The timer's wake-up: expires what is due, then sleeps until the earliest deadline left.
    private func wakeUp() {
        wake = nil
        let now = NIODeadline.now()
        var due: [(deadline: NIODeadline, owner: any Owner)] = []
        var earliest: NIODeadline?
        var cursor = first
        while let entry = cursor {
            cursor = entry.next
            guard let deadline = entry.deadline else { continue }
            if deadline <= now {
                disarm(entry)
                if let owner = entry.owner { due.append((deadline, owner)) }
            } else if earliest.map({ deadline < $0 }) ?? true {
                earliest = deadline
            }
        }
        if let earliest {
            wake = earliest
            timer.arm(at: earliest)
        }
        // Last, in deadline order (as separate timers would have fired): an owner's expiry may
        // close its stream, which disarms entries of this list.
        if due.count > 1 { due.sort { $0.deadline < $1.deadline } }
        for (_, owner) in due { owner.upstreamDeadlinePassed() }
    }
}
