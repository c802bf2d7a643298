import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// The built edge in front of a built backend supervisor (one worker, SQLite), plus the
/// monitoring stack from deploy/monitoring.sh, every listener on a free loopback port. A few
/// requests go through the edge so the request series have samples.
struct RunningStack {
    let directory: URL
    let edgeAdmin: String
    let backendMetrics: String
    let prometheus: String
    let nodeExporter: String
    let processExporter: String
    let monitoringEnvironment: [String: String]
    private let processes: [Child]

    static func start() async throws -> RunningStack {
        let directory = try Operations.scratch("stack")
        func address() throws -> String { "127.0.0.1:\(try Operations.freePort())" }
        let workerPort = try Operations.freePort()
        let backendMetrics = try address()
        let edgeListener = try address()
        let edgeAdmin = try address()
        var processes: [Child] = []
        func launch(_ executable: String, _ arguments: [String], environment: [String: String], log: String) throws {
            var env = Operations.environment.filter {
                !["DATABASE_URL", "REDIS_URL", "HOMERACK_CONFIG", "HOST", "PORT", "WORKERS", "LISTEN_FDS", "LISTEN_PID"]
                    .contains($0.key)
            }
            env.merge(environment) { _, new in new }
            let path = directory.appendingPathComponent(log).path
            processes.append(try Child([executable] + arguments, environment: env, stdout: path, stderr: path))
        }

        let partial = RunningStack(
            directory: directory, edgeAdmin: edgeAdmin, backendMetrics: backendMetrics, prometheus: try address(),
            nodeExporter: try address(), processExporter: try address(), monitoringEnvironment: [:], processes: [])
        let monitoring = [
            "MONITORING_DIR": directory.appendingPathComponent("monitoring").path,
            "PROMETHEUS_ADDRESS": partial.prometheus, "ALERTMANAGER_ADDRESS": try address(),
            "NODE_EXPORTER_ADDRESS": partial.nodeExporter, "PROCESS_EXPORTER_ADDRESS": partial.processExporter,
            "EDGE_METRICS_ADDRESS": edgeAdmin, "BACKEND_METRICS_ADDRESS": backendMetrics,
            "SCRAPE_INTERVAL": "1s",
        ]
        do {
            try launch(
                try Operations.binary("homerack-backend"),
                ["supervise", "--workers", "1", "--bind", "127.0.0.1:\(workerPort)", "--metrics-address", backendMetrics],
                environment: ["DATA_DIR": directory.appendingPathComponent("data").path, "LOG_LEVEL": "warning"],
                log: "backend.log")
            try await waitUntil("the backend worker", timeout: .seconds(120)) {
                guard await httpGet("http://127.0.0.1:\(workerPort)/api/health/ready") != nil else { return false }
                return await httpGet("http://\(backendMetrics)/metrics")?.contains("backend_workers") == true
            }

            let config = """
                listeners:
                  - name: public
                    address: \(edgeListener)
                admin:
                  address: \(edgeAdmin)
                event_loops: 1
                logging: {access_log: "off", error_log: stderr, level: warning}
                limits:
                  zones:
                    api: {rate: 1000r/s}
                upstreams:
                  backend:
                    servers: ["127.0.0.1:\(workerPort)"]
                    health_check: {path: /api/health/ready, interval: 2s, timeout: 1s, rise: 1, fall: 2}
                routes:
                  - prefix: /api/
                    proxy: backend
                    rate_limit: {zone: api, burst: 10, nodelay: true}

                """
            let configFile = directory.appendingPathComponent("edge.yaml")
            try config.write(to: configFile, atomically: true, encoding: .utf8)
            try launch(try Operations.binary("homerack-edge"), ["--config", configFile.path], environment: [:], log: "edge.log")
            try await waitUntil("the edge", timeout: .seconds(60)) {
                await httpGet("http://\(edgeListener)/api/health/ready") != nil
            }
            for path in ["/api/racks", "/api/health/ready", "/api/racks/999999"] {
                _ = try await run(["curl", "-s", "-o", "/dev/null", "--max-time", "5", "http://\(edgeListener)\(path)"])
            }

            let stack = RunningStack(
                directory: directory, edgeAdmin: edgeAdmin, backendMetrics: backendMetrics,
                prometheus: partial.prometheus, nodeExporter: partial.nodeExporter,
                processExporter: partial.processExporter, monitoringEnvironment: monitoring, processes: processes)
            let started = try await run([Operations.path("deploy/monitoring.sh"), "start"], environment: monitoring, timeout: .seconds(300))
            guard started.status == 0 else {
                stack.stop()
                throw OperationsFailure("monitoring.sh start failed\n\(started)")
            }
            let status = try await run([Operations.path("deploy/monitoring.sh"), "status"], environment: monitoring)
            #expect(status.status == 0, "\(status)")
            try await waitUntil("Prometheus to scrape every target", timeout: .seconds(90)) {
                guard let body = await httpGet("http://\(stack.prometheus)/api/v1/targets"),
                    let object = try? JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any],
                    let targets = (object["data"] as? [String: Any])?["activeTargets"] as? [[String: Any]]
                else { return false }
                return targets.count == 5 && targets.allSatisfy { $0["health"] as? String == "up" }
            }
            return stack
        } catch {
            var logs = ""
            for log in ["backend.log", "edge.log"] {
                let text = (try? String(contentsOf: directory.appendingPathComponent(log), encoding: .utf8)) ?? ""
                logs += "--- \(log) ---\n\(text.suffix(3000))\n"
            }
            RunningStack(
                directory: directory, edgeAdmin: edgeAdmin, backendMetrics: backendMetrics, prometheus: partial.prometheus,
                nodeExporter: partial.nodeExporter, processExporter: partial.processExporter,
                monitoringEnvironment: monitoring, processes: processes
            ).stop()
            throw OperationsFailure("\(error)\n\(logs)")
        }
    }

    /// Stops everything this stack started: the monitoring daemons through monitoring.sh (by
    /// their recorded PIDs), then the edge and the supervisor (SIGTERM, SIGKILL after 30 s).
    func stop() {
        if !monitoringEnvironment.isEmpty {
            _ = try? runBlocking([Operations.path("deploy/monitoring.sh"), "stop"], environment: monitoringEnvironment, timeout: .seconds(120))
        }
        for process in processes.reversed() { process.stop() }
        try? FileManager.default.removeItem(at: directory)
    }
}
