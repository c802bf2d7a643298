import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The PostgreSQL and Redis servers that `scripts/test.sh` starts for the tests.
///
/// Their addresses come from `HOMERACK_TEST_POSTGRES_URL` and `HOMERACK_TEST_REDIS_URL`. Outside
/// CI a test that needs a missing server is skipped (a developer may run `swift test` alone);
/// with `CI` set it runs and fails, so a broken CI setup can never pass by skipping.
enum TestServers {
    static let environment = ProcessInfo.processInfo.environment
    static var isCI: Bool { !(environment["CI"] ?? "").isEmpty }
    static var postgresURL: URL? { environment["HOMERACK_TEST_POSTGRES_URL"].flatMap(URL.init(string:)) }
    static var redisURL: URL? { environment["HOMERACK_TEST_REDIS_URL"].flatMap(URL.init(string:)) }

    /// Run a test when its server is configured, or always under CI (where a missing one fails it).
    static var postgresRequired: Bool { postgresURL != nil || isCI }
    static var redisRequired: Bool { redisURL != nil || isCI }

    struct Missing: Error, CustomStringConvertible {
        let variable: String
        var description: String { "\(variable) is not set: run the tests with ./scripts/test.sh, which starts the servers" }
    }

    static func requirePostgres() throws -> URL {
        guard let url = postgresURL else { throw Missing(variable: "HOMERACK_TEST_POSTGRES_URL") }
        return url
    }

    static func requireRedis() throws -> URL {
        guard let url = redisURL else { throw Missing(variable: "HOMERACK_TEST_REDIS_URL") }
        return url
    }
}

/// A blocking TCP connection with a deadline on every read, for probing servers in tests.
final class BlockingSocket {
    struct Failure: Error, CustomStringConvertible { let description: String }
    private let fd: Int32

    init(host: String, port: Int, timeoutSeconds: Int = 5) throws {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var result: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, String(port), &hints, &result) == 0, let info = result else {
            throw Failure(description: "cannot resolve \(host)")
        }
        defer { freeaddrinfo(result) }
        fd = socket(info.pointee.ai_family, info.pointee.ai_socktype, info.pointee.ai_protocol)
        guard fd >= 0 else { throw Failure(description: "socket() failed: errno \(errno)") }
        var timeout = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        guard connect(fd, info.pointee.ai_addr, info.pointee.ai_addrlen) == 0 else {
            let code = errno
            close(fd)
            throw Failure(description: "cannot connect to \(host):\(port): errno \(code)")
        }
    }

    deinit { close(fd) }

    func write(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
            guard written > 0 else { throw Failure(description: "write failed: errno \(errno)") }
            offset += written
        }
    }

    /// Reads exactly `count` bytes.
    func read(count: Int) throws -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: count)
        var offset = 0
        while offset < count {
            let got = buffer[offset...].withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            guard got > 0 else { throw Failure(description: "read failed or timed out after \(offset) bytes") }
            offset += got
        }
        return buffer
    }
}
