import Foundation
import Testing

@testable import Edge

/// OCSP stapling: the response file a refresh job writes is stapled,
/// seen by `openssl s_client -status`, and a new file is stapled after a reload or on the
/// `ocsp_refresh` timer; a file that is not a response for the certificate refuses the start.
@Suite("OCSP stapling", .timeLimit(.minutes(3)))
struct TLSOCSPStaplingTests {
    /// An HTTPS listener with `certificates`, changed by `configure`.
    static func httpsListener(
        _ certificates: [TLSCertificateConfig], configure: (inout TLSListenerConfig) -> Void = { _ in }
    ) -> ListenerConfig {
        var tls = TLSListenerConfig(certificates: certificates)
        configure(&tls)
        return ListenerConfig(name: "https", address: .tcp(host: "127.0.0.1", port: 0), tls: tls)
    }

    /// `s_client -status` against the listener: what it says of the stapled response.
    static func stapled(port: Int, ca: TLSTestCA) async throws -> String {
        let (_, output) = try await TLSTestSClient.run(port: port, ["-status", "-CAfile", ca.certificatePath])
        guard output.contains("OCSP response:") else {
            throw TLSTestFailure("s_client printed no OCSP part: \(output)")
        }
        return output
    }

    /// A CA, a certificate for a.test issued by it with serial `serial`, and the file of a
    /// "good" OCSP response about it, which a listener staples.
    struct Stapling {
        let ca: TLSTestCA
        let certificate: TLSTestCertificate
        let serial: String
        let response: String

        init(in directory: TLSTestDirectory, serial: String) throws {
            ca = try TLSTestCA(in: directory)
            certificate = try ca.issue("a.test", serial: serial)
            self.serial = serial
            response = directory.path + "/a.ocsp.der"
            try ca.writeOCSPResponse(for: certificate, serial: serial, to: response)
        }

        /// An edge configuration stapling the response, its listener changed by `configure`.
        func config(upstream: TLSTestUpstream, configure: (inout TLSListenerConfig) -> Void = { _ in }) throws
            -> EdgeConfig
        {
            var certificate = certificate.config(serverNames: ["a.test"])
            certificate.ocspResponse = response
            return try TLSTestConfig.make(
                upstream: upstream, listeners: [TLSOCSPStaplingTests.httpsListener([certificate], configure: configure)])
        }

        /// The refresh job's work: a new response replaces the file (revoked, to tell it apart).
        func replaceWithRevoked() throws {
            try ca.writeOCSPResponse(for: certificate, serial: serial, revoked: true, to: response)
        }
    }

    @Test func aStapledResponseIsSeenByTheClientAndAReloadStaplesTheReplacedFile() async throws {
        var stapling: Stapling?
        try await withTLSEdge({ directory, upstream in
            stapling = try Stapling(in: directory, serial: "1001")
            return try stapling!.config(upstream: upstream)
        }) { edge, _, _ in
            let stapling = try #require(stapling)
            let port = try edge.port()
            let first = try await Self.stapled(port: port, ca: stapling.ca)
            #expect(first.contains("OCSP Response Status: successful"), "\(first)")
            #expect(first.contains("Cert Status: good"), "\(first)")
            #expect(first.contains("Verify return code: 0 (ok)"), "the chain verifies: \(first)")

            // The default ocsp_refresh (1 h) has not come round; a reload (SIGHUP) reads the file.
            try stapling.replaceWithRevoked()
            try edge.server.reload(edge.config)
            let second = try await Self.stapled(port: port, ca: stapling.ca)
            #expect(second.contains("Cert Status: revoked"), "\(second)")
        }
    }

    @Test func theRefreshTimerStaplesANewResponseWithoutAReload() async throws {
        var stapling: Stapling?
        try await withTLSEdge({ directory, upstream in
            stapling = try Stapling(in: directory, serial: "2002")
            return try stapling!.config(upstream: upstream) { $0.ocspRefresh = .seconds(1) }
        }) { edge, _, _ in
            let stapling = try #require(stapling)
            let port = try edge.port()
            #expect(try await Self.stapled(port: port, ca: stapling.ca).contains("Cert Status: good"))
            try stapling.replaceWithRevoked()
            // The edge looks every second; wait for its look, bounded.
            let deadline = ContinuousClock.now + .seconds(30)
            var last = ""
            while ContinuousClock.now < deadline {
                last = try await Self.stapled(port: port, ca: stapling.ca)
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
                upstream: upstream, listeners: [Self.httpsListener([certificate.config(serverNames: ["a.test"])])])
        }) { edge, _, _ in
            let output = try await Self.stapled(port: try edge.port(), ca: try #require(ca))
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
                let edgeConfig = try TLSTestConfig.make(upstream: upstream, listeners: [Self.httpsListener([config])])
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
