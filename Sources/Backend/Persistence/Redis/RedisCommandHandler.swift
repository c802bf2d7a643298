import NIOCore

/// What ``RedisConnection`` writes into its channel: commands sent back to back (a pipeline of
/// one or more), and the promise for their replies, in the same order.
struct RedisRequest: Sendable {
    let commands: [RedisCommand]
    let promise: EventLoopPromise<[RedisReply]>
}

/// The one handler of a Redis connection's pipeline.
///
/// Outbound, it encodes each ``RedisRequest`` with hiredis and queues its promise; inbound, it
/// feeds every read into hiredis's reader and completes the queued promises in FIFO order (Redis
/// answers a connection's commands in the order it received them, so many requests can be in
/// flight on one connection). One timer watches the oldest request's deadline: when it passes,
/// every request on the connection fails with a timeout and the channel is closed, since a late
/// reply could no longer be matched to its command. A protocol error or the channel closing fails
/// them all as well; the pool then replaces the connection.
final class RedisCommandHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = RedisRequest
    typealias OutboundOut = ByteBuffer

    private enum State {
        /// Commands are accepted and replies matched.
        /// Can transition to: `.closed` (the channel closed, a write failed, a timeout, a protocol error).
        case open
        /// Every request fails at once with the error that closed the connection. Final.
        case closed(RedisError)
    }

    /// A request waiting for its replies.
    private struct Pending {
        let promise: EventLoopPromise<[RedisReply]>
        let expected: Int
        var replies: [RedisReply]
        let deadline: NIODeadline
    }

    private var state = State.open
    private var pending = CircularBuffer<Pending>(initialCapacity: 16)
    private let parser = RedisReplyParser()
    private let commandTimeout: TimeAmount
    private var timer: Scheduled<Void>?

    /// - Parameter commandTimeout: how long a request may wait for its last reply.
    init(commandTimeout: TimeAmount) {
        self.commandTimeout = commandTimeout
    }

    // MARK: Outbound

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let request = unwrapOutboundIn(data)
        switch state {
        case .closed(let error):
            // The sender fails `request.promise` when this write fails; without a write promise
            // nobody would, so fail it here.
            if let promise { promise.fail(error) } else { request.promise.fail(error) }
            return
        case .open:
            break
        }
        guard !request.commands.isEmpty else {
            request.promise.succeed([])
            promise?.succeed(())
            return
        }

        var buffer = context.channel.allocator.buffer(capacity: 64 * request.commands.count)
        for command in request.commands {
            command.encode(into: &buffer)
        }
        pending.append(
            Pending(
                promise: request.promise, expected: request.commands.count, replies: [],
                deadline: context.eventLoop.now + commandTimeout))
        armTimer(context: context)

        // From here on the request is this handler's to complete; the sender's write promise only
        // says it was accepted. A failed socket write closes the connection and fails it with the rest.
        let written = context.eventLoop.makePromise(of: Void.self)
        written.futureResult.assumeIsolated().whenFailure { error in
            self.fail(context: context, with: .connectionClosed("write failed: \(error)"))
        }
        context.write(wrapOutboundOut(buffer), promise: written)
        promise?.succeed(())
    }

    // MARK: Inbound

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard case .open = state else { return }
        let bytes = unwrapInboundIn(data)
        do {
            try parser.feed(bytes)
            while let reply = try parser.next() {
                guard !pending.isEmpty else {
                    throw RedisError.protocolError("a reply arrived with no command waiting for it")
                }
                let head = pending.startIndex
                pending[head].replies.append(reply)
                if pending[head].replies.count == pending[head].expected {
                    let done = pending.removeFirst()
                    done.promise.succeed(done.replies)
                }
            }
        } catch let error as RedisError {
            fail(context: context, with: error)
        } catch {
            fail(context: context, with: .protocolError("\(error)"))
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        failAll(with: .connectionClosed())
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        fail(context: context, with: .connectionClosed("\(error)"))
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        failAll(with: .connectionClosed("handler removed"))
    }

    // MARK: Timeouts and failure

    /// Schedules the timer for the oldest request's deadline, unless it is already running.
    /// Deadlines grow in queue order, so the head's is always the earliest.
    private func armTimer(context: ChannelHandlerContext) {
        guard timer == nil, let head = pending.first else { return }
        timer = context.eventLoop.assumeIsolated().scheduleTask(deadline: head.deadline) {
            self.timerFired(context: context)
        }
    }

    /// Replies do not cancel the timer (that would cost a cancel and a reschedule per reply); when
    /// it fires it checks whoever is oldest now, and re-arms for them if they still have time.
    private func timerFired(context: ChannelHandlerContext) {
        timer = nil
        guard case .open = state, let head = pending.first else { return }
        if head.deadline <= context.eventLoop.now {
            fail(context: context, with: .timeout("no reply within \(commandTimeout)"))
        } else {
            armTimer(context: context)
        }
    }

    /// Fails every request and closes the channel (once).
    private func fail(context: ChannelHandlerContext, with error: RedisError) {
        guard case .open = state else { return }
        failAll(with: error)
        context.close(promise: nil)
    }

    private func failAll(with error: RedisError) {
        if case .open = state { state = .closed(error) }
        timer?.cancel()
        timer = nil
        while let request = pending.popFirst() {
            request.promise.fail(error)
        }
    }
}
