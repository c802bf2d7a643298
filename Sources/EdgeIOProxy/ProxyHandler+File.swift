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
        cancelTimer(index, io: &io)
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

/// A file as an HTTP/2 stream's response body: read into the head buffer and appended to the
/// stream up to its high-water mark (64 KiB), then again each time the session reports the
/// stream drained, so a client that reads slowly holds at most that much of the file in memory.
/// The session names such a stream's owner with the file's id in the upper half and 0 in the
/// lower half (an upstream entry's owner never has 0 there, ``owner(_:)``).
extension ProxyHandler {
    /// A file being sent on a stream (in ``streamFiles``, by id, while it lasts).
    struct StreamFile {
        var client: ConnectionID
        var stream: Int32
        var descriptor: Int32
        var offset: Int64
        var remaining: Int
    }

    /// The owner a session reports for a stream whose body is file `id`.
    static func fileOwner(_ id: UInt32) -> UInt64 { UInt64(id) << 32 }

    /// The file id of an owner that names one, else `nil`.
    static func fileID(ofOwner owner: UInt64) -> UInt32? {
        owner != 0 && owner & 0xffff_ffff == 0 && owner >> 63 == 0 ? UInt32(truncatingIfNeeded: owner >> 32) : nil
    }

    /// Submits the answer's head (`head`, an HTTP/1.1 head the policy wrote) on `stream`, then
    /// its body from the file; a head that does not convert gets the stream 500 instead.
    mutating func startStreamFile(
        head: UnsafeRawBufferPointer, descriptor: Int32, offset: Int, count: Int, stream: Int32, _ clientIndex: Int,
        _ client: ConnectionID, _ session: HTTP2ServerSession, io: inout LoopIO
    ) {
        guard submitHead(head, stream: stream, withBody: true, session) else {
            Self.closeFile(descriptor)
            answerStream(500, stream: stream, tag: nil, isHEAD: false, clientIndex, client, session, io: &io)
            return
        }
        // Ids of 31 bits: an owner with the top bit set names a waiting stream (``waitOwner(_:)``).
        repeat { nextStreamFile = (nextStreamFile &+ 1) & 0x7fff_ffff } while nextStreamFile == 0 || streamFiles[nextStreamFile] != nil
        let id = nextStreamFile
        streamFiles[id] = StreamFile(
            client: client, stream: stream, descriptor: descriptor, offset: Int64(offset), remaining: count)
        session.setOwner(Self.fileOwner(id), of: stream)
        _ = pumpStreamFile(id)
    }

    /// Appends the file's next bytes to its stream until the stream is over its mark (the
    /// client's entry is flagged so that its drain is looked for) or the file is all sent.
    /// - Returns: whether bytes were appended (they wait for the session's next flush).
    mutating func pumpStreamFile(_ id: UInt32) -> Bool {
        guard var file = streamFiles[id] else { return false }
        let clientIndex = Int(file.client.index)
        guard isCurrent(file.client), let session = sessions[clientIndex] else {
            releaseStreamFile(id)
            return false
        }
        var appended = false
        while file.remaining > 0 {
            let read = pread(file.descriptor, headBuffer, min(file.remaining, headCapacity), off_t(file.offset))
            if read < 0 && errno == EINTR { continue }
            guard read > 0 else {
                // The file shrank or cannot be read: the announced length cannot be kept.
                session.resetStream(file.stream, errorCode: Self.http2InternalError)
                session.setOwner(0, of: file.stream)
                releaseStreamFile(id)
                return true
            }
            let result = session.append(UnsafeRawBufferPointer(start: headBuffer, count: read), to: file.stream)
            if case .streamGone = result {
                releaseStreamFile(id)
                return appended
            }
            appended = true
            file.offset += Int64(read)
            file.remaining -= read
            if case .overHighWater = result, file.remaining > 0 {
                streamFiles[id] = file
                entries[clientIndex].flags |= Flag.streamsPaused
                return true
            }
        }
        session.end(file.stream)
        session.setOwner(0, of: file.stream)
        releaseStreamFile(id)
        return true
    }

    /// Closes a stream's file (sent, reset, or its connection gone).
    mutating func releaseStreamFile(_ id: UInt32) {
        if let file = streamFiles.removeValue(forKey: id) { close(file.descriptor) }
    }
}
