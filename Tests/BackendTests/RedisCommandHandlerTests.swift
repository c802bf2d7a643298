import NIOCore
import NIOEmbedded
import Testing

@testable import Backend

/// ``RedisCommandHandler`` in an `EmbeddedChannel`: FIFO matching, pipelines, timeouts on the
/// embedded loop's clock, and what a failure does to everything in flight.
@Suite("Redis command handler")
struct RedisCommandHandlerTests {
    private func makeChannel(timeout: TimeAmount = .seconds(1)) throws -> EmbeddedChannel {
        let channel = EmbeddedChannel(handler: RedisCommandHandler(commandTimeout: timeout))
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 6379)).wait()
        return channel
    }

    private func send(_ commands: [RedisCommand], on channel: EmbeddedChannel) -> EventLoopFuture<[RedisReply]> {
        let promise = channel.eventLoop.makePromise(of: [RedisReply].self)
        channel.writeAndFlush(RedisRequest(commands: commands, promise: promise)).whenFailure { promise.fail($0) }
        return promise.futureResult
    }

    /// The outcome if the future is complete, else `nil`.
    private func outcome<T>(_ future: EventLoopFuture<T>) -> Result<T, any Error>? {
        var result: Result<T, any Error>?
        future.assumeIsolated().whenComplete { result = $0 }
        return result
    }

    private func replies(_ future: EventLoopFuture<[RedisReply]>) -> [RedisReply]? {
        guard case .success(let replies) = outcome(future) else { return nil }
        return replies
    }

    private func error(_ future: EventLoopFuture<[RedisReply]>) -> RedisError? {
        guard case .failure(let error) = outcome(future) else { return nil }
        return error as? RedisError
    }

    @Test func completesRequestsInTheOrderTheyWereSent() throws {
        let channel = try makeChannel()
        let first = send([RedisCommand("GET", "a")], on: channel)
        let second = send([RedisCommand("PING")], on: channel)
        #expect(try channel.readOutbound(as: ByteBuffer.self) == ByteBuffer(string: "*2\r\n$3\r\nGET\r\n$1\r\na\r\n"))
        #expect(try channel.readOutbound(as: ByteBuffer.self) == ByteBuffer(string: "*1\r\n$4\r\nPING\r\n"))
        #expect(outcome(first) == nil)

        try channel.writeInbound(ByteBuffer(string: "$1\r\nx\r\n+PONG\r\n"))
        #expect(replies(first) == [.string(ByteBuffer(string: "x"))])
        #expect(replies(second) == [.status("PONG")])
        _ = try channel.finish()
    }

    @Test func writesAPipelineAtOnceAndCompletesItAfterItsLastReply() throws {
        let channel = try makeChannel()
        let pipeline = send(
            [RedisCommand("SET", "k", "v"), RedisCommand("GET", "k"), RedisCommand("INCR", "n")], on: channel)
        let written = try channel.readOutbound(as: ByteBuffer.self)
        #expect(written.map { String(buffer: $0) }?.components(separatedBy: "*").count == 4)
        #expect(try channel.readOutbound(as: ByteBuffer.self) == nil)

        // Replies cut at arbitrary points, as TCP may deliver them.
        for chunk in ["+O", "K\r\n$1\r", "\nv\r\n:", "1\r\n"] {
            #expect(outcome(pipeline) == nil)
            try channel.writeInbound(ByteBuffer(string: chunk))
        }
        #expect(replies(pipeline) == [.status("OK"), .string(ByteBuffer(string: "v")), .integer(1)])
        _ = try channel.finish()
    }

    @Test func anErrorReplyIsAValueAndTheConnectionCarriesOn() throws {
        let channel = try makeChannel()
        let failing = send([RedisCommand("NOPE")], on: channel)
        try channel.writeInbound(ByteBuffer(string: "-ERR unknown command 'NOPE'\r\n"))
        #expect(replies(failing) == [.error("ERR unknown command 'NOPE'")])

        let next = send([RedisCommand("PING")], on: channel)
        try channel.writeInbound(ByteBuffer(string: "+PONG\r\n"))
        #expect(replies(next) == [.status("PONG")])
        #expect(channel.isActive)
        _ = try channel.finish()
    }

    @Test func aProtocolErrorFailsEveryRequestAndClosesTheConnection() throws {
        let channel = try makeChannel()
        let first = send([RedisCommand("GET", "a")], on: channel)
        let second = send([RedisCommand("GET", "b")], on: channel)
        try channel.writeInbound(ByteBuffer(string: "?what\r\n"))
        #expect(error(first)?.isProtocolError == true)
        #expect(error(second)?.isProtocolError == true)
        #expect(!channel.isActive)

        let late = send([RedisCommand("PING")], on: channel)
        #expect(error(late) != nil)
    }

    @Test func aReplyWithNoCommandWaitingIsAProtocolError() throws {
        let channel = try makeChannel()
        try channel.writeInbound(ByteBuffer(string: "+OK\r\n"))
        #expect(!channel.isActive)
    }

    @Test func aTimeoutFailsEveryRequestAndClosesTheConnection() throws {
        let channel = try makeChannel(timeout: .seconds(1))
        let first = send([RedisCommand("BLPOP", "q", 0)], on: channel)
        channel.embeddedEventLoop.advanceTime(by: .milliseconds(500))
        let second = send([RedisCommand("PING")], on: channel)
        channel.embeddedEventLoop.advanceTime(by: .milliseconds(400))
        #expect(outcome(first) == nil)

        channel.embeddedEventLoop.advanceTime(by: .milliseconds(200))
        #expect(error(first)?.isTimeout == true)
        #expect(error(second)?.isTimeout == true)
        #expect(!channel.isActive)
    }

    @Test func theTimerFollowsTheOldestRequestStillWaiting() throws {
        let channel = try makeChannel(timeout: .seconds(1))
        let first = send([RedisCommand("PING")], on: channel)
        channel.embeddedEventLoop.advanceTime(by: .milliseconds(600))
        let second = send([RedisCommand("PING")], on: channel)
        try channel.writeInbound(ByteBuffer(string: "+PONG\r\n"))
        #expect(replies(first) == [.status("PONG")])

        // The first deadline passes with only the second request (due at 1.6 s) waiting.
        channel.embeddedEventLoop.advanceTime(by: .milliseconds(500))
        #expect(outcome(second) == nil)
        #expect(channel.isActive)

        channel.embeddedEventLoop.advanceTime(by: .milliseconds(600))
        #expect(error(second)?.isTimeout == true)
    }

    @Test func closingTheChannelFailsWaitingRequests() throws {
        let channel = try makeChannel()
        let waiting = send([RedisCommand("GET", "a")], on: channel)
        try channel.close().wait()
        #expect(error(waiting)?.isConnectionClosed == true)
    }

    @Test func anEmptyPipelineCompletesAtOnce() throws {
        let channel = try makeChannel()
        #expect(replies(send([], on: channel)) == [])
        #expect(try channel.readOutbound(as: ByteBuffer.self) == nil)
        _ = try channel.finish()
    }
}
