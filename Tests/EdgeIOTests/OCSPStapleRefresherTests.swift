import EdgeIO
import Foundation
import Testing

/// The stapled OCSP response follows its file: the decision on a wall clock given as input,
/// and the refresher against a live TLS server seen by `openssl s_client -status`.
@Suite(.timeLimit(.minutes(3)))
struct OCSPStapleRefresherTests {
    @Test func aValidNewResponseIsStapledAnExpiredOneIsDroppedAndABadFileChangesNothing() {
        typealias R = OCSPStapleRefresher
        #expect(R.action(read: .some(2000), stapled: nil, now: 1000) == .install(nextUpdate: 2000))
        #expect(R.action(read: .some(2000), stapled: 1500, now: 1000) == .install(nextUpdate: 2000))
        #expect(R.action(read: .some(900), stapled: 1500, now: 1000) == .keep)  // expired file: keep the valid staple
        #expect(R.action(read: .some(nil), stapled: 1500, now: 1000) == .keep)  // not a response: keep
        #expect(R.action(read: nil, stapled: 1500, now: 1000) == .keep)  // unchanged file
        #expect(R.action(read: nil, stapled: 1000, now: 1000) == .clear)  // the staple expired
        #expect(R.action(read: .some(nil), stapled: 999, now: 1000) == .clear)
        #expect(R.action(read: nil, stapled: nil, now: 1000) == .keep)
    }

    @Test func theResponseFileIsReadAndItsNextUpdateFound() async throws {
        let pki = try await offThePool { try TestPKI() }
        let der = [UInt8](try Data(contentsOf: URL(fileURLWithPath: pki.path("a.ocsp.der"))))
        let next = try #require(OCSPStapleRefresher.nextUpdate(of: der))
        let now = Int64(Date().timeIntervalSince1970)
        #expect(next > now && next <= now + 2 * 86_400)  // the test CA signs for one day
        #expect(OCSPStapleRefresher.nextUpdate(of: [1, 2, 3]) == nil)
        #expect(OCSPStapleRefresher.nextUpdate(of: []) == nil)
    }

    @Test func aResponseWrittenToTheFileIsStapledWithoutARestart() async throws {
        let pki = try await offThePool { try TestPKI() }
        let file = pki.path("live.ocsp.der")
        _ = FileManager.default.createFile(atPath: file, contents: Data())  // nothing to staple yet
        let context = try TLSContext(
            configuration: .init(certificates: [.init(chainPath: pki.path("a.pem"), keyPath: pki.path("a.key"))]))
        let server = try HelloServer(loops: 1, tls: context)
        defer { server.stop() }
        let refresher = try OCSPStapleRefresher(context: context, files: [(certificate: 0, path: file)], interval: 50)
        defer { refresher.stop() }
        func status() async throws -> String {
            try await runTool(
                "/usr/bin/openssl",
                ["s_client", "-connect", "127.0.0.1:\(server.port)", "-CAfile", pki.path("ca.pem"), "-ign_eof", "-status",
                 "-servername", "a.test"],
                directory: pki.directory, stdin: "GET / HTTP/1.1\r\nHost: a.test\r\nConnection: close\r\n\r\n")
        }
        #expect(try await status().contains("OCSP response: no response sent"))
        #expect(refresher.failure != nil)  // the empty file is not a response
        // The timer's job: a new response replaces the file (atomically, by rename).
        try FileManager.default.copyItem(atPath: pki.path("a.ocsp.der"), toPath: file + ".new")
        _ = rename(file + ".new", file)
        let deadline = Date().addingTimeInterval(30)
        while refresher.installs < 1 && Date() < deadline { try await Task.sleep(for: .milliseconds(20)) }
        #expect(refresher.installs == 1)
        let stapled = try await status()
        #expect(stapled.contains("OCSP Response Status: successful"))
        #expect(stapled.contains("Cert Status: good"))
    }
}
