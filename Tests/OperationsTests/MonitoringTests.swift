import Foundation
import Testing

extension OperationsSuite {
    /// monitoring/: the Prometheus configuration and alert rules pass promtool, every alert has unit
    /// tests that pass, the dashboards' queries parse, and every metric an alert or a dashboard
    /// names is one the running stack exposes.
    @Suite(.serialized)
    struct MonitoringTests {
        static let alerts = Operations.path("monitoring/alerts.yml")
        static let dashboards = ["homerack-application.json", "homerack-infrastructure.json"].map {
            Operations.path("monitoring/grafana/dashboards/\($0)")
        }

        @Test func prometheusConfigurationAndRulesPassPromtool() async throws {
            let config = try await run(["promtool", "check", "config", Operations.path("monitoring/prometheus.yml")])
            #expect(config.status == 0, "\(config)")
            let rules = try await run(["promtool", "check", "rules", Self.alerts])
            #expect(rules.status == 0, "\(rules)")
            let alertmanager = try await run(["amtool", "check-config", Operations.path("monitoring/alertmanager.yml")])
            #expect(alertmanager.status == 0, "\(alertmanager)")
        }

        @Test func alertUnitTestsPass() async throws {
            let result = try await run(["promtool", "test", "rules", Operations.path("monitoring/tests/alerts_test.yml")])
            #expect(result.status == 0, "\(result)")
        }

        /// Each alert is the subject of a test case that expects it to fire, and of one that
        /// expects silence (`exp_alerts: []`).
        @Test func everyAlertHasAFiringAndASilentCase() async throws {
            let names = try Self.alertNames()
            #expect(names.count >= 12)
            let tests = try String(contentsOfFile: Operations.path("monitoring/tests/alerts_test.yml"), encoding: .utf8)
            let lines = tests.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
            var firing: Set<String> = []
            var silent: Set<String> = []
            for (index, line) in lines.enumerated() where line.hasPrefix("alertname:") {
                let name = line.dropFirst("alertname:".count).trimmingCharacters(in: .whitespaces)
                let next = index + 1 < lines.count ? lines[index + 1] : ""
                if next == "exp_alerts: []" { silent.insert(name) } else if next == "exp_alerts:" { firing.insert(name) }
            }
            for name in names {
                #expect(firing.contains(name), "no test case expects \(name) to fire")
                #expect(silent.contains(name), "no test case expects \(name) to stay silent")
            }
        }

        /// promtool parses every dashboard query (written out as recording rules).
        @Test func dashboardQueriesParse() async throws {
            let expressions = try Self.dashboardExpressions()
            #expect(expressions.count >= 30)
            let directory = try Operations.scratch("dashboards")
            defer { try? FileManager.default.removeItem(at: directory) }
            var yaml = "groups:\n  - name: dashboards\n    rules:\n"
            for (index, expression) in expressions.enumerated() {
                let quoted = String(data: try JSONSerialization.data(withJSONObject: [expression], options: [.withoutEscapingSlashes]), encoding: .utf8)!
                    .dropFirst().dropLast()
                yaml += "      - record: dashboard:query_\(index)\n        expr: \(quoted)\n"
            }
            let file = directory.appendingPathComponent("dashboards.yml")
            try yaml.write(to: file, atomically: true, encoding: .utf8)
            let result = try await run(["promtool", "check", "rules", file.path])
            #expect(result.status == 0, "\(result)")
            // Provisioning points at the data source uid every panel uses.
            let datasource = try String(contentsOfFile: Operations.path("monitoring/grafana/provisioning/datasources/homerack.yml"), encoding: .utf8)
            #expect(datasource.contains("uid: homerack-prometheus"))
        }

        /// Starts the edge and the backend supervisor (the built binaries) and, with
        /// deploy/monitoring.sh, Prometheus, Alertmanager, node exporter and process exporter; waits
        /// until Prometheus has scraped every target; then every metric named in an alert or a
        /// dashboard must be in what the targets expose.
        @Test func everyMetricInAlertsAndDashboardsIsExposed() async throws {
            let stack = try await RunningStack.start()
            defer { stack.stop() }

            var exposed = Set<String>()
            for target in [stack.edgeAdmin, stack.backendMetrics, stack.nodeExporter, stack.processExporter] {
                let text = try #require(await httpGet("http://\(target)/metrics"), "nothing on http://\(target)/metrics")
                exposed.formUnion(MetricNames.exposed(in: text))
            }
            // And what Prometheus itself stored (`up` is its own).
            let stored = try #require(await httpGet("http://\(stack.prometheus)/api/v1/label/__name__/values"))
            let names = try #require(
                (try JSONSerialization.jsonObject(with: Data(stored.utf8)) as? [String: Any])?["data"] as? [String])
            exposed.formUnion(names)

            var referenced: [String: Set<String>] = [:]
            for expression in try Self.alertExpressions() {
                for name in MetricNames.referenced(in: expression) { referenced[name, default: []].insert("alerts.yml") }
            }
            for expression in try Self.dashboardExpressions() {
                for name in MetricNames.referenced(in: expression) { referenced[name, default: []].insert("dashboards") }
            }
            #expect(referenced.keys.contains("edge_upstream_up"))
            #expect(referenced.keys.contains("backend_worker_exits_total"))
            let missing = referenced.keys.filter { !exposed.contains($0) }.sorted()
            #expect(missing.isEmpty, "named but not exposed: \(missing.map { "\($0) (\(referenced[$0]!.sorted().joined(separator: ", ")))" })")
        }

        // MARK: Reading the files

        static func alertNames() throws -> [String] {
            try String(contentsOfFile: alerts, encoding: .utf8).split(separator: "\n")
                .map { $0.trimmingCharacters(in: .whitespaces) }
                .filter { $0.hasPrefix("- alert:") }
                .map { $0.dropFirst("- alert:".count).trimmingCharacters(in: .whitespaces) }
        }

        /// The `expr:` of every rule: one line, or a `|` block (its more-indented lines).
        static func alertExpressions() throws -> [String] {
            let lines = try String(contentsOfFile: alerts, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false)
                .map(String.init)
            var expressions: [String] = []
            var index = 0
            while index < lines.count {
                let line = lines[index]
                let trimmed = line.trimmingCharacters(in: .whitespaces)
                if trimmed.hasPrefix("expr:") {
                    let rest = trimmed.dropFirst("expr:".count).trimmingCharacters(in: .whitespaces)
                    if rest == "|" {
                        let indent = line.prefix { $0 == " " }.count
                        var block: [String] = []
                        index += 1
                        while index < lines.count, lines[index].prefix(while: { $0 == " " }).count > indent
                            || lines[index].trimmingCharacters(in: .whitespaces).isEmpty
                        {
                            block.append(lines[index])
                            index += 1
                        }
                        expressions.append(block.joined(separator: "\n"))
                        continue
                    }
                    expressions.append(rest)
                }
                index += 1
            }
            return expressions
        }

        static func dashboardExpressions() throws -> [String] {
            var expressions: [String] = []
            for path in dashboards {
                let object = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path)))
                let panels = try #require((object as? [String: Any])?["panels"] as? [[String: Any]], "\(path) has no panels")
                for panel in panels {
                    for target in panel["targets"] as? [[String: Any]] ?? [] {
                        if let expr = target["expr"] as? String { expressions.append(expr) }
                    }
                }
            }
            return expressions
        }
    }
}

/// Metric names in PromQL and in the text exposition format.
enum MetricNames {
    static let keywords: Set<String> = [
        "by", "without", "on", "ignoring", "group_left", "group_right", "offset", "bool", "and", "or", "unless",
        "inf", "nan",
    ]

    /// The metric names an expression selects: identifiers outside label matchers, strings,
    /// ranges and grouping clauses, not followed by `(` (functions and aggregations).
    static func referenced(in expression: String) -> Set<String> {
        var text = expression
        for pattern in [
            #""(?:[^"\\]|\\.)*""#, #"'(?:[^'\\]|\\.)*'"#, #"\{[^}]*\}"#, #"\[[^\]]*\]"#,
            #"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)"#, #"\boffset\s+\w+"#,
        ] {
            text = text.replacingOccurrences(of: pattern, with: " ", options: .regularExpression)
        }
        var names = Set<String>()
        let regex = try! NSRegularExpression(pattern: #"(?<![A-Za-z0-9_:.])([A-Za-z_:][A-Za-z0-9_:]*)(\s*\()?"#)
        let range = NSRange(text.startIndex..., in: text)
        for match in regex.matches(in: text, range: range) {
            guard match.range(at: 2).location == NSNotFound,
                let nameRange = Range(match.range(at: 1), in: text)
            else { continue }
            let name = String(text[nameRange])
            if !keywords.contains(name.lowercased()) { names.insert(name) }
        }
        return names
    }

    /// Every name a scrape exposes: sample names, and each `# TYPE` family with the series names
    /// its type implies (a histogram's `_bucket`, `_sum`, `_count`).
    static func exposed(in exposition: String) -> Set<String> {
        var names = Set<String>()
        for line in exposition.split(separator: "\n") {
            if line.hasPrefix("# TYPE ") {
                let parts = line.split(separator: " ")
                guard parts.count >= 4 else { continue }
                let family = String(parts[2])
                names.insert(family)
                if parts[3] == "histogram" || parts[3] == "summary" {
                    names.formUnion(["\(family)_bucket", "\(family)_sum", "\(family)_count"])
                }
            } else if !line.hasPrefix("#") {
                let name = line.prefix { $0 != "{" && $0 != " " }
                if !name.isEmpty { names.insert(String(name)) }
            }
        }
        return names
    }
}
