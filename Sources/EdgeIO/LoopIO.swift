import CEdgeIO
import CEdgeTLS

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// One event loop's I/O state and the operations handlers perform: the connection slot table,
/// the buffer pool, the timing wheel and the loop's clock.
///
/// A connection is a slot in a table, addressed by ``ConnectionID`` (index and generation), a
/// few dozen bytes with no class behind it. A slot holds pooled buffers only while data is in
/// flight: input after a read the handler did not consume whole, output after a write the
/// socket did not take whole. Reads go into one per-loop scratch buffer first, so an idle
/// keep-alive connection holds no buffer at all.
///
/// Owned by one loop thread and passed `inout` to the handler's callbacks.
public struct LoopIO {
    /// Connections per loop whose rows the per-connection tables (the loop's slots, its timer
    /// nodes, a handler's entries, a policy's records) reserve when made: address space only,
    /// since a row's pages are touched when a connection first uses them. The tables then never
    /// copy themselves while growing up to this count: doubling would leave up to half of each
    /// table touched and unused (an idle connection's memory, issue 13: at most 512 bytes).
    public static var reservedConnections: Int { 65_536 }

    @usableFromInline
    struct Slot {
        @usableFromInline var fd: Int32 = -1
        @usableFromInline var generation: UInt32 = 0
        /// A chunk holding unconsumed input, or -1.
        @usableFromInline var input: Int32 = -1
        /// The chain of chunks with queued output, or -1.
        @usableFromInline var outputHead: Int32 = -1
        @usableFromInline var outputTail: Int32 = -1
        @usableFromInline var nextFree: Int32 = -1
        @usableFromInline var flags: UInt16 = 0
        @usableFromInline var reason: CloseReason = .closed
        /// The OpenSSL connection of a TLS connection.
        @usableFromInline var tls: OpaquePointer? = nil
        /// The core's own timer on this slot: the TLS handshake timeout, or the end of a
        /// lingering close.
        @usableFromInline var coreTimer: TimerID? = nil

        @inlinable init() {}
    }

    @usableFromInline
    enum Flag {
        @usableFromInline static let inUse: UInt16 = 1 << 0
        @usableFromInline static let closeRequested: UInt16 = 1 << 1
        @usableFromInline static let abortRequested: UInt16 = 1 << 2
        @usableFromInline static let readPaused: UInt16 = 1 << 3
        /// A read edge arrived (or buffered input waits) while reads were paused.
        @usableFromInline static let readPending: UInt16 = 1 << 4
        @usableFromInline static let inputEnded: UInt16 = 1 << 5
        @usableFromInline static let notifyWritable: UInt16 = 1 << 6
        @usableFromInline static let connecting: UInt16 = 1 << 7
        @usableFromInline static let queuedFlush: UInt16 = 1 << 8
        @usableFromInline static let queuedRead: UInt16 = 1 << 9
        @usableFromInline static let queuedClose: UInt16 = 1 << 10
        @usableFromInline static let failed: UInt16 = 1 << 11
        /// Buffered input must be passed to the handler before the next read.
        @usableFromInline static let redeliver: UInt16 = 1 << 12
        /// TLS handshake in progress: the handler has not been told about the connection.
        @usableFromInline static let handshaking: UInt16 = 1 << 13
        /// Closed for the handler; the core half-closed the socket and discards input until
        /// the peer closes (or a timeout), so unread input cannot turn the close into a reset
        /// that destroys the response in flight (nginx's lingering close).
        @usableFromInline static let lingering: UInt16 = 1 << 14
        @usableFromInline static let closing: UInt16 = closeRequested | abortRequested | failed
    }

    @usableFromInline static let iovecCapacity = 64
    @usableFromInline static let specialTag: UInt64 = 1 << 63
    @usableFromInline static let mailboxTag: UInt64 = specialTag | 0
    @usableFromInline static let listenerTag: UInt64 = specialTag | 1
    /// Timer payloads with this bit are the core's own (TLS handshake timeouts).
    @usableFromInline static let coreTimerTag: UInt64 = 1 << 63
    /// The core timer that retries accepting after the process ran out of descriptors.
    @usableFromInline static let acceptRetryPayload: UInt64 = coreTimerTag | 0x7fff_ffff_ffff_ffff
    @usableFromInline static let connectionEvents: UInt32 =
        CEIO_EPOLLIN | CEIO_EPOLLOUT | CEIO_EPOLLRDHUP | CEIO_EPOLLET

    /// Which loop of its group this is (0-based).
    public let loopIndex: Int
    @usableFromInline let epoll: Int32
    @usableFromInline var slots: [Slot]
    @usableFromInline var freeSlot: Int32
    @usableFromInline var pool: BufferPool
    @usableFromInline let scratch: UnsafeMutableRawPointer
    @usableFromInline let iovecs: UnsafeMutablePointer<iovec>
    @usableFromInline var flushQueue: [UInt32]
    @usableFromInline var closeQueue: [UInt32]
    @usableFromInline var readQueue: [UInt32]
    @usableFromInline var spareQueue: [UInt32]
    @usableFromInline var readSpare: [UInt32]
    @usableFromInline var acceptPending: Bool
    @usableFromInline var stopRequested: Bool
    /// Set by ``stopAccepting()``: the loop closes its listener at its next turn.
    @usableFromInline var acceptStopRequested: Bool
    @usableFromInline let startNanoseconds: UInt64
    /// Keeps the TLS context alive; the loop uses ``tlsPointer``.
    @usableFromInline let tlsContext: TLSContext?
    @usableFromInline let tlsPointer: OpaquePointer?
    /// One record's worth of plaintext assembled from a head and a body (TLS only).
    @usableFromInline let tlsStaging: UnsafeMutableRawPointer?
    @usableFromInline let handshakeTimeout: UInt64
    @usableFromInline let lingeringTimeout: UInt64
    /// This loop's timers, in milliseconds since the loop started (``now``).
    public var timers: TimingWheel
    /// The loop's clock: milliseconds since it started, read once per wake-up (like nginx's
    /// `ngx_current_msec`), so every event of one wake-up sees the same time.
    @inlinable public var now: UInt64 { _now }
    @usableFromInline var _now: UInt64
    /// Open connections (accepted and outbound).
    @inlinable public var connectionCount: Int { _connectionCount }
    @usableFromInline var _connectionCount: Int

    /// - Parameters:
    ///   - loopIndex: the loop's number in its group.
    ///   - epoll: the loop's epoll fd (owned from now on).
    ///   - chunkSize: the size of pooled buffers and of the largest input a handler sees
    ///     (at least 16 KiB with TLS: a retried TLS write must find a whole record).
    ///   - tls: accepted connections speak TLS with this context; `nil`: plain TCP.
    ///   - handshakeTimeout: milliseconds a TLS handshake may take.
    ///   - lingeringTimeout: milliseconds a closed connection keeps discarding input until the
    ///     peer closes (0: close at once).
    public init(
        loopIndex: Int, epoll: Int32, chunkSize: Int, tls: TLSContext? = nil, handshakeTimeout: UInt64 = 10_000,
        lingeringTimeout: UInt64 = 2_000
    ) {
        // Writes are plain write/writev (no MSG_NOSIGNAL flag per call): a peer gone must
        // come back as EPIPE, not end the process.
        ceio_ignore_sigpipe()
        self.lingeringTimeout = lingeringTimeout
        precondition(tls == nil || chunkSize >= 16 * 1024, "TLS needs chunks of at least 16 KiB")
        tlsContext = tls
        tlsPointer = tls?.pointer
        tlsStaging = tls == nil ? nil : UnsafeMutableRawPointer.allocate(byteCount: chunkSize, alignment: 64)
        self.handshakeTimeout = handshakeTimeout
        self.loopIndex = loopIndex
        self.epoll = epoll
        slots = []
        slots.reserveCapacity(Self.reservedConnections)
        freeSlot = -1
        pool = BufferPool(chunkSize: chunkSize)
        scratch = UnsafeMutableRawPointer.allocate(byteCount: chunkSize, alignment: 64)
        iovecs = UnsafeMutablePointer<iovec>.allocate(capacity: Self.iovecCapacity)
        flushQueue = []
        closeQueue = []
        readQueue = []
        spareQueue = []
        flushQueue.reserveCapacity(256)
        closeQueue.reserveCapacity(256)
        readQueue.reserveCapacity(256)
        spareQueue.reserveCapacity(256)
        readSpare = []
        readSpare.reserveCapacity(256)
        acceptPending = false
        stopRequested = false
        acceptStopRequested = false
        startNanoseconds = ceio_monotonic_ns()
        timers = TimingWheel(now: 0, capacity: Self.reservedConnections)
        _now = 0
        _connectionCount = 0
    }

    // MARK: - Connection state

    /// Whether `connection` is open and not closing.
    @inlinable
    public func isOpen(_ connection: ConnectionID) -> Bool {
        guard let index = slotIndex(connection) else { return false }
        return slots[index].flags & Flag.closing == 0
    }

    /// Bytes queued for `connection` and not yet taken by the socket.
    @inlinable
    public func pendingOutputBytes(_ connection: ConnectionID) -> Int {
        guard let index = slotIndex(connection) else { return 0 }
        var total = 0
        var chunk = slots[index].outputHead
        while chunk >= 0 {
            total += pool.end(chunk) - pool.start(chunk)
            chunk = pool.next(chunk)
        }
        return total
    }

    /// Pooled chunks in use (input leftovers and queued output of every connection).
    public var buffersInUse: Int { pool.inUse }
    /// Pooled chunks allocated.
    public var buffersAllocated: Int { pool.capacity }

    /// The loop's monotonic clock in nanoseconds (read now, not cached).
    @inlinable
    public func readClockNanoseconds() -> UInt64 { ceio_monotonic_ns() &- startNanoseconds }

    /// What a TLS connection negotiated, or `nil` for plain TCP (allocates: for logs, tests).
    public func tlsInfo(_ connection: ConnectionID) -> TLSConnectionInfo? {
        guard let index = slotIndex(connection), let tls = slots[index].tls else { return nil }
        var length: UInt32 = 0
        let alpn = ceio_tls_alpn(tls, &length).map {
            String(decoding: UnsafeBufferPointer(start: $0, count: Int(length)), as: UTF8.self)
        }
        return TLSConnectionInfo(
            version: String(cString: ceio_tls_version(tls)), applicationProtocol: alpn,
            serverName: ceio_tls_server_name(tls).map { String(cString: $0) }, resumed: ceio_tls_session_reused(tls) == 1)
    }

    /// Whether the TLS handshake resumed a session (a ticket), not a full one (no allocation).
    @inlinable
    public func resumedSession(_ connection: ConnectionID) -> Bool {
        guard let index = slotIndex(connection), let tls = slots[index].tls else { return false }
        return ceio_tls_session_reused(tls) == 1
    }

    /// Whether ALPN chose HTTP/2 on this connection (no allocation).
    @inlinable
    public func negotiatedHTTP2(_ connection: ConnectionID) -> Bool {
        guard let index = slotIndex(connection), let tls = slots[index].tls else { return false }
        var length: UInt32 = 0
        guard let alpn = ceio_tls_alpn(tls, &length), length == 2 else { return false }
        return alpn[0] == UInt8(ascii: "h") && alpn[1] == UInt8(ascii: "2")
    }

    // MARK: - Output

    /// Queues a copy of `bytes`, written when the current callback batch ends (one `writev`
    /// per connection per wake-up however many responses were queued: pipelining costs one
    /// write).
    @inlinable
    public mutating func enqueue(_ bytes: UnsafeRawBufferPointer, on connection: ConnectionID) {
        guard let index = slotIndex(connection), slots[index].flags & Flag.closing == 0, !bytes.isEmpty else { return }
        appendOutput(index, bytes)
        if slots[index].flags & Flag.queuedFlush == 0 {
            slots[index].flags |= Flag.queuedFlush
            flushQueue.append(UInt32(index))
        }
    }

    /// Writes `connection`'s queued output now instead of when the callback batch ends, for a
    /// producer that must not queue more than the socket takes (an HTTP/2 session).
    /// - Returns: `true` when nothing is left queued; `false` when the socket is full
    ///   (``EventLoopHandler/writable(_:io:)`` follows once it took the rest) or the
    ///   connection is closing.
    @inlinable
    public mutating func writeQueuedOutput(_ connection: ConnectionID) -> Bool {
        guard let index = slotIndex(connection), slots[index].flags & Flag.closing == 0 else { return false }
        if slots[index].outputHead >= 0 { flush(index) }
        guard slots[index].outputHead < 0 else {
            slots[index].flags |= Flag.notifyWritable
            return false
        }
        return slots[index].flags & Flag.closing == 0
    }

    /// Writes `bytes` now; whatever the socket does not take is copied into pooled buffers
    /// and written when it becomes writable, then ``EventLoopHandler/writable(_:io:)`` is
    /// called. Check ``pendingOutputBytes(_:)`` before writing more (backpressure).
    @inlinable
    public mutating func write(_ bytes: UnsafeRawBufferPointer, on connection: ConnectionID) {
        write(bytes, UnsafeRawBufferPointer(start: nil, count: 0), on: connection)
    }

    /// Writes two buffers in one `writev` (a response head and its body).
    @inlinable
    public mutating func write(
        _ first: UnsafeRawBufferPointer, _ second: UnsafeRawBufferPointer, on connection: ConnectionID
    ) {
        guard let index = slotIndex(connection), slots[index].flags & Flag.closing == 0 else { return }
        if slots[index].outputHead >= 0 || slots[index].flags & (Flag.handshaking | Flag.connecting) != 0 {
            appendOutput(index, first)
            appendOutput(index, second)
            if slots[index].flags & (Flag.handshaking | Flag.connecting) == 0 {
                flush(index)
            } else {
                slots[index].flags |= Flag.notifyWritable  // told once it is written
            }
            return
        }
        if let tls = slots[index].tls {
            writeTLS(index, tls, first, second)
            return
        }
        var count: Int32 = 0
        if !first.isEmpty {
            iovecs[Int(count)] = iovec(iov_base: UnsafeMutableRawPointer(mutating: first.baseAddress), iov_len: first.count)
            count += 1
        }
        if !second.isEmpty {
            iovecs[Int(count)] = iovec(iov_base: UnsafeMutableRawPointer(mutating: second.baseAddress), iov_len: second.count)
            count += 1
        }
        guard count > 0 else { return }
        var written = ceio_writev(slots[index].fd, iovecs, count)
        if written < 0 {
            let error = ceio_errno()
            guard error == EAGAIN || error == EWOULDBLOCK else {
                fail(index, .failed(errno: error))
                return
            }
            written = 0
        }
        let total = first.count + second.count
        guard written < total else { return }
        let firstTaken = min(written, first.count)
        if firstTaken < first.count {
            appendOutput(index, UnsafeRawBufferPointer(rebasing: first[firstTaken...]))
        }
        let secondTaken = written - firstTaken
        if secondTaken < second.count {
            appendOutput(index, UnsafeRawBufferPointer(rebasing: second[secondTaken...]))
        }
        slots[index].flags |= Flag.notifyWritable
    }

    /// Whether a write to `connection` was not all taken by its socket and waits for it
    /// (``EventLoopHandler/writable(_:io:)`` follows once it is): unlike
    /// ``pendingOutputBytes(_:)``, bytes queued for the batch's end and not yet tried do not
    /// count.
    @inlinable
    public func isWaitingToWrite(_ connection: ConnectionID) -> Bool {
        guard let index = slotIndex(connection) else { return false }
        return slots[index].outputHead >= 0 && slots[index].flags & Flag.notifyWritable != 0
    }

    /// Writes a complete message (a request without more body to come, a whole response)
    /// when the current callback batch ends, like ``enqueue(_:on:)``: the loop's writes of one
    /// wake-up then go out back to back, so a peer (the upstream, the client) is woken once for
    /// several of them instead of once each, and the wake-ups cost the writer less kernel time.
    /// A connection still connecting or handshaking, or with output already waiting, is
    /// written as ``write(_:_:on:)`` does (its notification rules apply). Not for a producer
    /// that checks ``pendingOutputBytes(_:)`` for backpressure: these bytes count as pending
    /// until the batch ends.
    @inlinable
    public mutating func writeAtBatchEnd(
        _ first: UnsafeRawBufferPointer, _ second: UnsafeRawBufferPointer, on connection: ConnectionID
    ) {
        guard let index = slotIndex(connection), slots[index].flags & Flag.closing == 0 else { return }
        guard slots[index].outputHead < 0, slots[index].flags & (Flag.handshaking | Flag.connecting) == 0 else {
            write(first, second, on: connection)
            return
        }
        enqueue(first, on: connection)
        enqueue(second, on: connection)
    }

    /// ``writeAtBatchEnd(_:_:on:)`` for a message in one buffer.
    @inlinable
    public mutating func writeAtBatchEnd(_ bytes: UnsafeRawBufferPointer, on connection: ConnectionID) {
        writeAtBatchEnd(bytes, UnsafeRawBufferPointer(start: nil, count: 0), on: connection)
    }

    /// Sends part of a file with `sendfile(2)` (queued output is written first).
    /// - Parameters:
    ///   - file: an open regular file.
    ///   - offset: where to start; advanced by the bytes sent.
    ///   - count: bytes wanted.
    /// - Returns: bytes sent now. Fewer than `count` (also 0) means the socket is full:
    ///   ``EventLoopHandler/writable(_:io:)`` is called when it can take more. A failure
    ///   closes the connection and returns 0.
    @inlinable
    public mutating func sendFile(_ file: Int32, offset: inout Int64, count: Int, on connection: ConnectionID) -> Int {
        guard let index = slotIndex(connection), slots[index].flags & Flag.closing == 0, count > 0 else { return 0 }
        guard slots[index].tls == nil else {
            // No kernel TLS here: the handler must read the file and write it.
            fail(index, .failed(errno: EOPNOTSUPP))
            return 0
        }
        if slots[index].outputHead >= 0 {
            flush(index)
            if slots[index].outputHead >= 0 {
                slots[index].flags |= Flag.notifyWritable
                return 0
            }
        }
        let sent = ceio_sendfile(slots[index].fd, file, &offset, count)
        if sent < 0 {
            let error = ceio_errno()
            if error == EAGAIN || error == EWOULDBLOCK {
                slots[index].flags |= Flag.notifyWritable
            } else {
                fail(index, .failed(errno: error))
            }
            return 0
        }
        if sent < count { slots[index].flags |= Flag.notifyWritable }
        return sent
    }

    // MARK: - Reading

    /// Stops passing input to the handler until ``resumeReading(_:)`` (the kernel's receive
    /// buffer then fills and TCP pushes back on the peer).
    @inlinable
    public mutating func pauseReading(_ connection: ConnectionID) {
        guard let index = slotIndex(connection) else { return }
        slots[index].flags |= Flag.readPaused
    }

    /// Resumes reading; buffered input is passed to the handler again first.
    @inlinable
    public mutating func resumeReading(_ connection: ConnectionID) {
        guard let index = slotIndex(connection), slots[index].flags & Flag.readPaused != 0 else { return }
        slots[index].flags &= ~Flag.readPaused
        if slots[index].input >= 0 { slots[index].flags |= Flag.redeliver }
        // Edge-triggered: no new edge will come for data that arrived while paused.
        queueRead(index)
    }

    // MARK: - Closing

    /// Closes `connection` once its queued output is written. No input is passed after this.
    @inlinable
    public mutating func close(_ connection: ConnectionID) {
        guard let index = slotIndex(connection) else { return }
        slots[index].flags |= Flag.closeRequested
        queueClose(index)
    }

    /// Closes `connection` at once with a reset, dropping queued output.
    @inlinable
    public mutating func abort(_ connection: ConnectionID) {
        guard let index = slotIndex(connection) else { return }
        slots[index].flags |= Flag.abortRequested
        slots[index].reason = .aborted
        queueClose(index)
    }

    // MARK: - Outbound connections

    /// Starts a non-blocking TCP connection (to an upstream) on this loop.
    /// - Parameters:
    ///   - host: a numeric IPv4 or IPv6 address.
    ///   - port: the port.
    /// - Returns: the connection's id (``EventLoopHandler/connectCompleted(_:error:io:)``
    ///   follows), or the error when the socket could not even be started.
    public mutating func connect(host: String, port: UInt16) -> Result<ConnectionID, EdgeIOError> {
        var inProgress: Int32 = 0
        let fd = host.withCString { ceio_connect_tcp($0, port, &inProgress) }
        guard fd >= 0 else {
            return .failure(.connect(errno: ceio_errno(), context: "connect \(host):\(port)"))
        }
        _ = ceio_set_nodelay(fd, 1)
        guard let connection = register(fd, connecting: true) else {
            let error = ceio_errno()
            Glibc.close(fd)
            return .failure(.connect(errno: error, context: "epoll_ctl"))
        }
        return .success(connection)
    }

    /// Starts a non-blocking connection to an upstream (TCP or Unix socket) on this loop.
    /// Output written before it is established is queued and sent once it is.
    /// - Parameter address: where to connect, resolved once in advance.
    /// - Returns: the connection's id (``EventLoopHandler/connectCompleted(_:error:io:)``
    ///   follows, also for a connection established at once), or the errno when the socket
    ///   could not even be started (a refused Unix socket fails here).
    @inlinable
    public mutating func connect(to address: SocketAddress) -> Result<ConnectionID, ConnectError> {
        var inProgress: Int32 = 0
        let fd = withUnsafePointer(to: address.raw) { ceio_connect_address($0, &inProgress) }
        guard fd >= 0 else { return .failure(ConnectError(errno: ceio_errno())) }
        guard let connection = register(fd, connecting: true) else {
            let error = ceio_errno()
            Glibc.close(fd)
            return .failure(ConnectError(errno: error))
        }
        return .success(connection)
    }

    /// The peer's numeric address as text (for X-Forwarded-For), written to `buffer` (at
    /// least 46 bytes): one `getpeername`, so once per connection.
    /// - Returns: the length, or 0 for a Unix-domain peer or a closed connection.
    @inlinable
    public func peerAddress(_ connection: ConnectionID, into buffer: UnsafeMutableRawBufferPointer) -> Int {
        guard let index = slotIndex(connection), buffer.count >= 46 else { return 0 }
        return Int(ceio_peer_text(slots[index].fd, buffer.baseAddress!.assumingMemoryBound(to: CChar.self), Int32(buffer.count)))
    }

    // MARK: - Timers

    /// Arms a timer on this loop's wheel.
    /// - Parameters:
    ///   - deadline: milliseconds on the loop's clock (``now`` + a timeout).
    ///   - payload: passed back to ``EventLoopHandler/timerFired(_:payload:io:)``; its top
    ///     bit is reserved for the core's own timers.
    @inlinable
    public mutating func armTimer(at deadline: UInt64, payload: UInt64) -> TimerID {
        precondition(payload & Self.coreTimerTag == 0, "the top bit of a timer payload is the core's")
        return timers.arm(at: deadline, payload: payload)
    }

    /// Cancels a timer; a timer that fired already is ignored.
    @inlinable
    @discardableResult
    public mutating func cancelTimer(_ timer: TimerID) -> Bool { timers.cancel(timer) }

    /// Stops accepting connections on this loop for good (a drain): its listening socket is
    /// closed at the loop's next turn; connections already accepted go on.
    public mutating func stopAccepting() {
        acceptStopRequested = true
    }

    // MARK: - Internals

    @inlinable
    func slotIndex(_ connection: ConnectionID) -> Int? {
        let index = Int(connection.index)
        guard index < slots.count, slots[index].generation == connection.generation,
            slots[index].flags & Flag.inUse != 0
        else { return nil }
        return index
    }

    @inlinable
    func connectionID(_ index: Int) -> ConnectionID {
        ConnectionID(index: UInt32(index), generation: slots[index].generation)
    }

    @inlinable
    mutating func register(_ fd: Int32, connecting: Bool) -> ConnectionID? {
        let index: Int
        if freeSlot >= 0 {
            index = Int(freeSlot)
            freeSlot = slots[index].nextFree
        } else {
            index = slots.count
            slots.append(Slot())
        }
        slots[index].fd = fd
        slots[index].flags = Flag.inUse | (connecting ? Flag.connecting : 0)
        slots[index].reason = .closed
        slots[index].nextFree = -1
        let generation = slots[index].generation
        let data = UInt64(generation) << 32 | UInt64(index)
        guard ceio_epoll_add(epoll, fd, Self.connectionEvents, data) == 0 else {
            slots[index].flags = 0
            slots[index].fd = -1
            slots[index].nextFree = freeSlot
            freeSlot = Int32(index)
            return nil
        }
        _connectionCount += 1
        return ConnectionID(index: UInt32(index), generation: generation)
    }

    @inlinable
    mutating func appendOutput(_ index: Int, _ bytes: UnsafeRawBufferPointer) {
        guard var source = bytes.baseAddress else { return }
        var remaining = bytes.count
        var tail = slots[index].outputTail
        let capacity = pool.chunkSize
        while remaining > 0 {
            if tail < 0 || pool.end(tail) == capacity {
                let chunk = pool.acquire()
                if tail < 0 {
                    slots[index].outputHead = chunk
                } else {
                    pool.setNext(tail, chunk)
                }
                tail = chunk
            }
            let end = pool.end(tail)
            let n = min(capacity - end, remaining)
            (pool.base(tail) + end).copyMemory(from: source, byteCount: n)
            pool.setEnd(tail, end + n)
            source += n
            remaining -= n
        }
        slots[index].outputTail = tail
    }

    /// Writes queued output with `writev` (TLS: one `SSL_write` per chunk), releasing written
    /// chunks.
    @inlinable
    mutating func flush(_ index: Int) {
        if slots[index].flags & Flag.connecting != 0 { return }  // written once connected
        if let tls = slots[index].tls {
            flushTLS(index, tls)
            return
        }
        while slots[index].outputHead >= 0 {
            var count: Int32 = 0
            var total = 0
            var chunk = slots[index].outputHead
            while chunk >= 0 && count < Self.iovecCapacity {
                let start = pool.start(chunk)
                let length = pool.end(chunk) - start
                iovecs[Int(count)] = iovec(iov_base: pool.base(chunk) + start, iov_len: length)
                total += length
                count += 1
                chunk = pool.next(chunk)
            }
            let written = ceio_writev(slots[index].fd, iovecs, count)
            if written < 0 {
                let error = ceio_errno()
                if error == EAGAIN || error == EWOULDBLOCK {
                    slots[index].flags |= Flag.notifyWritable
                } else {
                    fail(index, .failed(errno: error))
                }
                return
            }
            var left = written
            while left > 0 {
                let head = slots[index].outputHead
                let start = pool.start(head)
                let length = pool.end(head) - start
                if left >= length {
                    left -= length
                    let next = pool.next(head)
                    pool.release(head)
                    slots[index].outputHead = next
                    if next < 0 { slots[index].outputTail = -1 }
                } else {
                    pool.setStart(head, start + left)
                    left = 0
                }
            }
            if written < total {
                slots[index].flags |= Flag.notifyWritable
                return
            }
        }
    }

    /// Writes a head and a body through TLS: as one record when they fit one chunk.
    @inlinable
    mutating func writeTLS(_ index: Int, _ tls: OpaquePointer, _ first: UnsafeRawBufferPointer, _ second: UnsafeRawBufferPointer) {
        if !first.isEmpty && !second.isEmpty && first.count + second.count <= pool.chunkSize, let staging = tlsStaging {
            staging.copyMemory(from: first.baseAddress!, byteCount: first.count)
            (staging + first.count).copyMemory(from: second.baseAddress!, byteCount: second.count)
            writeTLS(index, tls, UnsafeRawBufferPointer(start: staging, count: first.count + second.count))
            return
        }
        writeTLS(index, tls, first)
        if slots[index].outputHead >= 0 || slots[index].flags & Flag.failed != 0 {
            appendOutput(index, second)
        } else {
            writeTLS(index, tls, second)
        }
    }

    @inlinable
    mutating func writeTLS(_ index: Int, _ tls: OpaquePointer, _ bytes: UnsafeRawBufferPointer) {
        var offset = 0
        while offset < bytes.count {
            let n = ceio_tls_write(tls, bytes.baseAddress! + offset, bytes.count - offset)
            if n > 0 {
                offset += n
            } else if n == -1 {
                // The retry must offer the same bytes again: they go first in the output chain.
                appendOutput(index, UnsafeRawBufferPointer(rebasing: bytes[offset...]))
                slots[index].flags |= Flag.notifyWritable
                return
            } else {
                fail(index, .failed(errno: EPROTO))
                return
            }
        }
    }

    @inlinable
    mutating func flushTLS(_ index: Int, _ tls: OpaquePointer) {
        while slots[index].outputHead >= 0 {
            let head = slots[index].outputHead
            let start = pool.start(head)
            let length = pool.end(head) - start
            let n = ceio_tls_write(tls, pool.base(head) + start, length)
            if n == -1 {
                slots[index].flags |= Flag.notifyWritable
                return
            }
            if n < 0 {
                fail(index, .failed(errno: EPROTO))
                return
            }
            if n < length {
                pool.setStart(head, start + n)
            } else {
                let next = pool.next(head)
                pool.release(head)
                slots[index].outputHead = next
                if next < 0 { slots[index].outputTail = -1 }
            }
        }
    }

    @inlinable
    mutating func fail(_ index: Int, _ reason: CloseReason) {
        if slots[index].flags & Flag.failed == 0 {
            slots[index].reason = reason
        }
        slots[index].flags |= Flag.failed
        queueClose(index)
    }

    @inlinable
    mutating func queueClose(_ index: Int) {
        if slots[index].flags & Flag.queuedClose == 0 {
            slots[index].flags |= Flag.queuedClose
            closeQueue.append(UInt32(index))
        }
    }

    @inlinable
    mutating func queueRead(_ index: Int) {
        if slots[index].flags & Flag.queuedRead == 0 {
            slots[index].flags |= Flag.queuedRead
            readQueue.append(UInt32(index))
        }
    }

    @inlinable
    mutating func updateClock() {
        _now = (ceio_monotonic_ns() &- startNanoseconds) / 1_000_000
    }

    /// Frees the loop's memory and closes its epoll fd (connections are closed already).
    @usableFromInline
    mutating func deallocate() {
        pool.deallocate()
        scratch.deallocate()
        tlsStaging?.deallocate()
        iovecs.deallocate()
        Glibc.close(epoll)
    }
}
