import EdgeIO

#if canImport(Glibc)
    import Glibc
#endif

/// A minimal HTTP/1.1 server on the I/O core, for tests and benchmarks: every request gets a
/// fixed response, except `GET /large`, which streams a large body through the core's
/// backpressure (partial writes, pooled output, ``EventLoopHandler/writable(_:io:)``), and
/// `GET /file`, which sends the configured file with `sendfile(2)` (plain TCP only).
///
/// Keep-alive by default, `Connection: close` (and HTTP/1.0 without keep-alive) honoured,
/// pipelined requests answered in order with one `writev` per wake-up, an idle timeout on the
/// loop's timing wheel. Request heads are parsed in place in the loop's buffer; nothing is
/// allocated per request. Not a general server: no chunked request bodies.
///
/// Over TLS with ALPN `h2` it speaks HTTP/2 through ``HTTP2ServerSession`` (nghttp2): every
/// request stream gets the fixed response.
public struct HelloHandler: EventLoopHandler {
    public struct Configuration: Sendable {
        /// The body of every ordinary response.
        public var body: [UInt8]
        /// Size of the `/large` body.
        public var largeBodySize: Int
        /// Closes a connection idle this long (ms); `nil`: never.
        public var idleTimeout: UInt64?
        /// The file `GET /file` sends (opened once per loop), or `nil`.
        public var filePath: String?
        /// The send deadline (ms; nginx's `send_timeout`, 60 s): output that makes no progress
        /// for this long — an HTTP/2 response whose peer keeps its window at 0, bytes the peer
        /// never reads — is given up: the stream reset, the connection aborted. `nil`: never.
        public var sendTimeout: UInt64?
        /// HTTP/2 SETTINGS the server advertises.
        public var http2Settings: HTTP2Settings
        /// Bounds on HTTP/2 peers (floods, rapid reset).
        public var http2Limits: HTTP2Limits

        public init(
            body: [UInt8] = Array("Hello, world!\n".utf8), largeBodySize: Int = 4 << 20, idleTimeout: UInt64? = 60_000,
            filePath: String? = nil, sendTimeout: UInt64? = 60_000, http2Settings: HTTP2Settings = HTTP2Settings(),
            http2Limits: HTTP2Limits = HTTP2Limits()
        ) {
            self.body = body
            self.largeBodySize = largeBodySize
            self.idleTimeout = idleTimeout
            self.filePath = filePath
            self.sendTimeout = sendTimeout
            self.http2Settings = http2Settings
            self.http2Limits = http2Limits
        }
    }

    /// What a loop reports about itself (for tests: leaks and counts).
    public struct Statistics: Sendable, Equatable {
        public var connections: Int
        public var buffersInUse: Int
        public var buffersAllocated: Int
        public var timersArmed: Int
        public var requests: Int
        public var closedByPeer: Int
        public var closedWithError: Int
        /// HTTP/2 sessions ended by a connection error (a flood, a protocol violation).
        public var http2ConnectionErrors: Int
    }

    public enum Message: Sendable {
        /// Calls `reply` on the loop's thread with the loop's statistics.
        case statistics(reply: @Sendable (Statistics) -> Void)
        /// Graceful drain: HTTP/2 connections get GOAWAY (their open streams finish, no new
        /// ones start) and close when their last stream does; idle HTTP/1.1 connections close,
        /// busy ones after their response.
        case drain
    }

    struct Connection {
        var generation: UInt32 = 0
        var open = false
        var streamRemaining = 0
        var closeAfterStream = false
        var fileOffset: Int64 = 0
        var fileRemaining = 0
        var idleTimer: TimerID?
        var http2: HTTP2ServerSession?
        /// The send deadline (``Configuration/sendTimeout``): armed while output waits on the
        /// peer, checked when it fires.
        var sendTimer: TimerID?
        /// Queued output at the send timer's previous firing (-1: not looked at yet), and
        /// whether the socket drained since.
        var sweptPending = -1
        var wroteSinceSweep = false
        /// A close was requested; the timers still watch it until ``HelloHandler/closed(_:reason:io:)``.
        var closing = false
    }

    /// What the HTTP/2 path shares across a loop's connections, made once per loop.
    final class HTTP2Resources {
        let sink = HTTP2EventSink()
        let head: HTTP2ResponseHead
        let body: UnsafeMutableRawBufferPointer

        init(body bytes: [UInt8]) {
            head = HTTP2ResponseHead([
                (":status", "200"), ("server", "edgeio"), ("content-type", "text/plain"),
                ("content-length", "\(bytes.count)"),
            ])
            body = .allocate(byteCount: max(bytes.count, 1), alignment: 1)
            bytes.withUnsafeBytes { body.copyMemory(from: $0) }
        }

        deinit { body.deallocate() }
    }

    /// The fixed responses, in memory this handler owns for its life (``Storage``); kept as
    /// raw buffers so writing one retains nothing.
    final class Storage {
        let buffers: [UnsafeMutableRawBufferPointer]

        init(_ contents: [[UInt8]]) {
            buffers = contents.map { bytes in
                let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: max(bytes.count, 1), alignment: 16)
                bytes.withUnsafeBytes { buffer.copyMemory(from: $0) }
                return UnsafeMutableRawBufferPointer(rebasing: buffer[0..<bytes.count])
            }
        }

        deinit { for buffer in buffers { buffer.deallocate() } }
    }

    let configuration: Configuration
    let storage: Storage
    let keepAliveResponse: UnsafeRawBufferPointer
    let closeResponse: UnsafeRawBufferPointer
    let largeHead: UnsafeRawBufferPointer
    let largeHeadClose: UnsafeRawBufferPointer
    let pattern: UnsafeRawBufferPointer
    /// The open file for `GET /file` and its head, or -1.
    let file: Int32
    let fileSize: Int
    let fileHead: UnsafeRawBufferPointer
    var connections: [Connection] = []
    let http2: HTTP2Resources
    /// Bytes of HTTP/2 output queued on a connection before its session waits for the socket.
    static var http2OutputLimit: Int { 64 * 1024 }
    var requests = 0
    var closedByPeer = 0
    var closedWithError = 0
    var http2ConnectionErrors = 0

    public init(configuration: Configuration = Configuration()) {
        self.configuration = configuration
        func head(length: Int, close: Bool) -> [UInt8] {
            Array(
                ("HTTP/1.1 200 OK\r\nServer: edgeio\r\nContent-Type: text/plain\r\nContent-Length: \(length)\r\n"
                    + (close ? "Connection: close\r\n" : "") + "\r\n").utf8)
        }
        var fd: Int32 = -1
        var size = 0
        if let path = configuration.filePath {
            fd = open(path, O_RDONLY | O_CLOEXEC)
            if fd >= 0 { size = Int(lseek(fd, 0, SEEK_END)) }
        }
        file = fd
        fileSize = size
        storage = Storage([
            head(length: configuration.body.count, close: false) + configuration.body,
            head(length: configuration.body.count, close: true) + configuration.body,
            head(length: configuration.largeBodySize, close: false),
            head(length: configuration.largeBodySize, close: true),
            (0..<(256 * 1024)).map { UInt8(truncatingIfNeeded: $0 % 251) },
            head(length: size, close: false),
        ])
        fileHead = UnsafeRawBufferPointer(storage.buffers[5])
        keepAliveResponse = UnsafeRawBufferPointer(storage.buffers[0])
        closeResponse = UnsafeRawBufferPointer(storage.buffers[1])
        largeHead = UnsafeRawBufferPointer(storage.buffers[2])
        largeHeadClose = UnsafeRawBufferPointer(storage.buffers[3])
        pattern = UnsafeRawBufferPointer(storage.buffers[4])
        http2 = HTTP2Resources(body: configuration.body)
    }

    public mutating func accepted(_ connection: ConnectionID, io: inout LoopIO) {
        let index = Int(connection.index)
        while connections.count <= index { connections.append(Connection()) }
        connections[index] = Connection(generation: connection.generation, open: true)
        if io.negotiatedHTTP2(connection) {
            guard
                let session = HTTP2ServerSession(
                    sink: http2.sink, settings: configuration.http2Settings, limits: configuration.http2Limits)
            else {
                io.abort(connection)
                return
            }
            connections[index].http2 = session
            _ = session.flush(to: &io, connection: connection, limit: Self.http2OutputLimit)  // our SETTINGS
        }
        armIdleTimer(connection, io: &io)
    }

    public mutating func received(_ input: UnsafeRawBufferPointer, on connection: ConnectionID, io: inout LoopIO) -> Int {
        let index = Int(connection.index)
        if let session = connections[index].http2 {
            return receivedHTTP2(input, session: session, on: connection, io: &io)
        }
        var offset = 0
        while offset < input.count {
            if connections[index].streamRemaining > 0 {
                io.pauseReading(connection)  // answer pipelined requests after the stream
                return offset
            }
            guard let request = HTTPRequestHead.parse(input, from: offset) else { return offset }
            if request.malformed {
                io.abort(connection)
                return input.count
            }
            guard input.count - request.headLength - offset >= request.contentLength else { return offset }
            offset += request.headLength + request.contentLength
            requests += 1
            if request.isFile && file >= 0 {
                io.enqueue(fileHead, on: connection)
                connections[index].fileOffset = 0
                connections[index].fileRemaining = fileSize
                connections[index].streamRemaining = fileSize
                connections[index].closeAfterStream = !request.keepAlive
                pump(connection, io: &io)
                continue
            }
            if request.isLarge {
                io.enqueue(request.keepAlive ? largeHead : largeHeadClose, on: connection)
                connections[index].streamRemaining = configuration.largeBodySize
                connections[index].closeAfterStream = !request.keepAlive
                pump(connection, io: &io)
                continue
            }
            if request.keepAlive {
                io.enqueue(keepAliveResponse, on: connection)
            } else {
                io.enqueue(closeResponse, on: connection)
                io.close(connection)
                return input.count
            }
        }
        armIdleTimer(connection, io: &io)
        return offset
    }

    public mutating func writable(_ connection: ConnectionID, io: inout LoopIO) {
        let index = Int(connection.index)
        connections[index].wroteSinceSweep = true
        if let session = connections[index].http2 {
            flushHTTP2(session, on: connection, io: &io)
            return
        }
        pump(connection, io: &io)
    }

    public mutating func inputEnded(on connection: ConnectionID, io: inout LoopIO) {
        closedByPeer += 1
        close(connection, io: &io)
    }

    public mutating func closed(_ connection: ConnectionID, reason: CloseReason, io: inout LoopIO) {
        let index = Int(connection.index)
        if let timer = connections[index].idleTimer { io.cancelTimer(timer) }
        if let timer = connections[index].sendTimer { io.cancelTimer(timer) }
        connections[index].http2?.free()
        connections[index] = Connection()
        switch reason {
        case .failed, .inputOverflow: closedWithError += 1
        case .closed, .aborted, .connectFailed, .loopStopped: break
        }
    }

    public mutating func timerFired(_ timer: TimerID, payload: UInt64, io: inout LoopIO) {
        let connection = ConnectionID(index: UInt32(truncatingIfNeeded: payload), generation: UInt32(payload >> 32))
        let index = Int(connection.index)
        guard index < connections.count, connections[index].open,
            connections[index].generation == connection.generation
        else { return }
        if connections[index].sendTimer == timer {
            connections[index].sendTimer = nil
            sendDeadlinePassed(connection, io: &io)
            return
        }
        guard connections[index].idleTimer == timer else { return }
        connections[index].idleTimer = nil
        close(connection, io: &io)
    }

    public mutating func received(message: Message, io: inout LoopIO) {
        switch message {
        case .statistics(let reply):
            reply(
                Statistics(
                    connections: io.connectionCount, buffersInUse: io.buffersInUse,
                    buffersAllocated: io.buffersAllocated, timersArmed: io.timers.count, requests: requests,
                    closedByPeer: closedByPeer, closedWithError: closedWithError,
                    http2ConnectionErrors: http2ConnectionErrors))
        case .drain:
            for index in connections.indices where connections[index].open && !connections[index].closing {
                let connection = ConnectionID(index: UInt32(index), generation: connections[index].generation)
                if let session = connections[index].http2 {
                    session.goAway()
                    flushHTTP2(session, on: connection, io: &io)
                } else if connections[index].streamRemaining == 0 {
                    close(connection, io: &io)
                } else {
                    connections[index].closeAfterStream = true
                }
            }
        }
    }

    /// Feeds an HTTP/2 connection's bytes to its session and answers every complete request.
    mutating func receivedHTTP2(
        _ input: UnsafeRawBufferPointer, session: HTTP2ServerSession, on connection: ConnectionID, io: inout LoopIO
    ) -> Int {
        let healthy = session.receive(input, sink: http2.sink)
        for i in 0..<http2.sink.count where http2.sink[i].kind == .requestComplete {
            requests += 1
            session.submitResponse(
                stream: http2.sink[i].streamID, head: http2.head, body: UnsafeRawBufferPointer(http2.body))
        }
        if !healthy {
            http2ConnectionErrors += 1
            close(connection, io: &io)  // with the GOAWAY the session queued
            return input.count
        }
        flushHTTP2(session, on: connection, io: &io)
        if connections[Int(connection.index)].open && !connections[Int(connection.index)].closing {
            armIdleTimer(connection, io: &io)
        }
        return input.count
    }

    /// Moves the session's frames to the socket (no faster than it takes them); closes the
    /// connection when the session is done, and keeps the send deadline armed while a response
    /// or the socket waits on the peer.
    mutating func flushHTTP2(_ session: HTTP2ServerSession, on connection: ConnectionID, io: inout LoopIO) {
        switch session.flush(to: &io, connection: connection, limit: Self.http2OutputLimit) {
        case .failed:
            io.abort(connection)
        case .waitingForSocket:
            armSendTimer(connection, io: &io)
        case .flushed:
            if !session.wantsIO {
                close(connection, io: &io)
            } else if session.responsesInFlight > 0 {
                armSendTimer(connection, io: &io)
            }
        }
    }

    /// Closes once the queued output is written; an HTTP/2 session first hands over what it
    /// still holds (bounded: its GOAWAY and ACKs). The send deadline keeps watching, so a peer
    /// that never reads cannot hold the close open.
    mutating func close(_ connection: ConnectionID, io: inout LoopIO) {
        let index = Int(connection.index)
        if let session = connections[index].http2,
            session.flush(to: &io, connection: connection, limit: .max) == .failed
        {
            io.abort(connection)
            return
        }
        connections[index].closing = true
        io.close(connection)
        armSendTimer(connection, io: &io)
    }

    mutating func armSendTimer(_ connection: ConnectionID, io: inout LoopIO) {
        let index = Int(connection.index)
        guard let timeout = configuration.sendTimeout, connections[index].sendTimer == nil else { return }
        connections[index].sendTimer = io.armTimer(
            at: io.now + timeout, payload: UInt64(connection.generation) << 32 | UInt64(connection.index))
    }

    /// The send deadline fired: output that made no progress since the previous firing is
    /// given up (HTTP/2: the stalled streams are reset; bytes the socket did not take: the
    /// connection is aborted); while anything still waits, the deadline is armed again.
    mutating func sendDeadlinePassed(_ connection: ConnectionID, io: inout LoopIO) {
        let index = Int(connection.index)
        let pending = io.pendingOutputBytes(connection)
        if pending > 0 && pending == connections[index].sweptPending && !connections[index].wroteSinceSweep {
            io.abort(connection)
            return
        }
        connections[index].sweptPending = pending
        connections[index].wroteSinceSweep = false
        var waiting = pending > 0
        if let session = connections[index].http2, !connections[index].closing {
            if session.resetStalledStreams() > 0 { waiting = true }
            flushHTTP2(session, on: connection, io: &io)  // the RST_STREAMs
        }
        if waiting { armSendTimer(connection, io: &io) }
    }

    /// Writes the large body while the socket takes it; resumes on ``writable(_:io:)``.
    mutating func pump(_ connection: ConnectionID, io: inout LoopIO) {
        let index = Int(connection.index)
        guard connections[index].open, connections[index].generation == connection.generation else { return }
        while connections[index].fileRemaining > 0 && io.isOpen(connection) {
            let sent = io.sendFile(
                file, offset: &connections[index].fileOffset, count: connections[index].fileRemaining, on: connection)
            connections[index].fileRemaining -= sent
            connections[index].streamRemaining -= sent
            if sent == 0 { return }  // the socket is full: writable(_:io:) resumes
        }
        while connections[index].streamRemaining > 0 && io.pendingOutputBytes(connection) < 64 * 1024 && io.isOpen(connection) {
            let n = min(connections[index].streamRemaining, pattern.count)
            io.write(UnsafeRawBufferPointer(rebasing: pattern[0..<n]), on: connection)
            connections[index].streamRemaining -= n
        }
        guard connections[index].streamRemaining == 0 else {
            armSendTimer(connection, io: &io)  // waiting for the socket
            return
        }
        if connections[index].closeAfterStream {
            close(connection, io: &io)
        } else {
            armIdleTimer(connection, io: &io)
            io.resumeReading(connection)
        }
    }

    mutating func armIdleTimer(_ connection: ConnectionID, io: inout LoopIO) {
        guard let timeout = configuration.idleTimeout else { return }
        let index = Int(connection.index)
        if let timer = connections[index].idleTimer { io.cancelTimer(timer) }
        connections[index].idleTimer = io.armTimer(
            at: io.now + timeout, payload: UInt64(connection.generation) << 32 | UInt64(connection.index))
    }
}
