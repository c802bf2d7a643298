import Hummingbird
import NIOCore
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Routes the supervisor's integration tests use to make a worker misbehave or identify itself.
/// Registered only when `HOMERACK_TEST_HOOKS=1` is in the worker's environment; never in
/// production, where the variable is unset.
///
/// - `GET /__test__/worker`: `{"pid": …, "slot": …}`, which worker answered.
/// - `GET /__test__/slow?ms=N`: answers after N milliseconds (an in-flight request that a
///   shutdown must let finish); `GET /__test__/sleeping` says how many are under way, so a test
///   knows its slow request was accepted before it signals.
/// - `POST /__test__/hang`: answers, then blocks every event loop of the worker for good (a hung
///   worker the supervisor must kill after its timeout).
enum WorkerTestHooks {
    static let environmentVariable = "HOMERACK_TEST_HOOKS"

    static func isEnabled(in environment: [String: String]) -> Bool {
        environment[environmentVariable] == "1"
    }

    /// Slow requests under way in this process.
    private static let sleeping = Atomic<Int>(0)

    static func register(on router: Router<BackendRequestContext>, slot: Int?, group: any EventLoopGroup) {
        let hooks = router.group("__test__")
        hooks.get("worker") { _, _ in
            let slotText = slot.map(String.init) ?? "null"
            return Response(
                status: .ok, headers: [.contentType: "application/json"],
                body: .init(byteBuffer: ByteBuffer(string: "{\"pid\":\(getpid()),\"slot\":\(slotText)}")))
        }
        hooks.get("slow") { request, _ in
            let milliseconds = request.uri.queryParameters.get("ms", as: Int.self) ?? 1000
            sleeping.add(1, ordering: .relaxed)
            defer { sleeping.subtract(1, ordering: .relaxed) }
            try await Task.sleep(for: .milliseconds(milliseconds))
            return Response(
                status: .ok, headers: [.contentType: "text/plain"],
                body: .init(byteBuffer: ByteBuffer(string: "slept \(milliseconds) ms in \(getpid())\n")))
        }
        hooks.get("sleeping") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "text/plain"],
                body: .init(byteBuffer: ByteBuffer(string: "\(sleeping.load(ordering: .relaxed))")))
        }
        hooks.post("hang") { _, _ in
            for loop in group.makeIterator() {
                loop.scheduleTask(in: .milliseconds(200)) {
                    while true { sleep(3600) }
                }
            }
            return Response(status: .accepted)
        }
    }
}
