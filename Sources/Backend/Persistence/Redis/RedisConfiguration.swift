import Foundation

/// Where Redis is and how to talk to it: parsed from `redis://[[user]:password@]host[:port][/db]`,
/// plus the pool size and timeouts.
///
/// ``description`` redacts the password, so the value can be logged and shown in
/// `/api/health/detailed`.
public struct RedisConfiguration: Sendable, Hashable, CustomStringConvertible {
    public var host: String
    public var port: Int
    /// The ACL user for `AUTH user password` (Redis 6+); `nil` sends `AUTH password`.
    public var username: String?
    /// Sent with `AUTH` on every new connection, when set.
    public var password: String?
    /// Selected with `SELECT` on every new connection, when not 0.
    public var database: Int
    /// The most connections the pool opens. Each connection pipelines many requests, so a few suffice.
    public var poolSize: Int
    /// How long opening a TCP connection may take.
    public var connectTimeout: Duration
    /// How long a command (or a pipeline) may wait for its replies before its connection is closed.
    public var commandTimeout: Duration
    /// Set with `CLIENT SETNAME` on every new connection, when given (handy in `CLIENT LIST`).
    public var clientName: String?

    /// - Parameters:
    ///   - host: a host name or IP address.
    ///   - port: 6379 by default.
    ///   - password: sent with `AUTH` when set.
    ///   - database: selected when not 0.
    public init(host: String, port: Int = 6379, username: String? = nil, password: String? = nil, database: Int = 0) {
        self.host = host
        self.port = port
        self.username = username
        self.password = password
        self.database = database
        self.poolSize = 4
        self.connectTimeout = .seconds(1)
        self.commandTimeout = .milliseconds(500)
        self.clientName = nil
    }

    /// Parses a `redis://` URL.
    /// - Parameter url: `redis://[[user]:password@]host[:port][/db]`; the password may be
    ///   percent-encoded. `rediss://` (TLS) is not supported.
    /// - Throws: ``RedisError`` when the URL is not one of those (the message never repeats the password).
    public init(url: String) throws {
        guard let components = URLComponents(string: url) else {
            throw RedisError.invalidURL("not a URL")
        }
        guard components.scheme?.lowercased() == "redis" else {
            throw RedisError.invalidURL("the scheme must be redis:// (got \(components.scheme ?? "none"))")
        }
        guard var host = components.host, !host.isEmpty else {
            throw RedisError.invalidURL("no host")
        }
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        let port = components.port ?? 6379
        guard (1...65535).contains(port) else { throw RedisError.invalidURL("port \(port) out of range") }

        var database = 0
        let path = components.path.split(separator: "/", omittingEmptySubsequences: true)
        if let first = path.first {
            guard path.count == 1, let number = Int(first), number >= 0 else {
                throw RedisError.invalidURL("the path must be a database number")
            }
            database = number
        }
        let user = components.user.flatMap { $0.isEmpty ? nil : $0 }
        let password = components.password.flatMap { $0.isEmpty ? nil : $0 }
        self.init(host: host, port: port, username: user, password: password, database: database)
    }

    /// The URL with the password replaced by `***`.
    public var description: String {
        var auth = ""
        if password != nil {
            auth = "\(username ?? ""):***@"
        } else if let username {
            auth = "\(username)@"
        }
        let shownHost = host.contains(":") ? "[\(host)]" : host
        return "redis://\(auth)\(shownHost):\(port)/\(database)"
    }
}
