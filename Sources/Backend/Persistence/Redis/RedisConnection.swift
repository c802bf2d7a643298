import Logging
import NIOCore
import NIOPosix
import Synchronization

/// One TCP connection to Redis, with many requests in flight at once (pipelining).
///
/// Requests are written as they come and their replies complete them in order (see
/// ``RedisCommandHandler``). A connection that failed (closed by the server, a timeout, a protocol
/// error) stays failed: every later request fails at once, and the pool opens a new one.
public final class RedisConnection: Sendable {
    let channel: any Channel
    private let requestsInFlight = Atomic<Int>(0)
    private let logger: Logger

    private init(channel: any Channel, logger: Logger) {
        self.channel = channel
        self.logger = logger
    }

    /// Opens a connection, then authenticates, selects the database and names the client as
    /// `configuration` asks, in one round trip.
    /// - Parameters:
    ///   - configuration: the server, credentials and timeouts.
    ///   - eventLoop: the loop that runs the connection's I/O.
    ///   - logger: for connection events (`backend.redis.*` metadata).
    /// - Returns: a connection ready for commands.
    /// - Throws: ``RedisError`` when the server cannot be reached in time or refuses the
    ///   credentials or database.
    public static func connect(
        to configuration: RedisConfiguration,
        on eventLoop: any EventLoop,
        logger: Logger = Logger(label: "backend.redis")
    ) async throws -> RedisConnection {
        let commandTimeout = TimeAmount(configuration.commandTimeout)
        let bootstrap = ClientBootstrap(group: eventLoop)
            .connectTimeout(TimeAmount(configuration.connectTimeout))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(RedisCommandHandler(commandTimeout: commandTimeout))
                }
            }
        let channel: any Channel
        do {
            channel = try await bootstrap.connect(host: configuration.host, port: configuration.port).get()
        } catch {
            let server = "\(configuration.host):\(configuration.port)"
            if case ChannelError.connectTimeout = error {
                // A slow server, for the breaker: it opens at once rather than after five more waits.
                throw RedisError.timeout("no connection to \(server) within \(configuration.connectTimeout)")
            }
            throw RedisError.cannotConnect("\(server): \(error)")
        }

        var connectionLogger = logger
        connectionLogger[metadataKey: "backend.redis.server"] = "\(configuration.host):\(configuration.port)"
        let connection = RedisConnection(channel: channel, logger: connectionLogger)

        var setup: [RedisCommand] = []
        if let password = configuration.password {
            if let username = configuration.username {
                setup.append(RedisCommand("AUTH", username, password))
            } else {
                setup.append(RedisCommand("AUTH", password))
            }
        }
        if configuration.database != 0 {
            setup.append(RedisCommand("SELECT", configuration.database))
        }
        if let name = configuration.clientName {
            setup.append(RedisCommand("CLIENT", "SETNAME", name))
        }
        do {
            let replies = try await connection.pipeline(setup)
            for (command, reply) in zip(setup, replies) {
                if case .error(let message) = reply {
                    throw RedisError.server("\(command.name) failed: \(message)")
                }
            }
        } catch {
            await connection.close()
            throw error
        }
        connection.logger.debug("redis connection opened")
        return connection
    }

    /// Whether requests can still be sent (the channel is open).
    public var isActive: Bool { channel.isActive }

    /// Requests written and not yet answered; the pool prefers the least busy connection.
    public var inFlight: Int { requestsInFlight.load(ordering: .relaxed) }

    /// Sends one command.
    /// - Returns: its reply (an error reply is a ``RedisReply/error(_:)`` value, not a throw).
    /// - Throws: ``RedisError`` when the connection fails or times out first.
    public func send(_ command: RedisCommand) async throws -> RedisReply {
        try await pipeline([command])[0]
    }

    /// Sends several commands back to back in one write and waits for all their replies.
    /// - Returns: one reply per command, in order.
    /// - Throws: ``RedisError`` when the connection fails or times out first.
    public func pipeline(_ commands: [RedisCommand]) async throws -> [RedisReply] {
        if commands.isEmpty { return [] }
        let promise = channel.eventLoop.makePromise(of: [RedisReply].self)
        requestsInFlight.add(1, ordering: .relaxed)
        defer { requestsInFlight.subtract(1, ordering: .relaxed) }
        // The handler completes `promise` once it has accepted the request; a write that never
        // reaches it (the channel closed and its pipeline is gone) fails here.
        channel.writeAndFlush(RedisRequest(commands: commands, promise: promise)).whenFailure { error in
            promise.fail(error as? RedisError ?? RedisError.connectionClosed("\(error)"))
        }
        return try await promise.futureResult.get()
    }

    /// Closes the connection; requests still waiting fail with ``RedisError``.
    public func close() async {
        do {
            try await channel.close()
            logger.debug("redis connection closed")
        } catch {
            // Already closed.
        }
    }
}
