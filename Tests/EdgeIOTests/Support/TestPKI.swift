import Foundation
import TestProcess

/// A throwaway CA, server certificates for a.test / *.b.test, an OCSP response for the first,
/// and session-ticket key files, made with the openssl command line in a temporary directory.
final class TestPKI: @unchecked Sendable {  // immutable once made
    let directory: String

    init() throws {
        directory = NSTemporaryDirectory() + "edgeio-pki-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try openssl("ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", "ca.key")
        try openssl("req", "-x509", "-new", "-key", "ca.key", "-sha256", "-days", "2", "-subj", "/CN=EdgeIO Test CA", "-out", "ca.pem")
        try issue(name: "a", subjectAltName: "DNS:a.test", serial: "1001")
        try issue(name: "b", subjectAltName: "DNS:*.b.test", serial: "1002")
        // An OCSP responder database saying certificate a is good, and a response from it.
        let enddate = "301231235959Z"
        try "V\t\(enddate)\t\t1001\tunknown\t/CN=a.test\n".write(toFile: path("index.txt"), atomically: true, encoding: .utf8)
        try openssl("ocsp", "-issuer", "ca.pem", "-cert", "a.pem", "-no_nonce", "-reqout", "a.ocsp-req.der")
        try openssl(
            "ocsp", "-index", "index.txt", "-rsigner", "ca.pem", "-rkey", "ca.key", "-CA", "ca.pem",
            "-reqin", "a.ocsp-req.der", "-respout", "a.ocsp.der", "-ndays", "1")
    }

    deinit { try? FileManager.default.removeItem(atPath: directory) }

    func path(_ name: String) -> String { directory + "/" + name }

    private func issue(name: String, subjectAltName: String, serial: String) throws {
        try openssl("ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", "\(name).key")
        try openssl("req", "-new", "-key", "\(name).key", "-subj", "/CN=\(name)", "-out", "\(name).csr")
        try "subjectAltName=\(subjectAltName)\n".write(toFile: path("\(name).ext"), atomically: true, encoding: .utf8)
        try openssl(
            "x509", "-req", "-in", "\(name).csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-set_serial", "0x" + serial,
            "-days", "2", "-sha256", "-extfile", "\(name).ext", "-out", "\(name).pem")
    }

    /// Random bytes for a ticket key (48 or 80, like nginx's key files).
    static func ticketKey(size: Int = 80) -> [UInt8] {
        var generator = SystemRandomNumberGenerator()
        return (0..<size).map { _ in UInt8.random(in: 0...255, using: &generator) }
    }

    @discardableResult
    func openssl(_ arguments: String...) throws -> String {
        try runTool("/usr/bin/openssl", arguments, directory: directory)
    }
}

/// ``runTool(_:_:directory:stdin:timeout:)`` on a thread of its own, off the cooperative pool
/// (the chosen overload in async code).
@discardableResult
func runTool(_ path: String, _ arguments: [String], directory: String? = nil, stdin: String = "", timeout: Double = 20) async throws -> String {
    try await offThePool { try runTool(path, arguments, directory: directory, stdin: stdin, timeout: timeout) }
}

/// Runs a tool to completion with `stdin` as its input; returns stdout and stderr together.
/// Each call is bounded by `timeout` seconds: the tool is stopped then, and what it printed so
/// far is returned (`openssl s_client -ign_eof` with no request never ends by itself).
/// - Throws: ``ChildProcessError`` when it cannot start.
@discardableResult
func runTool(_ path: String, _ arguments: [String], directory: String? = nil, stdin: String = "", timeout: Double = 20) throws -> String {
    do {
        return try ChildProcess.run(
            path, arguments, directory: directory, input: Array(stdin.utf8), standardError: .standardOutput,
            timeout: .seconds(timeout)
        ).output
    } catch let error as ChildProcessError where error.isTimeout {
        return error.outcome?.output ?? ""
    }
}

/// Runs a program to completion and returns its stdout (its stderr goes to the test output).
/// Callers bound it by its own time limits (curl's `--max-time`); the 120 s here only keeps a
/// hung one from hanging the run.
func runProcess(_ path: String, _ arguments: [String]) throws -> String {
    try ChildProcess.run(path, arguments, standardError: .inherit, timeout: .seconds(120)).output
}

/// ``runProcess(_:_:)`` on a thread of its own, off the cooperative pool.
func runProcess(_ path: String, _ arguments: [String]) async throws -> String {
    try await offThePool { try runProcess(path, arguments) }
}
