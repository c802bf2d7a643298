import Foundation

@testable import Edge

/// A throwaway certificate authority in a ``TLSTestDirectory``: it issues certificates (their
/// chain files hold the leaf then the CA, like Let's Encrypt's `fullchain.pem`) and signs OCSP
/// responses about them with `openssl ocsp` as a one-shot responder (`-reqin`/`-respout`), which
/// is what the refresh job in `deploy/` writes too.
struct TLSTestCA {
    let directory: TLSTestDirectory
    /// The CA certificate (what a client trusts: `-CAfile`).
    let certificatePath: String
    let keyPath: String

    /// Makes the CA (ECDSA P-256, valid for two days).
    init(in directory: TLSTestDirectory, name: String = "ca") throws {
        self.directory = directory
        certificatePath = directory.path + "/\(name).pem"
        keyPath = directory.path + "/\(name).key"
        try Self.openssl(["ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", keyPath])
        try Self.openssl([
            "req", "-x509", "-new", "-key", keyPath, "-sha256", "-days", "2", "-subj", "/CN=Edge Test CA \(name)",
            "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
            "-out", certificatePath,
        ])
    }

    /// Issues a certificate for `commonName` with serial `serial` (hexadecimal).
    /// - Returns: the pair; its chain file holds the leaf then this CA.
    func issue(_ commonName: String, serial: String) throws -> TLSTestCertificate {
        let base = directory.path + "/\(commonName)-\(serial)"
        try Self.openssl(["ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", base + ".key"])
        try Self.openssl(["req", "-new", "-key", base + ".key", "-subj", "/CN=\(commonName)", "-out", base + ".csr"])
        try "subjectAltName=DNS:\(commonName)\nbasicConstraints=critical,CA:FALSE\n".write(
            toFile: base + ".ext", atomically: true, encoding: .utf8)
        try Self.openssl([
            "x509", "-req", "-in", base + ".csr", "-CA", certificatePath, "-CAkey", keyPath, "-set_serial", "0x" + serial,
            "-days", "2", "-sha256", "-extfile", base + ".ext", "-out", base + ".leaf.pem",
        ])
        let leaf = try String(contentsOfFile: base + ".leaf.pem", encoding: .utf8)
        let ca = try String(contentsOfFile: certificatePath, encoding: .utf8)
        try (leaf + ca).write(toFile: base + ".crt", atomically: true, encoding: .utf8)
        try Self.openssl(["x509", "-in", base + ".leaf.pem", "-outform", "DER", "-out", base + ".der"])
        return TLSTestCertificate(
            commonName: commonName, certificatePath: base + ".crt", keyPath: base + ".key",
            der: [UInt8](try Data(contentsOf: URL(fileURLWithPath: base + ".der"))))
    }

    /// Writes this CA's OCSP response about `certificate` (serial `serial`) to `path`, replacing
    /// the file by a rename as a refresh job would: "good", or "revoked" when `revoked`, valid
    /// for a day.
    func writeOCSPResponse(for certificate: TLSTestCertificate, serial: String, revoked: Bool = false, to path: String)
        throws
    {
        let work = directory.path + "/ocsp-\(UUID().uuidString)"
        let entry =
            revoked
            ? "R\t301231235959Z\t240101000000Z\t\(serial.uppercased())\tunknown\t/CN=\(certificate.commonName)\n"
            : "V\t301231235959Z\t\t\(serial.uppercased())\tunknown\t/CN=\(certificate.commonName)\n"
        try entry.write(toFile: work + ".index", atomically: true, encoding: .utf8)
        let leaf = certificate.certificatePath.replacingOccurrences(of: ".crt", with: ".leaf.pem")
        try Self.openssl(["ocsp", "-issuer", certificatePath, "-cert", leaf, "-no_nonce", "-reqout", work + ".req"])
        try Self.openssl([
            "ocsp", "-index", work + ".index", "-rsigner", certificatePath, "-rkey", keyPath, "-CA", certificatePath,
            "-reqin", work + ".req", "-respout", work + ".der", "-ndays", "1",
        ])
        guard rename(work + ".der", path) == 0 else {
            throw TLSTestFailure("rename to \(path) failed: \(String(cString: strerror(errno)))")
        }
    }

    /// Runs `openssl arguments`, failing with its output when it fails.
    @discardableResult
    static func openssl(_ arguments: [String], input: String? = nil) throws -> String {
        let (status, text) = try runTool(try TLSTestDirectory.opensslPath(), arguments, timeout: 60, input: input)
        guard status == 0 else {
            throw TLSTestFailure("openssl \(arguments.joined(separator: " ")) failed (\(status)): \(text)")
        }
        return text
    }
}

/// `openssl s_client` against an edge listener: one request (`GET /app/…`, `Connection: close`),
/// the whole exchange read (`-ign_eof`), so that session tickets sent with it are kept. It runs
/// on a thread of its own (``offThePool(_:)``): waiting on the cooperative pool for a tool that
/// waits on the edge could starve the edge's own tasks when the suite runs in parallel.
enum TLSTestSClient {
    /// Runs it with `arguments` added (`-status`, `-sess_out FILE`, `-ciphersuites …`).
    /// - Returns: the exit status and what it printed.
    static func run(port: Int, serverName: String = "a.test", _ arguments: [String]) async throws -> (
        status: Int32, output: String
    ) {
        let openssl = try TLSTestDirectory.opensslPath()
        return try await offThePool {
            try runTool(
                openssl, ["s_client", "-connect", "127.0.0.1:\(port)", "-servername", serverName, "-ign_eof"] + arguments,
                timeout: 30, input: "GET /app/s_client HTTP/1.1\r\nHost: \(serverName)\r\nConnection: close\r\n\r\n")
        }
    }

    /// Whether the session was resumed ("Reused, …") rather than new ("New, …").
    static func reused(_ output: String) -> Bool {
        output.split(separator: "\n").contains { $0.hasPrefix("Reused,") }
    }
}
