import HummingbirdCore
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle

/// The worker's HTTP/1 server on a listening socket it inherited from the supervisor.
///
/// Hummingbird's `Application` binds its own socket, and NIO's server channel cannot share one
/// with another process, so connections come from a ``SharedSocketAcceptor`` and each becomes a
/// NIO channel running Hummingbird's `HTTP1Channel`, as `Application` would set it up.
///
/// ``run()`` serves until the drain (``WorkerDrain``) starts, on graceful shutdown (`SIGTERM`),
/// when the request budget is spent, or when the supervisor is gone, and returns once every
/// connection has closed: in-flight requests finish, idle keep-alive connections close after
/// one more request or a short grace (``WorkerConnectionHandler``).
public final class WorkerServer: Service {
    private let listeningSocket: CInt
    private let channel: HTTP1Channel
    private let maximumConnections: Int
    private let drain: WorkerDrain
    private let group: any EventLoopGroup
    private let logger: Logger
    private let onListening: @Sendable () async -> Void

    /// - Parameters:
    ///   - listeningSocket: a bound, listening stream socket; the server owns (and closes) its
    ///     descriptor, never the socket itself.
    ///   - responder: answers each request (``WorkerResponder``).
    ///   - maximumConnections: `WORKER_CONNECTIONS`.
    ///   - drain: the worker's drain switch.
    ///   - group: the event loops connections run on.
    ///   - logger: for connection-level errors.
    ///   - onListening: called once connections are being accepted (the "ready" report).
    public init(
        listeningSocket: CInt,
        responder: @escaping HTTPChannelHandler.Responder,
        maximumConnections: Int,
        drain: WorkerDrain,
        group: any EventLoopGroup,
        logger: Logger,
        onListening: @escaping @Sendable () async -> Void = {}
    ) {
        self.listeningSocket = listeningSocket
        self.maximumConnections = maximumConnections
        self.drain = drain
        self.group = group
        self.logger = logger
        self.onListening = onListening
        self.channel = HTTP1Channel(
            responder: responder,
            configuration: .init(additionalChannelHandlers: [WorkerConnectionHandler(drain: drain)]))
    }

    public func run() async throws {
        let acceptor = try SharedSocketAcceptor(
            listeningSocket: listeningSocket, maximumConnections: maximumConnections)
        let connections = acceptor.start()
        drain.onDrain { acceptor.stop() }
        await onListening()

        let (http, group, logger) = (channel, self.group, self.logger)
        await withGracefulShutdownHandler {
            await withDiscardingTaskGroup { tasks in
                for await descriptor in connections {
                    tasks.addTask {
                        let connection: HTTP1Channel.Value
                        do {
                            connection = try await ClientBootstrap(group: group)
                                .channelOption(ChannelOptions.allowRemoteHalfClosure, value: true)
                                .withConnectedSocket(descriptor) { channel in
                                    http.setup(channel: channel, logger: logger)
                                }
                        } catch {
                            acceptor.connectionClosed()
                            logger.debug("could not set up a connection: \(error)")
                            return
                        }
                        connection.channel.closeFuture.whenComplete { _ in acceptor.connectionClosed() }
                        await http.handle(value: connection, logger: logger)
                    }
                }
            }
        } onGracefulShutdown: {
            self.drain.start()
        }
    }
}
