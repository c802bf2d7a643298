import Backend
import Foundation
import NIOCore
import NIOPosix
import Testing

/// The client against a real Redis: every reply type, pipelining, the pool, timeouts.
@Suite("Redis client", .enabled(if: RedisTestServer.required))
struct RedisClientTests {
    private let group = MultiThreadedEventLoopGroup.singleton

    private func connect(_ configuration: RedisConfiguration? = nil) async throws -> RedisConnection {
        try await RedisConnection.connect(to: configuration ?? RedisTestServer.configuration(), on: group.next())
    }

    @Test func getsRepliesOfEveryType() async throws {
        let connection = try await connect()
        defer { Task { await connection.close() } }
        let key = RedisTestServer.uniqueNamespace("types")

        #expect(try await connection.send(RedisCommand("PING")) == .status("PONG"))
        #expect(try await connection.send(RedisCommand("SET", key + "s", "hello")) == .status("OK"))
        #expect(try await connection.send(RedisCommand("GET", key + "s")) == .string(ByteBuffer(string: "hello")))
        #expect(try await connection.send(RedisCommand("GET", key + "missing")) == .null)
        #expect(try await connection.send(RedisCommand("INCRBY", key + "n", -5)) == .integer(-5))
        #expect(try await connection.send(RedisCommand("RPUSH", key + "l", "a", "b", "")) == .integer(3))
        #expect(
            try await connection.send(RedisCommand("LRANGE", key + "l", 0, -1))
                == .array([.string(ByteBuffer(string: "a")), .string(ByteBuffer(string: "b")), .string(ByteBuffer())]))
        #expect(try await connection.send(RedisCommand("LRANGE", key + "none", 0, -1)) == .array([]))
        // A null array: BLPOP that times out.
        #expect(try await connection.send(RedisCommand("BLPOP", key + "none", "0.01")) == .null)
        // Nested arrays with every element type, from Lua.
        #expect(
            try await connection.send(
                RedisCommand("EVAL", "return {1, {2, 'three'}, false, redis.status_reply('fine')}", 0))
                == .array([
                    .integer(1), .array([.integer(2), .string(ByteBuffer(string: "three"))]), .null, .status("fine"),
                ]))

        let wrongType = try await connection.send(RedisCommand("INCR", key + "l"))
        guard case .error(let message) = wrongType else {
            Issue.record("expected an error reply, got \(wrongType)")
            return
        }
        #expect(message.hasPrefix("WRONGTYPE"))
        #expect(throws: RedisError.self) { try wrongType.checked() }
        if case .error(let unknown) = try await connection.send(RedisCommand("NO-SUCH-COMMAND")) {
            #expect(unknown.hasPrefix("ERR unknown command"))
        } else {
            Issue.record("expected an error reply for an unknown command")
        }
        // The connection carries on after error replies.
        #expect(try await connection.send(RedisCommand("PING")) == .status("PONG"))
        _ = try await connection.send(RedisCommand("DEL", key + "s", key + "n", key + "l"))
    }

    @Test func roundTripsBinaryValues() async throws {
        let connection = try await connect()
        defer { Task { await connection.close() } }
        let key = RedisTestServer.uniqueNamespace("binary")
        let value: [UInt8] = Array(0...255) + Array("\r\n$-1\r\n*0\r\n".utf8)
        let large = [UInt8](repeating: 0x61, count: 1_000_000)
        _ = try await connection.send(RedisCommand("SET", key, value)).checked()
        _ = try await connection.send(RedisCommand("SET", key + ":large", large, "EX", 60)).checked()
        #expect(try await connection.send(RedisCommand("GET", key)) == .string(ByteBuffer(bytes: value)))
        #expect(try await connection.send(RedisCommand("GET", key + ":large")) == .string(ByteBuffer(bytes: large)))
        _ = try await connection.send(RedisCommand("DEL", key, key + ":large"))
    }

    @Test func pipelinesManyCommandsOnOneConnection() async throws {
        let connection = try await connect()
        defer { Task { await connection.close() } }
        let key = RedisTestServer.uniqueNamespace("pipeline")
        let count = 5000
        let commands = Array(repeating: RedisCommand("INCR", key), count: count) + [RedisCommand("GET", key)]
        let replies = try await connection.pipeline(commands)
        #expect(replies.count == count + 1)
        #expect(replies.dropLast().map { $0.integer } == (1...count).map { Int64($0) })
        #expect(replies.last == .string(ByteBuffer(string: "\(count)")))
        _ = try await connection.send(RedisCommand("DEL", key))
    }

    @Test func concurrentRequestsShareOneConnectionInOrder() async throws {
        let connection = try await connect()
        defer { Task { await connection.close() } }
        let key = RedisTestServer.uniqueNamespace("concurrent")
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<500 {
                group.addTask {
                    // Each request's reply is its own: the echo of its own argument.
                    let reply = try await connection.send(RedisCommand("ECHO", "\(key)\(index)"))
                    #expect(reply == .string(ByteBuffer(string: "\(key)\(index)")))
                }
            }
            try await group.waitForAll()
        }
    }

    @Test func thePoolReusesItsConnections() async throws {
        let name = "pool-\(UUID().uuidString.prefix(8))"
        let pool = RedisConnectionPool(
            configuration: try RedisTestServer.configuration(clientName: name), eventLoopGroup: group)
        defer { Task { await pool.shutdown() } }

        for _ in 0..<50 {
            #expect(try await pool.send(RedisCommand("PING")) == .status("PONG"))
        }
        #expect(pool.connectionsOpened == 1, "one request at a time needs one connection")

        try await withThrowingTaskGroup(of: Void.self) { tasks in
            for _ in 0..<400 {
                tasks.addTask { _ = try await pool.send(RedisCommand("PING")).checked() }
            }
            try await tasks.waitForAll()
        }
        #expect(pool.connectionsOpened <= 4)
        #expect(pool.openConnections == pool.connectionsOpened)

        // The server sees exactly the pool's connections under its client name.
        let observer = try await connect()
        defer { Task { await observer.close() } }
        let clients = try await observer.send(RedisCommand("CLIENT", "LIST")).string ?? ""
        let named = clients.split(separator: "\n").filter { $0.contains("name=\(name) ") }
        #expect(named.count == pool.openConnections)
    }

    @Test func thePoolReplacesABrokenConnection() async throws {
        let pool = RedisConnectionPool(configuration: try RedisTestServer.configuration(), eventLoopGroup: group)
        defer { Task { await pool.shutdown() } }
        guard let id = try await pool.send(RedisCommand("CLIENT", "ID")).integer else {
            Issue.record("CLIENT ID did not answer an integer")
            return
        }
        let killer = try await connect()
        defer { Task { await killer.close() } }
        #expect(try await killer.send(RedisCommand("CLIENT", "KILL", "ID", Int(id))) == .integer(1))

        #expect(await RedisTestServer.eventually { pool.openConnections == 0 })
        #expect(try await pool.send(RedisCommand("PING")) == .status("PONG"))
        #expect(pool.connectionsOpened == 2)
        let newID = try await pool.send(RedisCommand("CLIENT", "ID")).integer
        #expect(newID != id)
    }

    @Test func aCommandThatOutlivesItsTimeoutFailsAndClosesItsConnection() async throws {
        let connection = try await connect(try RedisTestServer.configuration(commandTimeout: .milliseconds(200)))
        let key = RedisTestServer.uniqueNamespace("timeout")
        let error = await #expect(throws: RedisError.self) {
            _ = try await connection.send(RedisCommand("BLPOP", key, 5))
        }
        #expect(error?.isTimeout == true)
        #expect(await RedisTestServer.eventually { !connection.isActive })
        await #expect(throws: RedisError.self) { _ = try await connection.send(RedisCommand("PING")) }
    }

    @Test func thePoolReportsCannotConnectWhenNothingListens() async throws {
        var configuration = RedisConfiguration(host: "127.0.0.1", port: 1)
        configuration.connectTimeout = .milliseconds(500)
        let pool = RedisConnectionPool(configuration: configuration, eventLoopGroup: group)
        defer { Task { await pool.shutdown() } }
        let error = await #expect(throws: RedisError.self) { _ = try await pool.send(RedisCommand("PING")) }
        #expect(error?.isCannotConnect == true)
        #expect(pool.connectionsOpened == 0)
    }

    @Test func warmingUpOpensEveryConnectionBeforeAnyRequestNeedsOne() async throws {
        let name = "warm-\(UUID().uuidString.prefix(8))"
        let pool = RedisConnectionPool(
            configuration: try RedisTestServer.configuration(clientName: name), eventLoopGroup: group)
        defer { Task { await pool.shutdown() } }
        #expect(await pool.warmUp(within: .seconds(10)) == pool.configuration.poolSize)
        #expect(pool.connectionsOpened == pool.configuration.poolSize)

        // A burst of requests finds them open and opens none.
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            for _ in 0..<100 {
                tasks.addTask { _ = try await pool.send(RedisCommand("PING")).checked() }
            }
            try await tasks.waitForAll()
        }
        #expect(pool.connectionsOpened == pool.configuration.poolSize)
        let observer = try await connect()
        defer { Task { await observer.close() } }
        let clients = try await observer.send(RedisCommand("CLIENT", "LIST")).string ?? ""
        #expect(clients.split(separator: "\n").filter { $0.contains("name=\(name) ") }.count == pool.openConnections)
    }

    @Test func warmingUpWithNothingListeningOpensNothingAndLeavesThePoolUsable() async throws {
        var configuration = RedisConfiguration(host: "127.0.0.1", port: 1)
        configuration.connectTimeout = .seconds(10)
        let pool = RedisConnectionPool(configuration: configuration, eventLoopGroup: group)
        defer { Task { await pool.shutdown() } }
        #expect(await pool.warmUp(within: .seconds(10)) == 0, "refused at once, not waited for")
        let error = await #expect(throws: RedisError.self) { _ = try await pool.send(RedisCommand("PING")) }
        #expect(error?.isCannotConnect == true)
    }

    @Test func warmingUpWaitsNoLongerThanItsLimitForARedisThatDoesNotAnswer() async throws {
        let server = try await RedisServerProcess()
        defer { server.kill() }
        var configuration = try RedisConfiguration(url: server.url)
        configuration.clientName = "warm-stopped"  // the connect waits for CLIENT SETNAME's reply
        configuration.connectTimeout = .seconds(30)
        configuration.commandTimeout = .seconds(30)
        let pool = RedisConnectionPool(configuration: configuration, eventLoopGroup: group)
        defer { Task { await pool.shutdown() } }
        // Stopped by PID: the kernel still accepts its connections, nothing answers them.
        let redis = try #require(server.process)
        redis.signal(SIGSTOP)
        defer { redis.signal(SIGCONT) }

        let clock = ContinuousClock()
        let started = clock.now
        #expect(await pool.warmUp(within: .milliseconds(300)) == 0)
        #expect(clock.now - started < .seconds(15), "bounded by the limit, not by the 30 s timeouts")

        redis.signal(SIGCONT)
        #expect(try await pool.send(RedisCommand("PING")) == .status("PONG"), "the connects went on")
    }

    @Test func aShutDownPoolRefusesRequests() async throws {
        let pool = RedisConnectionPool(configuration: try RedisTestServer.configuration(), eventLoopGroup: group)
        _ = try await pool.send(RedisCommand("PING"))
        await pool.shutdown()
        let error = await #expect(throws: RedisError.self) { _ = try await pool.send(RedisCommand("PING")) }
        #expect(error?.isPoolShutdown == true)
        #expect(pool.openConnections == 0)
    }

    @Test func readsServerInfo() async throws {
        let pool = RedisConnectionPool(configuration: try RedisTestServer.configuration(), eventLoopGroup: group)
        defer { Task { await pool.shutdown() } }
        let info = try await pool.info()
        #expect(info.version?.isEmpty == false)
        #expect((info.usedMemoryBytes ?? 0) > 0)
        #expect((info.connectedClients ?? 0) >= 1)
        #expect(info.uptimeSeconds != nil)
    }
}

/// Authentication and database selection, on a server of the test's own with a password.
@Suite("Redis client with a password", .enabled(if: RedisTestServer.required))
struct RedisClientAuthTests {
    private let group = MultiThreadedEventLoopGroup.singleton

    /// `url`'s configuration with deadlines for a loaded machine (the whole suite shares two
    /// cores): the test is about authentication and the database, not about the 1 s default.
    private static func configuration(_ url: String) throws -> RedisConfiguration {
        var configuration = try RedisConfiguration(url: url)
        configuration.connectTimeout = .seconds(10)
        configuration.commandTimeout = .seconds(10)
        return configuration
    }

    @Test func authenticatesAndSelectsTheDatabaseFromTheURL() async throws {
        let server = try await RedisServerProcess(extraArguments: ["--requirepass", "s3cr@t"])
        defer { server.kill() }

        let inDatabase2 = try await RedisConnection.connect(
            to: Self.configuration("redis://:s3cr%40t@127.0.0.1:\(server.port)/2"), on: group.next())
        _ = try await inDatabase2.send(RedisCommand("SET", "where", "db2")).checked()
        #expect(try await inDatabase2.send(RedisCommand("CLIENT", "INFO")).string?.contains(" db=2 ") == true)

        let asDefaultUser = try await RedisConnection.connect(
            to: Self.configuration("redis://default:s3cr%40t@127.0.0.1:\(server.port)"), on: group.next())
        #expect(try await asDefaultUser.send(RedisCommand("GET", "where")) == .null)
        _ = try await asDefaultUser.send(RedisCommand("SELECT", 2)).checked()
        #expect(try await asDefaultUser.send(RedisCommand("GET", "where")) == .string(ByteBuffer(string: "db2")))
        await inDatabase2.close()
        await asDefaultUser.close()
    }

    @Test func refusesAWrongPasswordAndAMissingOne() async throws {
        let server = try await RedisServerProcess(extraArguments: ["--requirepass", "right"])
        defer { server.kill() }

        let error = await #expect(throws: RedisError.self) {
            _ = try await RedisConnection.connect(
                to: Self.configuration("redis://:wrong@127.0.0.1:\(server.port)"), on: group.next())
        }
        #expect(error?.isServerError == true)
        #expect(error?.description.contains("wrong") == false, "the password stays out of errors")

        let anonymous = try await RedisConnection.connect(to: Self.configuration(server.url), on: group.next())
        guard case .error(let message) = try await anonymous.send(RedisCommand("GET", "x")) else {
            Issue.record("expected NOAUTH")
            return
        }
        #expect(message.hasPrefix("NOAUTH"))
        await anonymous.close()
    }
}
