import Foundation
import Testing

extension OperationsSuite {
    /// deploy/generate_passwords.sh, the Redis configuration, the container files and the
    /// logrotate configuration, each checked by the tool that reads it.
    @Suite(.serialized)
    struct SecretsAndConfigTests {
        static let generator = Operations.path("deploy/generate_passwords.sh")

        static func values(in file: URL) throws -> [String: String] {
            var values: [String: String] = [:]
            for line in try String(contentsOf: file, encoding: .utf8).split(separator: "\n") where !line.hasPrefix("#") {
                guard let equals = line.firstIndex(of: "=") else { continue }
                values[String(line[..<equals])] = String(line[line.index(after: equals)...])
            }
            return values
        }

        @Test func generatedSecretsHaveTheDocumentedStrength() async throws {
            let directory = try Operations.scratch("secrets")
            defer { try? FileManager.default.removeItem(at: directory) }
            let result = try await run([Self.generator], directory: directory)
            #expect(result.status == 0, "\(result)")
            let file = directory.appendingPathComponent(".env.generated")
            let attributes = try FileManager.default.attributesOfItem(atPath: file.path)
            #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600)

            let values = try Self.values(in: file)
            let alphanumeric = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")
            let hex = CharacterSet(charactersIn: "0123456789abcdef")
            let postgres = try #require(values["POSTGRES_PASSWORD"])
            let redis = try #require(values["REDIS_PASSWORD"])
            let token = try #require(values["API_TOKEN"])
            let digest = try #require(values["API_TOKEN_DIGEST"])
            #expect(postgres.count == 32 && postgres.unicodeScalars.allSatisfy(alphanumeric.contains))
            #expect(redis.count == 48 && redis.unicodeScalars.allSatisfy(alphanumeric.contains))
            #expect(token.count == 64 && token.unicodeScalars.allSatisfy(hex.contains))
            // 62^32 > 2^190, 62^48 > 2^285: the strength the script's header states.
            #expect(Double(postgres.count) * log2(62) >= 190)
            #expect(Double(redis.count) * log2(62) >= 285)
            // Three different values: no shared source or truncated output.
            #expect(Set([postgres, redis, token]).count == 3)
            // The digest is the one the backend computes for the token.
            let hashed = try await run([try Operations.binary("homerack-backend"), "hash-token"], stdin: token + "\n")
            #expect(hashed.status == 0, "\(hashed)")
            #expect(hashed.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == digest)
        }

        @Test func generatorNeverOverwritesAnExistingFile() async throws {
            let directory = try Operations.scratch("secrets")
            defer { try? FileManager.default.removeItem(at: directory) }
            let file = directory.appendingPathComponent("mine.env")
            try #require(try await run([Self.generator, file.path]).status == 0)
            let first = try Data(contentsOf: file)
            let second = try await run([Self.generator, file.path])
            #expect(second.status == 1, "\(second)")
            #expect(try Data(contentsOf: file) == first)
            // Another run into a new file draws new values.
            let other = directory.appendingPathComponent("other.env")
            try #require(try await run([Self.generator, other.path]).status == 0)
            #expect(try Self.values(in: other)["POSTGRES_PASSWORD"] != (try Self.values(in: file))["POSTGRES_PASSWORD"])
        }

        @Test func envFilesStayOutOfGitButTheTemplates() async throws {
            let ignored = try await run(["git", "-C", Operations.root.path, "check-ignore", "--no-index", ".env.generated", ".env", ".env.local"])
            #expect(ignored.status == 0 && ignored.stdout.split(separator: "\n").count == 3, "\(ignored)")
            let template = try await run(["git", "-C", Operations.root.path, "check-ignore", "--no-index", ".env.production"])
            #expect(template.status == 1, "\(template)")
        }

        /// Redis 7 loads deploy/redis.conf (password filled in, moved to a scratch port and
        /// directory), asks for the password, and runs with the configured policy.
        @Test func redisLoadsTheProductionConfiguration() async throws {
            let directory = try Operations.scratch("redis")
            defer { try? FileManager.default.removeItem(at: directory) }
            let port = try Operations.freePort()
            var text = try String(contentsOfFile: Operations.path("deploy/redis.conf"), encoding: .utf8)
            text = text.replacingOccurrences(of: "<redis-password>", with: "s3cret")
                .replacingOccurrences(of: "\nport 6379\n", with: "\nport \(port)\n")
                .replacingOccurrences(of: "\ndir /var/lib/redis\n", with: "\ndir \(directory.path)\n")
                .replacingOccurrences(of: "\npidfile /run/redis/redis-server.pid\n", with: "\npidfile \(directory.path)/redis.pid\n")
                .replacingOccurrences(of: "\nsupervised systemd\n", with: "\nsupervised no\n")
            let config = directory.appendingPathComponent("redis.conf")
            try text.write(to: config, atomically: true, encoding: .utf8)
            let log = directory.appendingPathComponent("redis.log")
            let server = try Child(
                [try Operations.tool("redis-server"), config.path], environment: Operations.environment,
                stdout: log.path, stderr: log.path)
            defer { server.stop() }
            let cli = ["redis-cli", "-h", "127.0.0.1", "-p", String(port)]
            do {
                try await waitUntil("redis to answer", timeout: .seconds(30)) {
                    try await run(cli + ["ping"]).stdout.contains("NOAUTH")
                }
            } catch {
                throw OperationsFailure("\(error)\n\((try? String(contentsOf: log, encoding: .utf8)) ?? "")")
            }
            let authenticated = cli + ["-a", "s3cret", "--no-auth-warning"]
            #expect(try await run(authenticated + ["ping"]).stdout.contains("PONG"))
            #expect(try await run(authenticated + ["config", "get", "maxmemory"]).stdout.contains("268435456"))
            #expect(try await run(authenticated + ["config", "get", "maxmemory-policy"]).stdout.contains("allkeys-lru"))
            #expect(try await run(authenticated + ["config", "get", "appendonly"]).stdout.contains("yes"))
            #expect(try await run(authenticated + ["config", "get", "bind"]).stdout.contains("127.0.0.1"))
        }

        @Test func composeFileIsValidAndHardened() async throws {
            let directory = try Operations.scratch("compose")
            defer { try? FileManager.default.removeItem(at: directory) }
            let env = directory.appendingPathComponent(".env.generated")
            try #require(try await run([Self.generator, env.path]).status == 0)
            let compose = Operations.path("deploy/container/docker-compose.yml")
            let result = try await run(["docker-compose", "-f", compose, "--env-file", env.path, "config"])
            #expect(result.status == 0, "\(result)")
            let rendered = result.stdout
            for service in ["edge", "backend", "postgres", "redis"] {
                #expect(rendered.contains("  \(service):"), "no service \(service)")
            }
            #expect(rendered.components(separatedBy: "read_only: true").count - 1 == 4, "\(rendered)")
            #expect(rendered.components(separatedBy: "no-new-privileges:true").count - 1 == 4)
            #expect(rendered.components(separatedBy: "max-size: 10m").count - 1 == 4)
            #expect(rendered.components(separatedBy: "max-file: '3'").count - 1 == 4)
            // The only capability added back anywhere is the edge's NET_BIND_SERVICE.
            let added = rendered.split(separator: "\n").enumerated().filter { $0.element.contains("cap_add:") }
            #expect(added.count == 1)
            #expect(rendered.contains("- NET_BIND_SERVICE"))
            // Without the secrets the file refuses to render.
            let missing = try await run(["docker-compose", "-f", compose, "config"], removing: ["POSTGRES_PASSWORD", "REDIS_PASSWORD", "API_TOKEN_DIGEST"])
            #expect(missing.status != 0, "\(missing)")
        }

        @Test func logrotateReadsItsConfiguration() async throws {
            let result = try await run(["logrotate", "--debug", "--state", "/dev/null", Operations.path("deploy/logrotate.conf")])
            #expect(result.status == 0, "\(result)")
            #expect(!result.stderr.contains("error"), "\(result)")
            #expect(result.stderr.contains("copytruncate") || result.stderr.contains("rotating pattern"), "\(result)")
        }

        @Test func scriptsPassShellcheck() async throws {
            let scripts = ["backup.sh", "restore.sh", "monitoring.sh", "generate_passwords.sh"].map { Operations.path("deploy/\($0)") }
            let result = try await run(["shellcheck", "-x"] + scripts, directory: Operations.root)
            #expect(result.status == 0, "\(result)")
        }
    }
}

extension OperationsSuite {
    /// PRODUCTION_SETUP.md names only files that exist and commands the binaries have.
    @Suite(.serialized)
    struct ProductionGuideTests {
        static func guide() throws -> String {
            try String(contentsOfFile: Operations.path("PRODUCTION_SETUP.md"), encoding: .utf8)
        }

        @Test func everyRepositoryPathInTheGuideExists() async throws {
            let text = try Self.guide()
            let regex = try NSRegularExpression(pattern: #"(?<![\w/.])((?:deploy|monitoring|config|docs)/[A-Za-z0-9_./*-]*[A-Za-z0-9_*])"#)
            var paths = Set<String>()
            for match in regex.matches(in: text, range: NSRange(text.startIndex..., in: text)) {
                paths.insert(String(text[Range(match.range(at: 1), in: text)!]))
            }
            #expect(paths.count >= 20)
            for path in paths.sorted() {
                if path.contains("*") {
                    let directory = Operations.path((path as NSString).deletingLastPathComponent)
                    let suffix = (path as NSString).lastPathComponent.replacingOccurrences(of: "*", with: "")
                    let matches = (try? FileManager.default.contentsOfDirectory(atPath: directory))?.filter { $0.hasSuffix(suffix) } ?? []
                    #expect(!matches.isEmpty, "PRODUCTION_SETUP.md names \(path), which matches nothing")
                } else {
                    #expect(FileManager.default.fileExists(atPath: Operations.path(path)), "PRODUCTION_SETUP.md names \(path), which does not exist")
                }
            }
        }

        @Test func everyBackendCommandInTheGuideExists() async throws {
            let text = try Self.guide()
            let regex = try NSRegularExpression(pattern: #"homerack-backend ([a-z][a-z-]+)"#)
            var commands = Set<String>()
            for match in regex.matches(in: text, range: NSRange(text.startIndex..., in: text)) {
                commands.insert(String(text[Range(match.range(at: 1), in: text)!]))
            }
            // `systemctl ... homerack-edge homerack-backend homerack-backup` names units, not commands.
            commands = commands.filter { !$0.hasPrefix("homerack") }
            #expect(commands.isSuperset(of: ["migrate", "copy-database", "hash-token"]))
            let backend = try Operations.binary("homerack-backend")
            for command in commands.sorted() {
                let help = try await run([backend, command, "--help"])
                #expect(help.status == 0, "PRODUCTION_SETUP.md runs `homerack-backend \(command)`\n\(help)")
            }
            let edge = try await run([try Operations.binary("homerack-edge"), "--help"])
            #expect(edge.status == 0 && edge.stdout.contains("--check"), "\(edge)")
        }
    }
}
