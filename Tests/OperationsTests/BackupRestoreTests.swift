import Foundation
import Testing

extension OperationsSuite {
    /// deploy/backup.sh and deploy/restore.sh, run as an operator runs them, against a database
    /// migrated by the real `homerack-backend migrate` and filled with rows of every table.
    @Suite(.serialized)
    struct BackupRestoreTests {
        static let backup = Operations.path("deploy/backup.sh")
        static let restore = Operations.path("deploy/restore.sh")
        /// Variables of the test process that would otherwise leak into the scripts' configuration.
        static let isolated = ["DATABASE_URL", "DATA_DIR", "UPLOADS_DIR", "HOMERACK_CONFIG", "BACKUP_DIR", "RETENTION_DAYS"]

        /// Rows in every table, in SQL both engines take: NULLs, quotes, non-ASCII text, newlines,
        /// reals, booleans, foreign keys, and a few hundred generated racks.
        static let seedSQL = """
            INSERT INTO racks (name, location, created_at, updated_at) VALUES ('Lab', 'Basement', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z');
            INSERT INTO racks (name, location, airflow_cfm, created_at, updated_at) VALUES ('Büro «Ü» O''Brien', NULL, 123.456, '2026-01-02T00:00:00Z', '2026-01-03T00:00:00Z');
            WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 300)
            INSERT INTO racks (name, location, depth_mm, created_at, updated_at)
            SELECT 'rack ' || i, 'row ' || (i % 7), 600 + i * 1.25, '2026-02-01T00:00:00Z', '2026-02-01T00:00:00Z' FROM n;
            INSERT INTO device_specifications (brand, model, height_u, last_updated) VALUES ('Dell', 'R740', 2, '2026-01-01T00:00:00Z');
            INSERT INTO device_specifications (brand, model, variant, height_u, typical_ports, last_updated) VALUES ('HPE', 'DL380', 'Gen10', 2.5, '["eth0","eth1"]', '2026-01-01T00:00:00Z');
            INSERT INTO device_types (name, slug, created_at, updated_at) VALUES ('Server', 'server', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z');
            INSERT INTO device_types (name, slug, icon, created_at, updated_at) VALUES ('Switch', 'switch', 'network', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z');
            INSERT INTO brands (name, slug, logo_url, founded_year, created_at, updated_at) VALUES ('Ubiquiti', 'ubiquiti', '/uploads/brand_logos/ubiquiti.png', 2005, '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z');
            INSERT INTO models (brand_id, device_type_id, name, height_u, last_updated) VALUES ((SELECT id FROM brands WHERE slug = 'ubiquiti'), (SELECT id FROM device_types WHERE slug = 'switch'), 'USW-24', 1, '2026-01-01T00:00:00Z');
            INSERT INTO devices (custom_name, specification_id, notes) VALUES ('web-1', (SELECT id FROM device_specifications WHERE model = 'R740'), 'line one
            line two');
            INSERT INTO devices (custom_name, model_id, serial_number) VALUES ('core-sw', (SELECT id FROM models WHERE name = 'USW-24'), 'SN-0001');
            INSERT INTO rack_positions (rack_id, device_id, start_u, locked) VALUES ((SELECT id FROM racks WHERE name = 'Lab'), (SELECT id FROM devices WHERE custom_name = 'web-1'), 10, TRUE);
            INSERT INTO rack_positions (rack_id, device_id, start_u) VALUES ((SELECT id FROM racks WHERE name = 'Lab'), (SELECT id FROM devices WHERE custom_name = 'core-sw'), 42);
            INSERT INTO connections (from_device_id, to_device_id, from_port, to_port, cable_length_m) VALUES ((SELECT id FROM devices WHERE custom_name = 'web-1'), (SELECT id FROM devices WHERE custom_name = 'core-sw'), 'eth0', 'port1', 1.5);
            """

        // MARK: Round trips

        @Test func sqliteRoundTripRestoresEveryRowAndUpload() async throws {
            let site = try await Site.sqlite()
            defer { site.remove() }
            let before = try await site.snapshot()
            #expect(before.tables["racks"]?.count == 302)

            let archive = try await site.takeBackup()
            let verified = try await run([Self.backup, "--verify", archive], environment: site.environment, removing: Self.isolated)
            #expect(verified.status == 0, "\(verified)")

            let target = try await Site.sqlite(seeded: false)
            defer { target.remove() }
            let restored = try await run([Self.restore, archive], environment: target.environment, removing: Self.isolated)
            #expect(restored.status == 0, "\(restored)")
            #expect((restored.jsonLine?["mismatched"] as? [Any])?.isEmpty == true, "\(restored)")
            let after = try await target.snapshot()
            #expect(after.tables == before.tables)
            #expect(after.uploads == before.uploads)
            #expect(after.tables.keys.contains("schema_migrations"))
        }

        @Test(.enabled(if: Operations.postgresRequired))
        func postgresRoundTripRestoresEveryRowAndUpload() async throws {
            let site = try await Site.postgres()
            defer { site.remove() }
            let before = try await site.snapshot()
            #expect(before.tables["racks"]?.count == 302)

            let archive = try await site.takeBackup()
            let metadata = try await Self.metadata(of: archive)
            #expect(metadata["database"] as? String == "postgresql")
            #expect((metadata["schema_version"] as? Int ?? 0) >= 1)
            #expect((metadata["row_counts"] as? [String: Int])?["racks"] == 302)

            let target = try await Site.postgres(seeded: false)
            defer { target.remove() }
            let restored = try await run([Self.restore, archive], environment: target.environment, removing: Self.isolated)
            #expect(restored.status == 0, "\(restored)")
            let after = try await target.snapshot()
            #expect(after.tables == before.tables)
            #expect(after.uploads == before.uploads)

            // Into a database that now has tables: refused without --force, then replaced with it.
            let again = try await run([Self.restore, archive], environment: target.environment, removing: Self.isolated)
            #expect(again.status == 5, "\(again)")
            let forced = try await run([Self.restore, "--force", archive], environment: target.environment, removing: Self.isolated)
            #expect(forced.status == 0, "\(forced)")
            #expect(try await target.snapshot().tables == before.tables)
        }

        @Test func restoreRefusesAnExistingSQLiteFileWithoutForce() async throws {
            let site = try await Site.sqlite()
            defer { site.remove() }
            let archive = try await site.takeBackup()
            let other = try await Site.sqlite()
            defer { other.remove() }
            try await other.execute("DELETE FROM connections")
            let before = try await other.snapshot()

            let refused = try await run([Self.restore, archive], environment: other.environment, removing: Self.isolated)
            #expect(refused.status == 5, "\(refused)")
            #expect(try await other.snapshot().tables == before.tables)

            let forced = try await run([Self.restore, "--force", archive], environment: other.environment, removing: Self.isolated)
            #expect(forced.status == 0, "\(forced)")
            #expect(try await other.snapshot().tables == (try await site.snapshot()).tables)
        }

        // MARK: Damaged archives

        @Test func damagedGzipIsRefusedByVerifyAndRestore() async throws {
            let site = try await Site.sqlite()
            defer { site.remove() }
            let archive = try await site.takeBackup()
            var bytes = try Data(contentsOf: URL(fileURLWithPath: archive))
            for offset in stride(from: bytes.count / 3, to: bytes.count / 3 + 16, by: 1) { bytes[offset] ^= 0xFF }
            let damaged = site.directory.appendingPathComponent("damaged.tar.gz").path
            try bytes.write(to: URL(fileURLWithPath: damaged))

            let verified = try await run([Self.backup, "--verify", damaged], removing: Self.isolated)
            #expect(verified.status == 4, "\(verified)")
            let target = try await Site.sqlite(seeded: false)
            defer { target.remove() }
            let restored = try await run([Self.restore, damaged], environment: target.environment, removing: Self.isolated)
            #expect(restored.status == 4, "\(restored)")
            #expect(!FileManager.default.fileExists(atPath: target.sqliteFile))
        }

        /// A well-formed archive whose database part was changed after it was written: only the
        /// checksum in the metadata can tell.
        @Test func tamperedPartFailsItsChecksum() async throws {
            let site = try await Site.sqlite()
            defer { site.remove() }
            let archive = try await site.takeBackup()
            let unpacked = site.directory.appendingPathComponent("unpacked")
            try FileManager.default.createDirectory(at: unpacked, withIntermediateDirectories: true)
            try #require(try await run(["tar", "-C", unpacked.path, "-xzf", archive]).status == 0)
            let database = unpacked.appendingPathComponent("database.sqlite")
            var bytes = try Data(contentsOf: database)
            bytes[bytes.count - 10] ^= 0x01
            try bytes.write(to: database)
            let tampered = site.directory.appendingPathComponent("tampered.tar.gz").path
            try #require(
                try await run(["tar", "-C", unpacked.path, "-czf", tampered, "metadata.json", "database.sqlite", "uploads.tar"])
                    .status == 0)

            let verified = try await run([Self.backup, "--verify", tampered], removing: Self.isolated)
            #expect(verified.status == 4, "\(verified)")
            #expect((verified.jsonLine?["error"] as? String)?.contains("checksum") == true, "\(verified)")
            let target = try await Site.sqlite(seeded: false)
            defer { target.remove() }
            let restored = try await run([Self.restore, tampered], environment: target.environment, removing: Self.isolated)
            #expect(restored.status == 4, "\(restored)")
        }

        // MARK: Retention and the lock

        @Test func retentionDeletesOnlyArchivesOlderThanTheWindow() async throws {
            let site = try await Site.sqlite()
            defer { site.remove() }
            let now = 1_800_000_000  // 2027-01-15T08:00:00Z
            let dest = site.directory.appendingPathComponent("backups")
            try FileManager.default.createDirectory(at: dest, withIntermediateDirectories: true)
            func name(daysAgo: Double) -> String {
                let date = Date(timeIntervalSince1970: Double(now) - daysAgo * 86400)
                let formatter = DateFormatter()
                formatter.locale = Locale(identifier: "en_US_POSIX")
                formatter.timeZone = TimeZone(identifier: "UTC")
                formatter.dateFormat = "yyyyMMdd'T'HHmmss'Z'"
                return "homerack-backup-\(formatter.string(from: date)).tar.gz"
            }
            let old = [name(daysAgo: 30), name(daysAgo: 8), name(daysAgo: 7.01)]
            let kept = [name(daysAgo: 6.99), name(daysAgo: 3), name(daysAgo: 1)]
            let unrelated = ["notes.txt", "homerack-backup-latest.tar.gz"]
            for file in old + kept + unrelated {
                _ = FileManager.default.createFile(atPath: dest.appendingPathComponent(file).path, contents: Data("x".utf8))
            }

            let result = try await run(
                [Self.backup, "--dest", dest.path, "--now", String(now), "--retention-days", "7"],
                environment: site.environment, removing: Self.isolated)
            #expect(result.status == 0, "\(result)")
            let remaining = Set(try FileManager.default.contentsOfDirectory(atPath: dest.path).filter { !$0.hasPrefix(".") })
            #expect(remaining == Set(kept + unrelated + [name(daysAgo: 0)]))
            #expect(Set((result.jsonLine?["pruned"] as? [String])?.map { URL(fileURLWithPath: $0).lastPathComponent } ?? []) == Set(old))
        }

        @Test func retentionNeverDeletesTheNewestArchive() async throws {
            let dest = try Operations.scratch("prune")
            let configuration = try Operations.scratch("config")
            defer {
                try? FileManager.default.removeItem(at: dest)
                try? FileManager.default.removeItem(at: configuration)
            }
            for file in ["homerack-backup-20260101T020000Z.tar.gz", "homerack-backup-20260102T020000Z.tar.gz"] {
                _ = FileManager.default.createFile(atPath: dest.appendingPathComponent(file).path, contents: Data("x".utf8))
            }
            // A year later, with a 7-day window: both are out of it, and the newer one stays.
            let result = try await run(
                [Self.backup, "--prune", "--dest", dest.path, "--now", "1798761600", "--retention-days", "7"],
                environment: ["HOMERACK_CONFIG": try Site.emptyConfiguration(in: configuration)], removing: Self.isolated)
            #expect(result.status == 0, "\(result)")
            let remaining = try FileManager.default.contentsOfDirectory(atPath: dest.path).filter { !$0.hasPrefix(".") }
            #expect(remaining == ["homerack-backup-20260102T020000Z.tar.gz"])
        }

        @Test func secondRunExitsWhileTheLockIsHeld() async throws {
            let site = try await Site.sqlite()
            defer { site.remove() }
            let dest = site.directory.appendingPathComponent("backups")
            try FileManager.default.createDirectory(at: dest, withIntermediateDirectories: true)
            let lock = dest.appendingPathComponent(".backup.lock").path
            // --no-fork: flock becomes `sleep`, so stopping it releases the lock at once.
            let holder = try Child(
                [try Operations.tool("flock"), "--no-fork", lock, "sleep", "120"], environment: Operations.environment,
                stdout: "/dev/null", stderr: "/dev/null")
            defer { holder.stop() }
            try await waitUntil("the lock to be held", timeout: .seconds(30)) {
                try await run(["flock", "-n", lock, "true"]).status != 0
            }
            let result = try await run([Self.backup, "--dest", dest.path], environment: site.environment, removing: Self.isolated)
            #expect(result.status == 3, "\(result)")
            #expect(result.jsonLine?["status"] as? String == "error", "\(result)")
            #expect(try FileManager.default.contentsOfDirectory(atPath: dest.path).filter { $0.hasSuffix(".tar.gz") }.isEmpty)
        }

        static func metadata(of archive: String) async throws -> [String: Any] {
            let result = try await run(["tar", "-xzOf", archive, "metadata.json"])
            try #require(result.status == 0, "\(result)")
            return try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        }
    }
}

/// A HomeRack installation in a scratch directory: a migrated database (SQLite in DATA_DIR, or
/// a database of its own on the test PostgreSQL server), an uploads directory with files, and
/// the environment the scripts read their configuration from.
struct Site {
    let directory: URL
    let environment: [String: String]
    let postgres: (server: String, database: String)?

    var dataDirectory: String { directory.appendingPathComponent("data").path }
    var uploads: String { directory.appendingPathComponent("data/uploads").path }
    var sqliteFile: String { dataDirectory + "/homerack.sqlite" }

    static func sqlite(seeded: Bool = true) async throws -> Site {
        let directory = try Operations.scratch("site")
        let site = Site(
            directory: directory,
            environment: [
                "DATA_DIR": directory.appendingPathComponent("data").path,
                "HOMERACK_CONFIG": try emptyConfiguration(in: directory),
            ],
            postgres: nil)
        if seeded { try await site.seed() }
        return site
    }

    static func postgres(seeded: Bool = true) async throws -> Site {
        let url = try Operations.requirePostgres()
        let server = String(url[..<url.lastIndex(of: "/")!])
        let database = "ops_\(UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(16).lowercased())"
        let created = try await run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", "\(server)/postgres", "-c", "CREATE DATABASE \(database)"])
        try #require(created.status == 0, "\(created)")
        let directory = try Operations.scratch("site")
        let site = Site(
            directory: directory,
            environment: [
                "DATABASE_URL": "\(server)/\(database)",
                "DATA_DIR": directory.appendingPathComponent("data").path,
                "HOMERACK_CONFIG": try emptyConfiguration(in: directory),
            ],
            postgres: (server, database))
        if seeded { try await site.seed() }
        return site
    }

    /// An empty configuration file: the site's settings come from the environment only, never
    /// from a host's /etc/homerack/backend.env (the scripts' default).
    static func emptyConfiguration(in directory: URL) throws -> String {
        let file = directory.appendingPathComponent("backend.env")
        try Data().write(to: file)
        return file.path
    }

    /// Migrates with the real binary, inserts the rows, writes upload files.
    func seed() async throws {
        let migrated = try await run(
            [try Operations.binary("homerack-backend"), "migrate"], environment: environment,
            removing: OperationsSuite.BackupRestoreTests.isolated, timeout: .seconds(120))
        try #require(migrated.status == 0, "\(migrated)")
        try await execute(OperationsSuite.BackupRestoreTests.seedSQL)
        let files: [(String, Data)] = [
            ("brand_logos/ubiquiti.png", Data((0..<4096).map { UInt8(truncatingIfNeeded: $0 &* 7919 &+ 13) })),
            ("brand_logos/dell logo.svg", Data("<svg xmlns=\"http://www.w3.org/2000/svg\"/>".utf8)),
            ("brand_logos/nested/empty.txt", Data()),
        ]
        for (path, contents) in files {
            let url = URL(fileURLWithPath: uploads).appendingPathComponent(path)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try contents.write(to: url)
        }
    }

    func execute(_ sql: String) async throws {
        let result: ToolResult
        if let postgres {
            result = try await run(
                ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", "\(postgres.server)/\(postgres.database)"], stdin: sql)
        } else {
            result = try await run(["sqlite3", "-bail", sqliteFile], stdin: sql)
        }
        try #require(result.status == 0, "\(result)")
    }

    /// Every row of every table (ordered by the first column), as the database prints it, and
    /// every upload file's bytes by relative path.
    struct Snapshot: Equatable {
        var tables: [String: [String]]
        var uploads: [String: Data]
    }

    func snapshot() async throws -> Snapshot {
        var tables: [String: [String]] = [:]
        for table in try await query(
            postgres == nil
                ? "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
                : "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'")
        {
            tables[table] = try await query("SELECT * FROM \"\(table)\" ORDER BY 1")
        }
        var uploads: [String: Data] = [:]
        let root = URL(fileURLWithPath: self.uploads)
        if let walker = FileManager.default.enumerator(at: root, includingPropertiesForKeys: [.isRegularFileKey]) {
            for case let url as URL in walker where (try url.resourceValues(forKeys: [.isRegularFileKey])).isRegularFile == true {
                uploads[String(url.path.dropFirst(root.path.count))] = try Data(contentsOf: url)
            }
        }
        return Snapshot(tables: tables, uploads: uploads)
    }

    func query(_ sql: String) async throws -> [String] {
        let result: ToolResult
        if let postgres {
            result = try await run(
                ["psql", "-X", "-q", "-A", "-t", "-F", "\t", "-v", "ON_ERROR_STOP=1", "-d",
                 "\(postgres.server)/\(postgres.database)", "-c", sql])
        } else {
            result = try await run(["sqlite3", "-readonly", "-separator", "\t", sqliteFile, sql])
        }
        try #require(result.status == 0, "\(result)")
        return result.stdout.split(separator: "\n", omittingEmptySubsequences: false).map(String.init).filter { !$0.isEmpty }
    }

    /// Runs backup.sh into `backups/` and returns the archive's path.
    func takeBackup() async throws -> String {
        let dest = directory.appendingPathComponent("backups").path
        let result = try await run(
            [OperationsSuite.BackupRestoreTests.backup, "--dest", dest], environment: environment, removing: OperationsSuite.BackupRestoreTests.isolated)
        try #require(result.status == 0, "\(result)")
        let line = try #require(result.jsonLine, "\(result)")
        #expect(line["status"] as? String == "ok")
        return try #require(line["archive"] as? String, "\(result)")
    }

    func remove() {
        if let postgres {
            _ = try? runBlocking(["psql", "-X", "-q", "-d", "\(postgres.server)/postgres", "-c", "DROP DATABASE IF EXISTS \(postgres.database) WITH (FORCE)"])
        }
        try? FileManager.default.removeItem(at: directory)
    }
}
