import Foundation
import Testing

@testable import Edge

/// Session-ticket key files (`session_ticket_keys`, nginx's `ssl_session_ticket_key`): edges sharing a key file resume each other's sessions, edges with different files do not,
/// and a rotation by reload keeps tickets under the key listed second decrypting. Sessions are
/// carried by `openssl s_client -sess_out`/`-sess_in`, resumption read from its "Reused" line.
@Suite("TLS session ticket key files", .timeLimit(.minutes(3)))
struct TLSTicketKeyTests {
    /// A configuration with one HTTPS listener for `certificate` with `keys`.
    static func config(upstream: TLSTestUpstream, certificate: TLSTestCertificate, keys: [String]) throws -> EdgeConfig {
        try TLSTestConfig.make(
            upstream: upstream,
            listeners: [
                TLSOCSPStaplingTests.httpsListener([certificate.config(serverNames: ["a.test"])]) {
                    $0.sessionTicketKeys = keys
                }
            ])
    }

    /// Writes `size` random bytes to `name` in `directory` (replacing it by a rename).
    @discardableResult
    static func writeKey(_ directory: TLSTestDirectory, _ name: String, size: Int = 80) throws -> String {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<size).map { _ in UInt8.random(in: 0...255, using: &generator) }
        return try writeKey(directory, name, bytes: bytes)
    }

    @discardableResult
    static func writeKey(_ directory: TLSTestDirectory, _ name: String, bytes: [UInt8]) throws -> String {
        let path = directory.path + "/" + name
        try Data(bytes).write(to: URL(fileURLWithPath: path + ".new"))
        guard rename(path + ".new", path) == 0 else { throw TLSTestFailure("rename \(path) failed") }
        return path
    }

    /// Runs `body` with a second edge started from `config`, stopped afterwards.
    static func withSecondEdge<T>(_ config: EdgeConfig, _ body: (TLSTestEdge) async throws -> T) async throws -> T {
        let server = try await EdgeServer.start(config: config)
        do {
            let result = try await body(TLSTestEdge(server: server, config: config))
            await server.shutdown(grace: .milliseconds(200))
            return result
        } catch {
            await server.shutdown(grace: .milliseconds(200))
            throw error
        }
    }

    /// A new session on `port` saved to `file`; fails unless it was a full handshake with a ticket.
    static func newSession(port: Int, file: String, version: String) async throws {
        let (status, output) = try await TLSTestSClient.run(port: port, [version, "-sess_out", file])
        guard status == 0, output.contains("HTTP/1.1 200"), !TLSTestSClient.reused(output) else {
            throw TLSTestFailure("the first connection did not complete a new session: \(output)")
        }
        guard FileManager.default.fileExists(atPath: file) else { throw TLSTestFailure("no session saved: \(output)") }
    }

    /// Whether `port` resumes the session in `file`.
    static func resumes(port: Int, file: String, version: String) async throws -> Bool {
        let (status, output) = try await TLSTestSClient.run(port: port, [version, "-sess_in", file])
        guard status == 0, output.contains("HTTP/1.1 200") else {
            throw TLSTestFailure("the resuming connection failed: \(output)")
        }
        return TLSTestSClient.reused(output)
    }

    @Test(arguments: ["-tls1_3", "-tls1_2"])
    func edgesSharingAKeyFileResumeEachOthersSessions(version: String) async throws {
        var shared: (TLSTestCertificate, String)?
        try await withTLSEdge({ directory, upstream in
            let certificate = try directory.makeCertificate("a.test")
            let key = try Self.writeKey(directory, "shared.key")
            shared = (certificate, key)
            return try Self.config(upstream: upstream, certificate: certificate, keys: [key])
        }) { edgeA, directory, upstream in
            let (certificate, key) = try #require(shared)
            let session = directory.path + "/session-\(version)"
            try await Self.newSession(port: try edgeA.port(), file: session, version: version)
            #expect(try await Self.resumes(port: try edgeA.port(), file: session, version: version), "A resumes its own")
            try await Self.withSecondEdge(try Self.config(upstream: upstream, certificate: certificate, keys: [key])) {
                edgeB in
                let resumed = try await Self.resumes(port: try edgeB.port(), file: session, version: version)
                #expect(resumed, "B resumes A's session")
            }
            let other = try Self.writeKey(directory, "other.key")
            try await Self.withSecondEdge(try Self.config(upstream: upstream, certificate: certificate, keys: [other])) {
                edgeC in
                let resumed = try await Self.resumes(port: try edgeC.port(), file: session, version: version)
                #expect(!resumed, "an edge with another key file makes a full handshake")
            }
        }
    }

    @Test func edgesWithoutKeyFilesDoNotResumeEachOthersSessions() async throws {
        var made: TLSTestCertificate?
        try await withTLSEdge({ directory, upstream in
            let certificate = try directory.makeCertificate("a.test")
            made = certificate
            return try Self.config(upstream: upstream, certificate: certificate, keys: [])
        }) { edgeA, directory, upstream in
            let certificate = try #require(made)
            let session = directory.path + "/session"
            try await Self.newSession(port: try edgeA.port(), file: session, version: "-tls1_3")
            #expect(try await Self.resumes(port: try edgeA.port(), file: session, version: "-tls1_3"), "its own rotating keys")
            let resumedSeries = "edge_tls_resumed_handshakes_total"
            #expect(metricValue(try await edgeA.metrics(), resumedSeries) == 1, "one full handshake, one resumed")
            try await Self.withSecondEdge(try Self.config(upstream: upstream, certificate: certificate, keys: [])) { edgeB in
                let resumed = try await Self.resumes(port: try edgeB.port(), file: session, version: "-tls1_3")
                #expect(!resumed, "another process's in-memory keys")
                #expect(metricValue(try await edgeB.metrics(), resumedSeries) == 0)
            }
        }
    }

    @Test func aRotationByReloadKeepsTicketsUnderTheKeyListedSecondDecrypting() async throws {
        var paths: (current: String, previous: String)?
        try await withTLSEdge({ directory, upstream in
            let certificate = try directory.makeCertificate("a.test")
            let current = try Self.writeKey(directory, "current.key")
            let previous = try Self.writeKey(directory, "previous.key")
            paths = (current, previous)
            return try Self.config(upstream: upstream, certificate: certificate, keys: [current, previous])
        }) { edge, directory, _ in
            let (current, _) = try #require(paths)
            let port = try edge.port()
            let session = directory.path + "/session"
            try await Self.newSession(port: port, file: session, version: "-tls1_2")

            // Rotate as an operator's job would: the current key becomes the previous one, a
            // new key the current one; then SIGHUP.
            let issuing = [UInt8](try Data(contentsOf: URL(fileURLWithPath: current)))
            try Self.writeKey(directory, "previous.key", bytes: issuing)
            try Self.writeKey(directory, "current.key")
            try edge.server.reload(edge.config)
            #expect(try await Self.resumes(port: port, file: session, version: "-tls1_2"), "the old key, listed second, decrypts")

            // Once the key that issued the ticket is gone from both files, the ticket is refused.
            try Self.writeKey(directory, "previous.key")
            try edge.server.reload(edge.config)
            #expect(try await !Self.resumes(port: port, file: session, version: "-tls1_2"), "a key no longer listed")
        }
    }

    @Test func aKeyFileThatBecameInvalidRefusesTheReloadAndTheKeysStay() async throws {
        var key: String?
        try await withTLSEdge({ directory, upstream in
            let certificate = try directory.makeCertificate("a.test")
            key = try Self.writeKey(directory, "ticket.key")
            return try Self.config(upstream: upstream, certificate: certificate, keys: [try #require(key)])
        }) { edge, directory, _ in
            let port = try edge.port()
            let session = directory.path + "/session"
            try await Self.newSession(port: port, file: session, version: "-tls1_3")
            try Self.writeKey(directory, "ticket.key", size: 20)
            let error = #expect(throws: EdgeError.self) { try edge.server.reload(edge.config) }
            #expect("\(error.map { "\($0)" } ?? "")".contains("48 or 80 bytes"), "\(String(describing: error))")
            #expect(try await Self.resumes(port: port, file: session, version: "-tls1_3"), "the keys in use stay")
        }
    }
}
