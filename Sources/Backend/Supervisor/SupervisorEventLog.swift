import Foundation
import ServerSupport

/// Writes the supervisor's lifecycle events (worker start, exit with reason and status, recycle,
/// kill, reload, shutdown), one line each, in `LOG_FORMAT` like every other log line, for log
/// shippers and for the integration tests that follow a supervisor through its output.
///
/// JSON (the default): `time`, `level`, `logger` (`backend.supervisor`), `message` and `event`
/// (both the event's snake-case name), then the event's fields: `slot`, `pid`, `status`
/// (`exit 0`, `signal 9 (SIGKILL)`), `reason`, ... The same keys as the workers' lines
/// (``LogLineFormatter``). Text: `TIME LEVEL backend.supervisor: EVENT key=value ...`.
public final class SupervisorEventLog: Sendable {
    private let format: BackendConfiguration.LogFormat
    private let sink: @Sendable (String) -> Void
    private let clock: @Sendable () -> Date

    /// - Parameters:
    ///   - format: `LOG_FORMAT`.
    ///   - sink: receives each line, newline included (default: standard output, unbuffered).
    ///   - clock: the time stamped on each line.
    public init(
        format: BackendConfiguration.LogFormat = .json,
        sink: @escaping @Sendable (String) -> Void = SupervisorEventLog.standardOutput,
        clock: @escaping @Sendable () -> Date = Date.init
    ) {
        self.format = format
        self.sink = sink
        self.clock = clock
    }

    /// Writes `line` to standard output in one `write`, so lines from the supervisor and its
    /// workers (which share the file) never interleave mid-line.
    public static let standardOutput: @Sendable (String) -> Void = { line in
        var line = line
        line.withUTF8 { bytes in
            var offset = 0
            while offset < bytes.count {
                let written = Foundation.write(STDOUT_FILENO, bytes.baseAddress! + offset, bytes.count - offset)
                if written <= 0 { return }
                offset += written
            }
        }
    }

    public func log(_ event: SupervisorEvent) {
        let (name, level, fields) = Self.describe(event)
        write(event: name, level: level, fields: fields)
    }

    /// Writes an event the state machines do not produce (the metrics address, an error).
    public func write(event: String, level: String = "info", fields: [(String, JSONField)] = []) {
        let time = Timestamp.string(from: clock())
        switch format {
        case .json:
            var line = "{\"time\":"
            appendJSONString(time, to: &line)
            line += ",\"level\":"
            appendJSONString(level, to: &line)
            line += ",\"logger\":\"backend.supervisor\",\"message\":"
            appendJSONString(event, to: &line)
            line += ",\"event\":"
            appendJSONString(event, to: &line)
            for (key, value) in fields {
                line += ","
                appendJSONString(key, to: &line)
                line += ":"
                value.append(to: &line)
            }
            sink(line + "}\n")
        case .text:
            var line = "\(time) \(level) backend.supervisor: \(event)"
            for (key, value) in fields {
                line += " \(key)=\(value.text)"
            }
            sink(line + "\n")
        }
    }

    /// A JSON value in a log line.
    public enum JSONField: Sendable {
        case string(String)
        case int(Int)
        case double(Double)

        /// The value in a text line: strings with a space, quote or `=` quoted.
        var text: String {
            switch self {
            case .string(let text):
                guard text.isEmpty || text.contains(where: { $0 == " " || $0 == "\"" || $0 == "=" }) else {
                    return text
                }
                var quoted = ""
                appendJSONString(text, to: &quoted)
                return quoted
            case .int(let number): return String(number)
            case .double(let number): return String(number)
            }
        }

        /// Appends the value as JSON; a non-finite number, which JSON cannot hold, as `null`.
        func append(to line: inout String) {
            switch self {
            case .string(let text): appendJSONString(text, to: &line)
            case .int(let number): line += String(number)
            case .double(let number): line += number.isFinite ? String(number) : "null"
            }
        }
    }

    /// The event's name, level and fields.
    static func describe(_ event: SupervisorEvent) -> (String, String, [(String, JSONField)]) {
        func worker(_ slot: Int, _ pid: Int32) -> [(String, JSONField)] {
            [("slot", .int(slot)), ("pid", .int(Int(pid)))]
        }
        switch event {
        case .slotOpened(let slot, let address):
            return ("slot_opened", "info", [("slot", .int(slot)), ("address", .string(address))])
        case .slotClosed(let slot):
            return ("slot_closed", "info", [("slot", .int(slot))])
        case .workerStarted(let slot, let pid):
            return ("worker_started", "info", worker(slot, pid))
        case .workerReady(let slot, let pid):
            return ("worker_ready", "info", worker(slot, pid))
        case .workerRecycling(let slot, let pid, let requests):
            return ("worker_recycling", "info", worker(slot, pid) + [("requests", .int(requests))])
        case .workerKilled(let slot, let pid, let reason):
            return ("worker_killed", "warning", worker(slot, pid) + [("reason", .string(reason.rawValue))])
        case .workerExited(let slot, let pid, let status, let reason):
            let expected: Set<WorkerExitReason> = [.recycled, .replaced, .shutdown, .removed]
            let level = expected.contains(reason) && status.isCleanExit ? "info" : "warning"
            return (
                "worker_exited", level,
                worker(slot, pid) + [("status", .string(status.description)), ("reason", .string(reason.rawValue))]
            )
        case .spawnFailed(let slot, let error):
            return ("spawn_failed", "error", [("slot", .int(slot)), ("error", .string(error))])
        case .restartDelayed(let slot, let delay, let failures):
            let seconds = Double(delay.components.seconds) + Double(delay.components.attoseconds) / 1e18
            return (
                "restart_delayed", "warning",
                [("slot", .int(slot)), ("delay_seconds", .double(seconds)), ("failures", .int(failures))]
            )
        case .replacementFailed(let slot, let pid):
            return ("replacement_failed", "warning", worker(slot, pid))
        case .reloadStarted(let workers):
            return ("reload_started", "info", [("workers", .int(workers))])
        case .reloadFinished:
            return ("reload_finished", "info", [])
        case .workerCountChanged(let from, let to):
            return ("worker_count_changed", "info", [("from", .int(from)), ("to", .int(to))])
        case .ignored(let what, let why):
            return ("ignored", "warning", [("what", .string(what)), ("why", .string(why))])
        case .shutdownStarted(let graceful):
            return ("shutdown_started", "info", [("mode", .string(graceful ? "graceful" : "immediate"))])
        case .shutdownFinished:
            return ("shutdown_finished", "info", [])
        }
    }
}
