#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Starts worker processes: `homerack-backend worker --fd 3 --supervisor-fd 4 --slot N`, with
/// the slot's listening socket as descriptor 3 and the write end of a fresh pipe as descriptor 4
/// (``WorkerMessage``s travel back on it), and nothing else inherited.
///
/// Each worker gets its own process group, so a Ctrl-C in the terminal reaches the supervisor
/// only and the supervisor decides how its workers stop; and default signal dispositions with
/// nothing blocked, whatever the supervisor had.
public struct WorkerSpawner: Sendable {
    /// The descriptor numbers a worker finds its socket and its pipe on.
    public static let listeningDescriptor: CInt = 3
    public static let supervisorDescriptor: CInt = 4

    /// The `homerack-backend` executable.
    public var executable: String
    /// Every worker's environment (the supervisor's, with its command-line overrides).
    public var environment: [String: String]

    public init(executable: String, environment: [String: String]) {
        self.executable = executable
        self.environment = environment
    }

    /// A started worker: its pid and the read end of its message pipe (close-on-exec, owned by
    /// the caller).
    public struct Started: Sendable {
        public let pid: pid_t
        public let messages: CInt
    }

    /// Spawns a worker for `slot` on `socket`.
    /// - Throws: ``SupervisorError`` when the pipe or the process cannot be created.
    public func spawn(slot: Int, socket: CInt) throws -> Started {
        var pipeEnds: [CInt] = [-1, -1]
        guard pipe(&pipeEnds) == 0 else { throw SupervisorError("pipe: \(errnoText())") }
        // Both ends move to close-on-exec descriptors numbered 10 or more: no other worker
        // inherits them, and the dup2s below cannot overwrite each other's source (sockets are
        // numbered 10 or more too, see ``ListeningSocket``).
        let readEnd = fcntl(pipeEnds[0], F_DUPFD_CLOEXEC, CInt(10))
        let writeEnd = fcntl(pipeEnds[1], F_DUPFD_CLOEXEC, CInt(10))
        let failure = errnoText()
        systemClose(pipeEnds[0])
        systemClose(pipeEnds[1])
        guard readEnd >= 0, writeEnd >= 0 else {
            if readEnd >= 0 { systemClose(readEnd) }
            if writeEnd >= 0 { systemClose(writeEnd) }
            throw SupervisorError("cannot duplicate a pipe: \(failure)")
        }
        defer { systemClose(writeEnd) }

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, socket, Self.listeningDescriptor)
        posix_spawn_file_actions_adddup2(&actions, writeEnd, Self.supervisorDescriptor)
        Self.closeOthers(&actions, from: Self.supervisorDescriptor + 1)

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var noSignals = sigset_t()
        sigemptyset(&noSignals)
        posix_spawnattr_setsigmask(&attributes, &noSignals)
        var allSignals = sigset_t()
        sigfillset(&allSignals)
        posix_spawnattr_setsigdefault(&attributes, &allSignals)
        posix_spawnattr_setpgroup(&attributes, 0)
        posix_spawnattr_setflags(
            &attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP))

        let arguments = [
            executable, "worker", "--fd", String(Self.listeningDescriptor), "--supervisor-fd",
            String(Self.supervisorDescriptor), "--slot", String(slot),
        ]
        let environmentLines = environment.map { "\($0.key)=\($0.value)" }
        var pid: pid_t = 0
        let result = withCStrings(arguments) { argv in
            withCStrings(environmentLines) { envp in
                posix_spawn(&pid, executable, &actions, &attributes, argv, envp)
            }
        }
        guard result == 0 else {
            systemClose(readEnd)
            throw SupervisorError("cannot start \(executable): \(errnoText(result))")
        }
        return Started(pid: pid, messages: readEnd)
    }

    /// Adds "close every descriptor from `lowest` up" where the C library offers it (glibc 2.34+),
    /// as a second guard behind close-on-exec for descriptors some library opened without it.
    private static func closeOthers(_ actions: inout posix_spawn_file_actions_t, from lowest: CInt) {
        typealias CloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, CInt) -> CInt
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "posix_spawn_file_actions_addclosefrom_np")
        else { return }
        _ = unsafeBitCast(symbol, to: CloseFrom.self)(&actions, lowest)
    }
}

/// Runs `body` with `strings` as a NULL-terminated C array.
private func withCStrings<R>(_ strings: [String], _ body: ([UnsafeMutablePointer<CChar>?]) -> R) -> R {
    var pointers = strings.map { strdup($0) }
    pointers.append(nil)
    defer { for pointer in pointers { free(pointer) } }
    return body(pointers)
}
