import Foundation
import Testing

@testable import Edge

/// `tls13_ciphersuites` on a listener: the list restricts what a client can
/// negotiate, checked with `openssl s_client -ciphersuites`.
@Suite("TLS 1.3 suites", .timeLimit(.minutes(3)))
struct TLS13SuiteTests {
    @Test func theConfiguredSuitesAreTheOnlyOnesNegotiated() async throws {
        try await withTLSEdge({ directory, upstream in
            let certificate = try directory.makeCertificate("a.test")
            return try TLSTestConfig.make(
                upstream: upstream,
                listeners: [
                    TLSOCSPStaplingTests.httpsListener([certificate.config(serverNames: ["a.test"])]) {
                        $0.tls13Ciphersuites = "TLS_CHACHA20_POLY1305_SHA256:TLS_AES_256_GCM_SHA384"
                    }
                ])
        }) { edge, _, _ in
            let port = try edge.port()
            func connect(_ suites: String) async throws -> (status: Int32, output: String) {
                try await TLSTestSClient.run(port: port, ["-tls1_3", "-ciphersuites", suites])
            }
            let chacha = try await connect("TLS_CHACHA20_POLY1305_SHA256")
            #expect(chacha.status == 0 && chacha.output.contains("Cipher is TLS_CHACHA20_POLY1305_SHA256"), "\(chacha.output)")
            #expect(chacha.output.contains("HTTP/1.1 200"))
            // The client's order among the listed suites: AES-256 first gets AES-256.
            let preferred = try await connect("TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256")
            #expect(preferred.output.contains("Cipher is TLS_AES_256_GCM_SHA384"), "\(preferred.output)")
            // A suite the list leaves out (on by default) is refused.
            let refused = try await connect("TLS_AES_128_GCM_SHA256")
            #expect(refused.status != 0, "\(refused.output)")
            #expect(!refused.output.contains("HTTP/1.1 200"))
            // TLS 1.2 is not affected.
            let tls12 = try await TLSTestSClient.run(port: port, ["-tls1_2"])
            #expect(tls12.status == 0 && tls12.output.contains("HTTP/1.1 200"), "\(tls12.output)")
        }
    }

    @Test func withoutTheKeyTheDefaultThreeSuitesAreOffered() async throws {
        try await withTLSEdge({ directory, upstream in
            let certificate = try directory.makeCertificate("a.test")
            return try TLSTestConfig.make(
                upstream: upstream,
                listeners: [TLSOCSPStaplingTests.httpsListener([certificate.config(serverNames: ["a.test"])])])
        }) { edge, _, _ in
            let port = try edge.port()
            for suite in ["TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256"] {
                let result = try await TLSTestSClient.run(port: port, ["-tls1_3", "-ciphersuites", suite])
                #expect(result.output.contains("Cipher is \(suite)"), "\(result.output)")
            }
            let ccm = try await TLSTestSClient.run(port: port, ["-tls1_3", "-ciphersuites", "TLS_AES_128_CCM_SHA256"])
            #expect(ccm.status != 0, "CCM is not among the defaults: \(ccm.output)")
        }
    }
}
