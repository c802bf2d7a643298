import NIOCore
import NIOSSL
import Testing

@testable import Edge

/// Certificate reload without a restart (Let's Encrypt renewals): new connections get the new
/// pair, open ones keep serving, and a broken pair is refused whole.
@Suite("TLS certificate reload on loopback")
struct TLSReloadTests {
    @Test func reloadServesTheNewCertificateToNewConnectionsWhileOpenOnesKeepServing() async throws {
        var old: TLSTestCertificate?
        try await withTLSEdge({ directory, upstream in
            let first = try directory.makeCertificate("a.test", file: "old")
            old = first
            return try TLSTestConfig.make(
                upstream: upstream, listeners: [TLSTestConfig.https(certificates: [first.config(serverNames: ["a.test"])])])
        }) { edge, directory, _ in
            let old = try #require(old)
            let renewed = try directory.makeCertificate("a.test", file: "renewed", days: 30)
            let expirySeries = "edge_tls_certificate_expiry_timestamp_seconds{listener=\"https\",server_name=\"a.test\"}"
            let expiryBefore = try #require(metricValue(try await edge.metrics(), expirySeries))
            let port = try edge.port()
            var options = TLSClientOptions()
            options.alpn = ["http/1.1"]

            let open = try await TLSTestConnection.connect(port: port, tls: options)
            do {
                let before = try await open.peerCertificateDER()
                #expect(before == old.der)
                let first = try await open.request(.GET, "/app/before")
                #expect(first.status == 200)

                var next = edge.config
                next.listeners[0].tls?.certificates = [renewed.config(serverNames: ["a.test"])]
                try edge.server.reload(next)
                // The expiry gauge shows the installed certificate (30 days) at once, not the replaced one (2).
                let expiryAfter = try #require(metricValue(try await edge.metrics(), expirySeries))
                #expect(expiryAfter - expiryBefore > 27 * 86_400, "expiry \(expiryBefore) -> \(expiryAfter)")

                for version in [TLSVersion.tlsv12, .tlsv13] {
                    try await withTLSConnection(port: port, .version(version)) { fresh in
                        let leaf = try await fresh.peerCertificateDER()
                        #expect(leaf == renewed.der, "a new \(version) connection gets the renewed certificate")
                        let response = try await fresh.request(.GET, "/app/new")
                        #expect(response.status == 200)
                    }
                }
                let second = try await open.request(.GET, "/app/after")
                #expect(second.status == 200, "the connection opened before the reload still serves")
                #expect(second.body == TLSTestUpstream.body(name: "app", forwardedProto: "https", uri: "/app/after"))
            } catch {
                await open.close()
                throw error
            }
            await open.close()
        }
    }

    @Test func aBrokenCertificatePairIsRefusedAndTheServingOneStays() async throws {
        var serving: TLSTestCertificate?
        try await withTLSEdge({ directory, upstream in
            let first = try directory.makeCertificate("a.test", file: "serving")
            serving = first
            return try TLSTestConfig.make(
                upstream: upstream, listeners: [TLSTestConfig.https(certificates: [first.config(serverNames: ["a.test"])])])
        }) { edge, directory, _ in
            let serving = try #require(serving)
            let other = try directory.makeCertificate("a.test", file: "other")
            let otherRSA = try directory.makeCertificate("a.test", kind: .rsa2048, file: "other-rsa")
            let garbage = try directory.write(
                "-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n", to: "garbage.crt")
            let garbageKey = try directory.write("-----BEGIN PRIVATE KEY-----\nnope\n-----END PRIVATE KEY-----\n", to: "garbage.key")
            let empty = try directory.write("", to: "empty.crt")
            let port = try edge.port()
            let inForce = edge.server.config

            let open = try await TLSTestConnection.connect(port: port, tls: TLSClientOptions())
            do {
                let first = try await open.request(.GET, "/app/before")
                #expect(first.status == 200)

                let broken: [(String, TLSCertificateConfig)] = [
                    ("garbage PEM certificate", TLSCertificateConfig(certificateChain: garbage, privateKey: other.keyPath, serverNames: ["a.test"])),
                    ("garbage PEM key", TLSCertificateConfig(certificateChain: other.certificatePath, privateKey: garbageKey, serverNames: ["a.test"])),
                    ("empty certificate file", TLSCertificateConfig(certificateChain: empty, privateKey: other.keyPath, serverNames: ["a.test"])),
                    ("missing certificate file", TLSCertificateConfig(certificateChain: directory.path + "/missing.crt", privateKey: other.keyPath, serverNames: ["a.test"])),
                    ("key of another ECDSA certificate", TLSCertificateConfig(certificateChain: other.certificatePath, privateKey: serving.keyPath, serverNames: ["a.test"])),
                    ("RSA key with an ECDSA certificate", TLSCertificateConfig(certificateChain: other.certificatePath, privateKey: otherRSA.keyPath, serverNames: ["a.test"])),
                ]
                for (what, certificate) in broken {
                    var next = inForce
                    next.listeners[0].tls?.certificates = [certificate]
                    #expect(throws: (any Error).self, "a reload with a \(what) must fail") { try edge.server.reload(next) }
                    // Refused whole: a good first pair does not let a broken second one through.
                    var mixed = inForce
                    mixed.listeners[0].tls?.certificates = [other.config(serverNames: ["a.test"]), certificate]
                    mixed.listeners[0].tls?.certificates[1].serverNames = ["b.test"]
                    #expect(throws: (any Error).self, "a reload with a good pair and a \(what) must fail") { try edge.server.reload(mixed) }

                    try await withTLSConnection(port: port, TLSClientOptions()) { fresh in
                        let leaf = try await fresh.peerCertificateDER()
                        #expect(leaf == serving.der, "after the refused reload (\(what)), the serving certificate stays")
                        let response = try await fresh.request(.GET, "/app/still")
                        #expect(response.status == 200)
                    }
                }
                #expect(edge.server.config == inForce, "the configuration in force is unchanged")
                let last = try await open.request(.GET, "/app/after")
                #expect(last.status == 200, "the open connection still serves")
            } catch {
                await open.close()
                throw error
            }
            await open.close()
        }
    }
}
