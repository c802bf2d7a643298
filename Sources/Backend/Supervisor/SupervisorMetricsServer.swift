import Hummingbird
import Logging
import NIOCore
import Synchronization

/// The supervisor's one Prometheus target (`METRICS_ADDRESS`, `GET /metrics`): every worker's
/// series added up (``WorkerMetricsAggregate``), plus the supervisor's own.
enum SupervisorMetricsServer {
    /// An application serving `GET /metrics` on `address`.
    /// - Parameters:
    ///   - render: the merged exposition at the moment of the scrape.
    ///   - onListening: called with the bound address (the port, when asked for port 0).
    static func make(
        address: BackendConfiguration.HostAndPort, logger: Logger,
        render: @escaping @Sendable () -> String,
        onListening: @escaping @Sendable (String) -> Void
    ) -> some ApplicationProtocol {
        let router = Router()
        router.get("metrics") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(string: render())))
        }
        return Application(
            router: router,
            configuration: .init(address: .hostname(address.host, port: address.port), serverName: nil),
            onServerRunning: { channel in
                let port = channel.localAddress?.port ?? address.port
                onListening(BackendConfiguration.HostAndPort(host: address.host, port: port).description)
            },
            logger: logger)
    }
}
