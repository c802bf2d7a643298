import Foundation
import Testing

/// The test servers that `scripts/test.sh` provides answer their protocol, with the database and
/// user the later store tests rely on.
@Suite("Test servers")
struct TestServersTests {
    @Test("PostgreSQL accepts the test user on the test database", .enabled(if: TestServers.postgresRequired))
    func postgresAcceptsStartup() throws {
        let url = try TestServers.requirePostgres()
        let user = url.user ?? "postgres"
        let database = String(url.path.dropFirst())
        let socket = try BlockingSocket(host: url.host ?? "127.0.0.1", port: url.port ?? 5432)
        // StartupMessage, protocol 3.0: length, version, then key/value pairs ending with a zero byte.
        var body: [UInt8] = [0x00, 0x03, 0x00, 0x00]
        for (key, value) in [("user", user), ("database", database)] {
            body += Array(key.utf8) + [0] + Array(value.utf8) + [0]
        }
        body.append(0)
        let length = UInt32(body.count + 4)
        try socket.write(withUnsafeBytes(of: length.bigEndian, Array.init) + body)
        let header = try socket.read(count: 5)
        let payloadLength = Int(UInt32(bigEndian: header[1...4].withUnsafeBytes { $0.loadUnaligned(as: UInt32.self) })) - 4
        let payload = try socket.read(count: payloadLength)
        let message = String(decoding: payload.filter { $0 >= 0x20 }, as: UTF8.self)
        #expect(header[0] == UInt8(ascii: "R"), "expected an authentication message, got '\(Character(UnicodeScalar(header[0])))': \(message)")
        // AuthenticationOk is 'R' with code 0: the script's server trusts loopback connections.
        #expect(payload.prefix(4) == [0, 0, 0, 0], "the test server asked for a password; scripts/test.sh sets trust auth")
    }

    @Test("Redis answers PING", .enabled(if: TestServers.redisRequired))
    func redisAnswersPing() throws {
        let url = try TestServers.requireRedis()
        let socket = try BlockingSocket(host: url.host ?? "127.0.0.1", port: url.port ?? 6379)
        try socket.write(Array("*1\r\n$4\r\nPING\r\n".utf8))
        #expect(try socket.read(count: 7) == Array("+PONG\r\n".utf8))
    }
}
