import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// Where log lines go.
///
/// The process's own streams are written with one `write(2)` per line under a lock, so lines
/// from concurrent requests never interleave, and lines from several worker processes sharing
/// one pipe stay whole (a pipe write up to 4 KiB is atomic). Tests collect lines with
/// ``init(_:)``.
public final class LogOutput: Sendable {
    private let sink: @Sendable (String) -> Void

    /// Lines handed to `sink` (without their newline).
    public init(_ sink: @escaping @Sendable (String) -> Void) {
        self.sink = sink
    }

    /// Standard error: where the service logs (standard output carries what commands print).
    public static let standardError = LogOutput(fileDescriptor: 2)
    /// Standard output.
    public static let standardOutput = LogOutput(fileDescriptor: 1)

    private convenience init(fileDescriptor: Int32) {
        let lock = Mutex(())
        self.init { line in
            var bytes = Array(line.utf8)
            bytes.append(UInt8(ascii: "\n"))
            lock.withLock { _ in
                var offset = 0
                while offset < bytes.count {
                    let written = bytes[offset...].withUnsafeBytes {
                        Glibc.write(fileDescriptor, $0.baseAddress, $0.count)
                    }
                    if written < 0 {
                        if errno == EINTR { continue }
                        return  // nowhere to report a failing log stream
                    }
                    offset += written
                }
            }
        }
    }

    /// Writes one line (the newline is added).
    public func write(_ line: String) {
        sink(line)
    }
}
