import EdgeIO
import Foundation
import Testing

/// What the TLS context refuses before it takes it: an OCSP response that is not for the
/// certificate (or not a response), and a TLS 1.3 suite list with a name OpenSSL would skip.
@Suite(.timeLimit(.minutes(2)))
struct TLSContextChecksTests {
    @Test func anOCSPResponseIsTakenOnlyForTheCertificateItNames() async throws {
        let pki = try await offThePool { try TestPKI() }
        let der = [UInt8](try Data(contentsOf: URL(fileURLWithPath: pki.path("a.ocsp.der"))))
        let context = try TLSContext(
            configuration: .init(certificates: [
                .init(chainPath: pki.path("a.pem"), keyPath: pki.path("a.key")),
                .init(chainPath: pki.path("b.pem"), keyPath: pki.path("b.key"), serverNames: ["*.b.test"]),
            ]))
        let now = Int64(Date().timeIntervalSince1970)
        guard case .response(let next, let revoked) = context.checkOCSPResponse(der, forCertificate: 0) else {
            Issue.record("a's response was not taken for a: \(context.checkOCSPResponse(der, forCertificate: 0))")
            return
        }
        #expect(next > now && !revoked)
        #expect(context.checkOCSPResponse(der, forCertificate: 1) == .unusable(.otherCertificate))
        #expect(context.checkOCSPResponse([1, 2, 3], forCertificate: 0) == .unusable(.notAResponse))
        #expect(context.checkOCSPResponse(der, forCertificate: 2) == .unusable(.noCertificate))
        #expect(throws: TLSError.self) { try context.setOCSPResponse(der, forCertificate: 1) }
        try context.setOCSPResponse(der, forCertificate: 0)
        try context.setOCSPResponse([], forCertificate: 0)  // staple nothing
    }

    @Test func aContextRefusesAResponseFileForAnotherCertificate() async throws {
        let pki = try await offThePool { try TestPKI() }
        #expect(throws: TLSError.self) {
            _ = try TLSContext(
                configuration: .init(certificates: [
                    .init(chainPath: pki.path("b.pem"), keyPath: pki.path("b.key"), ocspResponsePath: pki.path("a.ocsp.der"))
                ]))
        }
        _ = try TLSContext(
            configuration: .init(certificates: [
                .init(chainPath: pki.path("a.pem"), keyPath: pki.path("a.key"), ocspResponsePath: pki.path("a.ocsp.der"))
            ]))
    }

    @Test func tls13SuiteListsAreCheckedNameByName() throws {
        try TLSContext.checkTLS13Suites("TLS_AES_128_GCM_SHA256")
        try TLSContext.checkTLS13Suites("TLS_CHACHA20_POLY1305_SHA256:TLS_AES_256_GCM_SHA384:TLS_AES_128_CCM_SHA256")
        for bad in ["", "TLS_AES_128_GCM_SHA256:nope", "ECDHE-RSA-AES128-GCM-SHA256", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "a::b"] {
            #expect(throws: TLSError.self, "\(bad)") { try TLSContext.checkTLS13Suites(bad) }
        }
    }
}
