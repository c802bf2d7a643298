import Edge
import Foundation

/// The edge, in this process, in front of a supervisor's worker ports: one upstream pool with
/// every worker, everything proxied, logging off. Its retry rule (an idempotent request whose
/// connection closed before the response is sent to another worker) is what turns a killed
/// worker into zero failed GETs.
struct SupervisorTestEdge {
    let server: EdgeServer
    let port: Int

    /// - Parameters:
    ///   - workerPorts: the upstream servers.
    ///   - keepalive: idle upstream connections kept (0: a new connection per request).
    static func start(workerPorts: [Int], keepalive: Int = 8) async throws -> SupervisorTestEdge {
        let servers = workerPorts.map { "      - \"127.0.0.1:\($0)\"" }.joined(separator: "\n")
        let yaml = """
            listeners:
              - name: public
                address: 127.0.0.1:0
            event_loops: 1
            timeouts: {client_header: 10s, client_body: 10s, keepalive: 60s, send: 10s, shutdown_grace: 1s}
            logging: {access_log: "off", error_log: "off"}
            upstreams:
              backend:
                keepalive: \(keepalive)
                servers:
            \(servers)
            routes:
              - {prefix: /, proxy: backend}

            """
        let config = try ConfigLoader.parse(yaml: yaml, source: "supervisor-test.yaml", environment: [:])
        let server = try await EdgeServer.start(config: config)
        guard let port = server.listenerAddresses.first?.port else {
            await server.shutdown(grace: .seconds(1))
            throw SupervisorTestFailure("the edge has no listener")
        }
        return SupervisorTestEdge(server: server, port: port)
    }

    func shutdown() async {
        await server.shutdown(grace: .seconds(1))
    }
}

/// Runs `body` with an edge in front of `ports`, and always shuts the edge down afterwards.
func withEdge<T>(
    workerPorts ports: [Int], keepalive: Int = 8, _ body: (SupervisorTestEdge) async throws -> T
) async throws -> T {
    let edge = try await SupervisorTestEdge.start(workerPorts: ports, keepalive: keepalive)
    do {
        let result = try await body(edge)
        await edge.shutdown()
        return result
    } catch {
        await edge.shutdown()
        throw error
    }
}
