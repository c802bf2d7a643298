import Foundation
import NIOSSL

@testable import Edge

/// A TLS test precondition that did not hold, with a message saying which.
struct TLSTestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// The key type of a throwaway certificate.
enum TLSTestKeyKind: Sendable {
    case ecdsaP256
    case rsa2048
}

/// A self-signed certificate and its key, as PEM files in a ``TLSTestDirectory``.
struct TLSTestCertificate: Sendable {
    let commonName: String
    let certificatePath: String
    let keyPath: String
    /// The leaf's DER bytes, to compare with what a client was given.
    let der: [UInt8]

    /// This pair as one entry of a listener's `certificates`.
    func config(serverNames: [String]) -> TLSCertificateConfig {
        TLSCertificateConfig(certificateChain: certificatePath, privateKey: keyPath, serverNames: serverNames)
    }
}

/// A temporary directory for one test's certificates, webroot and other files; removed by ``remove()``.
final class TLSTestDirectory: Sendable {
    let path: String

    init() throws {
        var template = Array((NSTemporaryDirectory() + "/edge-tls-test.XXXXXX").utf8CString)
        let made = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        guard made != nil else { throw TLSTestFailure("mkdtemp failed: \(String(cString: strerror(errno)))") }
        path = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
    }

    func remove() {
        try? FileManager.default.removeItem(atPath: path)
    }

    /// Writes `text` to `relative` (creating directories), returning the absolute path.
    @discardableResult
    func write(_ text: String, to relative: String) throws -> String {
        let full = path + "/" + relative
        let directory = (full as NSString).deletingLastPathComponent
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try text.write(toFile: full, atomically: true, encoding: .utf8)
        return full
    }

    /// Makes a self-signed certificate for `commonName` with the CLI, valid for two days, with
    /// `subjectAltName` DNS entries for `commonName` and `extraNames`.
    /// - Parameter file: the base name of the `.crt` / `.key` files (default: the common name and kind).
    func makeCertificate(
        _ commonName: String, kind: TLSTestKeyKind = .ecdsaP256, extraNames: [String] = [], file: String? = nil,
        days: Int = 2
    ) throws -> TLSTestCertificate {
        let base = file ?? "\(commonName)-\(kind == .rsa2048 ? "rsa" : "ecdsa")"
        let certificatePath = path + "/" + base + ".crt"
        let keyPath = path + "/" + base + ".key"
        let sans = ([commonName] + extraNames).map { "DNS:\($0)" }.joined(separator: ",")
        let keyArguments =
            switch kind {
            case .ecdsaP256: ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"]
            case .rsa2048: ["-newkey", "rsa:2048"]
            }
        try Self.openssl(
            ["req", "-x509"] + keyArguments + [
                "-nodes", "-keyout", keyPath, "-out", certificatePath, "-days", String(days), "-subj", "/CN=\(commonName)",
                "-addext", "subjectAltName=\(sans)", "-addext", "basicConstraints=critical,CA:FALSE",
            ])
        guard let leaf = try NIOSSLCertificate.fromPEMFile(certificatePath).first else {
            throw TLSTestFailure("openssl wrote no certificate to \(certificatePath)")
        }
        return TLSTestCertificate(
            commonName: commonName, certificatePath: certificatePath, keyPath: keyPath, der: try leaf.toDERBytes())
    }

    /// The `openssl` executable, or a failure that says how to get it.
    static func opensslPath() throws -> String {
        let directories = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":")
        for directory in directories + ["/usr/bin", "/usr/local/bin"] {
            let candidate = "\(directory)/openssl"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        throw TLSTestFailure(
            "the openssl command-line tool is not installed, and the TLS tests need it to make throwaway certificates; scripts/test.sh installs it (apt-get install openssl)"
        )
    }

    /// Runs `openssl arguments`, failing with its output when it fails or takes over 60 s.
    private static func openssl(_ arguments: [String]) throws {
        let (status, text) = try runTool(try opensslPath(), arguments, timeout: 60)
        guard status == 0 else {
            throw TLSTestFailure("openssl \(arguments.joined(separator: " ")) failed (\(status)): \(text)")
        }
    }
}
