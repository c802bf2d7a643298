import Foundation
import Testing

@testable import Edge

/// OCSP stapling on `io: core` listeners (swift-nio-ssl cannot staple, so these tests set
/// `io: core` whatever `EDGE_TEST_IO` says): the response file a refresh job writes is stapled,
/// seen by `openssl s_client -status`, and a new file is stapled after a reload or on the
/// `ocsp_refresh` timer; a file that is not a response for the certificate refuses the start.
@Suite("OCSP stapling on io: core", .timeLimit(.minutes(3)))
struct TLSOCSPStaplingTests {
    /// An `io: core` HTTPS listener with `certificates`, changed by `configure`.
    static func coreListener(
        _ certificates: [TLSCertificateConfig], configure: (inout TLSListenerConfig) -> Void = { _ in }
    ) -> ListenerConfig {
        var tls = TLSListenerConfig(certificates: certificates)
        configure(&tls)
        return ListenerConfig(name: "https", address: .tcp(host: "127.0.0.1", port: 0), tls: tls, io: .core)
    }

    /// `s_client -status` against the listener: what it says of the stapled response.
    static func stapled(port: Int, ca: TLSTestCA) throws -> String {
        let (_, output) = try TLSTestSClient.run(port: port, ["-status", "-CAfile", ca.certificatePath])
        guard output.contains("OCSP response:") else {
            throw TLSTestFailure("s_client printed no OCSP part: \(output)")
        }
        return output
    }

    @Test func aStapledResponseIsSeenByTheClientAndAReloadStaplesTheReplacedFile() async throws {
        var setup: (TLSTestCA, TLSTestCertificate, String)?
        try await withTLSEdge({ directory, upstream in
            let ca = try TLSTestCA(in: directory)
            let certificate = try ca.issue("a.test", serial: "1001")
            let response = directory.path + "/a.ocsp.der"
            try ca.writeOCSPResponse(for: certificate, serial: "1001", to: response)
            setup = (ca, certificate, response)
            var config = certificate.config(serverNames: ["a.test"])
            config.ocspResponse = response
            return try TLSTestConfig.make(upstream: upstream, listeners: [Self.coreListener([config])])
        }) { edge, _, _ in
            let (ca, certificate, response) = try #require(setup)
            let port = try edge.port()
            let first = try Self.stapled(port: port, ca: ca)
            #expect(first.contains("OCSP Response Status: successful"), "\(first)")
            #expect(first.contains("Cert Status: good"), "\(first)")
            #expect(first.contains("Verify return code: 0 (ok)"), "the chain verifies: \(first)")

            // The refresh job writes a new response (here: revoked, to tell the two apart);
            // the default ocsp_refresh (1 h) has not come round, a reload (SIGHUP) reads it.
            try ca.writeOCSPResponse(for: certificate, serial: "1001", revoked: true, to: response)
            try edge.server.reload(edge.config)
            let second = try Self.stapled(port: port, ca: ca)
            #expect(second.contains("Cert Status: revoked"), "\(second)")
        }
    }

    @Test func theRefreshTimerStaplesANewResponseWithoutAReload() async throws {
        var setup: (TLSTestCA, TLSTestCertificate, String)?
        try await withTLSEdge({ directory, upstream in
            let ca = try TLSTestCA(in: directory)
            let certificate = try ca.issue("a.test", serial: "2002")
            let response = directory.path + "/a.ocsp.der"
            try ca.writeOCSPResponse(for: certificate, serial: "2002", to: response)
            setup = (ca, certificate, response)
            var config = certificate.config(serverNames: ["a.test"])
            config.ocspResponse = response
            return try TLSTestConfig.make(
                upstream: upstream, listeners: [Self.coreListener([config]) { $0.ocspRefresh = .seconds(1) }])
        }) { edge, _, _ in
            let (ca, certificate, response) = try #require(setup)
            let port = try edge.port()
            #expect(try Self.stapled(port: port, ca: ca).contains("Cert Status: good"))
            try ca.writeOCSPResponse(for: certificate, serial: "2002", revoked: true, to: response)
            // The edge looks every second; wait for its look, bounded.
            let deadline = ContinuousClock.now + .seconds(30)
            var last = ""
            while ContinuousClock.now < deadline {
                last = try Self.stapled(port: port, ca: ca)
                if last.contains("Cert Status: revoked") { break }
                try await Task.sleep(for: .milliseconds(200))
            }
            #expect(last.contains("Cert Status: revoked"), "the timer stapled the new file: \(last)")
        }
    }

    @Test func aCertificateWithoutAResponseFileStaplesNothing() async throws {
        var ca: TLSTestCA?
        try await withTLSEdge({ directory, upstream in
            let authority = try TLSTestCA(in: directory)
            ca = authority
            let certificate = try authority.issue("a.test", serial: "3003")
            return try TLSTestConfig.make(
                upstream: upstream, listeners: [Self.coreListener([certificate.config(serverNames: ["a.test"])])])
        }) { edge, _, _ in
            let output = try Self.stapled(port: try edge.port(), ca: try #require(ca))
            #expect(output.contains("OCSP response: no response sent"), "\(output)")
        }
    }

    @Test func aResponseForAnotherCertificateOrNotAResponseRefusesTheStart() async throws {
        let directory = try TLSTestDirectory()
        defer { directory.remove() }
        let upstream = try await TLSTestUpstream.start(name: "app")
        do {
            let ca = try TLSTestCA(in: directory)
            let certificate = try ca.issue("a.test", serial: "4004")
            let other = try ca.issue("a.test", serial: "4005")
            let otherResponse = directory.path + "/other.ocsp.der"
            try ca.writeOCSPResponse(for: other, serial: "4005", to: otherResponse)
            let garbage = try directory.write("not DER\n", to: "garbage.der")
            for (file, fragment) in [(otherResponse, "for another certificate"), (garbage, "not a successful DER OCSP response")] {
                var config = certificate.config(serverNames: ["a.test"])
                config.ocspResponse = file
                let edgeConfig = try TLSTestConfig.make(upstream: upstream, listeners: [Self.coreListener([config])])
                let error = await #expect(throws: EdgeError.self) {
                    let server = try await EdgeServer.start(config: edgeConfig)
                    await server.shutdown(grace: .milliseconds(100))
                }
                #expect("\(error.map { "\($0)" } ?? "")".contains(fragment), "\(String(describing: error))")
                #expect("\(error.map { "\($0)" } ?? "")".contains(file))
            }
        } catch {
            await upstream.stop()
            throw error
        }
        await upstream.stop()
    }
}
