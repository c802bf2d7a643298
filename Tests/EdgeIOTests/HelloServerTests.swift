import EdgeIO
import EdgeIOHello
import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// The HTTP/1.1 fixture on the core, driven by raw sockets and curl over loopback.
@Suite(.timeLimit(.minutes(2)))
struct HelloServerTests {
    static let request = "GET / HTTP/1.1\r\nHost: test\r\n\r\n"

    @Test func answersSeveralRequestsOnOneKeepAliveConnection() async throws {
        let server = try HelloServer()
        defer { server.stop() }
        let client = try TestClient(port: server.port)
        for _ in 0..<3 {
            try await client.send(Self.request)
            let response = try await client.receiveResponses(1)[0]
            #expect(response.status == 200)
            #expect(response.body == Array("Hello, world!\n".utf8))
        }
        let statistics = await server.statistics()
        #expect(statistics[0].requests == 3)
        #expect(statistics[0].connections == 1)
        #expect(statistics[0].buffersInUse == 0)  // idle: no buffer attached
    }

    @Test func connectionCloseGetsTheResponseThenEndOfStream() async throws {
        let server = try HelloServer()
        defer { server.stop() }
        let client = try TestClient(port: server.port)
        try await client.send("GET / HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n")
        let bytes = try await client.receiveAll()
        let (response, used) = try #require(Response.parse(bytes))
        #expect(response.status == 200)
        #expect(response.headers["connection"] == "close")
        #expect(used == bytes.count)
    }

    @Test func closeWithUnreadInputLingersInsteadOfResettingTheResponse() async throws {
        let server = try HelloServer()
        defer { server.stop() }
        let client = try TestClient(port: server.port)
        // The request says close, and more bytes follow that the server never reads: closing
        // the socket with them unread would send a reset that can destroy the response.
        try await client.send("GET / HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n")
        try await client.sendWithoutBlocking(bytes: 1 << 20, forAtMost: 2)
        let bytes = try await client.receiveAll()  // throws on ECONNRESET
        #expect(Response.parse(bytes)?.0.status == 200)
        let lingering = await server.statistics()
        #expect(lingering[0].connections <= 1)
        client.close()
        let after = await server.waitFor { $0[0].connections == 0 }
        #expect(after[0].connections == 0)  // the peer's close ended the lingering
    }

    @Test func http10WithoutKeepAliveIsClosed() async throws {
        let server = try HelloServer()
        defer { server.stop() }
        let client = try TestClient(port: server.port)
        try await client.send("GET / HTTP/1.0\r\n\r\n")
        let bytes = try await client.receiveAll()
        #expect(Response.parse(bytes)?.0.status == 200)
    }

    @Test func pipelinedRequestsAreAnsweredInOrder() async throws {
        let server = try HelloServer()
        defer { server.stop() }
        let client = try TestClient(port: server.port)
        try await client.send(String(repeating: Self.request, count: 50))
        let responses = try await client.receiveResponses(50)
        #expect(responses.allSatisfy { $0.status == 200 })
    }

    @Test func requestSplitAcrossManyWritesIsReassembled() async throws {
        let server = try HelloServer()
        defer { server.stop() }
        let client = try TestClient(port: server.port)
        for byte in Array("GET / HTTP/1.1\r\nHost: test\r\nContent-Length: 5\r\n\r\nhello".utf8) {
            try await client.send([byte])
            try await Task.sleep(for: .milliseconds(1))
        }
        #expect(try await client.receiveResponses(1)[0].status == 200)
        let statistics = await server.statistics()
        #expect(statistics[0].buffersInUse == 0)
    }

    @Test func largeResponseGoesThroughPartialWritesIntact() async throws {
        let server = try HelloServer()
        defer { server.stop() }
        let client = try TestClient(port: server.port, receiveBuffer: 8192)
        try await client.send("GET /large HTTP/1.1\r\nHost: test\r\n\r\n" + Self.request)
        // Not reading lets the socket fill: the server must hold output in pooled buffers.
        let held = await server.waitFor { $0[0].buffersInUse > 0 }
        #expect(held[0].buffersInUse > 0)
        let responses = try await client.receiveResponses(2)
        #expect(responses[0].body.count == 4 << 20)
        let pattern = (0..<(256 * 1024)).map { UInt8(truncatingIfNeeded: $0 % 251) }
        var intact = true
        for (i, byte) in responses[0].body.enumerated() where byte != pattern[i % pattern.count] {
            intact = false
            break
        }
        #expect(intact)
        #expect(responses[1].status == 200)  // the pipelined request after the stream
        let after = await server.waitFor { $0[0].buffersInUse == 0 }
        #expect(after[0].buffersInUse == 0)
    }

    @Test func fileIsSentWithSendfileThroughPartialWrites() async throws {
        let path = NSTemporaryDirectory() + "edgeio-sendfile-\(UUID().uuidString)"
        let contents = (0..<(3 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ $0 >> 13) }
        try Data(contents).write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        let server = try HelloServer(configuration: HelloHandler.Configuration(filePath: path))
        defer { server.stop() }
        let client = try TestClient(port: server.port, receiveBuffer: 8192)
        try await client.send("GET /file HTTP/1.1\r\nHost: test\r\n\r\n" + Self.request)
        let responses = try await client.receiveResponses(2)
        #expect(responses[0].body.count == contents.count)
        #expect(responses[0].body == contents)
        #expect(responses[1].status == 200)  // the pipelined request after the file
        let statistics = await server.statistics()
        #expect(statistics[0].buffersInUse == 0)
    }

    @Test func clientClosingMidResponseFreesTheConnectionAndItsBuffers() async throws {
        let server = try HelloServer()
        defer { server.stop() }
        do {
            let client = try TestClient(port: server.port)
            try await client.send("GET /large HTTP/1.1\r\nHost: test\r\n\r\n")
            _ = try await client.receive(max: 100_000)
        }  // closed here, with most of the body unsent
        let statistics = await server.waitFor { $0[0].connections == 0 }
        #expect(statistics[0].connections == 0)
        #expect(statistics[0].buffersInUse == 0)
        #expect(statistics[0].timersArmed == 0)
    }

    @Test func idleConnectionIsClosedByTheTimingWheel() async throws {
        let server = try HelloServer(configuration: HelloHandler.Configuration(idleTimeout: 100))
        defer { server.stop() }
        let client = try TestClient(port: server.port, receiveTimeout: 10)
        try await client.send(Self.request)
        _ = try await client.receiveResponses(1)
        let started = Date()
        #expect(try await client.receive().isEmpty)  // end of stream, not a timeout
        #expect(Date().timeIntervalSince(started) < 5)
    }

    @Test func peerHalfCloseAfterARequestStillGetsTheResponse() async throws {
        let server = try HelloServer()
        defer { server.stop() }
        let client = try TestClient(port: server.port)
        try await client.send(Self.request)
        client.shutdownWrite()
        let bytes = try await client.receiveAll()
        #expect(Response.parse(bytes)?.0.status == 200)
    }

    @Test func garbageRequestLineIsAborted() async throws {
        let server = try HelloServer()
        defer { server.stop() }
        let client = try TestClient(port: server.port)
        try await client.send("NONSENSE\r\n\r\n")
        #expect((try? await client.receiveAll()) ?? [] == [])
    }

    @Test func headLargerThanTheInputBufferClosesTheConnection() async throws {
        let server = try HelloServer()
        defer { server.stop() }
        let client = try TestClient(port: server.port)
        try? await client.send("GET / HTTP/1.1\r\nX: " + String(repeating: "a", count: 40_000))
        #expect((try? await client.receiveAll()) ?? [] == [])
        let statistics = await server.waitFor { $0[0].connections == 0 }
        #expect(statistics[0].connections == 0)
        #expect(statistics[0].buffersInUse == 0)
    }

    @Test func twoLoopsShareThePortAndBothServe() async throws {
        let server = try HelloServer(loops: 2)
        defer { server.stop() }
        var clients: [TestClient] = []
        for _ in 0..<32 {
            let client = try TestClient(port: server.port)
            try await client.send(Self.request)
            clients.append(client)
        }
        for client in clients { #expect(try await client.receiveResponses(1)[0].status == 200) }
        let statistics = await server.statistics()
        #expect(statistics.map(\.requests).reduce(0, +) == 32)
        #expect(statistics.map(\.connections).reduce(0, +) == 32)
    }

    @Test func stoppingClosesOpenConnectionsAndReturns() async throws {
        let server = try HelloServer(loops: 2)
        let client = try TestClient(port: server.port)
        try await client.send(Self.request)
        _ = try await client.receiveResponses(1)
        server.stop()
        #expect(try await client.receive().isEmpty)
        server.stop()  // idempotent
    }

    @Test func curlFetchesOverKeepAlive() async throws {
        let server = try HelloServer()
        defer { server.stop() }
        let url = "http://127.0.0.1:\(server.port)/"
        let output = try await runProcess("/usr/bin/curl", ["-sS", "--max-time", "10", url, url, "-o", "/dev/null", "-o", "/dev/null", "-w", "%{http_code} %{num_connects}\n"])
        #expect(output.split(separator: "\n") == ["200 1", "200 0"])
    }
}
