import EdgeIO

/// Protocol switching (WebSocket and any other `Upgrade`), as nginx's
/// `proxy_set_header Upgrade $http_upgrade; Connection "upgrade"` does it.
///
/// A request asks to switch when it has an `Upgrade` field that its `Connection` names. It goes
/// upstream with `Connection: upgrade` and its `Upgrade` value (both hop-by-hop, so otherwise
/// dropped). An upstream's `101` then turns the client connection and that upstream connection
/// into a byte tunnel: what one side sends, the other is written as it comes, a side whose
/// output backs up pauses the other's reading, and the end of either closes both once what was
/// written to the other went out. A tunnel has no timeouts (as the edge had before the core). Any other answer
/// is relayed as an ordinary response, after which the client connection closes (the client
/// may have sent bytes of the new protocol behind its request). A `101` to a request that did
/// not ask for it is a broken upstream: 502.
extension ProxyHandler {
    /// The value of the request's `Upgrade` field, as offsets into `input`, when its
    /// `Connection` names it (looked up only for a head whose `Connection` names fields).
    static func upgradeRequested(_ input: UnsafeRawBufferPointer, _ head: HTTPRequestHead) -> Range<Int>? {
        guard head.connectionNamesFields else { return nil }
        let (fields, end) = fieldsRange(input, from: head.start, length: head.length)
        guard let (name, value) = HTTPScan.firstField(input, from: fields, to: end, named: "upgrade"),
            HTTPScan.isNamedByConnection(input, from: fields, to: end, name: name.lowerBound, nameEnd: name.upperBound)
        else { return nil }
        return value
    }

    /// Where a head's fields start (after its start line) and end (before the blank line).
    static func fieldsRange(_ input: UnsafeRawBufferPointer, from start: Int, length: Int) -> (Int, Int) {
        var line = start
        while input[line] != 13 { line += 1 }
        return (line + 2, start + length - 2)
    }

    /// Writes the fields that ask the upstream to switch to `value`'s protocol.
    static func writeUpgradeFields(_ value: Range<Int>, of input: UnsafeRawBufferPointer, into writer: inout HeadWriter) {
        writer.append("Connection: upgrade\r\nUpgrade: ")
        writer.append(UnsafeRawBufferPointer(rebasing: input[value]))
        writer.append("\r\n")
    }

    /// The upstream answered an upgrade request with `101`: its head goes to the client
    /// (decorated like any response, with `Connection: upgrade` and the upstream's `Upgrade`),
    /// with the bytes that came behind it, and both connections become a tunnel.
    mutating func startTunnel(
        _ head: HTTPResponseHead, _ input: UnsafeRawBufferPointer, _ clientIndex: Int, _ client: ConnectionID,
        upstream: ConnectionID, io: inout LoopIO
    ) {
        let headEnd = head.start + head.length
        var writer = HeadWriter(base: headBuffer, capacity: headCapacity)
        let tag = entries[clientIndex].tag
        Self.copyHead(
            input, from: head.start, to: headEnd, connectionNamesFields: head.connectionNamesFields, into: &writer,
            policy: &policy, drop: { $0.dropsResponseField($1, tag: tag) })
        policy.writeResponseFields(
            status: 101, client: context(entries[clientIndex], client), tag: entries[clientIndex].tag, into: &writer)
        let (fields, end) = Self.fieldsRange(input, from: head.start, length: head.length)
        if let (_, value) = HTTPScan.firstField(input, from: fields, to: end, named: "upgrade") {
            Self.writeUpgradeFields(value, of: input, into: &writer)
        } else {
            writer.append("Connection: upgrade\r\n")
        }
        writer.append("\r\n")
        if writer.overflowed {
            abortExchange(clientIndex, io: &io)
            answerBadGateway(clientIndex, client, io: &io)
            return
        }
        cancelTimer(clientIndex, io: &io)
        entries[clientIndex].timerKind = .idle
        entries[clientIndex].status = 101
        entries[clientIndex].phase = .tunnel
        entries[clientIndex].flags &= ~(Flag.keepAlive | Flag.upstreamReusable)
        endExchange(clientIndex, client, status: 101)
        io.write(
            UnsafeRawBufferPointer(start: headBuffer, count: writer.count),
            UnsafeRawBufferPointer(rebasing: input[headEnd...]), on: client)
        if io.pendingOutputBytes(client) > 0 {
            entries[clientIndex].flags |= Flag.upstreamPaused
            io.pauseReading(upstream)
        }
        // Bytes the client sent behind its request waited in the core's buffer: they are the
        // new protocol's, and go through now.
        if entries[clientIndex].flags & Flag.clientPaused != 0 {
            entries[clientIndex].flags &= ~Flag.clientPaused
            io.resumeReading(client)
        }
    }

    /// Bytes from one side of a tunnel: written to the other side; if they wait there, this
    /// side's reading pauses until that side is writable again (``writable(_:io:)``).
    mutating func tunnelReceived(
        _ input: UnsafeRawBufferPointer, from source: ConnectionID, to destination: ConnectionID, clientIndex: Int,
        pausedFlag: UInt32, io: inout LoopIO
    ) -> Int {
        guard isCurrent(destination) else { return input.count }
        io.write(input, on: destination)
        if io.pendingOutputBytes(destination) > 0 && entries[clientIndex].flags & pausedFlag == 0 {
            entries[clientIndex].flags |= pausedFlag
            io.pauseReading(source)
        }
        return input.count
    }
}

extension HTTPScan {
    /// The first field called `name` (lowercase) between `from` and `to` (whole field lines),
    /// as the offsets of its name and of its value.
    static func firstField(
        _ input: UnsafeRawBufferPointer, from: Int, to: Int, named name: StaticString
    ) -> (name: Range<Int>, value: Range<Int>)? {
        var found: (Range<Int>, Range<Int>)?
        _ = walkFields(input, from: from, to: to) { field, colon, value, valueEnd in
            guard colon - field == name.utf8CodeUnitCount && matches(input, field, colon, name) else { return true }
            found = (field..<colon, value..<valueEnd)
            return false
        }
        return found
    }
}
