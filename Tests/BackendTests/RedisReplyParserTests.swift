import NIOCore
import Testing

@testable import Backend

/// hiredis's reader, fed as NIO would feed it, and hiredis's command encoder.
@Suite("Redis reply parser (hiredis)")
struct RedisReplyParserTests {
    private func parse(_ text: String) throws -> [RedisReply] {
        let parser = RedisReplyParser()
        try parser.feed(ByteBuffer(string: text))
        var replies: [RedisReply] = []
        while let reply = try parser.next() { replies.append(reply) }
        return replies
    }

    @Test func parsesEveryReplyType() throws {
        #expect(try parse("+OK\r\n") == [.status("OK")])
        #expect(try parse("-ERR unknown command\r\n") == [.error("ERR unknown command")])
        #expect(try parse(":-42\r\n") == [.integer(-42)])
        #expect(try parse(":9223372036854775807\r\n") == [.integer(.max)])
        #expect(try parse("$5\r\nhello\r\n") == [.string(ByteBuffer(string: "hello"))])
        #expect(try parse("$0\r\n\r\n") == [.string(ByteBuffer())])
        #expect(try parse("$-1\r\n") == [.null])
        #expect(try parse("*-1\r\n") == [.null])
        #expect(try parse("*0\r\n") == [.array([])])
        #expect(
            try parse("*3\r\n:1\r\n*2\r\n$1\r\na\r\n$-1\r\n+QUEUED\r\n")
                == [.array([.integer(1), .array([.string(ByteBuffer(string: "a")), .null]), .status("QUEUED")])])
    }

    @Test func bulkStringsAreBinarySafe() throws {
        let parser = RedisReplyParser()
        var bytes = ByteBuffer(string: "$6\r\n")
        bytes.writeBytes([0, 13, 10, 255, 36, 0])
        bytes.writeString("\r\n")
        try parser.feed(bytes)
        #expect(try parser.next() == .string(ByteBuffer(bytes: [0, 13, 10, 255, 36, 0])))
    }

    @Test func waitsForTheRestOfASplitReply() throws {
        let parser = RedisReplyParser()
        let whole = Array("*2\r\n$5\r\nhello\r\n:7\r\n".utf8)
        for byte in whole.dropLast() {
            try parser.feed(ByteBuffer(bytes: [byte]))
            #expect(try parser.next() == nil)
        }
        try parser.feed(ByteBuffer(bytes: [whole.last!]))
        #expect(try parser.next() == .array([.string(ByteBuffer(string: "hello")), .integer(7)]))
        #expect(try parser.next() == nil)
    }

    @Test func returnsPipelinedRepliesOneByOne() throws {
        #expect(try parse("+OK\r\n:1\r\n$-1\r\n-ERR x\r\n") == [.status("OK"), .integer(1), .null, .error("ERR x")])
    }

    @Test func refusesResp3Types() throws {
        // hiredis 0.14 speaks RESP2 only: a server switched to RESP3 (HELLO 3) is a protocol error.
        #expect(throws: RedisError.self) { try parse("_\r\n") }
        #expect(throws: RedisError.self) { try parse(",1.5\r\n") }
        #expect(throws: RedisError.self) { try parse("%1\r\n+a\r\n+b\r\n") }
    }

    @Test func refusesMalformedLengthsAndIntegers() throws {
        #expect(throws: RedisError.self) { try parse(":12abc\r\n") }
        #expect(throws: RedisError.self) { try parse("$-5\r\n") }
        #expect(throws: RedisError.self) { try parse("*-5\r\n") }
    }

    @Test func nestingDeeperThanHiredisSupportsIsAProtocolError() throws {
        let eightLevels = String(repeating: "*1\r\n", count: 8) + ":1\r\n"
        var expected = RedisReply.integer(1)
        for _ in 0..<8 { expected = .array([expected]) }
        #expect(try parse(eightLevels) == [expected])

        let nineLevels = String(repeating: "*1\r\n", count: 9) + ":1\r\n"
        let error = #expect(throws: RedisError.self) { try parse(nineLevels) }
        #expect(error?.isProtocolError == true)
        #expect(error?.message.contains("depth") == true)
    }

    @Test func staysFailedAfterAProtocolError() throws {
        let parser = RedisReplyParser()
        try parser.feed(ByteBuffer(string: "?\r\n"))
        #expect(throws: RedisError.self) { try parser.next() }
        #expect(throws: RedisError.self) { try parser.feed(ByteBuffer(string: "+OK\r\n")) }
    }

    @Test func encodesCommandsWithHiredis() {
        var buffer = ByteBuffer()
        RedisCommand("SET", "key", "", 42).encode(into: &buffer)
        #expect(String(buffer: buffer) == "*4\r\n$3\r\nSET\r\n$3\r\nkey\r\n$0\r\n\r\n$2\r\n42\r\n")

        buffer.clear()
        RedisCommand("SET", [UInt8]([0, 13, 10]), "é").encode(into: &buffer)
        #expect(
            Array(buffer.readableBytesView) == Array("*3\r\n$3\r\nSET\r\n$3\r\n".utf8) + [0, 13, 10]
                + Array("\r\n$2\r\né\r\n".utf8))
    }

    @Test func describesCommandsWithoutTheirArguments() {
        #expect(RedisCommand("AUTH", "secret").description == "AUTH (1 arguments)")
    }
}
