import EdgeIOProxy
import Limits
import NIOCore
import NIOEmbedded
import NIOHTTP1
import Testing

@testable import Edge

/// The core's parse against an independent one: each raw request is parsed by SwiftNIO's
/// decoder (the tests' reference) and by the I/O core's in-place parser (``CoreRequestHead``),
/// and the engine must reach the same verdict from either head.
@Suite struct CoreHeadFilterChainTests {
    static let requests: [String] = [
        "GET /api/x HTTP/1.1\r\nHost: example.org\r\n\r\n",
        "GET /api/x HTTP/1.0\r\n\r\n",
        "GET /api/x HTTP/1.1\r\n\r\n",
        "GET /api/x HTTP/1.1\r\nHost: a\r\nHOST: b\r\n\r\n",
        "GET /api/x HTTP/1.1\r\nHost: a.example, b.example\r\n\r\n",
        "GET /api/x HTTP/1.1\r\nHost: [::1]:8080\r\n\r\n",
        "GET http://example.org/api/abs?q=1 HTTP/1.1\r\nHost: example.org\r\n\r\n",
        "GET http://other.example/api/abs HTTP/1.1\r\nHost: example.org\r\n\r\n",
        "GET /.git/config HTTP/1.1\r\nHost: a\r\nContent-Length: 99999\r\n\r\n",
        "POST /api/x HTTP/1.1\r\nHost: a\r\nContent-Length: 1025\r\n\r\n",
        "POST /api/x HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\n",
        "POST /api/x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n",
        "GET /nowhere HTTP/1.1\r\nHost: a\r\n\r\n",
        // Values with surrounding whitespace (NIO's decoder keeps the trailing part; the
        // engine must read the field value, RFC 9110 §5.5).
        "GET /fixed HTTP/1.1\r\nhost:   a   \r\n\r\n",
        "GET /api/x HTTP/1.1\r\nHost: a\r\nX-Request-ID: with-space  \r\nX-Forwarded-For: 203.0.113.9 \r\n\r\n",
        "GET /old/page?x=1 HTTP/1.1\r\nHost: a\r\n\r\n",
        "DELETE /files/a.txt HTTP/1.1\r\nHost: a\r\n\r\n",
        "GET /files/../../etc/passwd HTTP/1.1\r\nHost: a\r\n\r\n",
        "GET /quiet HTTP/1.1\r\nHost: a\r\nX-Request-ID: from-client-1\r\n\r\n",
        "GET /api/x HTTP/1.1\r\nHost: a\r\nX-Forwarded-For: 203.0.113.9\r\nX-Request-ID: abc-123\r\n\r\n",
        "GET /api/x HTTP/1.1\r\nHost: a\r\nx-forwarded-for: 198.51.100.1, 203.0.113.9\r\nx-forwarded-for: 10.1.2.3\r\n\r\n",
    ]

    @Test(arguments: Self.requests, [("192.0.2.7", false), ("10.0.0.5", false), ("192.0.2.7", true)])
    func bothParsersLeadToTheSameVerdict(raw: String, peer: (address: String, overLimit: Bool)) throws {
        let chain = try FilterChainTests()
        let connection = chain.connection(peer: peer.address, overLimit: peer.overLimit)
        let nioHead = try Self.nioHead(raw)
        var nioRandom = SplitMix64(seed: 7)
        let fromNIO = FilterChain.decide(
            nioHead, on: connection, runtime: chain.runtime, connectionLimiter: nil, now: chain.now, random: &nioRandom)
        var coreRandom = SplitMix64(seed: 7)
        let fromCore = try Array(raw.utf8).withUnsafeBytes { input in
            let head = try #require(EdgeIOProxy.HTTPRequestHead.parse(input, from: 0))
            #expect(!head.malformed)
            return FilterChain.decide(
                CoreRequestHead(head: head, input: input), on: connection, runtime: chain.runtime, connectionLimiter: nil,
                now: chain.now, random: &coreRandom)
        }
        #expect(fromCore.decision == fromNIO.decision)
        #expect(fromCore.requestID == fromNIO.requestID)
        #expect(fromCore.client == fromNIO.client)
        #expect(fromCore.originFormTarget == fromNIO.originFormTarget)
        #expect(fromCore.hasBody == fromNIO.hasBody)
        #expect(fromCore.routeLabel == fromNIO.routeLabel)
        #expect(fromCore.logged == fromNIO.logged)
    }

    @Test func fieldsAreFoundWithoutCaseAndInOrder() throws {
        let raw = "GET /a?b HTTP/1.1\r\nHost: h\r\nX-Many: 1\r\nx-many:  2 \r\nX-Other: o\r\n\r\n"
        try Array(raw.utf8).withUnsafeBytes { input in
            let head = CoreRequestHead(head: try #require(EdgeIOProxy.HTTPRequestHead.parse(input, from: 0)), input: input)
            #expect(head.methodName == "GET")
            #expect(head.target == "/a?b")
            #expect(head.isHTTP11OrLater)
            #expect(head.first("x-many") == "1")
            #expect(head.values("x-many") == ["1", "2"])
            #expect(head.contains("x-other"))
            #expect(!head.contains("x-absent"))
            #expect(head.first("x-absent") == nil)
        }
    }

    /// The head SwiftNIO's HTTP/1 decoder makes of `raw`.
    static func nioHead(_ raw: String) throws -> NIOHTTP1.HTTPRequestHead {
        let channel = EmbeddedChannel(handler: ByteToMessageHandler(HTTPRequestDecoder()))
        defer { _ = try? channel.finish() }
        try channel.writeInbound(ByteBuffer(string: raw))
        guard case .head(let head) = try channel.readInbound(as: HTTPServerRequestPart.self) else {
            throw CoreHeadTestError.noHead(raw)
        }
        return head
    }

    enum CoreHeadTestError: Error { case noHead(String) }
}
