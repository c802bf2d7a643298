import EdgeIO
import EdgeIOHello
import Foundation
import Testing

/// The HTTP/1.1 fixture behind the core's TLS (OpenSSL 3), checked with `openssl s_client`
/// and curl over loopback, with a throwaway CA made per suite.
@Suite(.timeLimit(.minutes(3)))
struct TLSServerTests {
    let pki: TestPKI

    init() async throws { pki = try await offThePool { try TestPKI() } }

    func certificates(ocsp: Bool = false) -> [TLSContext.Certificate] {
        [
            .init(chainPath: pki.path("a.pem"), keyPath: pki.path("a.key"), ocspResponsePath: ocsp ? pki.path("a.ocsp.der") : nil),
            .init(chainPath: pki.path("b.pem"), keyPath: pki.path("b.key")),
        ]
    }

    func server(_ configuration: TLSContext.Configuration, loops: Int = 1) throws -> (HelloServer, TLSContext) {
        let context = try TLSContext(configuration: configuration)
        let server = try HelloServer(loops: loops, tls: context)
        return (server, context)
    }

    func sClient(_ port: Int, _ arguments: [String], request: String = "GET / HTTP/1.1\r\nHost: a.test\r\nConnection: close\r\n\r\n") async throws -> String {
        try await runTool(
            "/usr/bin/openssl",
            ["s_client", "-connect", "127.0.0.1:\(port)", "-CAfile", pki.path("ca.pem"), "-ign_eof"] + arguments,
            directory: pki.directory, stdin: request)
    }

    @Test func curlGetsAResponseOverTLSWithTheRightCertificate() async throws {
        let (server, _) = try server(.init(certificates: certificates(), applicationProtocols: ["http/1.1"]))
        defer { server.stop() }
        let url = "https://a.test:\(server.port)/"
        let output = try await runTool(
            "/usr/bin/curl",
            ["-sS", "--max-time", "10", "--cacert", pki.path("ca.pem"), "--resolve", "a.test:\(server.port):127.0.0.1",
             url, url, "-w", "%{http_code} %{num_connects} %{ssl_verify_result}\n"])
        #expect(output.contains("Hello, world!\n200 1 0"))
        #expect(output.contains("Hello, world!\n200 0 0"))  // the second request reused the connection
    }

    @Test func sniChoosesTheCertificateAndUnknownNamesGetTheDefault() async throws {
        let (server, _) = try server(.init(certificates: certificates()))
        defer { server.stop() }
        let b = try await sClient(server.port, ["-servername", "www.b.test", "-verify_hostname", "www.b.test", "-verify_return_error"])
        #expect(b.contains("Verify return code: 0 (ok)"))
        #expect(b.contains("subject=CN = b"))
        let unknown = try await sClient(server.port, ["-servername", "other.test"])
        #expect(unknown.contains("subject=CN = a"))
        let a = try await sClient(server.port, ["-servername", "a.test", "-verify_hostname", "a.test", "-verify_return_error"])
        #expect(a.contains("Verify return code: 0 (ok)"))
        #expect(a.contains("HTTP/1.1 200 OK"))
    }

    @Test func onlyTLS12And13AreAccepted() async throws {
        let (server, _) = try server(.init(certificates: certificates()))
        defer { server.stop() }
        let old = try await sClient(server.port, ["-tls1_1", "-servername", "a.test"])
        #expect(!old.contains("HTTP/1.1 200 OK"))
        let tls12 = try await sClient(server.port, ["-tls1_2", "-servername", "a.test"])
        #expect(tls12.contains("Protocol  : TLSv1.2"))
        #expect(tls12.contains("ECDHE-ECDSA-AES128-GCM-SHA256") || tls12.contains("ECDHE-ECDSA-AES256-GCM-SHA384") || tls12.contains("ECDHE-ECDSA-CHACHA20-POLY1305"))
        #expect(tls12.contains("HTTP/1.1 200 OK"))
        let tls13 = try await sClient(server.port, ["-tls1_3", "-servername", "a.test"])
        #expect(tls13.contains("TLSv1.3"))
        #expect(tls13.contains("HTTP/1.1 200 OK"))
    }

    @Test func tls12CipherOutsideTheIntermediateListIsRefused() async throws {
        let (server, _) = try server(.init(certificates: certificates()))
        defer { server.stop() }
        let cbc = try await sClient(server.port, ["-tls1_2", "-cipher", "ECDHE-ECDSA-AES128-SHA256", "-servername", "a.test"])
        #expect(!cbc.contains("HTTP/1.1 200 OK"))
    }

    @Test func tls13SuitesAreConfigurable() async throws {
        let (server, _) = try server(.init(certificates: certificates(), tls13Suites: "TLS_CHACHA20_POLY1305_SHA256"))
        defer { server.stop() }
        let chacha = try await sClient(server.port, ["-tls1_3", "-servername", "a.test"])
        #expect(chacha.contains("Cipher is TLS_CHACHA20_POLY1305_SHA256"))
        let aes = try await sClient(server.port, ["-tls1_3", "-ciphersuites", "TLS_AES_128_GCM_SHA256", "-servername", "a.test"])
        #expect(!aes.contains("HTTP/1.1 200 OK"))
    }

    @Test func invalidSuitesAreRejectedAtStartup() async {
        #expect(throws: TLSError.self) {
            _ = try TLSContext(configuration: .init(certificates: certificates(), tls13Suites: "TLS_NOT_A_SUITE"))
        }
    }

    @Test func alpnPrefersH2AndFallsBackToHTTP11() async throws {
        let (server, _) = try server(.init(certificates: certificates(), applicationProtocols: ["h2", "http/1.1"]))
        defer { server.stop() }
        let both = try await sClient(server.port, ["-alpn", "http/1.1,h2", "-servername", "a.test"], request: "")
        #expect(both.contains("ALPN protocol: h2"))
        let old = try await sClient(server.port, ["-alpn", "http/1.1", "-servername", "a.test"])
        #expect(old.contains("ALPN protocol: http/1.1"))
        let none = try await sClient(server.port, ["-alpn", "spdy/3", "-servername", "a.test"])
        #expect(none.contains("No ALPN negotiated"))
        #expect(none.contains("HTTP/1.1 200 OK"))
    }

    @Test(arguments: ["-tls1_2", "-tls1_3"])
    func ticketsResumeAcrossKeyRotationUntilTheKeyIsRetired(version: String) async throws {
        let first = TestPKI.ticketKey()
        let second = TestPKI.ticketKey()
        let (server, context) = try server(.init(certificates: certificates(), ticketKeys: [first]), loops: 2)
        defer { server.stop() }
        let session = pki.path("session\(version).pem")
        let full = try await sClient(server.port, [version, "-servername", "a.test", "-sess_out", session])
        #expect(full.contains("HTTP/1.1 200 OK"))
        #expect(full.contains("New, TLSv1"))
        let resumed = try await sClient(server.port, [version, "-servername", "a.test", "-sess_in", session])
        #expect(resumed.contains("Reused, TLSv1"))
        // Rotation: a new key encrypts, the old one still decrypts.
        try context.setTicketKeys([second, first])
        let afterRotation = try await sClient(server.port, [version, "-servername", "a.test", "-sess_in", session])
        #expect(afterRotation.contains("Reused, TLSv1"))
        // Retired: the old key is gone, so its tickets mean a full handshake.
        try context.setTicketKeys([second])
        let retired = try await sClient(server.port, [version, "-servername", "a.test", "-sess_in", session])
        #expect(retired.contains("New, TLSv1"))
        #expect(retired.contains("HTTP/1.1 200 OK"))
    }

    @Test func ticketKeysFromAnotherContextWithTheSameKeyFileResume() async throws {
        // Two edges sharing a key file (like nginx's ssl_session_ticket_key).
        let keyFile = pki.path("ticket.key")
        try Data(TestPKI.ticketKey()).write(to: URL(fileURLWithPath: keyFile))
        let key = try TLSContext.readTicketKey(path: keyFile)
        let (one, _) = try server(.init(certificates: certificates(), ticketKeys: [key]))
        defer { one.stop() }
        let (two, _) = try server(.init(certificates: certificates(), ticketKeys: [key]))
        defer { two.stop() }
        let session = pki.path("shared-session.pem")
        _ = try await sClient(one.port, ["-tls1_2", "-servername", "a.test", "-sess_out", session])
        let resumed = try await sClient(two.port, ["-tls1_2", "-servername", "a.test", "-sess_in", session])
        #expect(resumed.contains("Reused, TLSv1.2"))
    }

    @Test func ocspResponseIsStapled() async throws {
        let (server, context) = try server(.init(certificates: certificates(ocsp: true)))
        defer { server.stop() }
        let stapled = try await sClient(server.port, ["-status", "-servername", "a.test"])
        #expect(stapled.contains("OCSP Response Status: successful"))
        #expect(stapled.contains("Cert Status: good"))
        // The other certificate has no response: nothing stapled.
        let b = try await sClient(server.port, ["-status", "-servername", "x.b.test"])
        #expect(b.contains("OCSP response: no response sent"))
        // Refreshing the response at run time (empty: stop stapling).
        try context.setOCSPResponse([], forCertificate: 0)
        let none = try await sClient(server.port, ["-status", "-servername", "a.test"])
        #expect(none.contains("OCSP response: no response sent"))
    }

    @Test func largeResponseOverTLSArrivesWhole() async throws {
        let (server, _) = try server(.init(certificates: certificates(), applicationProtocols: ["http/1.1"]))
        defer { server.stop() }
        let output = try await runTool(
            "/usr/bin/curl",
            ["-sS", "--max-time", "30", "--cacert", pki.path("ca.pem"), "--resolve", "a.test:\(server.port):127.0.0.1",
             "https://a.test:\(server.port)/large", "-o", "/dev/null", "-w", "%{http_code} %{size_download}"])
        #expect(output == "200 4194304")
        let statistics = await server.waitFor { $0[0].connections == 0 && $0[0].buffersInUse == 0 }
        #expect(statistics[0].buffersInUse == 0)
    }

    @Test func stalledHandshakeIsDroppedAfterTheTimeout() async throws {
        let context = try TLSContext(configuration: .init(certificates: certificates()))
        let server = try HelloServer(tls: context, handshakeTimeout: 200)
        defer { server.stop() }
        let client = try TestClient(port: server.port)
        // No ClientHello: the core closes the connection after 200 ms.
        #expect(try await client.receive().isEmpty)
        let statistics = await server.waitFor { $0[0].connections == 0 }
        #expect(statistics[0].connections == 0)
        #expect(statistics[0].timersArmed == 0)
    }
}
