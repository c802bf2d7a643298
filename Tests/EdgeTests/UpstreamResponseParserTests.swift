import NIOCore
import NIOHTTP1
import Testing

@testable import Edge

@Suite("Upstream response parser")
struct UpstreamResponseParserTests {
    /// What a parse produced: the head, the body bytes joined, whether it ended, and the error.
    struct Outcome {
        var heads: [HTTPResponseHead] = []
        var body = ""
        var bodyEvents = 0
        var ended = false
        var failure: UpstreamResponseParser.Failure?
        var rest = ""
    }

    /// Feeds `wire` in pieces of `step` bytes (all at once when 0), as reads would deliver it.
    static func parse(
        _ wire: String, method: HTTPMethod = .GET, step: Int = 0, closeAfter: Bool = false,
        parser: inout UpstreamResponseParser
    ) -> Outcome {
        var outcome = Outcome()
        parser.requestSent(method: method)
        let bytes = Array(wire.utf8)
        var pending = ByteBuffer()
        var offset = 0
        repeat {
            let end = step == 0 ? bytes.count : min(bytes.count, offset + step)
            pending.writeBytes(bytes[offset..<end])
            offset = end
            do {
                while let event = try parser.next(&pending) {
                    record(event, into: &outcome)
                }
            } catch let failure as UpstreamResponseParser.Failure {
                outcome.failure = failure
                return outcome
            } catch {
                Issue.record("unexpected error \(error)")
                return outcome
            }
        } while offset < bytes.count
        if closeAfter {
            do {
                if let event = try parser.inputClosed() { record(event, into: &outcome) }
            } catch let failure as UpstreamResponseParser.Failure {
                outcome.failure = failure
            } catch {
                Issue.record("unexpected error \(error)")
            }
        }
        outcome.rest = String(buffer: pending)
        return outcome
    }

    static func parse(_ wire: String, method: HTTPMethod = .GET, step: Int = 0, closeAfter: Bool = false) -> Outcome {
        var parser = UpstreamResponseParser()
        return parse(wire, method: method, step: step, closeAfter: closeAfter, parser: &parser)
    }

    private static func record(_ event: UpstreamResponseParser.Event, into outcome: inout Outcome) {
        switch event {
        case .head(let head): outcome.heads.append(head)
        case .body(let body):
            outcome.body += String(buffer: body)
            outcome.bodyEvents += 1
        case .end: outcome.ended = true
        }
    }

    // MARK: Framing

    @Test(arguments: [0, 1, 3, 7])
    func contentLengthResponseWholeOrInPieces(step: Int) throws {
        var parser = UpstreamResponseParser()
        let outcome = Self.parse(
            "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 11\r\nX-Empty:\r\n\r\nhello world", step: step,
            parser: &parser)
        let head = try #require(outcome.heads.first)
        #expect(head.status == .ok)
        #expect(head.version == .http1_1)
        #expect(head.headers["content-type"] == ["text/plain"])
        #expect(head.headers["x-empty"] == [""])
        #expect(outcome.body == "hello world")
        #expect(outcome.ended)
        #expect(parser.isIdle && parser.keepAlive)
    }

    @Test(arguments: [0, 1, 5])
    func chunkedBodyWithExtensionsAndTrailers(step: Int) {
        var parser = UpstreamResponseParser()
        let outcome = Self.parse(
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;name=value\r\nhello\r\n6\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n",
            step: step, parser: &parser)
        #expect(outcome.failure == nil)
        #expect(outcome.body == "hello world")
        #expect(outcome.ended)
        #expect(parser.isIdle && parser.keepAlive)
    }

    @Test func twoResponsesOnOneConnection() {
        var parser = UpstreamResponseParser()
        let first = Self.parse("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\na", parser: &parser)
        let second = Self.parse("HTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nbc", parser: &parser)
        #expect(first.body == "a" && first.ended)
        #expect(second.heads.first?.status == .created && second.body == "bc" && second.ended)
    }

    @Test func answersToHeadAnd204And304HaveNoBodyWhateverTheyDeclare() {
        let head = Self.parse("HTTP/1.1 200 OK\r\nContent-Length: 600\r\n\r\n", method: .HEAD)
        #expect(head.heads.count == 1 && head.ended && head.body.isEmpty)
        for status in ["204 No Content", "304 Not Modified"] {
            let outcome = Self.parse("HTTP/1.1 \(status)\r\nContent-Length: 10\r\n\r\n")
            #expect(outcome.ended && outcome.body.isEmpty, "\(status)")
        }
    }

    @Test func interimResponsesAreDropped() {
        let outcome = Self.parse("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
        #expect(outcome.heads.map(\.status) == [.ok])
        #expect(outcome.body == "ok" && outcome.ended)
    }

    @Test func switchingProtocolsStopsParsingAndLeavesTheTunnelBytes() {
        var parser = UpstreamResponseParser()
        let outcome = Self.parse(
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n\u{81}\u{2}hi", parser: &parser)
        #expect(outcome.heads.first?.status == .switchingProtocols)
        #expect(outcome.ended)
        #expect(parser.isSwitched && !parser.keepAlive)
        #expect(outcome.rest == "\u{81}\u{2}hi")
    }

    @Test func bodyWithoutLengthRunsUntilTheCloseAndEndsTheConnection() {
        var parser = UpstreamResponseParser()
        let outcome = Self.parse("HTTP/1.1 200 OK\r\n\r\nsome bytes", closeAfter: true, parser: &parser)
        #expect(outcome.body == "some bytes" && outcome.ended)
        #expect(!parser.keepAlive)
        let coded = Self.parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nzz", closeAfter: true)
        #expect(coded.body == "zz" && coded.ended)
    }

    @Test func connectionCloseAndHTTP10AreNotReused() {
        var closing = UpstreamResponseParser()
        _ = Self.parse("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n", parser: &closing)
        #expect(!closing.keepAlive)
        var old = UpstreamResponseParser()
        let outcome = Self.parse("HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n", parser: &old)
        #expect(outcome.heads.first?.version == .http1_0)
        #expect(!old.keepAlive)
    }

    @Test func unknownStatusKeepsItsReasonPhrase() {
        let outcome = Self.parse("HTTP/1.1 599 Network Odd\r\nContent-Length: 0\r\n\r\n")
        #expect(outcome.heads.first?.status.code == 599)
        #expect(outcome.heads.first?.status.reasonPhrase == "Network Odd")
    }

    // MARK: Refusals

    @Test(arguments: [
        ("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n", "both framings"),
        ("HTTP/1.1 200 OK\r\nContent-Length: 1a\r\n\r\n", "non-decimal length"),
        ("HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", "negative length"),
        ("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n", "differing lengths"),
        ("HTTP/1.1 2000 OK\r\n\r\n", "four-digit status"),
        ("HTTP/2.0 200 OK\r\n\r\n", "not HTTP/1"),
        ("ICY 200 OK\r\n\r\n", "not HTTP"),
        ("HTTP/1.1 200 OK\r\nX-A: 1\r\n folded\r\n\r\n", "folded header"),
        ("HTTP/1.1 200 OK\r\nBad Name: 1\r\n\r\n", "space in a name"),
        ("HTTP/1.1 200 OK\r\n: no name\r\n\r\n", "empty name"),
        ("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", "bad chunk size"),
        ("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabX\r\n", "chunk without CRLF"),
        ("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1234567890abcdef0\r\n", "chunk size too large"),
    ])
    func malformedResponsesFail(wire: String, what: String) {
        #expect(Self.parse(wire).failure != nil, "\(what)")
    }

    @Test func aHeadThatNeverEndsIsRefusedAtTheLimit() {
        let wire = "HTTP/1.1 200 OK\r\n" + String(repeating: "X-Filler: 0123456789abcdef\r\n", count: 4000)
        let outcome = Self.parse(wire, step: 4096)
        #expect(outcome.failure != nil)
    }

    @Test func bytesWithNoRequestOutstandingAreRefused() throws {
        var parser = UpstreamResponseParser()
        var stray = ByteBuffer(string: "HTTP/1.1 200 OK\r\n\r\n")
        #expect(throws: UpstreamResponseParser.Failure.self) { try parser.next(&stray) }
    }

    @Test func aCloseInTheMiddleOfAResponseFails() {
        #expect(Self.parse("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort", closeAfter: true).failure != nil)
        #expect(Self.parse("HTTP/1.1 200 OK\r\nContent-Le", closeAfter: true).failure != nil)
    }

    @Test func headEndIsFoundAtEveryAlignment() {
        for padding in 0..<8 {
            let wire = String(repeating: "a", count: padding) + "\r\n\r\n" + "tail"
            #expect(UpstreamResponseParser.headEnd(in: ByteBuffer(string: wire)) == padding)
        }
        #expect(UpstreamResponseParser.headEnd(in: ByteBuffer(string: "a\r\n\rb\r\n")) == nil)
        #expect(UpstreamResponseParser.headEnd(in: ByteBuffer(string: "\r\r\n\r\n")) == 1)
    }
}
