import Glibc

extension ChildProcess {
    /// What a program run to completion did.
    public struct Outcome: Sendable {
        public let status: ExitStatus
        public let standardOutput: [UInt8]
        /// Empty unless standard error went to a ``Output/pipe``.
        public let standardError: [UInt8]

        /// Standard output as UTF-8 text.
        public var output: String { String(decoding: standardOutput, as: UTF8.self) }
        /// Standard error as UTF-8 text.
        public var errorOutput: String { String(decoding: standardError, as: UTF8.self) }
    }

    /// Runs a program to completion: writes `input` to its standard input, collects its
    /// standard output (and error), and waits for it to exit; blocks the calling thread.
    ///
    /// The pipes are served by one `poll` loop, so a program that fills one pipe while this
    /// process waits on another cannot deadlock, and its output may be any size.
    /// - Parameters:
    ///   - executable: the program's path.
    ///   - arguments: its arguments.
    ///   - environment: its whole environment (this process's by default).
    ///   - directory: its working directory (this process's by default).
    ///   - input: its standard input, then end of file; nil for `/dev/null`.
    ///   - standardError: ``Output/pipe`` (collected apart), ``Output/standardOutput`` (mixed
    ///     into the output), or elsewhere.
    ///   - timeout: how long it may take, output and exit included. Past it the program is
    ///     stopped (``terminate(grace:)`` with 2 s of grace) and the run throws.
    /// - Returns: its exit status and output.
    /// - Throws: ``ChildProcessError``: it could not start, or it ran past `timeout` (then
    ///   ``ChildProcessError/isTimeout``, with what it had printed).
    public static func run(
        _ executable: String, _ arguments: [String] = [], environment: [String: String] = inheritedEnvironment,
        directory: String? = nil, input: [UInt8]? = nil, standardError: Output = .pipe, timeout: Duration
    ) throws -> Outcome {
        let deadline = ContinuousClock.now + timeout
        let child = try ChildProcess(
            executable, arguments, environment: environment, directory: directory,
            standardInput: input == nil ? .null : .pipe, standardOutput: .pipe, standardError: standardError)
        let exchanged = child.exchange(input: input ?? [], until: deadline)
        if exchanged.finished, let status = child.wait(timeout: max(deadline - ContinuousClock.now, .zero)) {
            return Outcome(status: status, standardOutput: exchanged.output, standardError: exchanged.error)
        }
        let status = child.terminate(grace: .seconds(2))
        throw ChildProcessError.timedOut(
            child.command, after: timeout,
            outcome: Outcome(status: status, standardOutput: exchanged.output, standardError: exchanged.error))
    }

    /// Writes `input` into the standard input pipe (then closes it) and reads the output pipes
    /// until they close or `deadline` passes.
    /// - Returns: what was read, and whether every pipe closed in time.
    private func exchange(
        input: [UInt8], until deadline: ContinuousClock.Instant
    ) -> (output: [UInt8], error: [UInt8], finished: Bool) {
        var (inputFD, outputFD, errorFD) = takeDescriptors()
        defer { for fd in [inputFD, outputFD, errorFD] where fd >= 0 { close(fd) } }
        var output: [UInt8] = []
        var error: [UInt8] = []
        var written = 0
        if inputFD >= 0 && input.isEmpty {
            close(inputFD)
            inputFD = -1
        }
        if inputFD >= 0 { _ = fcntl(inputFD, F_SETFL, fcntl(inputFD, F_GETFL) | O_NONBLOCK) }
        let pipeSignal: BrokenPipeSignalBlock? = inputFD >= 0 ? BrokenPipeSignalBlock() : nil
        defer { pipeSignal?.end() }

        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        while inputFD >= 0 || outputFD >= 0 || errorFD >= 0 {
            let remaining = deadline - ContinuousClock.now
            if remaining <= .zero { return (output, error, false) }
            var descriptors: [pollfd] = []
            if outputFD >= 0 { descriptors.append(pollfd(fd: outputFD, events: Int16(POLLIN), revents: 0)) }
            if errorFD >= 0 { descriptors.append(pollfd(fd: errorFD, events: Int16(POLLIN), revents: 0)) }
            if inputFD >= 0 { descriptors.append(pollfd(fd: inputFD, events: Int16(POLLOUT), revents: 0)) }
            let (seconds, attoseconds) = remaining.components
            let milliseconds = min(seconds * 1000 + attoseconds / 1_000_000_000_000_000 + 1, Int64(Int32.max))
            if poll(&descriptors, nfds_t(descriptors.count), Int32(milliseconds)) < 0 {
                if errno == EINTR { continue }
                return (output, error, false)
            }
            for descriptor in descriptors where descriptor.revents != 0 {
                if descriptor.fd == inputFD {
                    let count = input[written...].withUnsafeBytes { write(inputFD, $0.baseAddress, $0.count) }
                    if count > 0 { written += count }
                    // Done, or the child stopped reading (EPIPE): either way, end of its input.
                    if written == input.count || (count < 0 && errno != EAGAIN && errno != EINTR) {
                        close(inputFD)
                        inputFD = -1
                    }
                    continue
                }
                let count = read(descriptor.fd, &buffer, buffer.count)
                if count > 0 {
                    if descriptor.fd == outputFD {
                        output += buffer[..<count]
                    } else {
                        error += buffer[..<count]
                    }
                } else if count == 0 || (errno != EAGAIN && errno != EINTR) {
                    close(descriptor.fd)
                    if descriptor.fd == outputFD { outputFD = -1 } else { errorFD = -1 }
                }
            }
        }
        return (output, error, true)
    }
}

/// SIGPIPE blocked on the calling thread while it writes a child's standard input: a child that
/// exits without reading all of it makes the write fail with EPIPE instead of ending the test
/// process, which need not ignore SIGPIPE. ``end()`` discards the SIGPIPE the write raised (it
/// would be delivered on unblocking) and restores the thread's mask.
private struct BrokenPipeSignalBlock {
    private let previousMask: sigset_t
    private let pipeOnly: sigset_t
    private let wasPending: Bool

    init() {
        var pipeOnly = sigset_t()
        sigemptyset(&pipeOnly)
        sigaddset(&pipeOnly, SIGPIPE)
        var previousMask = sigset_t()
        pthread_sigmask(SIG_BLOCK, &pipeOnly, &previousMask)
        var pending = sigset_t()
        sigpending(&pending)
        self.wasPending = sigismember(&pending, SIGPIPE) == 1
        self.pipeOnly = pipeOnly
        self.previousMask = previousMask
    }

    func end() {
        var pending = sigset_t()
        sigpending(&pending)
        if !wasPending && sigismember(&pending, SIGPIPE) == 1 {
            var set = pipeOnly
            var now = timespec(tv_sec: 0, tv_nsec: 0)
            _ = sigtimedwait(&set, nil, &now)
        }
        var mask = previousMask
        pthread_sigmask(SIG_SETMASK, &mask, nil)
    }
}
