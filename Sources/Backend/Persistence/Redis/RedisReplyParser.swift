import CHiredis
import NIOCore

/// hiredis's reply reader (`redisReader`), fed with the bytes NIO reads and turned into
/// ``RedisReply`` values.
///
/// hiredis owns the RESP grammar: partial replies wait inside its buffer until the rest arrives,
/// and each complete reply comes out as a `redisReply` tree, copied into Swift values and freed at
/// once with `freeReplyObject`. After a protocol error the reader is unusable (hiredis keeps its
/// error flag set), so the owner must close the connection.
///
/// Not thread-safe: one parser per connection, used on that connection's event loop.
final class RedisReplyParser {
    private let reader: UnsafeMutablePointer<redisReader>
    private let allocator: ByteBufferAllocator

    init(allocator: ByteBufferAllocator = ByteBufferAllocator()) {
        guard let reader = redisReaderCreate() else {
            // hiredis returns NULL only when malloc does.
            fatalError("redisReaderCreate failed (out of memory)")
        }
        self.reader = reader
        self.allocator = allocator
    }

    deinit {
        redisReaderFree(reader)
    }

    /// Hands bytes to hiredis, which copies them into its own buffer.
    /// - Throws: ``RedisError/protocolError(_:file:line:)`` when the reader is already in error.
    func feed(_ buffer: ByteBuffer) throws {
        let status = buffer.withUnsafeReadableBytes { bytes -> Int32 in
            guard let base = bytes.baseAddress, bytes.count > 0 else { return REDIS_OK }
            return redisReaderFeed(reader, base.assumingMemoryBound(to: CChar.self), bytes.count)
        }
        if status != REDIS_OK { throw RedisError.protocolError(errorMessage) }
    }

    /// The next complete reply, or `nil` when the bytes fed so far end mid-reply.
    /// - Throws: ``RedisError/protocolError(_:file:line:)`` when the bytes are not RESP2 (a RESP3
    ///   type byte, a bad length, nesting deeper than hiredis supports).
    func next() throws -> RedisReply? {
        var object: UnsafeMutableRawPointer?
        guard redisReaderGetReply(reader, &object) == REDIS_OK else {
            throw RedisError.protocolError(errorMessage)
        }
        guard let object else { return nil }
        defer { freeReplyObject(object) }
        return try convert(object.assumingMemoryBound(to: redisReply.self))
    }

    /// `errstr` is a `char[128]`, which Swift imports as a 128-element tuple.
    private var errorMessage: String {
        withUnsafeBytes(of: &reader.pointee.errstr) { raw in
            let bytes = raw.prefix { $0 != 0 }
            return bytes.isEmpty ? "unknown hiredis reader error" : String(decoding: bytes, as: UTF8.self)
        }
    }

    /// Copies one reply tree. hiredis bounds arrays to 8 levels of nesting, so the recursion is
    /// shallow.
    private func convert(_ reply: UnsafePointer<redisReply>) throws -> RedisReply {
        let value = reply.pointee
        switch value.type {
        case REDIS_REPLY_STRING:
            var buffer = allocator.buffer(capacity: value.len)
            buffer.writeBytes(UnsafeRawBufferPointer(start: value.str, count: value.len))
            return .string(buffer)
        case REDIS_REPLY_STATUS:
            return .status(text(value))
        case REDIS_REPLY_ERROR:
            return .error(text(value))
        case REDIS_REPLY_INTEGER:
            return .integer(Int64(value.integer))
        case REDIS_REPLY_NIL:
            return .null
        case REDIS_REPLY_ARRAY:
            // An empty array has `element == NULL` (hiredis allocates no vector for it).
            guard value.elements > 0, let elements = value.element else { return .array([]) }
            var converted: [RedisReply] = []
            converted.reserveCapacity(value.elements)
            for index in 0..<value.elements {
                guard let element = elements[index] else {
                    throw RedisError.protocolError("hiredis returned a NULL array element")
                }
                converted.append(try convert(element))
            }
            return .array(converted)
        default:
            throw RedisError.protocolError("hiredis returned unknown reply type \(value.type)")
        }
    }

    private func text(_ value: redisReply) -> String {
        String(decoding: UnsafeRawBufferPointer(start: value.str, count: value.len), as: UTF8.self)
    }
}
