#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Where each worker slot listens, and the sockets open now.
///
/// - `tcp`: slot *i* on `host:(port + i)`: `--bind 127.0.0.1:8001` with four workers listens on
///   8001 to 8004. Port 0 gives every slot a free port of its own (tests).
/// - `unix`: slot *i* on the path with `-i` before its extension: `/run/homerack/backend.sock`
///   gives `backend-0.sock`, `backend-1.sock`, ...
/// - `inherited`: systemd socket activation (`LISTEN_FDS`): slot *i* is the *i*-th socket systemd
///   passed, so there are at most as many slots as sockets.
///
/// **Shared** (`WORKER_SOCKETS=shared`): every slot uses one socket, the plan's first (`host:port`,
/// the path itself, or systemd's first socket), opened with the first slot and closed with the
/// last. Every worker accepts on it, so the edge needs one address whatever the number of
/// workers: one added with `SIGTTIN` takes connections as soon as it is ready, one removed
/// stops taking them, and the socket always has a worker.
public final class SlotSockets {
    public enum Plan: Sendable, Hashable {
        case tcp(host: String, port: Int)
        case unix(path: String)
        case inherited(count: Int)
    }

    public let plan: Plan
    /// Whether every slot shares one socket.
    public let shared: Bool
    private var open: [Int: ListeningSocket] = [:]
    /// Inherited sockets are never closed (systemd keeps them across restarts); a removed slot's
    /// socket waits here for a slot added later.
    private var inherited: [ListeningSocket]

    /// - Parameters:
    ///   - plan: where slots listen.
    ///   - shared: every slot on one socket (`WORKER_SOCKETS=shared`).
    ///   - inherited: the sockets systemd passed (``SocketActivation``), for `.inherited`.
    public init(plan: Plan, shared: Bool = false, inherited: [ListeningSocket] = []) {
        self.plan = plan
        self.shared = shared
        self.inherited = inherited
    }

    /// The socket of slot `slot`, if open.
    public func socket(slot: Int) -> ListeningSocket? { open[slot] }

    /// Opens slot `slot`'s socket.
    /// - Throws: ``SupervisorError`` when it cannot be bound, or systemd passed no socket for it.
    @discardableResult
    public func open(slot: Int) throws -> ListeningSocket {
        if let socket = open[slot] { return socket }
        if shared, let socket = open.values.first {
            open[slot] = socket
            return socket
        }
        let socket: ListeningSocket
        switch plan {
        case .tcp(let host, let port) where shared:
            socket = try ListeningSocket.tcp(host: host, port: port)
        case .unix(let path) where shared:
            socket = try ListeningSocket.unix(path: path)
        case .inherited where shared:
            guard let first = inherited.first else { throw SupervisorError("systemd passed no socket (LISTEN_FDS)") }
            socket = first
        case .tcp(let host, let port):
            let slotPort = port == 0 ? 0 : port + slot
            guard slotPort <= 65535 else { throw SupervisorError("slot \(slot) would listen on port \(slotPort)") }
            socket = try ListeningSocket.tcp(host: host, port: slotPort)
        case .unix(let path):
            socket = try ListeningSocket.unix(path: Self.unixPath(path, slot: slot))
        case .inherited:
            guard slot < inherited.count else {
                throw SupervisorError("systemd passed \(inherited.count) socket(s) (LISTEN_FDS); slot \(slot) has none")
            }
            socket = inherited[slot]
        }
        open[slot] = socket
        return socket
    }

    /// Closes slot `slot`'s socket (its last worker has exited).
    public func close(slot: Int) {
        guard let socket = open.removeValue(forKey: slot) else { return }
        if case .inherited = plan { return }
        if shared, !open.isEmpty { return }  // other slots still accept on it
        socket.close()
    }

    /// Closes every socket (the supervisor is exiting).
    public func closeAll() {
        for slot in open.keys { close(slot: slot) }
    }

    /// `/run/homerack/backend.sock`, slot 2 → `/run/homerack/backend-2.sock`.
    static func unixPath(_ path: String, slot: Int) -> String {
        let slash = path.lastIndex(of: "/").map { path.index(after: $0) } ?? path.startIndex
        let name = path[slash...]
        if let dot = name.lastIndex(of: "."), dot != name.startIndex {
            return String(path[..<dot]) + "-\(slot)" + String(path[dot...])
        }
        return path + "-\(slot)"
    }
}

/// systemd socket activation: the listening sockets a service manager passed as descriptors
/// 3, 4, ... with `LISTEN_FDS` (how many) and `LISTEN_PID` (for which process).
public enum SocketActivation {
    /// The first descriptor systemd passes (`SD_LISTEN_FDS_START`).
    public static let firstDescriptor: CInt = 3

    /// The variables a worker must not inherit: they describe the supervisor's descriptors.
    public static let variables = ["LISTEN_FDS", "LISTEN_PID", "LISTEN_FDNAMES"]

    /// The sockets passed to this process, moved to descriptors numbered 10 or more.
    /// - Returns: `nil` when `LISTEN_FDS` is unset or meant for another process.
    /// - Throws: ``SupervisorError`` when a passed descriptor is not a listening socket.
    public static func sockets(environment: [String: String]) throws -> [ListeningSocket]? {
        guard let countText = environment["LISTEN_FDS"], let count = Int(countText), count > 0 else { return nil }
        if let pidText = environment["LISTEN_PID"], Int32(pidText) != getpid() { return nil }
        return try (0..<count).map { offset in
            try ListeningSocket.inherited(descriptor: firstDescriptor + CInt(offset))
        }
    }
}
