import Testing

@testable import Edge

/// `homerack-edge --check` loads each TLS listener's files as start-up does
/// (``CoreListener/checkTLS(_:listener:)``): a key that is not the certificate's, or a file that
/// is not PEM, fails the check with the listener and the reason.
@Suite("TLS files under --check")
struct TLSCheckTests {
    @Test func aMatchingPairPassesAndAMismatchedOrBrokenOneFails() throws {
        let directory = try TLSTestDirectory()
        defer { directory.remove() }
        let a = try directory.makeCertificate("a.test")
        let b = try directory.makeCertificate("b.test")
        try CoreListener.checkTLS(TLSListenerConfig(certificates: [a.config(serverNames: ["a.test"])]), listener: "https")
        let mismatched = TLSCertificateConfig(certificateChain: a.certificatePath, privateKey: b.keyPath, serverNames: ["a.test"])
        let garbage = try directory.write("not a certificate\n", to: "garbage.pem")
        let broken = TLSCertificateConfig(certificateChain: garbage, privateKey: a.keyPath, serverNames: ["a.test"])
        for (what, certificate) in [("a key of another certificate", mismatched), ("a file that is not PEM", broken)] {
            let error = #expect(throws: EdgeError.self, "\(what)") {
                try CoreListener.checkTLS(TLSListenerConfig(certificates: [certificate]), listener: "https")
            }
            #expect("\(error.map { "\($0)" } ?? "")".contains("listener 'https'"), "\(what): \(String(describing: error))")
        }
    }
}
