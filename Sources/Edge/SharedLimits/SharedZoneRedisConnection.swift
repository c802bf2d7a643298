import CHiredis
import Limits

#if canImport(Glibc)
    import Glibc
#endif

/// One blocking Redis connection (hiredis) for a shared zone's sync thread.
///
/// Blocking I/O on a thread of its own keeps the sync independent of the event loops serving
/// clients (and of which I/O core they run on), and hiredis's connect and command timeouts
/// bound every call: a Redis that does not answer within `timeout` is a failed sync, never a
/// stalled request. After any error the connection is dropped and the next sync reconnects
/// (and loads the script again, which also covers a Redis restarted with an empty script cache).
final class SharedZoneRedisConnection {
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    private let address: RedisAddress
    private let timeout: Duration
    private var context: UnsafeMutablePointer<redisContext>?
    private var scriptSHA: String?
    /// The round trips' command buffer, kept between syncs.
    private var encoder = SharedZoneCommandEncoder()

    init(address: RedisAddress, timeout: Duration) {
        self.address = address
        self.timeout = timeout
    }

    deinit { disconnect() }

    func disconnect() {
        if let context { redisFree(context) }
        context = nil
        scriptSHA = nil
    }

    /// One round trip of script calls: `fill` adds the keys and their arguments, the calls go
    /// out pipelined in one write, and the answer is one integer per key, in order.
    /// - Throws: ``Failure`` on any connection, timeout or Redis error (the connection is then dropped).
    func roundTrip(
        zone: String, interval: UInt64, _ fill: (inout SharedZoneCommandEncoder) -> Void
    ) throws(Failure) -> [Int64] {
        do throws(Failure) {
            let sha = try connected()
            encoder.start(sha: sha, zone: zone, interval: interval)
            fill(&encoder)
            encoder.finish()
            guard let context else { throw Failure(description: "not connected") }
            let status = encoder.bytes.withUnsafeBufferPointer { buffer in
                buffer.withMemoryRebound(to: CChar.self) { redisAppendFormattedCommand(context, $0.baseAddress, $0.count) }
            }
            guard status == REDIS_OK else { throw Failure(description: "queueing the script calls failed: \(Self.errorText(context))") }
            var replies: [Int64] = []
            replies.reserveCapacity(encoder.keys)
            for _ in 0..<encoder.calls {
                try readReply { reply throws(Failure) in
                    guard reply.pointee.type == REDIS_REPLY_ARRAY else {
                        throw Failure(description: "EVALSHA answered \(Self.describe(reply))")
                    }
                    for index in 0..<reply.pointee.elements {
                        guard let element = reply.pointee.element[index], element.pointee.type == REDIS_REPLY_INTEGER else {
                            throw Failure(description: "EVALSHA answered a non-integer element")
                        }
                        replies.append(element.pointee.integer)
                    }
                }
            }
            guard replies.count == encoder.keys else {
                throw Failure(description: "EVALSHA answered \(replies.count) values for \(encoder.keys) keys")
            }
            return replies
        } catch {
            disconnect()
            throw error
        }
    }

    /// Checks that Redis answers (`PING`), connecting first if needed.
    func ping() throws(Failure) {
        do throws(Failure) {
            _ = try connected()
            try append(["PING"])
            try readReply { reply throws(Failure) in
                guard reply.pointee.type == REDIS_REPLY_STATUS else { throw Failure(description: "PING answered \(Self.describe(reply))") }
            }
        } catch {
            disconnect()
            throw error
        }
    }

    // MARK: Connection

    private func connected() throws(Failure) -> String {
        if context != nil, let scriptSHA { return scriptSHA }
        disconnect()
        let seconds = timeout.components.seconds
        let microseconds = timeout.components.attoseconds / 1_000_000_000_000
        let tv = timeval(tv_sec: Int(seconds), tv_usec: Int(microseconds))
        guard let made = redisConnectWithTimeout(address.host, Int32(address.port), tv) else {
            throw Failure(description: "cannot allocate a Redis context")
        }
        context = made
        if made.pointee.err != 0 { throw Failure(description: "connect to \(address): \(Self.errorText(made))") }
        guard redisSetTimeout(made, tv) == REDIS_OK else { throw Failure(description: "setting the command timeout failed") }
        _ = redisEnableKeepAlive(made)
        if let password = address.password {
            try append(address.user.map { ["AUTH", $0, password] } ?? ["AUTH", password])
            try readReply { reply throws(Failure) in
                guard reply.pointee.type == REDIS_REPLY_STATUS else { throw Failure(description: "AUTH answered \(Self.describe(reply))") }
            }
        }
        if address.database != 0 {
            try append(["SELECT", String(address.database)])
            try readReply { reply throws(Failure) in
                guard reply.pointee.type == REDIS_REPLY_STATUS else { throw Failure(description: "SELECT answered \(Self.describe(reply))") }
            }
        }
        try append(["SCRIPT", "LOAD", SharedZoneScript.source])
        var sha = ""
        try readReply { reply throws(Failure) in
            guard reply.pointee.type == REDIS_REPLY_STRING else {
                throw Failure(description: "SCRIPT LOAD answered \(Self.describe(reply))")
            }
            sha = Self.text(reply)
        }
        scriptSHA = sha
        return sha
    }

    private func append(_ arguments: [String]) throws(Failure) {
        guard let context else { throw Failure(description: "not connected") }
        // All arguments in one buffer, with their offsets: hiredis copies them before returning.
        var bytes: [CChar] = []
        var offsets: [Int] = []
        var lengths: [Int] = []
        for argument in arguments {
            offsets.append(bytes.count)
            lengths.append(argument.utf8.count)
            bytes += argument.utf8.map { CChar(bitPattern: $0) }
            bytes.append(0)
        }
        let status = bytes.withUnsafeBufferPointer { buffer in
            var pointers: [UnsafePointer<CChar>?] = offsets.map { buffer.baseAddress! + $0 }
            return pointers.withUnsafeMutableBufferPointer { pointerBuffer in
                lengths.withUnsafeBufferPointer { lengthBuffer in
                    redisAppendCommandArgv(context, Int32(arguments.count), pointerBuffer.baseAddress, lengthBuffer.baseAddress)
                }
            }
        }
        guard status == REDIS_OK else { throw Failure(description: "encoding a command failed: \(Self.errorText(context))") }
    }

    private func readReply(_ body: (UnsafeMutablePointer<redisReply>) throws(Failure) -> Void) throws(Failure) {
        guard let context else { throw Failure(description: "not connected") }
        var raw: UnsafeMutableRawPointer?
        guard redisGetReply(context, &raw) == REDIS_OK, let raw else {
            throw Failure(description: "reading from \(address): \(Self.errorText(context))")
        }
        defer { freeReplyObject(raw) }
        let reply = raw.assumingMemoryBound(to: redisReply.self)
        if reply.pointee.type == REDIS_REPLY_ERROR { throw Failure(description: "Redis answered an error: \(Self.text(reply))") }
        try body(reply)
    }

    private static func text(_ reply: UnsafeMutablePointer<redisReply>) -> String {
        guard let str = reply.pointee.str else { return "" }
        return String(decoding: UnsafeRawBufferPointer(start: str, count: reply.pointee.len), as: UTF8.self)
    }

    private static func describe(_ reply: UnsafeMutablePointer<redisReply>) -> String {
        "a reply of type \(reply.pointee.type) (\(text(reply).prefix(80)))"
    }

    private static func errorText(_ context: UnsafeMutablePointer<redisContext>) -> String {
        var copy = context.pointee.errstr
        let message = withUnsafeBytes(of: &copy) { bytes in
            String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self)
        }
        return message.isEmpty ? "error \(context.pointee.err)" : message
    }
}
