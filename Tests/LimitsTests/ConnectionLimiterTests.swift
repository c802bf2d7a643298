import Limits
import Testing

@Suite("Connection limiter")
struct ConnectionLimiterTests {
    let client = ClientKey(parsing: "198.51.100.7")!

    func lease(_ decision: ConnectionLimitDecision) -> ConnectionLease? {
        if case .acquired(let lease) = decision { return lease }
        return nil
    }

    @Test func admitsUpToTheLimitThenRefuses() throws {
        let limiter = try ConnectionLimiter(limit: 10)
        let leases = (0..<10).compactMap { _ in lease(limiter.acquire(client)) }
        #expect(leases.count == 10)
        guard case .rejected(.perClientLimit(10)) = limiter.acquire(client) else {
            Issue.record("the 11th connection was not refused")
            return
        }
        #expect(limiter.openConnections(for: client) == 10)
        withExtendedLifetime(leases) {}
    }

    @Test func releasingALeaseFreesExactlyOneSlot() throws {
        let limiter = try ConnectionLimiter(limit: 2)
        let first = try #require(lease(limiter.acquire(client)))
        let second = try #require(lease(limiter.acquire(client)))
        #expect(first.release())
        #expect(limiter.openConnections(for: client) == 1)
        let third = try #require(lease(limiter.acquire(client)))
        #expect(lease(limiter.acquire(client)) == nil)
        withExtendedLifetime((second, third)) {}
    }

    @Test func doubleReleaseCountsOnce() throws {
        let limiter = try ConnectionLimiter(limit: 3)
        let kept = try #require(lease(limiter.acquire(client)))
        let closed = try #require(lease(limiter.acquire(client)))
        #expect(closed.release())
        #expect(!closed.release())
        #expect(!closed.release())
        #expect(closed.isReleased)
        #expect(limiter.openConnections(for: client) == 1)
        withExtendedLifetime(kept) {}
    }

    @Test func aDroppedLeaseReleasesItself() throws {
        let limiter = try ConnectionLimiter(limit: 1)
        do {
            let scoped = lease(limiter.acquire(client))
            #expect(scoped != nil)
            #expect(limiter.openConnections(for: client) == 1)
        }
        #expect(limiter.openConnections(for: client) == 0)
        #expect(lease(limiter.acquire(client)) != nil)
    }

    @Test func aLeaseReleasedOnAnErrorPathAndThenDroppedCountsOnce() throws {
        struct HandshakeFailed: Error {}
        let limiter = try ConnectionLimiter(limit: 5)
        let kept = try #require(lease(limiter.acquire(client)))
        func serve() throws {
            guard let connection = lease(limiter.acquire(client)) else { return }
            defer { connection.release() }  // the close path
            connection.release()  // the error handler got there first
            throw HandshakeFailed()
        }
        #expect(throws: HandshakeFailed.self) { try serve() }
        #expect(limiter.openConnections(for: client) == 1)
        withExtendedLifetime(kept) {}
    }

    @Test func clientsWithNoOpenConnectionTakeNoRoom() throws {
        let limiter = try ConnectionLimiter(limit: 1, capacity: 4, shardCount: 1)
        for index in 0..<100 {
            let key = ClientKey(ipv4: UInt32(index))
            #expect(lease(limiter.acquire(key))?.release() == true)
        }
        #expect(limiter.trackedClients == 0)
    }

    @Test func refusesNewClientsWhenTheTableIsFull() throws {
        let limiter = try ConnectionLimiter(limit: 1, capacity: 2, shardCount: 1)
        let first = try #require(lease(limiter.acquire(ClientKey(ipv4: 1))))
        let second = try #require(lease(limiter.acquire(ClientKey(ipv4: 2))))
        guard case .rejected(.tableFull) = limiter.acquire(ClientKey(ipv4: 3)) else {
            Issue.record("a third client was let in uncounted")
            return
        }
        first.release()
        #expect(lease(limiter.acquire(ClientKey(ipv4: 3))) != nil)
        withExtendedLifetime(second) {}
    }

    @Test func loweringTheLimitKeepsOpenConnectionsButRefusesNewOnes() throws {
        let limiter = try ConnectionLimiter(limit: 4)
        let leases = (0..<4).compactMap { _ in lease(limiter.acquire(client)) }
        try limiter.setLimit(2)
        #expect(lease(limiter.acquire(client)) == nil)
        leases[0].release()
        leases[1].release()
        #expect(lease(limiter.acquire(client)) == nil)
        leases[2].release()
        #expect(lease(limiter.acquire(client)) != nil)
        withExtendedLifetime(leases) {}
    }
}
