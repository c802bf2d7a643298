import Glibc
import Synchronization

/// A program a test starts (a tool, a server, a built binary), launched with `posix_spawn` so
/// that it inherits only its standard input, output and error, and waited for and signalled by
/// its PID, which stays its own until this object reaps it.
///
/// Not Foundation's `Process`, for two reasons:
/// - On Linux its `run()` finds the highest open descriptor by scanning `/proc/self/fd` and
///   over-reads with about 1,350 or more open (swift-corelibs-foundation PR #5472). The edge
///   tests open that many sockets in parallel; the crash ended the whole `swift test` run and
///   orphaned the servers it had started.
/// - The tests' raw sockets are not close-on-exec. A child that inherits one keeps its
///   connection open and can change another test's result, so here every descriptor from 3 on
///   is closed in the child (`posix_spawn_file_actions_addclosefrom_np`).
///
/// A child still running when this object goes away is killed (`SIGKILL`) and reaped, so a
/// test that throws early leaves no process behind.
public final class ChildProcess: Sendable {
    /// Where the child's standard input comes from.
    public struct Input: Sendable {
        enum Kind: Sendable {
            case null
            case file(String)
            case pipe
        }
        let kind: Kind

        /// `/dev/null`: the child reads end of file at once.
        public static let null = Input(kind: .null)
        /// A file, opened for reading in the child.
        public static func file(_ path: String) -> Input { Input(kind: .file(path)) }
        /// A pipe ``ChildProcess/run(_:_:environment:directory:input:standardError:timeout:)`` writes.
        static let pipe = Input(kind: .pipe)
    }

    /// Where the child's standard output or standard error goes.
    public struct Output: Sendable {
        enum Kind: Sendable {
            case null
            case inherit
            case file(String, append: Bool)
            case pipe
            case standardOutput
        }
        let kind: Kind

        /// `/dev/null`.
        public static let null = Output(kind: .null)
        /// This process's own descriptor (the test runner's output).
        public static let inherit = Output(kind: .inherit)
        /// A file, created if missing; truncated, or appended to with `append`.
        public static func file(_ path: String, append: Bool = false) -> Output {
            Output(kind: .file(path, append: append))
        }
        /// A pipe this process reads: ``ChildProcess/readToEnd(_:_:)``, or collected by
        /// ``ChildProcess/run(_:_:environment:directory:input:standardError:timeout:)``.
        public static let pipe = Output(kind: .pipe)
        /// For standard error only: wherever standard output goes (`2>&1`).
        public static let standardOutput = Output(kind: .standardOutput)
    }

    /// One of the child's output streams.
    public enum Stream: Sendable {
        case standardOutput
        case standardError
    }

    /// The child's process ID: signal it through ``signal(_:)``, which never targets a reaped
    /// (and so possibly reused) PID.
    public let pid: pid_t
    /// The program and its arguments, for messages.
    public let command: String

    private struct State {
        /// Set once the child is reaped; from then on its PID is not signalled.
        var status: ExitStatus?
        /// This process's ends of the pipes (-1 when not a pipe, or taken by a reader).
        var input: Int32
        var output: Int32
        var error: Int32
    }
    private let state: Mutex<State>

    /// Starts `executable` (a path; `PATH` is not searched).
    /// - Parameters:
    ///   - executable: the program's path; also its `argv[0]`.
    ///   - arguments: the rest of `argv`.
    ///   - environment: its whole environment; by default this process's
    ///     (``inheritedEnvironment``, which a caller can copy and change).
    ///   - directory: its working directory; by default this process's.
    ///   - standardInput: `/dev/null` by default.
    ///   - standardOutput: `/dev/null` by default.
    ///   - standardError: `/dev/null` by default.
    /// - Throws: ``ChildProcessError`` when it cannot be started (a missing program, working
    ///   directory or redirected file; the message names them).
    public init(
        _ executable: String, _ arguments: [String] = [], environment: [String: String] = inheritedEnvironment,
        directory: String? = nil, standardInput: Input = .null, standardOutput: Output = .null,
        standardError: Output = .null
    ) throws {
        let command = ([executable] + arguments).joined(separator: " ")
        self.command = command
        func failure(_ what: String) -> ChildProcessError { .cannotStart("cannot start \(command): \(what)") }
        guard let closeFrom = GlibcExtensions.addCloseFrom else {
            throw failure("posix_spawn_file_actions_addclosefrom_np is missing (glibc 2.34 or later is needed)")
        }

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        // The child's ends of pipes, closed here once it has them (or when it failed to start).
        var childEnds: [Int32] = []
        defer { for fd in childEnds { close(fd) } }
        var parentEnds = (input: Int32(-1), output: Int32(-1), error: Int32(-1))
        var started = false
        defer {
            if !started { for fd in [parentEnds.input, parentEnds.output, parentEnds.error] where fd >= 0 { close(fd) } }
        }

        func makePipe() throws -> (read: Int32, write: Int32) {
            var ends: [Int32] = [-1, -1]
            guard let pipe2 = GlibcExtensions.pipe2, pipe2(&ends, O_CLOEXEC) == 0 else {
                throw failure("pipe2: \(String(cString: strerror(errno)))")
            }
            return (ends[0], ends[1])
        }
        func redirect(_ output: Output, to fd: Int32) throws -> Int32 {
            switch output.kind {
            case .null:
                posix_spawn_file_actions_addopen(&actions, fd, "/dev/null", O_WRONLY, 0)
            case .inherit:
                break
            case .file(let path, let append):
                posix_spawn_file_actions_addopen(
                    &actions, fd, path, O_WRONLY | O_CREAT | (append ? O_APPEND : O_TRUNC), 0o644)
            case .pipe:
                let ends = try makePipe()
                childEnds.append(ends.write)
                posix_spawn_file_actions_adddup2(&actions, ends.write, fd)
                return ends.read
            case .standardOutput:
                precondition(fd == 2, "only standard error can go where standard output goes")
                posix_spawn_file_actions_adddup2(&actions, 1, 2)
            }
            return -1
        }

        switch standardInput.kind {
        case .null:
            posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        case .file(let path):
            posix_spawn_file_actions_addopen(&actions, 0, path, O_RDONLY, 0)
        case .pipe:
            let ends = try makePipe()
            childEnds.append(ends.read)
            parentEnds.input = ends.write
            posix_spawn_file_actions_adddup2(&actions, ends.read, 0)
        }
        parentEnds.output = try redirect(standardOutput, to: 1)
        parentEnds.error = try redirect(standardError, to: 2)
        // After the redirections, so relative file paths mean what they mean to the caller.
        if let directory {
            guard let changeDirectory = GlibcExtensions.addChangeDirectory else {
                throw failure("posix_spawn_file_actions_addchdir_np is missing (glibc 2.29 or later is needed)")
            }
            _ = changeDirectory(&actions, directory)
        }
        // Last: nothing of this process but 0, 1 and 2 (the pipes' child ends are dup2'd there).
        _ = closeFrom(&actions, 3)

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        // Default dispositions and no blocked signals: a test runner that ignores SIGPIPE (or
        // blocks a signal on the spawning thread) must not pass that on to a server it starts.
        var all = sigset_t()
        sigfillset(&all)
        var none = sigset_t()
        sigemptyset(&none)
        posix_spawnattr_setsigdefault(&attributes, &all)
        posix_spawnattr_setsigmask(&attributes, &none)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))

        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            for pointer in argv { free(pointer) }
            for pointer in envp { free(pointer) }
        }
        var pid: pid_t = 0
        // glibc's posix_spawn returns once the child has exec'd, or with the errno of the file
        // action or exec that failed.
        let result = posix_spawn(&pid, executable, &actions, &attributes, argv, envp)
        guard result == 0 else {
            var context = [String]()
            if let directory { context.append("working directory \(directory)") }
            for (name, kind) in [("standard output", standardOutput.kind), ("standard error", standardError.kind)] {
                if case .file(let path, _) = kind { context.append("\(name) to \(path)") }
            }
            if case .file(let path) = standardInput.kind { context.append("standard input from \(path)") }
            let details = context.isEmpty ? "" : " (check \(context.joined(separator: ", ")))"
            throw failure(String(cString: strerror(result)) + details)
        }
        started = true
        self.pid = pid
        self.state = Mutex(State(status: nil, input: parentEnds.input, output: parentEnds.output, error: parentEnds.error))
    }

    deinit {
        let descriptors = state.withLock { [$0.input, $0.output, $0.error] }
        for fd in descriptors where fd >= 0 { close(fd) }
        if exitStatus == nil { kill() }
    }

    /// This process's environment, to pass on as it is or changed.
    public static var inheritedEnvironment: [String: String] {
        var result: [String: String] = [:]
        var entry: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = environ
        while let pointer = entry?.pointee {
            let text = String(cString: pointer)
            if let equals = text.firstIndex(of: "=") {
                result[String(text[..<equals])] = String(text[text.index(after: equals)...])
            }
            entry = entry.map { $0 + 1 }
        }
        return result
    }

    // MARK: Exit

    /// How it ended, or nil while it runs (a stopped child runs). Reaps it once it has exited.
    public var exitStatus: ExitStatus? {
        state.withLock { state in
            if let status = state.status { return status }
            var raw: Int32 = 0
            while true {
                let result = waitpid(pid, &raw, WNOHANG)
                if result == pid {
                    state.status = ExitStatus(waitStatus: raw)
                    return state.status
                }
                if result == 0 { return nil }
                if errno == EINTR { continue }
                state.status = .unknown  // ECHILD: reaped by someone else
                return state.status
            }
        }
    }

    /// Whether it has not exited yet.
    public var isRunning: Bool { exitStatus == nil }

    /// Blocks until it exits, and reaps it.
    @discardableResult
    public func waitUntilExit() -> ExitStatus {
        while true {
            if let status = exitStatus { return status }
            // Waits without reaping (WNOWAIT): reaping happens only under the lock, so that
            // ``signal(_:)`` never targets a PID that was reaped meanwhile.
            var info = siginfo_t()
            _ = waitid(P_PID, id_t(pid), &info, WEXITED | WNOWAIT)
        }
    }

    /// Waits until it exits or `timeout` passes, blocking the calling thread.
    /// - Returns: how it ended, or nil when it still runs.
    public func wait(timeout: Duration) -> ExitStatus? {
        let deadline = ContinuousClock.now + timeout
        var pause = Duration.milliseconds(1)
        while true {
            if let status = exitStatus { return status }
            let now = ContinuousClock.now
            if now >= deadline { return nil }
            Self.sleep(min(pause, deadline - now))
            pause = min(pause * 2, .milliseconds(20))
        }
    }

    // MARK: Signals

    /// Sends it `number`, unless it has been reaped (its PID may then be another process's).
    /// - Returns: whether the signal was sent.
    @discardableResult
    public func signal(_ number: Int32) -> Bool {
        state.withLock { state in
            state.status == nil && Glibc.kill(pid, number) == 0
        }
    }

    /// Stops it: `SIGCONT` (a stopped child acts on nothing else), `SIGTERM`, and `SIGKILL` if
    /// it has not exited after `grace`.
    /// - Returns: how it ended.
    @discardableResult
    public func terminate(grace: Duration) -> ExitStatus {
        signal(SIGCONT)
        signal(SIGTERM)
        if let status = wait(timeout: grace) { return status }
        return kill()
    }

    /// Kills it with `SIGKILL` (a crash, not a shutdown) and reaps it.
    /// - Returns: how it ended (`signalled(SIGKILL)` unless it had exited already).
    @discardableResult
    public func kill() -> ExitStatus {
        signal(SIGKILL)
        return waitUntilExit()
    }

    // MARK: Pipes

    /// Reads one of its output pipes until every writer has closed it (the child exited, and
    /// nothing it started still holds the pipe), handing each chunk to `body` as it arrives.
    /// Blocks the calling thread: give it a thread of its own.
    /// - Precondition: the stream is a ``Output/pipe`` not already being read.
    public func readToEnd(_ stream: Stream, _ body: ([UInt8]) -> Void) {
        let fd = takeDescriptor(stream)
        precondition(fd >= 0, "\(stream) of \(command) is not a pipe, or is read already")
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let count = read(fd, &buffer, buffer.count)
            if count > 0 {
                body(Array(buffer[..<count]))
            } else if count == 0 || errno != EINTR {
                return
            }
        }
    }

    /// Hands this process's ends of the pipes over to the caller, who closes them.
    func takeDescriptors() -> (input: Int32, output: Int32, error: Int32) {
        state.withLock { state in
            defer { (state.input, state.output, state.error) = (-1, -1, -1) }
            return (state.input, state.output, state.error)
        }
    }

    private func takeDescriptor(_ stream: Stream) -> Int32 {
        state.withLock { state in
            switch stream {
            case .standardOutput:
                defer { state.output = -1 }
                return state.output
            case .standardError:
                defer { state.error = -1 }
                return state.error
            }
        }
    }

    static func sleep(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        var request = timespec(tv_sec: Int(seconds), tv_nsec: Int(attoseconds / 1_000_000_000))
        var remaining = timespec()
        while nanosleep(&request, &remaining) == -1 && errno == EINTR { request = remaining }
    }
}
