import NIOCore

/// A deadline that moves cheaply, for timeouts that are re-armed on every request or read.
///
/// Scheduling a task on an event loop allocates and takes a heap insertion, and cancelling one
/// costs more; a keep-alive or read timeout re-armed per request would pay that every time.
/// Here, moving the deadline later is a store: the one scheduled wake-up comes at the earliest
/// point the deadline might have passed, finds it moved, and sleeps again until the new one.
/// Only moving it earlier reschedules. Confined to its event loop.
///
/// The wake-up is a scheduled *callback* with this timer as its handler, not a scheduled task:
/// on NIO's own event loops that is one entry in the loop's timer heap and nothing else, where
/// a task also costs a promise, its future and three closures (about 300 bytes). Every idle
/// keep-alive connection has such a wake-up pending (two, while an upstream read timeout's
/// stale one has not come yet), so this is memory per connection. The loop holds the timer
/// until the wake-up runs or is cancelled; the owner's `cancel()` when it goes away ends that.
final class LazyTimer: NIOScheduledCallbackHandler {
    private let eventLoop: any EventLoop
    private let onExpire: () -> Void
    private var deadline: NIODeadline?
    private var wakeUp: NIOScheduledCallback?
    private var wakeAt: NIODeadline?

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
        if let wakeAt, wakeAt <= deadline { return }  // it wakes early enough and will look again
        wakeUp?.cancel()
        schedule(at: deadline)
    }

    /// Clears the deadline; a pending wake-up finds nothing to do.
    func disarm() {
        deadline = nil
    }

    /// Clears the deadline and the pending wake-up (the owner is going away).
    func cancel() {
        deadline = nil
        wakeUp?.cancel()
        wakeUp = nil
        wakeAt = nil
    }

    private func schedule(at time: NIODeadline) {
        do {
            wakeUp = try eventLoop.assumeIsolated().scheduleCallback(at: time, handler: self)
            wakeAt = time
        } catch {
            // The loop is shutting down: nothing runs on it any more (a task would not either).
            wakeUp = nil
            wakeAt = nil
        }
    }

    func handleScheduledCallback(eventLoop: some EventLoop) {
        wakeUp = nil
        wakeAt = nil
        guard let deadline else { return }
        if NIODeadline.now() < deadline {
            schedule(at: deadline)
        } else {
            self.deadline = nil
            onExpire()
        }
    }
}
