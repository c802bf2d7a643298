import Foundation
import Glibc
import TestProcess
import Testing

/// The launcher the test targets start their tools and servers with: exit statuses, output,
/// input, environment, working directory, that children inherit none of this process's
/// descriptors, stopping children, and spawning with thousands of descriptors open (which
/// crashed Foundation's `Process.run()`).
@Suite("Child processes")
struct ChildProcessTests {
    // MARK: Exit status

    @Test func anExitCodeAndAKillingSignalAreReported() async throws {
        let exited = try await onThread { try ChildProcess.run("/bin/sh", ["-c", "exit 3"], timeout: .seconds(30)) }
        #expect(exited.status == .exited(3))
        #expect(exited.status.code == 3)
        let killed = try await onThread { try ChildProcess.run("/bin/sh", ["-c", "kill -9 $$"], timeout: .seconds(30)) }
        #expect(killed.status == .signalled(SIGKILL))
        #expect(killed.status.code == 128 + SIGKILL)
    }

    @Test func aMissingProgramOrDirectoryIsNamedInTheError() throws {
        let missing = #expect(throws: ChildProcessError.self) { try ChildProcess("/nonexistent/tool", ["--flag"]) }
        #expect(missing?.description.contains("/nonexistent/tool --flag") == true)
        #expect(missing?.description.contains("No such file or directory") == true)
        let noDirectory = #expect(throws: ChildProcessError.self) {
            try ChildProcess("/bin/true", directory: "/nonexistent/directory")
        }
        #expect(noDirectory?.description.contains("working directory /nonexistent/directory") == true)
    }

    // MARK: Output and input

    @Test func standardOutputAndErrorAreCollectedApartOrTogether() async throws {
        let script = "echo out; echo err >&2"
        let apart = try await onThread { try ChildProcess.run("/bin/sh", ["-c", script], timeout: .seconds(30)) }
        #expect(apart.output == "out\n")
        #expect(apart.errorOutput == "err\n")
        let together = try await onThread {
            try ChildProcess.run("/bin/sh", ["-c", script], standardError: .standardOutput, timeout: .seconds(30))
        }
        #expect(together.output == "out\nerr\n")
        #expect(together.standardError.isEmpty)
    }

    @Test func outputLargerThanAPipeOnBothStreamsIsReadWithoutDeadlock() async throws {
        // A megabyte on each, far more than a pipe holds (64 KiB): read one pipe only, and the
        // child would block writing the other.
        let script = "head -c 1000000 /dev/zero >&2; head -c 1000000 /dev/zero; head -c 1000 /dev/zero >&2"
        let outcome = try await onThread { try ChildProcess.run("/bin/sh", ["-c", script], timeout: .seconds(60)) }
        #expect(outcome.status == .exited(0))
        #expect(outcome.standardOutput.count == 1_000_000)
        #expect(outcome.standardError.count == 1_001_000)
    }

    @Test func inputIsWrittenThenEndsWithEndOfFile() async throws {
        let input = (0..<300_000).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        let echoed = try await onThread { try ChildProcess.run("/bin/cat", input: input, timeout: .seconds(60)) }
        #expect(echoed.status == .exited(0))
        #expect(echoed.standardOutput == input)
    }

    @Test func aChildThatNeverReadsItsInputDoesNotRaiseSIGPIPEHere() async throws {
        // More than a pipe holds, to a program that exits without reading: the write fails with
        // EPIPE, and this process (which need not ignore SIGPIPE) carries on.
        let input = [UInt8](repeating: 0x61, count: 1_000_000)
        let outcome = try await onThread { try ChildProcess.run("/bin/true", input: input, timeout: .seconds(30)) }
        #expect(outcome.status == .exited(0))
    }

    @Test func aPipedStreamIsReadAsItArrivesUntilTheChildCloses() async throws {
        let child = try ChildProcess("/bin/sh", ["-c", "echo one; echo two"], standardOutput: .pipe)
        let text = try await onThread {
            var bytes: [UInt8] = []
            child.readToEnd(.standardOutput) { bytes += $0 }
            return String(decoding: bytes, as: UTF8.self)
        }
        #expect(text == "one\ntwo\n")
        #expect(try await onThread { child.waitUntilExit() } == .exited(0))
    }

    @Test func outputToAFileTruncatesOrAppends() async throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/out.log"
        for (word, append) in [("first", false), ("second", true), ("third", true)] {
            let child = try ChildProcess("/bin/echo", [word], standardOutput: .file(path, append: append))
            #expect(try await onThread { child.waitUntilExit() } == .exited(0))
        }
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "first\nsecond\nthird\n")
        let truncating = try ChildProcess("/bin/echo", ["last"], standardOutput: .file(path))
        #expect(try await onThread { truncating.waitUntilExit() } == .exited(0))
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "last\n")
    }

    // MARK: Environment and working directory

    @Test func theInheritedEnvironmentCanBeExtendedOrReplaced() async throws {
        var environment = ChildProcess.inheritedEnvironment
        #expect(environment["PATH"] == ProcessInfo.processInfo.environment["PATH"])
        environment["TEST_PROCESS_MARK"] = "a value with = and spaces"
        let extended = try await onThread { [environment] in
            try ChildProcess.run("/usr/bin/env", environment: environment, timeout: .seconds(30))
        }
        let lines = Set(extended.output.split(separator: "\n").map(String.init))
        #expect(lines.contains("TEST_PROCESS_MARK=a value with = and spaces"))
        #expect(lines.contains { $0.hasPrefix("PATH=") })
        let replaced = try await onThread {
            try ChildProcess.run("/usr/bin/env", environment: ["ONLY": "this"], timeout: .seconds(30))
        }
        #expect(replaced.output == "ONLY=this\n")
    }

    @Test func theWorkingDirectoryIsTheOneGiven() async throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let outcome = try await onThread {
            try ChildProcess.run("/bin/pwd", ["-P"], directory: directory, timeout: .seconds(30))
        }
        let resolved = try #require(realpath(directory, nil))
        defer { free(resolved) }
        #expect(outcome.output == String(cString: resolved) + "\n")
    }

    // MARK: Inherited descriptors

    @Test func aChildInheritsOnlyStandardInputOutputAndError() throws {
        // Like the tests' raw sockets: not close-on-exec, so exec alone would pass them on.
        let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        try #require(socket >= 0)
        defer { close(socket) }
        var pipeEnds: [Int32] = [-1, -1]
        try #require(pipe(&pipeEnds) == 0)
        defer { for fd in pipeEnds { close(fd) } }
        for fd in [socket] + pipeEnds { try #require(fcntl(fd, F_GETFD) & FD_CLOEXEC == 0) }

        for output in [ChildProcess.Output.null, .pipe] {
            // posix_spawn returns after the exec, so the child's descriptors are final here.
            let child = try ChildProcess("/bin/sleep", ["60"], standardOutput: output, standardError: .standardOutput)
            defer { child.kill() }
            #expect(try descriptors(of: child.pid) == ["0", "1", "2"])
        }
    }

    @Test func aChildStartsWithThousandsOfDescriptorsOpen() throws {
        // The condition that crashed Foundation's Process.run(): ~1,350 or more descriptors open.
        let count = 2_000
        var limit = rlimit()
        try #require(getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0)
        // Room for them and for the other tests running in this process meanwhile.
        let needed = rlim_t(openDescriptorCount() + count + 2_000)
        if limit.rlim_cur < needed {
            try #require(limit.rlim_max >= needed, "the hard RLIMIT_NOFILE (\(limit.rlim_max)) is below \(needed)")
            // To the hard limit, as Go's runtime does at start, and for good: lowering it again
            // could fail another test's open meanwhile.
            limit.rlim_cur = limit.rlim_max
            try #require(setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0)
        }
        var opened: [Int32] = []
        defer { for fd in opened { close(fd) } }
        for _ in 0..<(count / 2) {
            var ends: [Int32] = [-1, -1]
            try #require(pipe(&ends) == 0, "pipe: \(String(cString: strerror(errno)))")
            opened += ends
        }
        #expect(openDescriptorCount() >= count)

        let child = try ChildProcess("/bin/sleep", ["60"])
        defer { child.kill() }
        #expect(try descriptors(of: child.pid) == ["0", "1", "2"])
        let echoed = try ChildProcess.run("/bin/echo", ["started"], timeout: .seconds(30))
        #expect(echoed.status == .exited(0) && echoed.output == "started\n")
    }

    // MARK: Stopping

    @Test func aChildIgnoringSIGTERMIsKilledAfterTheGrace() async throws {
        let child = try ChildProcess("/bin/sh", ["-c", "trap '' TERM; exec sleep 60"])
        defer { child.kill() }
        try await waitUntil("the child ignores SIGTERM") { try signalMask("SigIgn", of: child.pid) & termBit != 0 }
        let status = try await onThread { child.terminate(grace: .milliseconds(300)) }
        #expect(status == .signalled(SIGKILL))
        #expect(!child.isRunning)
    }

    @Test func aStoppedChildIsContinuedSoItCanActOnSIGTERM() async throws {
        // Exits 7 on SIGTERM, which a stopped process only acts on once continued; without
        // SIGCONT first it would be killed after the grace instead.
        let child = try ChildProcess("/bin/sh", ["-c", "trap 'exit 7' TERM; while :; do sleep 0.1; done"])
        defer { child.kill() }
        try await waitUntil("the child catches SIGTERM") { try signalMask("SigCgt", of: child.pid) & termBit != 0 }
        #expect(child.signal(SIGSTOP))
        try await waitUntil("the child is stopped") { try processState(of: child.pid) == "T" }
        let status = try await onThread { child.terminate(grace: .seconds(60)) }
        #expect(status == .exited(7))
    }

    @Test func aRunPastItsDeadlineThrowsWithItsOutputAndIsStopped() async throws {
        let started = ContinuousClock.now
        let error = await #expect(throws: ChildProcessError.self) {
            try await onThread {
                try ChildProcess.run("/bin/sh", ["-c", "echo partial; exec sleep 60"], timeout: .milliseconds(500))
            }
        }
        #expect(ContinuousClock.now - started < .seconds(30))
        #expect(error?.isTimeout == true)
        #expect(error?.outcome?.status == .signalled(SIGTERM))
        #expect(error?.outcome?.output == "partial\n")
    }

    @Test func aReapedChildIsNeverSignalledAgain() async throws {
        let child = try ChildProcess("/bin/true")
        #expect(try await onThread { child.waitUntilExit() } == .exited(0))
        #expect(child.exitStatus == .exited(0))
        #expect(!child.signal(SIGTERM))
        #expect(child.kill() == .exited(0))
    }

    @Test func waitingWithADeadlineReturnsNilWhileItRuns() async throws {
        let child = try ChildProcess("/bin/sleep", ["60"])
        #expect(try await onThread { child.wait(timeout: .milliseconds(50)) } == nil)
        #expect(child.isRunning)
        #expect(child.kill() == .signalled(SIGKILL))
    }
}

// MARK: Helpers

/// SIGTERM's bit in /proc/PID/status's signal masks.
private let termBit: UInt64 = 1 << (UInt64(SIGTERM) - 1)

/// The descriptor numbers open in process `pid`.
private func descriptors(of pid: pid_t) throws -> [String] {
    try FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd").sorted { Int($0)! < Int($1)! }
}

private func openDescriptorCount() -> Int {
    (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").count) ?? 0
}

/// A signal mask line (`SigIgn`, `SigCgt`) of /proc/PID/status.
private func signalMask(_ name: String, of pid: pid_t) throws -> UInt64 {
    let status = try String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)
    let line = status.split(separator: "\n").first { $0.hasPrefix(name + ":") }
    return line.flatMap { UInt64($0.dropFirst(name.count + 1).trimmingCharacters(in: .whitespaces), radix: 16) } ?? 0
}

/// The state letter of /proc/PID/stat (`R`, `S`, `T` for stopped, ...).
private func processState(of pid: pid_t) throws -> String {
    let stat = try String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)
    // "pid (comm) S ...": the command may hold spaces, so after the last ')'.
    guard let close = stat.lastIndex(of: ")") else { return "" }
    return String(stat[stat.index(close, offsetBy: 2)])
}

private func temporaryDirectory() throws -> String {
    let path = NSTemporaryDirectory() + "child-process-test-" + UUID().uuidString
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

/// Polls `condition` until it holds; fails after 30 s.
private func waitUntil(_ what: String, _ condition: () throws -> Bool) async throws {
    let deadline = ContinuousClock.now + .seconds(30)
    while try !condition() {
        guard ContinuousClock.now < deadline else { throw WaitTimedOut(what: what) }
        try await Task.sleep(for: .milliseconds(10))
    }
}

private struct WaitTimedOut: Error, CustomStringConvertible {
    let what: String
    var description: String { "timed out waiting until \(what)" }
}

/// Runs blocking process work on a thread of its own, off Swift's cooperative pool (a thread
/// per core, shared with every other test in this process).
private func onThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread.detachNewThread { continuation.resume(with: Result { try body() }) }
    }
}
