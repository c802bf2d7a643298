import Foundation
import Testing

@testable import Edge

/// Nested in ``ProxyIntegrationTests`` (a serialized suite): these move tens of megabytes through
/// the edge in this process, which would skew the RSS the streaming tests there measure.
extension ProxyIntegrationTests {
    /// Every body arrives whole, byte for byte, whatever the client does about the connection:
    /// keep-alive, `Connection: close`, HTTP/1.0; proxied (sized, chunked, close-framed) and static;
    /// from 10 KB to 50 MB. Then the paths around a close: a refused upload whose unread body must
    /// not turn the close into a reset, and a drain with a response in flight.
    @Suite("Close paths: every response delivered whole", .serialized)
    struct ClosePathTests {
        /// How a client treats its connection.
        enum ClientMode: String, CaseIterable, CustomTestStringConvertible {
            case keepAlive
            case connectionClose
            case http10

            var testDescription: String { rawValue }
        }

        static let sizes = [10 * 1024, 64 * 1024, 300 * 1024, 4 * 1024 * 1024, 50 * 1024 * 1024]

        /// Timeouts long enough for a debug build moving 50 MB (and a test comparing it between requests).
        static let timeouts = "{client_header: 60s, client_body: 60s, keepalive: 60s, send: 30s, shutdown_grace: 1s}"

        /// Sends `GET target` the way `mode` does on `connection` and reads the whole answer.
        static func get(_ target: String, on connection: RawHTTPConnection, mode: ClientMode, timeout: Duration = .seconds(60))
            throws -> RawResponse
        {
            switch mode {
            case .keepAlive:
                try connection.sendRequest("GET", target)
            case .connectionClose:
                try connection.sendRequest("GET", target, headers: [("Connection", "close")])
            case .http10:
                try connection.send("GET \(target) HTTP/1.0\r\nHost: edge.test\r\n\r\n")
            }
            return try connection.readResponse(timeout: timeout)
        }

        /// Checks that `response` carries exactly the first `size` pattern bytes, and that a
        /// closing mode's connection is closed afterwards (a keep-alive one stays usable).
        static func expectWhole(
            _ response: RawResponse, size: Int, mode: ClientMode, connection: RawHTTPConnection, what: String,
            sourceLocation: SourceLocation = #_sourceLocation
        ) {
            #expect(response.status == 200, "\(what): status", sourceLocation: sourceLocation)
            #expect(response.body.count == size, "\(what): \(response.body.count) of \(size) bytes", sourceLocation: sourceLocation)
            let mismatch = TestPattern.firstMismatch(response.body)
            #expect(mismatch == nil, "\(what): first wrong byte at \(mismatch ?? -1)", sourceLocation: sourceLocation)
            if mode != .keepAlive {
                #expect(connection.isClosed(within: .seconds(10)), "\(what): the connection closes after the answer", sourceLocation: sourceLocation)
            }
        }

        /// A directory holding `pattern-N` files of each size, removed afterwards.
        static func withPatternFiles<T>(_ sizes: [Int], _ body: (String) async throws -> T) async throws -> T {
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("edge-static-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: directory) }
            for size in sizes {
                try Data(TestPattern.bytes(0..<size)).write(to: directory.appendingPathComponent("pattern-\(size)"))
            }
            return try await body(directory.path)
        }

        // MARK: Bodies of every size

        @Test(arguments: ClientMode.allCases)
        func proxiedBodiesOfEverySizeArriveWhole(mode: ClientMode) async throws {
            try await withUpstreams(["a"]) { upstreams in
                var yaml = EdgeYAML.proxying(to: [EdgeYAML.server(upstreams[0].address)])
                yaml.timeouts = Self.timeouts
                try await withEdge(yaml: yaml) { edge in
                    var connection = try edge.connect()
                    defer { connection.close() }
                    for size in Self.sizes {
                        for framing in ["", "&chunked=1", "&close=1"] where framing.isEmpty || size == 300 * 1024 {
                            if mode != .keepAlive {
                                connection.close()
                                connection = try edge.connect()
                            }
                            let current = connection
                            let response = try await offThePool { try Self.get("/pattern?bytes=\(size)\(framing)", on: current, mode: mode) }
                            Self.expectWhole(response, size: size, mode: mode, connection: connection, what: "\(size) bytes\(framing) \(mode)")
                            if framing == "&close=1", mode == .keepAlive {
                                // An answer the upstream framed by closing has no length for the
                                // client either: the edge chunks it (HTTP/1.1) and keeps the connection.
                                #expect(response.header("Transfer-Encoding") == "chunked")
                            }
                        }
                    }
                }
            }
        }

        @Test(arguments: ClientMode.allCases)
        func staticFilesOfEverySizeArriveWhole(mode: ClientMode) async throws {
            try await Self.withPatternFiles(Self.sizes) { root in
                var yaml = EdgeYAML()
                yaml.routes = ["{prefix: /files/, static: {root: \"\(root)\"}}"]
                yaml.timeouts = Self.timeouts
                try await withEdge(yaml: yaml) { edge in
                    var connection = try edge.connect()
                    defer { connection.close() }
                    for size in Self.sizes {
                        if mode != .keepAlive {
                            connection.close()
                            connection = try edge.connect()
                        }
                        let current = connection
                        let response = try await offThePool { try Self.get("/files/pattern-\(size)", on: current, mode: mode) }
                        Self.expectWhole(response, size: size, mode: mode, connection: connection, what: "file of \(size) bytes, \(mode)")
                        #expect(response.header("Content-Length") == String(size))
                    }
                    // HEAD: the head describes the file, no body follows, the connection stays usable.
                    try connection.sendRequest("HEAD", "/files/pattern-\(300 * 1024)")
                    if mode == .keepAlive {
                        let head = try connection.readResponse(isHead: true)
                        #expect(head.status == 200)
                        #expect(head.header("Content-Length") == String(300 * 1024))
                        let next = try Self.get("/files/pattern-\(10 * 1024)", on: connection, mode: .keepAlive)
                        #expect(next.body == TestPattern.bytes(0..<(10 * 1024)), "the answer after a HEAD is intact")
                    }
                }
            }
        }

        // MARK: Ranges

        @Test func staticFilesServeSingleRangesWith206AndUnsatisfiableOnesWith416() async throws {
            let size = 300 * 1024
            try await Self.withPatternFiles([size]) { root in
                var yaml = EdgeYAML()
                yaml.routes = ["{prefix: /files/, static: {root: \"\(root)\"}}"]
                try await withEdge(yaml: yaml) { edge in
                    let connection = try edge.connect()
                    defer { connection.close() }
                    let cases: [(header: String, range: Range<Int>)] = [
                        ("bytes=0-99", 0..<100),
                        ("bytes=1000-", 1000..<size),
                        ("bytes=-500", (size - 500)..<size),
                        ("bytes=200000-999999999", 200_000..<size),
                    ]
                    for (header, range) in cases {
                        let response = try connection.request("GET", "/files/pattern-\(size)", headers: [("Range", header)])
                        #expect(response.status == 206, "\(header)")
                        #expect(response.header("Content-Range") == "bytes \(range.lowerBound)-\(range.upperBound - 1)/\(size)", "\(header)")
                        #expect(response.header("Content-Length") == String(range.count), "\(header)")
                        #expect(response.body == TestPattern.bytes(range), "\(header): the bytes of the range")
                        #expect(response.header("Accept-Ranges") == "bytes")
                    }
                    let unsatisfiable = try connection.request("GET", "/files/pattern-\(size)", headers: [("Range", "bytes=\(size)-")])
                    #expect(unsatisfiable.status == 416)
                    #expect(unsatisfiable.header("Content-Range") == "bytes */\(size)")
                    // Several ranges, or a unit the edge does not know: the whole file (RFC 9110 allows ignoring Range).
                    for header in ["bytes=0-1,5-6", "lines=1-2", "bytes=5-1"] {
                        let whole = try connection.request("GET", "/files/pattern-\(size)", headers: [("Range", header)])
                        #expect(whole.status == 200, "\(header)")
                        #expect(whole.body.count == size, "\(header)")
                    }
                    // If-Range with a stale validator: the whole file.
                    let stale = try connection.request(
                        "GET", "/files/pattern-\(size)", headers: [("Range", "bytes=0-9"), ("If-Range", "\"stale\"")])
                    #expect(stale.status == 200)
                    #expect(stale.body.count == size)
                    let full = try connection.request("GET", "/files/pattern-\(size)")
                    let tag = try #require(full.header("ETag"))
                    let fresh = try connection.request("GET", "/files/pattern-\(size)", headers: [("Range", "bytes=0-9"), ("If-Range", tag)])
                    #expect(fresh.status == 206)
                    #expect(fresh.body == TestPattern.bytes(0..<10))
                }
            }
        }

        // MARK: Closing with unread input

        @Test func aRefusedUploadStillGetsItsAnswerWhileTheClientKeepsSending() async throws {
            // 413 is decided from Content-Length before the body is read; the client goes on
            // sending. A plain close would leave its bytes unread and the kernel would reset the
            // connection, destroying the 413 in the client's receive buffer.
            var yaml = EdgeYAML()
            yaml.limits = "{max_body_size: 1m}"
            yaml.routes = ["{prefix: /, respond: {status: 200, body: \"ok\"}}"]
            try await withEdge(yaml: yaml) { edge in
                let connection = try edge.connect()
                defer { connection.close() }
                let declared = 8 * 1024 * 1024
                try connection.send("POST /upload HTTP/1.1\r\nHost: edge.test\r\nContent-Length: \(declared)\r\n\r\n")
                // Give the edge time to answer and close while the body is still coming: the 413
                // arrives first, then 2 MB more are sent as a client that does not read would.
                var sent = 0
                let chunk = [UInt8](repeating: 0x61, count: 64 * 1024)
                while sent < 2 * 1024 * 1024 {
                    do {
                        try connection.send(chunk)
                    } catch {
                        break  // the edge stopped reading after lingering: what matters is the answer below
                    }
                    sent += chunk.count
                }
                let response = try connection.readResponse(timeout: .seconds(10))
                #expect(response.status == 413)
                #expect(response.header("Connection")?.lowercased() == "close")
            }
        }

        // MARK: Drain

        @Test func aDrainDeliversA1MBResponseInFlightWhole() async throws {
            let size = 1024 * 1024
            try await withUpstreams(["a"]) { upstreams in
                for round in 0..<20 {
                    let edge = try await startEdge(.proxying(to: [EdgeYAML.server(upstreams[0].address)]))
                    let connection = try edge.connect()
                    defer { connection.close() }
                    try connection.sendRequest("GET", "/pattern?bytes=\(size)")
                    try await eventually("round \(round): the request to reach the upstream") {
                        upstreams[0].requestCount(path: "/pattern") == round + 1
                    }
                    // The drain starts while the body is on its way (this client has not read a byte).
                    let shutdown = Task { await edge.server.shutdown(grace: .seconds(10)) }
                    let response = try await offThePool { try connection.readResponse(timeout: .seconds(20)) }
                    await shutdown.value
                    #expect(response.status == 200, "round \(round)")
                    #expect(response.body.count == size, "round \(round): \(response.body.count) of \(size) bytes")
                    #expect(TestPattern.firstMismatch(response.body) == nil, "round \(round)")
                }
            }
        }
    }
}
