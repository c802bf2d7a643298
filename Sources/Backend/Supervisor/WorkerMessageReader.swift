import NIOCore
import NIOPosix

/// Reads one worker's message pipe on the supervisor side and forwards each
/// ``WorkerMessage`` (and the pipe's end) to the supervisor's event stream.
enum WorkerMessageReader {
    /// Takes ownership of `descriptor` (a pipe's read end) and forwards what worker `pid` writes.
    static func start(
        descriptor: CInt, pid: Int32, group: any EventLoopGroup,
        forward: @escaping @Sendable (SupervisorInput) -> Void
    ) {
        NIOPipeBootstrap(group: group)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(WorkerMessageDecoder()))
                    try channel.pipeline.syncOperations.addHandler(Forwarder(pid: pid, forward: forward))
                }
            }
            .takingOwnershipOfDescriptor(input: descriptor)
            .whenFailure { _ in
                // Not registered (descriptor limit): the worker's messages are lost, so it will be
                // killed as silent after the worker timeout and replaced.
                forward(.pipeClosed(pid: pid))
            }
    }

    private final class Forwarder: ChannelInboundHandler {
        typealias InboundIn = WorkerMessage

        let pid: Int32
        let forward: @Sendable (SupervisorInput) -> Void

        init(pid: Int32, forward: @escaping @Sendable (SupervisorInput) -> Void) {
            self.pid = pid
            self.forward = forward
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            forward(.message(pid: pid, unwrapInboundIn(data)))
        }

        func channelInactive(context: ChannelHandlerContext) {
            forward(.pipeClosed(pid: pid))
            context.fireChannelInactive()
        }

        func errorCaught(context: ChannelHandlerContext, error: any Error) {
            // A frame no worker writes: stop reading; the worker goes silent to the supervisor.
            context.close(promise: nil)
        }
    }
}

/// Everything the supervisor's loop reacts to.
enum SupervisorInput: Sendable {
    case signal(CInt)
    case message(pid: Int32, WorkerMessage)
    /// A worker's pipe reached its end: it exited (or closed it), so reap now.
    case pipeClosed(pid: Int32)
    case tick
}
