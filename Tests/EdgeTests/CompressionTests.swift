import CEdgeZlib
import Foundation
import Testing

@testable import Edge
@testable import EdgeIOProxy

/// Nested in ``ProxyIntegrationTests`` (a serialized suite): these move megabytes through the
/// edge in this process, and the live deflate count they check is the process's.
extension ProxyIntegrationTests {
    /// A route's `compress: true`: gzipped text answers on both I/O shells (the round trips),
    /// and on the core every client framing, HTTP/2, the client's refusals, and no deflate state
    /// left behind by an exchange cut short.
    @Suite("Gzip responses", .serialized)
    struct CompressionTests {
        /// How the upstream frames `/pattern`'s body.
        enum UpstreamFraming: String, CaseIterable, CustomTestStringConvertible {
            case length, chunked, close
            var testDescription: String { rawValue }
            var query: String {
                switch self {
                case .length: ""
                case .chunked: "&chunked=1"
                case .close: "&close=1"
                }
            }
        }

        /// (Not `gzip, deflate`: SwiftNIO's compressor, the NIO shell's, answers that with deflate.)
        static let gzip = [("Accept-Encoding", "gzip")]

        /// `/pattern` as text (so compressible), `bytes` long.
        static func text(_ bytes: Int, _ framing: UpstreamFraming = .length) -> String {
            "/pattern?bytes=\(bytes)&type=text/plain\(framing.query)"
        }

        /// An edge on `io` proxying `/` to `upstream` with `compress: true`.
        static func yaml(_ upstream: TestUpstream) -> EdgeYAML {
            var yaml = EdgeYAML.proxying(to: [EdgeYAML.server(upstream.address)], limits: "{connections_per_client: 1000}")
            yaml.routes = ["{prefix: /, proxy: app, compress: true}"]
            yaml.timeouts = "{client_header: 10s, client_body: 10s, keepalive: 10s, send: 10s, shutdown_grace: 1s}"
            return yaml
        }

        /// The body a gzip member `member` holds (at most `capacity` bytes); fails when it is
        /// not one whole member.
        static func gunzip(_ member: [UInt8], capacity: Int) throws -> [UInt8] {
            var out = [UInt8](repeating: 0, count: capacity + 1)
            var produced = 0
            let code = member.withUnsafeBytes { input in
                out.withUnsafeMutableBytes { output in
                    cez_gunzip(input.baseAddress, input.count, output.baseAddress, output.count, &produced)
                }
            }
            guard code == CEZ_STREAM_END else { throw TestFailure("not one whole gzip member (zlib \(code), \(produced) bytes out)") }
            return Array(out[0..<produced])
        }

        /// Checks that `response` is `size` bytes of the pattern, gzipped.
        static func expectGzippedPattern(_ response: RawResponse, size: Int, _ what: String) throws {
            #expect(response.status == 200, "\(what)")
            #expect(response.header("content-encoding") == "gzip", "\(what)")
            #expect(response.values("vary").contains { $0.lowercased().contains("accept-encoding") }, "\(what)")
            // (The pattern's ramps need some length before they compress.)
            if size >= 10_000 { #expect(response.body.count < size / 2, "\(what): \(response.body.count) bytes for \(size)") }
            let body = try gunzip(response.body, capacity: size)
            #expect(body.count == size, "\(what): \(body.count) of \(size) bytes")
            #expect(TestPattern.firstMismatch(body) == nil, "\(what)")
        }

        /// Waits until no deflate state is attached to a response anywhere in the process.
        static func expectNoLiveDeflater(_ what: String) async throws {
            try await eventually("the deflate states to be given back after \(what)") {
                GzipStreamPool.live.load(ordering: .relaxed) == 0
            }
        }

        /// The data of a chunked body (`[]` when the coding is broken or has no last chunk).
        static func dechunk(_ bytes: [UInt8]) -> [UInt8] {
            var out: [UInt8] = []
            var i = 0
            while let lineEnd = bytes[i...].firstIndex(of: 13), lineEnd + 1 < bytes.count, bytes[lineEnd + 1] == 10,
                let size = Int(String(decoding: bytes[i..<lineEnd], as: UTF8.self), radix: 16)
            {
                i = lineEnd + 2
                if size == 0 { return bytes[i...].elementsEqual([13, 10]) ? out : [] }
                guard i + size + 2 <= bytes.count, bytes[i + size] == 13, bytes[i + size + 1] == 10 else { return [] }
                out += bytes[i..<(i + size)]
                i += size + 2
            }
            return []
        }

        @Test func aDeflaterIsKeptForTheNextResponseAndItsOutputFramedInPlace() throws {
            let pool = GzipStreamPool()
            let input = TestPattern.bytes(0..<100_000)
            for round in 0..<2 {
                #expect(pool.attach(7, contentLength: -1))
                #expect(GzipStreamPool.live.load(ordering: .relaxed) == 1)
                #expect(pool.idleCount == 0, "round \(round): the idle deflater was taken")
                var member: [UInt8] = []
                var framed: [UInt8] = []
                func emit(_ output: UnsafeMutableRawBufferPointer, _ last: Bool) {
                    member += output
                    framed += GzipStreamPool.frameChunk(output, last: last)
                }
                input.withUnsafeBytes { bytes in
                    pool.deflate(7, UnsafeRawBufferPointer(rebasing: bytes[0..<50_000]), emit: emit)
                    pool.flush(7, finish: false, emit: emit)
                    pool.deflate(7, UnsafeRawBufferPointer(rebasing: bytes[50_000...]), emit: emit)
                }
                pool.flush(7, finish: true, emit: emit)
                pool.release(7)
                #expect(GzipStreamPool.live.load(ordering: .relaxed) == 0)
                #expect(pool.idleCount == 1)
                #expect(try Self.gunzip(member, capacity: input.count) == input)
                #expect(Self.dechunk(framed) == member)
            }
        }

        @Test(arguments: UpstreamFraming.allCases)
        func textOfEverySizeAndFramingIsGzippedAndInflatesBackEqual(framing: UpstreamFraming) async throws {
            try await withUpstreams(["a"]) { upstreams in
                try await withEdge(yaml: Self.yaml(upstreams[0])) { edge in
                    for size in [10_000, 300_000, 5_000_000] {
                        let response = try await offThePool {
                            try edge.request("GET", Self.text(size, framing), headers: Self.gzip, timeout: .seconds(60))
                        }
                        try Self.expectGzippedPattern(response, size: size, "\(framing) \(size)")
                        #expect(response.header("content-length") == nil, "\(framing) \(size)")
                    }
                }
            }
            try await Self.expectNoLiveDeflater("whole responses")
        }

        @Test
        func theConnectionIsKeptAfterAGzippedAnswer() async throws {
            try await withUpstreams(["a"]) { upstreams in
                try await withEdge(yaml: Self.yaml(upstreams[0])) { edge in
                    let connection = try edge.connect()
                    defer { connection.close() }
                    for size in [30_000, 100] {
                        let response = try connection.request("GET", Self.text(size), headers: Self.gzip)
                        try Self.expectGzippedPattern(response, size: size, "\(size)")
                        #expect(response.values("transfer-encoding").contains("chunked"), "\(size)")
                    }
                    // And an answer the client did not ask to compress, on the same connection.
                    let plain = try connection.request("GET", Self.text(1000))
                    #expect(plain.header("content-encoding") == nil)
                    #expect(plain.body == TestPattern.bytes(0..<1000))
                }
                #expect(upstreams[0].connectionsAccepted == 1, "one upstream connection for the three requests")
            }
        }

        /// A gzipped answer's strong `ETag` goes weak (its bytes are not the ones the tag names),
        /// a weak one stays, and an answer sent as it is keeps its tag (nginx's gzip does the same).
        @Test
        func aGzippedAnswersStrongETagIsWeakened() async throws {
            try await withUpstreams(["a"]) { upstreams in
                try await withEdge(yaml: Self.yaml(upstreams[0])) { edge in
                    let strong = try edge.request("GET", Self.text(5000) + "&etag=v1", headers: Self.gzip)
                    #expect(strong.header("content-encoding") == "gzip")
                    #expect(strong.values("etag") == ["W/\"v1\""])
                    let weak = try edge.request("GET", Self.text(5000) + "&etag=W/v2", headers: Self.gzip)
                    #expect(weak.values("etag") == ["W/\"v2\""])
                    let plain = try edge.request("GET", Self.text(5000) + "&etag=v3")
                    #expect(plain.header("content-encoding") == nil)
                    #expect(plain.values("etag") == ["\"v3\""])
                }
            }
            try await Self.expectNoLiveDeflater("tagged answers")
        }

        @Test
        func anEncodedBinaryOrTinyAnswerGoesAsItIs() async throws {
            try await withUpstreams(["a"]) { upstreams in
                try await withEdge(yaml: Self.yaml(upstreams[0])) { edge in
                    let encoded = try edge.request("GET", Self.text(5000) + "&encoding=br", headers: Self.gzip)
                    #expect(encoded.header("content-encoding") == "br")
                    #expect(encoded.header("content-length") == "5000")
                    #expect(encoded.body == TestPattern.bytes(0..<5000))
                    let binary = try edge.request("GET", "/pattern?bytes=5000", headers: Self.gzip)
                    #expect(binary.header("content-encoding") == nil)
                    #expect(binary.body == TestPattern.bytes(0..<5000))
                    // Under nginx's gzip_min_length (20 bytes): as it is.
                    let tiny = try edge.request("GET", Self.text(19), headers: Self.gzip)
                    #expect(tiny.header("content-encoding") == nil)
                    #expect(tiny.header("content-length") == "19")
                    let head = try edge.request("HEAD", Self.text(5000), headers: Self.gzip)
                    #expect(head.status == 200)
                    #expect(head.header("content-encoding") == nil)
                }
            }
            try await Self.expectNoLiveDeflater("uncompressed answers")
        }

        @Test(arguments: [nil, "gzip;q=0", "deflate", "gzip;q=0, *;q=1", "identity, br"])
        func aClientThatDoesNotTakeGzipGetsTheBodyAsItIsOnTheCore(acceptEncoding: String?) async throws {
            try await withUpstreams(["a"]) { upstreams in
                try await withEdge(yaml: Self.yaml(upstreams[0])) { edge in
                    let response = try edge.request(
                        "GET", Self.text(20_000), headers: acceptEncoding.map { [("Accept-Encoding", $0)] } ?? [])
                    #expect(response.header("content-encoding") == nil, "\(acceptEncoding ?? "none")")
                    #expect(response.header("content-length") == "20000")
                    #expect(response.body == TestPattern.bytes(0..<20_000))
                }
            }
        }

        @Test func anyCodingAndUppercaseGzipAreTakenOnTheCore() async throws {
            try await withUpstreams(["a"]) { upstreams in
                try await withEdge(yaml: Self.yaml(upstreams[0])) { edge in
                    for accept in ["*", "GZIP;Q=0.5", "br;q=1, x-gzip;q=0.1"] {
                        let response = try edge.request("GET", Self.text(20_000), headers: [("Accept-Encoding", accept)])
                        try Self.expectGzippedPattern(response, size: 20_000, accept)
                    }
                }
            }
        }

        @Test(arguments: UpstreamFraming.allCases)
        func anHTTP10ClientGetsTheGzipEndedByTheCloseOnTheCore(framing: UpstreamFraming) async throws {
            try await withUpstreams(["a"]) { upstreams in
                try await withEdge(yaml: Self.yaml(upstreams[0])) { edge in
                    let connection = try edge.connect()
                    defer { connection.close() }
                    try connection.send(
                        "GET \(Self.text(200_000, framing)) HTTP/1.0\r\nHost: edge.test\r\nConnection: keep-alive\r\nAccept-Encoding: gzip\r\n\r\n")
                    let response = try connection.readResponse(timeout: .seconds(30))
                    #expect(response.values("transfer-encoding").isEmpty, "\(framing): no chunked coding to HTTP/1.0")
                    #expect(response.header("content-length") == nil, "\(framing)")
                    try Self.expectGzippedPattern(response, size: 200_000, "HTTP/1.0 \(framing)")
                    #expect(connection.isClosed(within: .seconds(5)))
                }
            }
            try await Self.expectNoLiveDeflater("HTTP/1.0 answers")
        }

        @Test func aClientGoneMidBodyLeavesNoDeflateState() async throws {
            try await withUpstreams(["a"]) { upstreams in
                try await withEdge(yaml: Self.yaml(upstreams[0])) { edge in
                    for framing in UpstreamFraming.allCases {
                        let connection = try edge.connect()
                        try connection.sendRequest("GET", Self.text(20_000_000, framing), headers: Self.gzip)
                        // The head (and some body) arrived: the response is in flight.
                        let status = try connection.readLine(timeout: .seconds(10))
                        #expect(status.hasPrefix("HTTP/1.") && status.contains(" 200 "), "\(framing): \(status)")
                        #expect(GzipStreamPool.live.load(ordering: .relaxed) == 1, "\(framing): a deflater attached while in flight")
                        connection.close()
                        try await Self.expectNoLiveDeflater("a client gone mid-body (\(framing))")
                    }
                }
            }
        }

        @Test func anUpstreamCutShortLeavesNoDeflateState() async throws {
            // The upstream stops before its Content-Length (a server dying mid-answer).
            try await withUpstreams(["a"]) { upstreams in
                try await withEdge(yaml: Self.yaml(upstreams[0])) { edge in
                    let connection = try edge.connect()
                    defer { connection.close() }
                    try connection.sendRequest("GET", Self.text(20_000_000), headers: Self.gzip)
                    #expect(try connection.readLine(timeout: .seconds(10)).hasPrefix("HTTP/1.1 200"))
                    await upstreams[0].stop()
                    try await Self.expectNoLiveDeflater("an upstream cut short")
                }
            }
        }

        // MARK: HTTP/2

        /// An HTTPS edge with HTTP/2, compressing.
        static func withHTTP2Edge<T>(upstream: TestUpstream, _ body: (_ port: Int) async throws -> T) async throws -> T {
            let directory = try TLSTestDirectory()
            defer { directory.remove() }
            let certificate = try directory.makeCertificate("a.test")
            var config = try Self.yaml(upstream).config()
            config.listeners = [TLSTestConfig.https(certificates: [certificate.config(serverNames: ["a.test"])])]
            return try await withEdge(config: config) { edge in try await body(edge.port) }
        }

        /// curl over HTTP/2 with `Accept-Encoding: gzip` (not decoded): the status, the response
        /// head's lines and the body as sent.
        static func curlHTTP2(port: Int, _ target: String) throws -> (status: Int, head: String, body: [UInt8]) {
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("edge-gzip-\(UUID().uuidString)").path
            let (body, head) = (directory + ".body", directory + ".head")
            defer {
                try? FileManager.default.removeItem(atPath: body)
                try? FileManager.default.removeItem(atPath: head)
            }
            let (status, written) = try runTool(
                "/usr/bin/curl",
                [
                    "--http2", "-sS", "-k", "--max-time", "60", "--resolve", "a.test:\(port):127.0.0.1", "-H", "Accept-Encoding: gzip",
                    "-D", head, "-o", body, "-w", "%{http_code} %{http_version}", "https://a.test:\(port)\(target)",
                ], timeout: 90)
            guard status == 0 else { throw TestFailure("curl \(target) failed with exit \(status): \(written)") }
            #expect(written.hasSuffix(" 2"), "HTTP/2 was used: \(written)")
            return (
                Int(written.split(separator: " ").first ?? "") ?? 0,
                (try? String(contentsOfFile: head, encoding: .utf8)) ?? "",
                FileManager.default.contents(atPath: body).map { [UInt8]($0) } ?? []
            )
        }

        @Test
        func anHTTP2StreamIsGzipped() async throws {
            try await withUpstreams(["a"]) { upstreams in
                try await Self.withHTTP2Edge(upstream: upstreams[0]) { port in
                    for framing in UpstreamFraming.allCases {
                        for size in [10_000, 2_000_000] {
                            let (status, head, body) = try await offThePool { try Self.curlHTTP2(port: port, Self.text(size, framing)) }
                            let lines = head.lowercased()
                            let what = "\(framing) \(size)"
                            #expect(status == 200, "\(what)")
                            #expect(lines.contains("content-encoding: gzip"), "\(what): \(head)")
                            #expect(!lines.contains("content-length: \(size)"), "\(what): \(head)")
                            let inflated = try Self.gunzip(body, capacity: size)
                            #expect(inflated.count == size, "\(what)")
                            #expect(TestPattern.firstMismatch(inflated) == nil, "\(what)")
                        }
                    }
                }
            }
            try await Self.expectNoLiveDeflater("HTTP/2 streams")
        }

        @Test func anHTTP2StreamResetMidBodyLeavesNoDeflateState() async throws {
            try await withUpstreams(["a"]) { upstreams in
                try await Self.withHTTP2Edge(upstream: upstreams[0]) { port in
                    try await HTTP2StreamTests.withConnection(port: port) { connection in
                        let request = RawHTTP2Connection.request("GET", Self.text(20_000_000)) + [("accept-encoding", "gzip")]
                        try await connection.send(RawHTTP2Connection.headers(stream: 1, request, endStream: true))
                        // Its first DATA (the window lets 64 KiB through, then the stream waits).
                        try await connection.frames(until: "stream 1's first DATA") {
                            $0.contains { $0.kind == .data && $0.streamID == 1 }
                        }
                        #expect(GzipStreamPool.live.load(ordering: .relaxed) == 1)
                        try await connection.send(
                            RawHTTP2Connection.frame(type: 3, flags: 0, stream: 1, payload: RawHTTP2Connection.bytes(8, count: 4)))
                        try await Self.expectNoLiveDeflater("a stream reset mid-body")
                        // The connection goes on, and compresses the next stream. Stream 1's DATA
                        // counted against the connection's window whether or not it was read: give
                        // it back, as a client does (a loaded CI run sent all 64 KiB of it before
                        // the reset arrived, and stream 3's body then waited for a window).
                        try await connection.send(
                            RawHTTP2Connection.frame(type: 8, flags: 0, stream: 0, payload: RawHTTP2Connection.bytes(1 << 20, count: 4))
                                + RawHTTP2Connection.headers(
                                stream: 3, RawHTTP2Connection.request("GET", Self.text(1000)) + [("accept-encoding", "gzip")],
                                endStream: true))
                        try await connection.frames(until: "stream 3's answer") { $0.contains { $0.streamID == 3 && $0.endStream } }
                        #expect(try connection.statuses()[3] == 200)
                    }
                    try await Self.expectNoLiveDeflater("a stream after a reset")
                }
            }
        }
    }
}
