import NIOCore
import NIOPosix
import Testing

@testable import Edge

/// The HTTP/2 connection's one timer for its streams' deadlines, on a real event loop. Every
/// check is ordered by the loop itself: it runs scheduled work in deadline order, so a marker
/// task due after a deadline runs after that deadline's expiry would have (no sleep decides).
@Suite struct HTTP2StreamDeadlinesTests {
    final class Log {
        var fired: [String] = []
    }

    final class Stream: HTTP2StreamDeadlines.Owner {
        let name: String
        let log: Log
        init(_ name: String, _ log: Log) {
            self.name = name
            self.log = log
        }
        func upstreamDeadlinePassed() { log.fired.append(name) }
    }

    /// Runs `body` on a loop with a fresh queue and a log; the future it returns gives the result.
    private func onLoop(
        _ body: @escaping @Sendable (any EventLoop, HTTP2StreamDeadlines, Log) -> EventLoopFuture<[String]>
    ) async throws -> [String] {
        let loop = MultiThreadedEventLoopGroup.singleton.next()
        return try await loop.flatSubmit {
            let queue = HTTP2StreamDeadlines(eventLoop: loop)
            return body(loop, queue, Log()).always { _ in queue.close() }
        }.get()
    }

    @Test func deadlinesExpireInOrderAndOneMovedEarlierWakesTheConnectionEarlier() async throws {
        let fired = try await onLoop { loop, queue, log in
            let streams = ["a", "b", "c", "d"].map { Stream($0, log) }
            let entries = streams.map { queue.entry(for: $0) }
            let now = NIODeadline.now()
            // `a` first has a read timeout far out, then its send deadline (earlier): the
            // connection's timer, asleep until the far one, must wake for it.
            entries[0].arm(at: now + .seconds(30))
            entries[1].arm(at: now + .milliseconds(60))
            entries[0].arm(at: now + .milliseconds(30))
            entries[2].arm(at: now + .milliseconds(40))
            entries[2].disarm()  // a stream whose answer left: never fires
            entries[3].arm(at: now + .milliseconds(90))
            let marker = loop.makePromise(of: [String].self)
            loop.assumeIsolated().scheduleTask(deadline: now + .milliseconds(150)) {
                _ = (streams, entries)  // kept alive until here
                marker.succeed(log.fired)
            }
            return marker.futureResult
        }
        #expect(fired == ["a", "b", "d"])
    }

    @Test func aDeadlineMovedLaterDoesNotFireAtTheOldOne() async throws {
        let fired = try await onLoop { loop, queue, log in
            let stream = Stream("a", log)
            let entry = queue.entry(for: stream)
            let now = NIODeadline.now()
            entry.arm(at: now + .milliseconds(20))
            entry.arm(at: now + .seconds(30))  // the read timeout re-armed by a body chunk
            let other = Stream("b", log)
            let second = queue.entry(for: other)
            second.arm(at: now + .milliseconds(80))
            let marker = loop.makePromise(of: [String].self)
            loop.assumeIsolated().scheduleTask(deadline: now + .milliseconds(150)) {
                _ = (stream, entry, other, second)
                marker.succeed(log.fired)
            }
            return marker.futureResult
        }
        #expect(fired == ["b"])
    }

    @Test func closingTheConnectionDropsEveryDeadline() async throws {
        let fired = try await onLoop { loop, queue, log in
            let streams = ["a", "b"].map { Stream($0, log) }
            let entries = streams.map { queue.entry(for: $0) }
            let now = NIODeadline.now()
            entries[0].arm(at: now + .milliseconds(20))
            entries[1].arm(at: now + .milliseconds(40))
            queue.close()
            let marker = loop.makePromise(of: [String].self)
            loop.assumeIsolated().scheduleTask(deadline: now + .milliseconds(100)) {
                _ = (streams, entries)
                marker.succeed(log.fired)
            }
            return marker.futureResult
        }
        #expect(fired.isEmpty)
    }

    @Test func anEntryReArmedAfterItFiredFiresAgain() async throws {
        let fired = try await onLoop { loop, queue, log in
            let stream = Stream("a", log)
            let entry = queue.entry(for: stream)
            let now = NIODeadline.now()
            entry.arm(at: now + .milliseconds(20))
            let marker = loop.makePromise(of: [String].self)
            loop.assumeIsolated().scheduleTask(deadline: now + .milliseconds(60)) {
                // `a` has fired; a new deadline (the next exchange's) is timed again.
                entry.arm(at: now + .milliseconds(100))
                loop.assumeIsolated().scheduleTask(deadline: now + .milliseconds(160)) {
                    _ = (stream, entry)
                    marker.succeed(log.fired)
                }
            }
            return marker.futureResult
        }
        #expect(fired == ["a", "a"])
    }
}
