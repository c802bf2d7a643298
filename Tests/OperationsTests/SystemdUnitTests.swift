import Foundation
import Testing

extension OperationsSuite {
    /// The units in deploy/: `systemd-analyze verify` finds nothing to say, and
    /// `systemd-analyze security --offline=yes` scores every service at 2.5 or lower. Both run on
    /// the files alone (no running systemd needed): verify inside a scratch root that holds the
    /// system's own units and an executable at each path the units start.
    @Suite(.serialized)
    struct SystemdUnitTests {
        static let services = ["homerack-edge.service", "homerack-backend.service", "homerack-backup.service"]
        static let units = services + ["homerack-backend.socket", "homerack-backup.timer"]
        static let maximumExposure = 2.5

        @Test(arguments: services)
        func serviceExposureIsAtMostTwoAndAHalf(_ service: String) async throws {
            let result = try await run(["systemd-analyze", "security", "--offline=yes", Operations.path("deploy/\(service)")])
            #expect(result.status == 0, "\(result)")
            let line = try #require(
                result.stdout.split(separator: "\n").first { $0.contains("Overall exposure level for \(service)") },
                "\(result)")
            // "→ Overall exposure level for homerack-edge.service: 1.5 OK 🙂"
            let score = try #require(
                line.split(separator: ":").last?.split(separator: " ").first.flatMap { Double($0) }, "\(line)")
            #expect(score <= Self.maximumExposure, "\(service) scores \(score)\n\(result.stdout)")
        }

        @Test func unitsVerify() async throws {
            let root = try Operations.scratch("systemd-root")
            defer { try? FileManager.default.removeItem(at: root) }
            let fileManager = FileManager.default
            func makeDirectory(_ path: String) throws {
                try fileManager.createDirectory(at: root.appendingPathComponent(path), withIntermediateDirectories: true)
            }
            // The system's units (targets the ours are ordered against), copied in.
            try makeDirectory("usr/lib/systemd")
            let copied = try await run(["cp", "-a", "/usr/lib/systemd/system", root.appendingPathComponent("usr/lib/systemd").path])
            try #require(copied.status == 0, "\(copied)")
            try makeDirectory("etc/systemd/system")
            for unit in Self.units {
                try fileManager.copyItem(
                    atPath: Operations.path("deploy/\(unit)"),
                    toPath: root.appendingPathComponent("etc/systemd/system/\(unit)").path)
            }
            // Every ExecStart=/ExecReload=/ExecStartPre= program the units name, as the guide installs
            // them: the scripts themselves, and the binaries (built by swift test).
            let programs: [String: String] = [
                "usr/local/bin/homerack-edge": try Operations.binary("homerack-edge"),
                "usr/local/bin/homerack-backend": try Operations.binary("homerack-backend"),
                "usr/local/lib/homerack/backup.sh": Operations.path("deploy/backup.sh"),
                "bin/kill": try Operations.tool("kill"),
            ]
            for (target, source) in programs {
                try makeDirectory((target as NSString).deletingLastPathComponent)
                // A hard link (a symbolic one would be resolved inside the root), or a copy.
                let destination = root.appendingPathComponent(target).path
                do { try fileManager.linkItem(atPath: source, toPath: destination) } catch {
                    try fileManager.copyItem(atPath: source, toPath: destination)
                }
            }
            let named = Self.units.map { "/etc/systemd/system/\($0)" }
            let result = try await run(["systemd-analyze", "verify", "--root=\(root.path)"] + named)
            #expect(result.status == 0, "\(result)")
            // verify reports unknown keys and bad values as warnings with status 0: any output fails.
            #expect(result.stdout.isEmpty && result.stderr.isEmpty, "\(result)")

            // And it does complain about a unit with a mistake (so the check above can fail).
            let broken = root.appendingPathComponent("etc/systemd/system/homerack-backup.service")
            try (String(contentsOf: broken, encoding: .utf8) + "ProtectSystm=strict\n").write(to: broken, atomically: true, encoding: .utf8)
            let complaint = try await run(["systemd-analyze", "verify", "--root=\(root.path)", "/etc/systemd/system/homerack-backup.service"])
            #expect(complaint.stderr.contains("ProtectSystm"), "\(complaint)")
        }

        /// The unit files say what the issue asks of them, whatever the score.
        @Test(arguments: services)
        func serviceHasTheRequiredHardening(_ service: String) async throws {
            let text = try String(contentsOfFile: Operations.path("deploy/\(service)"), encoding: .utf8)
            let keys = Set(text.split(separator: "\n").compactMap { line -> String? in
                guard !line.hasPrefix("#"), let equals = line.firstIndex(of: "=") else { return nil }
                return String(line[..<equals])
            })
            for key in [
                "NoNewPrivileges", "ProtectSystem", "ProtectHome", "PrivateTmp", "CapabilityBoundingSet",
                "SystemCallFilter", "RestrictAddressFamilies",
            ] {
                #expect(keys.contains(key), "\(service) has no \(key)=")
            }
            #expect(text.contains("ProtectSystem=strict"))
            #expect(text.contains("SystemCallFilter=@system-service"))
            if service == "homerack-edge.service" {
                #expect(text.contains("AmbientCapabilities=CAP_NET_BIND_SERVICE"))
                #expect(text.contains("CapabilityBoundingSet=CAP_NET_BIND_SERVICE"))
            }
            if service != "homerack-backup.service" { #expect(keys.contains("LimitNOFILE")) }
        }

        @Test func backupTimerRunsDailyAtTwoAndCatchesUp() async throws {
            let text = try String(contentsOfFile: Operations.path("deploy/homerack-backup.timer"), encoding: .utf8)
            #expect(text.contains("OnCalendar=*-*-* 02:00:00"))
            #expect(text.contains("Persistent=true"))
            let next = try await run(["systemd-analyze", "calendar", "*-*-* 02:00:00"])
            #expect(next.status == 0 && next.stdout.contains("02:00:00"), "\(next)")
            let cron = try String(contentsOfFile: Operations.path("deploy/homerack-backup.cron"), encoding: .utf8)
            #expect(cron.contains("0 2 * * * homerack /usr/local/lib/homerack/backup.sh"))
        }
    }
}
