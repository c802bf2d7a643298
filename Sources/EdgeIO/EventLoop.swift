import CEdgeIO
import CEdgeTLS

#if canImport(Glibc)
    import Glibc
#endif

/// The event loop: one thread, one edge-triggered epoll, one listener (its own `SO_REUSEPORT`
/// socket), one handler. Generic over the handler and `@inlinable`, so it is specialised for
/// the handler type where the group is created: every callback is a direct call.
///
/// A wake-up: wait in `epoll_wait` (bounded by the earliest timer), read the clock once,
/// dispatch the events (accept, read, write, mailbox), then write what the callbacks queued
/// (one `writev` per connection), close what they closed, run reads deferred for fairness,
/// and fire due timers.
public enum EventLoop<Handler: EventLoopHandler> {
    /// Reads per connection per wake-up before it yields to the others (edge-triggered epoll
    /// needs the rest read later: the connection goes on the read queue).
    @usableFromInline static var readRounds: Int { 4 }
    /// Connections accepted per wake-up before others get a turn.
    @usableFromInline static var acceptBatch: Int { 64 }

    /// Runs the loop on the calling thread until its mailbox asks it to stop; then closes every
    /// connection (``CloseReason/loopStopped``) and the listener, and frees the loop's memory.
    /// - Parameters:
    ///   - handler: the loop's handler.
    ///   - io: the loop's I/O state (its epoll fd is closed at the end).
    ///   - listener: a listening socket, or -1 for a loop without one.
    ///   - mailbox: the loop's mailbox.
    @inlinable
    public static func run(handler: inout Handler, io: inout LoopIO, listener: Int32, mailbox: Mailbox<Handler.Message>) {
        var listener = listener
        let events = UnsafeMutablePointer<ceio_event>.allocate(capacity: 256)
        defer { events.deallocate() }
        var expired: [TimingWheel.Expired] = []
        expired.reserveCapacity(256)
        var messages: [Handler.Message] = []
        messages.reserveCapacity(16)
        let edge = CEIO_EPOLLET
        if listener >= 0 {
            _ = ceio_epoll_add(io.epoll, listener, CEIO_EPOLLIN | edge, LoopIO.listenerTag)
            io.acceptPending = true
        }
        _ = ceio_epoll_add(io.epoll, mailbox.eventFD, CEIO_EPOLLIN | edge, LoopIO.mailboxTag)
        io.updateClock()
        while !io.stopRequested {
            var timeout: Int32 = -1
            if !io.readQueue.isEmpty || io.acceptPending {
                timeout = 0
            } else if let next = io.timers.nextDeadline {
                timeout = next <= io.now ? 0 : Int32(clamping: next - io.now)
            }
            let count = ceio_epoll_wait(io.epoll, events, 256, timeout)
            io.updateClock()
            if count > 0 {
                for i in 0..<Int(count) {
                    let event = events[i]
                    if event.data & LoopIO.specialTag != 0 {
                        if event.data == LoopIO.mailboxTag {
                            if mailbox.take(into: &messages) { io.stopRequested = true }
                            for message in messages { handler.received(message: message, io: &io) }
                            messages.removeAll(keepingCapacity: true)
                        } else {
                            io.acceptPending = true
                        }
                    } else {
                        io.dispatch(event, handler: &handler)
                    }
                }
                io.drainQueues(handler: &handler)
            }
            if io.acceptStopRequested && listener >= 0 {
                // A drain: no more connections here (the kernel resets those still queued on
                // this socket; the caller drains every loop of the group alike).
                Glibc.close(listener)
                listener = -1
                io.acceptPending = false
            }
            if io.acceptPending && !io.stopRequested {
                io.acceptConnections(listener, handler: &handler)
                io.drainQueues(handler: &handler)
            }
            if !io.readQueue.isEmpty {
                io.runReadQueue(handler: &handler)
                io.drainQueues(handler: &handler)
            }
            if let next = io.timers.nextDeadline, next <= io.now {
                io.timers.advance(to: io.now, into: &expired)
                for timer in expired {
                    if timer.payload & LoopIO.coreTimerTag != 0 {
                        io.coreTimerFired(payload: timer.payload, handler: &handler)
                    } else {
                        handler.timerFired(timer.id, payload: timer.payload, io: &io)
                    }
                }
                expired.removeAll(keepingCapacity: true)
                io.drainQueues(handler: &handler)
            }
        }
        mailbox.close()
        io.closeAll(handler: &handler)
        if listener >= 0 { Glibc.close(listener) }
        io.deallocate()
    }
}

extension LoopIO {
    @inlinable
    mutating func dispatch<Handler: EventLoopHandler>(_ event: ceio_event, handler: inout Handler) {
        let index = Int(UInt32(truncatingIfNeeded: event.data))
        let generation = UInt32(truncatingIfNeeded: event.data >> 32)
        guard index < slots.count, slots[index].generation == generation, slots[index].flags & Flag.inUse != 0 else {
            return  // an event for a connection closed earlier in this wake-up
        }
        if slots[index].flags & Flag.lingering != 0 {
            discardLingeringInput(index)
            return
        }
        let events = event.events
        let out = CEIO_EPOLLOUT
        let errorOrHangUp = CEIO_EPOLLERR | CEIO_EPOLLHUP
        if slots[index].flags & Flag.connecting != 0 {
            guard events & (out | errorOrHangUp) != 0 else { return }
            let error = ceio_socket_error(slots[index].fd)
            slots[index].flags &= ~Flag.connecting
            if error != 0 { fail(index, .connectFailed(errno: error)) }
            handler.connectCompleted(connectionID(index), error: error, io: &self)
            if error != 0 { return }
        }
        if slots[index].tls != nil {
            tlsEvent(index, handler: &handler)
            return
        }
        if events & out != 0 { writableEvent(index, handler: &handler) }
        if events & (CEIO_EPOLLIN | CEIO_EPOLLRDHUP | errorOrHangUp) != 0 {
            let hangUp = events & (CEIO_EPOLLRDHUP | errorOrHangUp) != 0
            readConnection(index, untilDrained: hangUp, handler: &handler)
        }
    }

    /// Any event on a TLS connection: OpenSSL may need to write while reading and read while
    /// writing (handshake, tickets, key updates), so both directions are tried.
    @inlinable
    mutating func tlsEvent<Handler: EventLoopHandler>(_ index: Int, handler: inout Handler) {
        if slots[index].flags & Flag.handshaking != 0 {
            guard slots[index].flags & Flag.closing == 0 else { return }
            switch ceio_tls_handshake(slots[index].tls) {
            case 1:
                slots[index].flags &= ~Flag.handshaking
                if let timer = slots[index].coreTimer {
                    timers.cancel(timer)
                    slots[index].coreTimer = nil
                }
                handler.accepted(connectionID(index), io: &self)
            case 0:
                return
            case let failure:
                handler.handshakeFailed(TLSHandshakeFailure(code: failure), io: &self)
                fail(index, .failed(errno: EPROTO))
                return
            }
        }
        writableEvent(index, handler: &handler)
        readConnection(index, untilDrained: true, handler: &handler)
    }

    /// A timer of the core's own fired: a TLS handshake took too long, or a lingering close
    /// ends.
    @inlinable
    mutating func coreTimerFired<Handler: EventLoopHandler>(payload: UInt64, handler: inout Handler) {
        if payload == Self.acceptRetryPayload {
            acceptPending = true
            return
        }
        let index = Int(UInt32(truncatingIfNeeded: payload))
        let generation = UInt32(truncatingIfNeeded: payload >> 32) & 0x7fff_ffff
        guard index < slots.count, slots[index].generation == generation, slots[index].flags & Flag.inUse != 0 else {
            return
        }
        slots[index].coreTimer = nil
        if slots[index].flags & Flag.lingering != 0 {
            finishLingering(index)
        } else if slots[index].flags & Flag.handshaking != 0 {
            handler.handshakeFailed(.timeout, io: &self)
            fail(index, .failed(errno: ETIMEDOUT))
        }
    }

    /// Reads and drops input on a lingering connection; the peer's close (or an error) ends it.
    @inlinable
    mutating func discardLingeringInput(_ index: Int) {
        for _ in 0..<16 {
            let n = Glibc.read(slots[index].fd, scratch, pool.chunkSize)
            if n > 0 { continue }
            if n < 0 {
                let error = ceio_errno()
                if error == EINTR { continue }
                if error == EAGAIN || error == EWOULDBLOCK { return }
            }
            finishLingering(index)
            return
        }
    }

    /// Closes a lingering connection's socket and frees its slot (the handler was told
    /// already).
    @inlinable
    mutating func finishLingering(_ index: Int) {
        if let timer = slots[index].coreTimer { timers.cancel(timer) }
        Glibc.close(slots[index].fd)
        let generation = (slots[index].generation &+ 1) & 0x7fff_ffff
        slots[index] = Slot()
        slots[index].generation = generation
        slots[index].nextFree = freeSlot
        freeSlot = Int32(index)
        _connectionCount -= 1
    }

    @inlinable
    mutating func writableEvent<Handler: EventLoopHandler>(_ index: Int, handler: inout Handler) {
        let flags = slots[index].flags
        guard flags & (Flag.abortRequested | Flag.failed) == 0 else { return }
        if slots[index].outputHead >= 0 { flush(index) }
        guard slots[index].outputHead < 0, slots[index].flags & Flag.failed == 0 else { return }
        if flags & Flag.closeRequested != 0 {
            queueClose(index)
        } else if flags & Flag.notifyWritable != 0 {
            slots[index].flags &= ~Flag.notifyWritable
            handler.writable(connectionID(index), io: &self)
        }
    }

    /// Reads until the socket is drained (a short read, or EAGAIN when `untilDrained`: after
    /// a hang-up edge no later edge will report the end of input), or until the connection's
    /// share of this wake-up is used (it then goes on the read queue).
    @inlinable
    mutating func readConnection<Handler: EventLoopHandler>(_ index: Int, untilDrained: Bool, handler: inout Handler) {
        var rounds = 0
        while true {
            let flags = slots[index].flags
            if flags & (Flag.closing | Flag.inputEnded) != 0 { return }
            if flags & Flag.readPaused != 0 {
                slots[index].flags |= Flag.readPending
                return
            }
            if rounds == EventLoop<Handler>.readRounds {
                queueRead(index)
                return
            }
            rounds += 1
            let chunk = slots[index].input
            let buffer: UnsafeMutableRawPointer
            var existing = 0
            let room: Int
            if chunk >= 0 {
                let base = pool.base(chunk)
                let start = pool.start(chunk)
                existing = pool.end(chunk) - start
                if start > 0 {
                    base.copyMemory(from: base + start, byteCount: existing)  // memmove semantics
                    pool.setStart(chunk, 0)
                    pool.setEnd(chunk, existing)
                }
                if flags & Flag.redeliver != 0 {
                    slots[index].flags &= ~Flag.redeliver
                    deliver(index, buffer: base, count: existing, chunk: chunk, handler: &handler)
                    continue
                }
                buffer = base
                room = pool.chunkSize - existing
                if room == 0 {
                    fail(index, .inputOverflow)
                    return
                }
            } else {
                buffer = scratch
                room = pool.chunkSize
            }
            let tls = slots[index].tls
            var n: Int
            if let tls {
                n = ceio_tls_read(tls, buffer + existing, room)
                if n == -1 {
                    return  // would block
                } else if n == -2 {
                    fail(index, .failed(errno: EPROTO))
                    return
                }
            } else {
                n = Glibc.read(slots[index].fd, buffer + existing, room)
            }
            if n > 0 {
                deliver(index, buffer: buffer, count: existing + n, chunk: chunk, handler: &handler)
                // Drained for now: wait for the next edge (TLS: unless OpenSSL holds more).
                if n < room && !untilDrained && (tls == nil || ceio_tls_has_pending(tls) == 0) { return }
            } else if n == 0 {
                slots[index].flags |= Flag.inputEnded
                handler.inputEnded(on: connectionID(index), io: &self)
                return
            } else {
                let error = ceio_errno()
                if error == EINTR { continue }
                if error != EAGAIN && error != EWOULDBLOCK { fail(index, .failed(errno: error)) }
                return
            }
        }
    }

    /// Passes `count` bytes at `buffer` to the handler and keeps what it did not consume:
    /// in the connection's input chunk (`chunk`, or a new one when `buffer` is the scratch).
    @inlinable
    mutating func deliver<Handler: EventLoopHandler>(
        _ index: Int, buffer: UnsafeMutableRawPointer, count: Int, chunk: Int32, handler: inout Handler
    ) {
        let consumed = handler.received(
            UnsafeRawBufferPointer(start: buffer, count: count), on: connectionID(index), io: &self)
        precondition(consumed >= 0 && consumed <= count, "a handler consumed more than it was given")
        let rest = count - consumed
        if chunk >= 0 {
            if rest == 0 {
                pool.release(chunk)
                slots[index].input = -1
            } else {
                pool.setStart(chunk, consumed)  // the bytes start at the chunk's base
                pool.setEnd(chunk, count)
            }
        } else if rest > 0 {
            let kept = pool.acquire()
            pool.base(kept).copyMemory(from: buffer + consumed, byteCount: rest)
            pool.setEnd(kept, rest)
            slots[index].input = kept
        }
    }

    @inlinable
    mutating func acceptConnections<Handler: EventLoopHandler>(_ listener: Int32, handler: inout Handler) {
        acceptPending = false
        guard listener >= 0 else { return }
        for _ in 0..<EventLoop<Handler>.acceptBatch {
            let fd = ceio_accept(listener)
            if fd < 0 {
                let error = ceio_errno()
                if error == EINTR || error == ECONNABORTED { continue }
                if error == EMFILE || error == ENFILE || error == ENOBUFS || error == ENOMEM {
                    // Out of descriptors or memory: the backlog keeps the connections; try
                    // again in 100 ms (no new edge may come for them).
                    _ = timers.arm(at: now + 100, payload: Self.acceptRetryPayload)
                }
                return  // EAGAIN: drained
            }
            _ = ceio_set_nodelay(fd, 1)
            guard let connection = register(fd, connecting: false) else {
                Glibc.close(fd)
                continue
            }
            if let tlsPointer {
                let index = Int(connection.index)
                guard let tls = ceio_tls_new(tlsPointer, fd) else {
                    fail(index, .failed(errno: ENOMEM))
                    continue
                }
                slots[index].tls = tls
                slots[index].flags |= Flag.handshaking
                slots[index].coreTimer = timers.arm(
                    at: now + handshakeTimeout,
                    payload: Self.coreTimerTag | UInt64(connection.generation) << 32 | UInt64(connection.index))
                continue  // the handler hears of it when the handshake is done
            }
            handler.accepted(connection, io: &self)
        }
        acceptPending = true
    }

    @inlinable
    mutating func runReadQueue<Handler: EventLoopHandler>(handler: inout Handler) {
        swap(&readQueue, &readSpare)
        // Indexing (not `for in`) keeps the array's buffer unretained while callbacks run.
        var position = 0
        while position < readSpare.count {
            let index = Int(readSpare[position])
            position += 1
            slots[index].flags &= ~Flag.queuedRead
            if slots[index].flags & Flag.inUse != 0 { readConnection(index, untilDrained: true, handler: &handler) }
        }
        readSpare.removeAll(keepingCapacity: true)
    }

    /// Writes queued output and closes connections whose close was requested, until the
    /// callbacks this triggers queue nothing more.
    @inlinable
    mutating func drainQueues<Handler: EventLoopHandler>(handler: inout Handler) {
        while !flushQueue.isEmpty || !closeQueue.isEmpty {
            if !flushQueue.isEmpty {
                swap(&flushQueue, &spareQueue)
                var position = 0
                while position < spareQueue.count {
                    let index = Int(spareQueue[position])
                    position += 1
                    slots[index].flags &= ~Flag.queuedFlush
                    let flags = slots[index].flags
                    guard flags & Flag.inUse != 0, flags & (Flag.abortRequested | Flag.failed) == 0 else { continue }
                    flush(index)
                }
                spareQueue.removeAll(keepingCapacity: true)
            }
            if !closeQueue.isEmpty {
                swap(&closeQueue, &spareQueue)
                var position = 0
                while position < spareQueue.count {
                    let index = Int(spareQueue[position])
                    position += 1
                    slots[index].flags &= ~Flag.queuedClose
                    let flags = slots[index].flags
                    guard flags & Flag.inUse != 0 else { continue }
                    if flags & (Flag.abortRequested | Flag.failed) == 0 && slots[index].outputHead >= 0 {
                        flush(index)
                    }
                    let after = slots[index].flags
                    if after & (Flag.abortRequested | Flag.failed) != 0 {
                        teardown(index, reason: slots[index].reason, handler: &handler)
                    } else if slots[index].outputHead < 0 {
                        teardown(index, reason: .closed, handler: &handler)
                    }
                    // else: the rest is written on EPOLLOUT, then the close is queued again.
                }
                spareQueue.removeAll(keepingCapacity: true)
            }
        }
    }

    @inlinable
    mutating func teardown<Handler: EventLoopHandler>(_ index: Int, reason: CloseReason, handler: inout Handler) {
        if slots[index].flags & Flag.lingering != 0 {
            finishLingering(index)  // the handler heard of this connection's close already
            return
        }
        let connection = connectionID(index)
        let fd = slots[index].fd
        let announced = slots[index].flags & Flag.handshaking == 0
        // An orderly close while the peer may still be sending lingers (see Flag.lingering).
        let linger = reason == .closed && announced && lingeringTimeout > 0 && slots[index].flags & Flag.inputEnded == 0
        if let timer = slots[index].coreTimer { timers.cancel(timer) }
        if let tls = slots[index].tls {
            // close_notify on an orderly close; none after a reset or a failure.
            let notify = announced && (reason == .closed || reason == .loopStopped)
            ceio_tls_free(tls, notify ? 1 : 0)
        }
        if slots[index].input >= 0 { pool.release(slots[index].input) }
        pool.releaseChain(slots[index].outputHead)
        if linger && Glibc.shutdown(fd, Int32(SHUT_WR)) == 0 {
            // The handler's id goes stale now; the slot stays, under a new generation, until
            // the peer closes or the lingering timeout.
            let generation = (slots[index].generation &+ 1) & 0x7fff_ffff
            slots[index] = Slot()
            slots[index].fd = fd
            slots[index].generation = generation
            slots[index].flags = Flag.inUse | Flag.lingering
            _ = ceio_epoll_modify(epoll, fd, Self.connectionEvents, UInt64(generation) << 32 | UInt64(index))
            slots[index].coreTimer = timers.arm(
                at: now + lingeringTimeout, payload: Self.coreTimerTag | UInt64(generation) << 32 | UInt64(index))
            handler.closed(connection, reason: reason, io: &self)
            discardLingeringInput(index)
            return
        }
        if reason == .aborted { _ = ceio_set_linger_zero(fd) }
        Glibc.close(fd)
        let generation = (slots[index].generation &+ 1) & 0x7fff_ffff
        slots[index] = Slot()
        slots[index].generation = generation
        slots[index].nextFree = freeSlot
        freeSlot = Int32(index)
        _connectionCount -= 1
        if announced { handler.closed(connection, reason: reason, io: &self) }
    }

    @inlinable
    mutating func closeAll<Handler: EventLoopHandler>(handler: inout Handler) {
        for index in slots.indices where slots[index].flags & Flag.inUse != 0 {
            teardown(index, reason: .loopStopped, handler: &handler)
        }
        flushQueue.removeAll()
        closeQueue.removeAll()
        readQueue.removeAll()
    }
}
