import CEdgeIO
import CEdgeTLS
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// Keeps each certificate's stapled OCSP response in step with its response file, from a thread
/// of its own: a changed file (a new response written by a scheduled `openssl ocsp -respout`,
/// renamed into place) is read and stapled; a response past its `nextUpdate` is no longer
/// stapled, since a client that checks it would refuse the connection, while one that gets no
/// staple asks the CA itself. A response that is not for the certificate (an old file after a
/// new certificate) is never stapled. The context also stops stapling at `nextUpdate` by itself,
/// between two looks. Problems go to `report` (the edge logs them as warnings).
///
/// Why a file kept fresh by a timer, not a fetch by the edge: the edge then never makes a request
/// to the outside (no resolver, no HTTP client, no CA outage reaching a loop), the operator sees
/// and alerts on the refresh like any other job, and several edges can share one response.
/// HAProxy takes the same approach (a response file, updated from outside).
public final class OCSPStapleRefresher: Sendable {
    /// What to do with one certificate's staple after a look at its file.
    public enum Action: Equatable, Sendable {
        /// Staple the file's response (it changed and is valid until `nextUpdate`).
        case install(nextUpdate: Int64)
        /// Staple nothing: the stapled response expired and no valid one replaced it.
        case clear
        case keep
    }

    /// The decision, pure (the wall clock is an input).
    /// - Parameters:
    ///   - read: the file's response, when the file changed since the last look: its
    ///     `nextUpdate` (Unix seconds), or `nil` when it is not a valid successful response.
    ///   - stapled: the `nextUpdate` of the response stapled now, or `nil` when none is.
    ///   - now: Unix seconds.
    public static func action(read: Int64??, stapled: Int64?, now: Int64) -> Action {
        if case .some(.some(let next)) = read, next > now { return .install(nextUpdate: next) }
        if let stapled, stapled <= now { return .clear }
        return .keep
    }

    private struct Watched {
        var index: Int
        var path: String
        /// The file's modification time and size at the last look (nanoseconds, bytes).
        var seen: (Int64, Int64)?
        var stapled: Int64?
    }

    private struct State {
        var watched: [Watched]
        var stopped = false
        var installs = 0
        var failure: String?
    }

    private let state: Mutex<State>
    private let context: TLSContext
    private let interval: UInt64
    private let thread: Mutex<UInt64?> = Mutex(nil)
    private let report: @Sendable (Report) -> Void

    /// What a look found worth telling the operator.
    public enum Report: Sendable, Equatable {
        /// A new response is stapled (the file's path, its `nextUpdate` in Unix seconds).
        case installed(path: String, nextUpdate: Int64)
        /// A problem with the file, in words that say what to do; the previous staple stays
        /// (until its `nextUpdate`).
        case problem(path: String, message: String)
    }

    /// Starts watching `files` (certificate index and response path), looking every
    /// `interval` milliseconds. The first look is made before this returns.
    /// - Parameter report: told of each new staple and each problem, from the refresher's thread.
    public init(
        context: TLSContext, files: [(certificate: Int, path: String)], interval: UInt64,
        report: @escaping @Sendable (Report) -> Void = { _ in }
    ) throws {
        self.context = context
        self.interval = max(interval, 1)
        self.report = report
        state = Mutex(State(watched: files.map { Watched(index: $0.certificate, path: $0.path) }))
        look()
        let handle = try startLoopThread(name: "edge-ocsp") { [self] in run() }
        thread.withLock { $0 = handle }
    }

    /// Responses stapled since the start.
    public var installs: Int { state.withLock { $0.installs } }
    /// The last problem with a response file (unreadable, not a valid response, expired).
    public var failure: String? { state.withLock { $0.failure } }

    /// Stops watching (idempotent); the staples stay as they are. Call it before letting the
    /// refresher go: its thread holds it until then.
    public func stop() {
        state.withLock { $0.stopped = true }
        if let handle = thread.withLock({ handle in defer { handle = nil }; return handle }) { ceio_thread_join(handle) }
    }

    /// The `nextUpdate` of a DER OCSP response (Unix seconds), or `nil` when it is not a
    /// successful basic response.
    public static func nextUpdate(of der: [UInt8]) -> Int64? {
        var next: Int64 = 0
        let result = der.withUnsafeBufferPointer { ceio_ocsp_response_next_update($0.baseAddress, $0.count, &next) }
        return result == 0 ? next : nil
    }

    private func run() {
        var waited: UInt64 = 0
        while true {
            if state.withLock({ $0.stopped }) { return }
            usleep(useconds_t(min(interval, 100) * 1000))  // wakes at least every 100 ms to see a stop
            waited += min(interval, 100)
            if waited >= interval {
                waited = 0
                look()
            }
        }
    }

    private func look() {
        let now = Int64(time(nil))
        let watched = state.withLock { $0.watched }
        for (position, file) in watched.enumerated() {
            var info = stat()
            var read: Int64?? = nil
            var bytes: [UInt8] = []
            var seen = file.seen
            if stat(file.path, &info) == 0 {
                let stamp = (Int64(info.st_mtim.tv_sec) * 1_000_000_000 + Int64(info.st_mtim.tv_nsec), Int64(info.st_size))
                if file.seen.map({ $0 != stamp }) ?? true {
                    seen = stamp
                    bytes = (try? TLSContext.readFile(file.path)) ?? []
                    switch context.checkOCSPResponse(bytes, forCertificate: file.index) {
                    case .response(let next, let revoked):
                        read = .some(next)
                        if next <= now {
                            note(file.path, "the OCSP response expired (its nextUpdate has passed), so it is not stapled; check the job that refreshes it (deploy/homerack-ocsp-refresh@.timer)")
                        }
                        if revoked {
                            note(file.path, "the OCSP response says the certificate is REVOKED; replace the certificate")
                        }
                    case .unusable(let problem):
                        read = .some(nil)
                        note(file.path, "\(problem); the previous staple stays until its nextUpdate")
                    }
                }
            } else {
                note(file.path, "cannot read the OCSP response file (\(String(cString: strerror(errno)))); the previous staple stays until its nextUpdate")
            }
            let action = Self.action(read: read, stapled: file.stapled, now: now)
            var stapled = file.stapled
            switch action {
            case .install(let next):
                if (try? context.setOCSPResponse(bytes, forCertificate: file.index)) != nil {
                    stapled = next
                    report(.installed(path: file.path, nextUpdate: next))
                }
            case .clear:
                _ = try? context.setOCSPResponse([], forCertificate: file.index)
                stapled = nil
                note(file.path, "the stapled OCSP response expired and no valid one replaced it; nothing is stapled until the file holds a fresh response")
            case .keep:
                break
            }
            state.withLock {
                $0.watched[position].seen = seen
                $0.watched[position].stapled = stapled
                if case .install = action { $0.installs += 1 }
            }
        }
    }

    private func note(_ path: String, _ message: String) {
        state.withLock { $0.failure = "\(path): \(message)" }
        report(.problem(path: path, message: message))
    }
}
