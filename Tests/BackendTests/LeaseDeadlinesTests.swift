import Testing

@testable import Backend

/// Waits for a pooled connection end at their deadline through one ticking task
/// (``LeaseDeadlines``), and only the waits still registered then.
@Suite("Database: lease deadlines")
struct LeaseDeadlinesTests {
    private struct Declined: Error {}

    @Test func aWaitPastItsDeadlineTimesOut() async {
        let deadlines = LeaseDeadlines(tick: .milliseconds(5))
        let handoff = LeaseHandoff()
        _ = deadlines.add(handoff, timeout: .milliseconds(20))
        await #expect(throws: LeaseTimedOut.self) { _ = try await handoff.connection() }
        #expect(deadlines.count == 0)
    }

    @Test func aWaitRemovedBeforeItsDeadlineIsLeftAlone() async {
        let deadlines = LeaseDeadlines(tick: .milliseconds(5))
        let removed = LeaseHandoff()
        deadlines.remove(deadlines.add(removed, timeout: .milliseconds(10)))
        // A later wait with a later deadline: once it has timed out, the ticks have passed the
        // removed wait's deadline too.
        let later = LeaseHandoff()
        _ = deadlines.add(later, timeout: .milliseconds(30))
        await #expect(throws: LeaseTimedOut.self) { _ = try await later.connection() }
        // The removed wait was not timed out: its first outcome is still open.
        removed.fail(Declined())
        await #expect(throws: Declined.self) { _ = try await removed.connection() }
        #expect(deadlines.count == 0)
    }

    @Test func theTickingStartsAgainAfterTheTableEmptied() async {
        let deadlines = LeaseDeadlines(tick: .milliseconds(5))
        let first = LeaseHandoff()
        _ = deadlines.add(first, timeout: .milliseconds(5))
        await #expect(throws: LeaseTimedOut.self) { _ = try await first.connection() }
        let second = LeaseHandoff()
        _ = deadlines.add(second, timeout: .milliseconds(5))
        await #expect(throws: LeaseTimedOut.self) { _ = try await second.connection() }
    }
}
