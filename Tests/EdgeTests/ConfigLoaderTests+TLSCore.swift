import Foundation
import Testing

@testable import Edge

/// The TLS keys only `io: core` carries out: `tls13_ciphersuites`, `session_ticket_keys`,
/// `ocsp_refresh` and a certificate's `ocsp_response` — mapped onto the model, each bad value
/// answered with what to do, and refused on `io: nio` listeners.
extension ConfigLoaderTests {
    /// A real DER OCSP response (the loader parses it), the certificate files, and key files.
    struct CoreTLSFiles {
        let tls: TLSFiles
        let directory: TLSTestDirectory
        let ocsp: String

        init() throws {
            tls = try TLSFiles()
            directory = try TLSTestDirectory()
            let ca = try TLSTestCA(in: directory)
            let certificate = try ca.issue("a.test", serial: "5005")
            ocsp = directory.path + "/a.ocsp.der"
            try ca.writeOCSPResponse(for: certificate, serial: "5005", to: ocsp)
        }

        /// A key file of `size` random bytes.
        func key(_ name: String, size: Int = 80) throws -> String {
            try TLSTicketKeyTests.writeKey(directory, name, size: size)
        }

        /// A listener with `io` (line 3) and `tls` lines (from line 4, 6 spaces in) and the
        /// certificate (`extra` lines added to it, 10 spaces in).
        func yaml(io: String = "core", tls lines: [String], certificate extra: [String] = []) -> String {
            (["listeners:", "  - address: 127.0.0.1:8443", "    io: \(io)", "    tls:"]
                + lines.map { "      " + $0 }
                + ["      certificates:", "        - certificate: \(tls.certificate)", "          key: \(tls.key)"]
                + extra.map { "          " + $0 }).joined(separator: "\n") + "\n"
        }
    }

    @Test func theCoreTLSKeysMapOntoTheModel() throws {
        let files = try CoreTLSFiles()
        defer { files.directory.remove() }
        let current = try files.key("current.key")
        let previous = try files.key("previous.key")
        let config = try parse(
            files.yaml(
                tls: [
                    "tls13_ciphersuites: TLS_CHACHA20_POLY1305_SHA256:TLS_AES_256_GCM_SHA384",
                    "session_ticket_keys: [\(current), \(previous)]", "ocsp_refresh: 10m",
                ], certificate: ["ocsp_response: \(files.ocsp)"]))
        let tls = try #require(config.listeners[0].tls)
        #expect(tls.tls13Ciphersuites == "TLS_CHACHA20_POLY1305_SHA256:TLS_AES_256_GCM_SHA384")
        #expect(tls.sessionTicketKeys == [current, previous])
        #expect(tls.ocspRefresh == .seconds(600))
        #expect(tls.certificates[0].ocspResponse == files.ocsp)
    }

    @Test func theCoreTLSKeysHaveTheDocumentedDefaults() throws {
        let files = try CoreTLSFiles()
        defer { files.directory.remove() }
        let tls = try #require(try parse(files.yaml(tls: [])).listeners[0].tls)
        #expect(tls.tls13Ciphersuites == nil)
        #expect(tls.sessionTicketKeys.isEmpty)
        #expect(tls.ocspRefresh == .seconds(3600))
        #expect(tls.certificates[0].ocspResponse == nil)
    }

    @Test(arguments: [
        ("TLS_AES_128_GCM_SHA256:TLS_AES_128_GMC_SHA256", "'TLS_AES_128_GMC_SHA256' is not a TLS 1.3 cipher suite"),
        ("ECDHE-ECDSA-AES128-GCM-SHA256", "'ECDHE-ECDSA-AES128-GCM-SHA256' is not a TLS 1.3"),
        ("TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", "is not a TLS 1.3"),
        ("TLS_AES_128_GCM_SHA256::TLS_AES_256_GCM_SHA384", "empty name"),
        ("''", "is empty"),
    ])
    func tls13SuitesOpenSSLWouldSkipAreRefusedByName(value: String, fragment: String) throws {
        let files = try CoreTLSFiles()
        defer { files.directory.remove() }
        let found = problems(files.yaml(tls: ["tls13_ciphersuites: \(value)"]))
        expectProblem(found, at: "listeners[0].tls.tls13_ciphersuites", line: 5, fragment, "openssl ciphers -s -tls1_3")
        #expect(found.count == 1)
    }

    @Test func sessionTicketKeyFilesAreOneToEightKeysOfOneSize() throws {
        let files = try CoreTLSFiles()
        defer { files.directory.remove() }
        let good = try files.key("good.key")
        let short = try files.key("short.key", size: 20)
        let small = try files.key("small.key", size: 48)
        let missing = files.directory.path + "/missing.key"
        let found = problems(
            files.yaml(tls: ["session_ticket_keys: [\(good), \(short), \(small), \(good), \(missing)]"]))
        let at = "listeners[0].tls.session_ticket_keys"
        expectProblem(found, at: "\(at)[1]", line: 5, "holds 20 bytes", "48 or 80", "openssl rand 80")
        expectProblem(found, at: "\(at)[2]", line: 5, "holds 48 bytes but session_ticket_keys[0] holds 80")
        expectProblem(found, at: "\(at)[3]", line: 5, "listed twice")
        expectProblem(found, at: "\(at)[4]", line: 5, "does not exist", "openssl rand 80")
        #expect(found.count == 4)

        let empty = problems(files.yaml(tls: ["session_ticket_keys: []"]))
        expectProblem(empty, at: at, line: 5, "no key files", "remove session_ticket_keys")
        let nine = try (0..<9).map { try files.key("k\($0).key") }
        let tooMany = problems(files.yaml(tls: ["session_ticket_keys: [\(nine.joined(separator: ", "))]"]))
        expectProblem(tooMany, at: at, line: 5, "9 key files; at most 8")
    }

    @Test func ocspResponseFilesMustHoldAResponseAndTheRefreshARange() throws {
        let files = try CoreTLSFiles()
        defer { files.directory.remove() }
        let garbage = try files.directory.write("not DER\n", to: "garbage.der")
        let missing = files.directory.path + "/missing.der"
        let notAResponse = problems(files.yaml(tls: [], certificate: ["ocsp_response: \(garbage)"]))
        expectProblem(
            notAResponse, at: "listeners[0].tls.certificates[0].ocsp_response", line: 8,
            "is not a successful DER OCSP response", "openssl ocsp", "homerack-ocsp-refresh.sh")
        let absent = problems(files.yaml(tls: [], certificate: ["ocsp_response: \(missing)"]))
        expectProblem(
            absent, at: "listeners[0].tls.certificates[0].ocsp_response", line: 8, "does not exist",
            "systemctl start homerack-ocsp-refresh.service")
        for (value, fragment) in [("500ms", "out of range; give 1s to 24h"), ("0s", "is zero"), ("2d", "at most 24h")] {
            let found = problems(files.yaml(tls: ["ocsp_refresh: \(value)"]))
            expectProblem(found, at: "listeners[0].tls.ocsp_refresh", line: 5, fragment)
        }
        expectProblem(problems(files.yaml(tls: ["ocsp_refresh: soon"])), at: "listeners[0].tls.ocsp_refresh", line: 5)
    }

    /// `io` chose the SwiftNIO listener until it was removed: `io: nio` is refused with what to
    /// do, `io: core` (what configurations of that time said) still loads, as does no `io`.
    @Test func theRemovedNIOListenerIsRefusedWithTheFix() throws {
        let files = try CoreTLSFiles()
        defer { files.directory.remove() }
        let found = problems(files.yaml(io: "nio", tls: []))
        expectProblem(found, at: "listeners[0].io", line: 3, "io: nio is gone", "delete the io key")
        #expect(found.count == 1)
        _ = try parse(files.yaml(io: "core", tls: []))
        _ = try parse(files.yaml(tls: []).replacingOccurrences(of: "    io: core\n", with: ""))
    }

    @Test func nginxStaplingAndTicketDirectivesSuggestTheEdgeKeys() throws {
        let files = try CoreTLSFiles()
        defer { files.directory.remove() }
        let key = try files.key("ticket.key")
        let found = problems(
            files.yaml(tls: ["ssl_session_ticket_key: \(key)", "ciphersuites: x"], certificate: ["ssl_stapling_file: x"]))
        expectProblem(found, at: "listeners[0].tls.ssl_session_ticket_key", line: 5, "did you mean 'session_ticket_keys'?")
        expectProblem(found, at: "listeners[0].tls.ciphersuites", line: 6, "did you mean 'tls13_ciphersuites'?")
        expectProblem(
            found, at: "listeners[0].tls.certificates[0].ssl_stapling_file", line: 10, "did you mean 'ocsp_response'?")
        #expect(found.count == 3)
    }
}
