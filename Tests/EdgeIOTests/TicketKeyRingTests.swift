import EdgeIO
import Foundation
import Testing

/// Session-ticket keys on a schedule: the ring on a manual clock, and the rotator against a
/// live TLS server with `openssl s_client` resuming sessions.
@Suite(.timeLimit(.minutes(3)))
struct TicketKeyRingTests {
    @Test func aNewKeyEncryptsEachRotationAndTheOlderOnesDecryptUntilRetired() {
        var made = 0
        func key() -> [UInt8] {
            made += 1
            return [UInt8](repeating: UInt8(made), count: 80)
        }
        var ring = TicketKeyRing(rotation: 1000, decryptOnly: 2, firstKey: [UInt8](repeating: 0, count: 80), now: 5000)
        #expect(ring.nextRotation == 6000)
        #expect(ring.advance(now: 5999, newKey: key) == nil)
        #expect(made == 0)
        #expect(ring.advance(now: 6000, newKey: key)?.map(\.[0]) == [1, 0])
        #expect(ring.advance(now: 7100, newKey: key)?.map(\.[0]) == [2, 1, 0])
        #expect(ring.nextRotation == 8100)
        #expect(ring.advance(now: 8100, newKey: key)?.map(\.[0]) == [3, 2, 1])  // key 0 retired
        // After a long pause one new key, not one per missed interval.
        #expect(ring.advance(now: 60_000, newKey: key)?.map(\.[0]) == [4, 3, 2])
        #expect(made == 4)
        #expect(ring.nextRotation == 61_000)
    }

    @Test func noOlderKeysMeansEachRotationEndsEveryEarlierTicket() {
        var ring = TicketKeyRing(rotation: 10, decryptOnly: 0, firstKey: [UInt8](repeating: 0, count: 48), now: 0)
        #expect(ring.advance(now: 10) { [UInt8](repeating: 9, count: 48) }?.map(\.[0]) == [9])
    }

    @Test func theRotatorKeepsTicketsResumableForTheWindowThenRetiresThem() async throws {
        let pki = try await offThePool { try TestPKI() }
        let context = try TLSContext(
            configuration: .init(certificates: [.init(chainPath: pki.path("a.pem"), keyPath: pki.path("a.key"))]))
        let server = try HelloServer(loops: 1, tls: context)
        defer { server.stop() }
        // A new key every 1.5 s, one older key kept: a ticket resumes across the next rotation
        // and not after the second.
        let rotator = try TicketKeyRotator(context: context, rotation: 1500, decryptOnly: 1)
        defer { rotator.stop() }
        func sClient(_ arguments: [String]) async throws -> String {
            try await runTool(
                "/usr/bin/openssl",
                ["s_client", "-connect", "127.0.0.1:\(server.port)", "-CAfile", pki.path("ca.pem"), "-ign_eof", "-tls1_2",
                 "-servername", "a.test"] + arguments,
                directory: pki.directory, stdin: "GET / HTTP/1.1\r\nHost: a.test\r\nConnection: close\r\n\r\n")
        }
        let session = pki.path("rotated-session.pem")
        // The ticket is sealed with the key of a rotation between `start` and `issued`: it
        // resumes while fewer than two rotations passed since `start` (checked after each
        // handshake, as a loaded machine may deschedule the test past the window), and is
        // retired for certain two rotations after `issued`.
        let start = rotator.rotations
        #expect(try await sClient(["-sess_out", session]).contains("New, TLSv1.2"))
        let issued = rotator.rotations
        let again = try await sClient(["-sess_in", session])
        if rotator.rotations < start + 2 { #expect(again.contains("Reused, TLSv1.2")) }
        try await waitUntil { rotator.rotations >= start + 1 }
        let later = try await sClient(["-sess_in", session])
        if rotator.rotations < start + 2 { #expect(later.contains("Reused, TLSv1.2")) }
        try await waitUntil { rotator.rotations >= issued + 2 }
        let retired = try await sClient(["-sess_in", session])
        #expect(retired.contains("New, TLSv1.2"))
        #expect(retired.contains("HTTP/1.1 200 OK"))
        #expect(rotator.failure == nil)
    }

    /// Waits (up to 30 s) for `condition`, checking every 20 ms.
    func waitUntil(_ condition: () -> Bool) async throws {
        let deadline = Date().addingTimeInterval(30)
        while !condition() {
            guard Date() < deadline else { throw TimeoutError() }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    struct TimeoutError: Error {}
}
