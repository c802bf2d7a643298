import NIOCore
import NIOPosix

/// The worker's end of the pipe to its supervisor: ``WorkerMessage``s out, in order.
///
/// Writes go through a NIO pipe channel, so a supervisor slow to read never blocks a worker's
/// event loop, and a supervisor that is gone (the pipe's read end closed) shows as the channel
/// closing at the next write, within a heartbeat.
public final class SupervisorLink: Sendable {
    private let channel: any Channel

    private init(channel: any Channel) {
        self.channel = channel
    }

    /// Takes ownership of `descriptor`, the pipe's write end the supervisor passed.
    /// - Throws: when NIO cannot register the descriptor.
    public static func open(descriptor: CInt, group: any EventLoopGroup) async throws -> SupervisorLink {
        let channel = try await NIOPipeBootstrap(group: group)
            .takingOwnershipOfDescriptor(output: descriptor)
            .get()
        return SupervisorLink(channel: channel)
    }

    /// Sends `message`.
    /// - Returns: completes once the message is written to the pipe (or failed).
    @discardableResult
    public func send(_ message: WorkerMessage) -> EventLoopFuture<Void> {
        var buffer = channel.allocator.buffer(capacity: 16)
        message.encode(into: &buffer)
        return channel.writeAndFlush(buffer)
    }

    /// Completes when the pipe is closed: by ``close()``, or because the supervisor is gone.
    public var closed: EventLoopFuture<Void> { channel.closeFuture }

    public func close() async {
        try? await channel.close()
    }
}
