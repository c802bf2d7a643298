import NIOCore

/// A deadline that moves cheaply, for timeouts that are re-armed on every request or read.
///
/// Scheduling a task on an event loop allocates and takes a heap insertion, and cancelling one
/// costs more; a keep-alive or read timeout re-armed per request would pay that every time.
/// Here, moving the deadline later is a store: the one scheduled task wakes at the earliest
/// point the deadline might have passed, finds it moved, and sleeps again until the new one.
/// Only moving it earlier reschedules. Confined to its event loop.
final class LazyTimer {
    private let eventLoop: any EventLoop
    private let onExpire: () -> Void
    private var deadline: NIODeadline?
    private var task: Scheduled<Void>?
    private var taskAt: NIODeadline?

    /// - Parameters:
    ///   - eventLoop: the loop of the channel the timer belongs to.
    ///   - onExpire: called on that loop when a deadline passes (capture the owner weakly).
    init(eventLoop: any EventLoop, onExpire: @escaping () -> Void) {
        self.eventLoop = eventLoop
        self.onExpire = onExpire
    }

    /// Sets the deadline (replacing any earlier one).
    func arm(at deadline: NIODeadline) {
        self.deadline = deadline
        if let taskAt, taskAt <= deadline { return }  // it wakes early enough and will look again
        task?.cancel()
        schedule(at: deadline)
    }

    /// Clears the deadline; a pending wake-up finds nothing to do.
    func disarm() {
        deadline = nil
    }

    /// Clears the deadline and the pending wake-up (the owner is going away).
    func cancel() {
        deadline = nil
        task?.cancel()
        task = nil
        taskAt = nil
    }

    private func schedule(at time: NIODeadline) {
        taskAt = time
        task = eventLoop.assumeIsolated().scheduleTask(deadline: time) { [weak self] in self?.wake() }
    }

    private func wake() {
        task = nil
        taskAt = nil
        guard let deadline else { return }
        if NIODeadline.now() < deadline {
            schedule(at: deadline)
        } else {
            self.deadline = nil
            onExpire()
        }
    }
}
