import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// How much of a resource (a file system, the system's memory) is in use.
public struct ResourceUsage: Sendable, Hashable, Encodable {
    public var totalBytes: Int64
    /// Bytes available to the service: free to unprivileged users (disk), `MemAvailable` (memory).
    public var availableBytes: Int64

    public init(totalBytes: Int64, availableBytes: Int64) {
        self.totalBytes = totalBytes
        self.availableBytes = availableBytes
    }

    public var usedBytes: Int64 { max(0, totalBytes - availableBytes) }

    /// Used as a share of the total, 0-100 (2 decimals).
    public var usedPercent: Double {
        guard totalBytes > 0 else { return 0 }
        return (Double(usedBytes) / Double(totalBytes) * 10_000).rounded() / 100
    }

    enum CodingKeys: String, CodingKey {
        case totalBytes = "total_bytes"
        case availableBytes = "available_bytes"
        case usedBytes = "used_bytes"
        case usedPercent = "used_percent"
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(totalBytes, forKey: .totalBytes)
        try container.encode(availableBytes, forKey: .availableBytes)
        try container.encode(usedBytes, forKey: .usedBytes)
        try container.encode(usedPercent, forKey: .usedPercent)
    }
}

/// Reads disk and memory usage for `/api/health/detailed`; tests substitute fixed readings.
public protocol SystemResourceReading: Sendable {
    /// The file system holding `path` (or its nearest existing parent); `nil` when unreadable.
    func diskUsage(at path: String) -> ResourceUsage?
    /// The system's memory; `nil` when unreadable.
    func memoryUsage() -> ResourceUsage?
}

/// The real readings: `statvfs(3)` for disk, `/proc/meminfo` for memory.
public struct LiveSystemResources: SystemResourceReading {
    public init() {}

    public func diskUsage(at path: String) -> ResourceUsage? {
        var url = URL(fileURLWithPath: path).standardizedFileURL
        // The data directory may not exist yet (created on first use): measure where it will be.
        while !FileManager.default.fileExists(atPath: url.path), url.path != "/" {
            url.deleteLastPathComponent()
        }
        var stats = statvfs()
        guard statvfs(url.path, &stats) == 0 else { return nil }
        let blockSize = Int64(stats.f_frsize)
        let total = Int64(stats.f_blocks) * blockSize
        let free = Int64(stats.f_bfree) * blockSize
        let available = Int64(stats.f_bavail) * blockSize
        // As df: used = total - free, shown against used + available (root's reserve excluded).
        let used = total - free
        return ResourceUsage(totalBytes: used + available, availableBytes: available)
    }

    public func memoryUsage() -> ResourceUsage? {
        guard let text = try? String(contentsOfFile: "/proc/meminfo", encoding: .utf8) else { return nil }
        return Self.memoryUsage(meminfo: text)
    }

    /// Memory from `/proc/meminfo` text: `MemTotal` and `MemAvailable` (kB).
    static func memoryUsage(meminfo: String) -> ResourceUsage? {
        var values: [Substring: Int64] = [:]
        for line in meminfo.split(separator: "\n") {
            let parts = line.split(whereSeparator: { $0 == ":" || $0 == " " })
            guard parts.count >= 2, let value = Int64(parts[1]) else { continue }
            values[parts[0]] = value
        }
        guard let total = values["MemTotal"], let available = values["MemAvailable"], total > 0 else { return nil }
        return ResourceUsage(totalBytes: total * 1024, availableBytes: available * 1024)
    }
}
