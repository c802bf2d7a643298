#if canImport(Glibc)
import Glibc
#endif
import EdgeIO

/// A file's bytes as a local answer's body (``ProxyDecision/file(descriptor:offset:count:close:)``):
/// `sendfile(2)` on plain TCP, never copied through user space; over TLS (no kernel TLS here)
/// read with `pread` into the handler's head buffer and written, one buffer at a time while the
/// socket takes them. Either way the send goes on from ``writable(_:io:)`` after the client's
/// output backed up, with the client's send timeout armed meanwhile (nginx's `send_timeout`),
/// and the descriptor is closed at the end, or when the connection goes.
extension ProxyHandler {
    /// A file being sent to a client (in ``fileSends``, by client slot, while it lasts).
    struct FileSend {
        var descriptor: Int32
        var offset: Int64
        var remaining: Int
    }

    /// Starts sending a file answer whose head `head` is ready; the connection is kept after
    /// it unless `closes`.
    mutating func startFile(
        head: UnsafeRawBufferPointer, descriptor: Int32, offset: Int, count: Int, closes: Bool, _ index: Int,
        _ client: ConnectionID, io: inout LoopIO
    ) {
        io.write(head, on: client)
        var flags = entries[index].flags & (Flag.secure | Flag.clientInputEnded | Flag.clientPaused)
        if !closes { flags |= Flag.keepAlive }
        entries[index].flags = flags | Flag.sendingFile
        entries[index].phase = .relayingBody
        fileSends[index] = FileSend(descriptor: descriptor, offset: Int64(offset), remaining: count)
        pumpFile(index, client, io: &io)
    }

    /// Sends what the client's socket takes now; finishes the exchange once all is sent.
    mutating func pumpFile(_ index: Int, _ client: ConnectionID, io: inout LoopIO) {
        guard var send = fileSends[index] else { return }
        while send.remaining > 0 {
            if entries[index].flags & Flag.secure == 0 {
                let sent = io.sendFile(send.descriptor, offset: &send.offset, count: send.remaining, on: client)
                send.remaining -= sent
                if sent == 0 { break }  // the socket is full (writable follows), or the connection failed
            } else {
                guard io.pendingOutputBytes(client) == 0 else { break }
                let read = pread(send.descriptor, headBuffer, min(send.remaining, headCapacity), off_t(send.offset))
                if read < 0 && errno == EINTR { continue }
                guard read > 0 else {
                    // The file shrank, or cannot be read: the announced length cannot be kept,
                    // so the connection closes (the client sees the body cut short).
                    abortFile(index, client, io: &io)
                    return
                }
                io.write(UnsafeRawBufferPointer(start: headBuffer, count: read), on: client)
                send.offset += Int64(read)
                send.remaining -= read
            }
        }
        guard send.remaining == 0 else {
            fileSends[index] = send
            armTimer(index, .clientSend, after: configuration.clientSendTimeout, io: &io)
            return
        }
        releaseFile(index)
        if let timer = entries[index].timer {
            io.cancelTimer(timer)
            entries[index].timer = nil
        }
        finishClient(index, client, status: 200, io: &io)
    }

    /// Closes a file descriptor the handler was given and does not send.
    static func closeFile(_ descriptor: Int32) { close(descriptor) }

    /// Closes the file of a client's answer, if one is being sent.
    mutating func releaseFile(_ index: Int) {
        entries[index].flags &= ~Flag.sendingFile
        if let send = fileSends.removeValue(forKey: index) { close(send.descriptor) }
    }

    /// Gives up a file answer midway: the file is closed and the connection with it.
    mutating func abortFile(_ index: Int, _ client: ConnectionID, io: inout LoopIO) {
        releaseFile(index)
        entries[index].flags |= Flag.closing
        io.abort(client)
    }
}
