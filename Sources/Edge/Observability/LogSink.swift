#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Synchronization

/// Where log lines go, written off the event loops.
///
/// Event loops must never block on a slow terminal, pipe or disk, so a line is only appended to
/// a buffer under a lock; a writer thread drains the buffer every few milliseconds. If the
/// destination stalls and the buffer passes ``maxBufferedBytes``, new lines are dropped and
/// counted (a log must not take the proxy down with it), and the count is reported once the
/// destination moves again.
public final class LogSink: Sendable {
    private struct State {
        var buffer: [UInt8] = []
        var dropped = 0
        var stopped = false
    }

    private let state = Mutex(State())
    private let descriptor: Int32
    private let ownsDescriptor: Bool
    let maxBufferedBytes = 8 * 1024 * 1024
    private let wake = DispatchSemaphore(value: 0)
    private let finished = DispatchSemaphore(value: 0)

    /// - Parameter destination: stdout, stderr, a file (appended, created 0640), or off.
    /// - Throws: when the file cannot be opened; the message names it.
    public init(destination: LoggingConfig.Destination) throws {
        switch destination {
        case .stdout: (descriptor, ownsDescriptor) = (STDOUT_FILENO, false)
        case .stderr: (descriptor, ownsDescriptor) = (STDERR_FILENO, false)
        case .off: (descriptor, ownsDescriptor) = (-1, false)
        case .file(let path):
            let fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o640)
            guard fd >= 0 else {
                throw EdgeError.logFile(path: path, reason: String(cString: strerror(errno)))
            }
            (descriptor, ownsDescriptor) = (fd, true)
        }
        if descriptor >= 0 {
            let thread = Thread { [self] in self.run() }
            thread.name = "edge-log-writer"
            thread.start()
        }
    }

    var isEnabled: Bool { descriptor >= 0 }

    /// Appends one line (a newline is added).
    func write(_ line: String) {
        guard descriptor >= 0 else { return }
        let wasEmpty = state.withLock { state -> Bool in
            guard state.buffer.count + line.utf8.count < maxBufferedBytes else {
                state.dropped += 1
                return false
            }
            let empty = state.buffer.isEmpty
            state.buffer.append(contentsOf: line.utf8)
            state.buffer.append(UInt8(ascii: "\n"))
            return empty
        }
        if wasEmpty { wake.signal() }
    }

    /// Writes what is buffered and stops the writer (shutdown).
    public func close() {
        guard descriptor >= 0 else { return }
        state.withLock { $0.stopped = true }
        wake.signal()
        finished.wait()
        if ownsDescriptor { Glibc.close(descriptor) }
    }

    private func run() {
        while true {
            _ = wake.wait(timeout: .now() + .milliseconds(50))
            let (bytes, dropped, stopped) = state.withLock { state -> ([UInt8], Int, Bool) in
                defer {
                    state.buffer.removeAll(keepingCapacity: true)
                    state.dropped = 0
                }
                return (state.buffer, state.dropped, state.stopped)
            }
            writeAll(bytes)
            if dropped > 0 {
                writeAll(Array("{\"level\":\"warning\",\"message\":\"log destination too slow: \(dropped) lines dropped\"}\n".utf8))
            }
            if stopped {
                finished.signal()
                return
            }
        }
    }

    private func writeAll(_ bytes: [UInt8]) {
        var offset = 0
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes { Glibc.write(descriptor, $0.baseAddress, $0.count) }
            if written < 0 {
                if errno == EINTR || errno == EAGAIN { continue }
                return
            }
            offset += written
        }
    }
}
