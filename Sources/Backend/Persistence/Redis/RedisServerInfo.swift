/// The parts of Redis's `INFO` reply that `/api/health/detailed` shows.
///
/// `INFO` answers one bulk string of `# Section` headers and `field:value` lines separated by
/// CRLF; every field is kept in ``fields`` and the common ones are typed.
public struct RedisServerInfo: Sendable, Hashable, Encodable {
    /// `redis_version`, e.g. `7.0.15`.
    public var version: String?
    /// `used_memory`, in bytes.
    public var usedMemoryBytes: Int?
    /// `used_memory_human`, e.g. `1.02M`.
    public var usedMemoryHuman: String?
    /// `maxmemory` in bytes (0 = no limit).
    public var maxMemoryBytes: Int?
    /// `connected_clients`.
    public var connectedClients: Int?
    /// `uptime_in_seconds`.
    public var uptimeSeconds: Int?
    /// `role` (`master` or `replica`).
    public var role: String?
    /// Every `field:value` line, by field (not encoded: the health response shows the typed ones).
    public var fields: [String: String]

    /// Parses an `INFO` reply's text.
    /// - Parameter text: the reply (any sections); unknown and malformed lines are skipped.
    public init(parsing text: String) {
        var fields: [String: String] = [:]
        for rawLine in text.split(whereSeparator: { $0 == "\n" || $0 == "\r\n" }) {
            let line = rawLine.hasSuffix("\r") ? rawLine.dropLast() : rawLine[...]
            guard !line.isEmpty, !line.hasPrefix("#"), let colon = line.firstIndex(of: ":") else { continue }
            fields[String(line[..<colon])] = String(line[line.index(after: colon)...])
        }
        self.fields = fields
        version = fields["redis_version"]
        usedMemoryBytes = fields["used_memory"].flatMap { Int($0) }
        usedMemoryHuman = fields["used_memory_human"]
        maxMemoryBytes = fields["maxmemory"].flatMap { Int($0) }
        connectedClients = fields["connected_clients"].flatMap { Int($0) }
        uptimeSeconds = fields["uptime_in_seconds"].flatMap { Int($0) }
        role = fields["role"]
    }

    enum CodingKeys: String, CodingKey {
        case version
        case usedMemoryBytes = "used_memory"
        case usedMemoryHuman = "used_memory_human"
        case maxMemoryBytes = "maxmemory"
        case connectedClients = "connected_clients"
        case uptimeSeconds = "uptime_in_seconds"
        case role
    }
}

extension RedisConnectionPool {
    /// Runs `INFO` and parses it.
    /// - Parameter section: one section (`server`, `memory`, `clients`), or `nil` for the default set.
    /// - Returns: the parsed reply.
    /// - Throws: ``RedisError`` when the command fails or the reply is not a bulk string.
    public func info(section: String? = nil) async throws -> RedisServerInfo {
        let command = section.map { RedisCommand("INFO", $0) } ?? RedisCommand("INFO")
        let reply = try await send(command).checked()
        guard case .string(let buffer) = reply else {
            throw RedisError.unexpectedReply(reply, expected: "a bulk string")
        }
        return RedisServerInfo(parsing: String(buffer: buffer))
    }
}
