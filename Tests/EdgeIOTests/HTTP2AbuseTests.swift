import EdgeIO
import EdgeIOHello
import Foundation
import Testing

/// HTTP/2 abuse against the core's sessions (``HelloHandler`` over TLS with ALPN h2), driven
/// by a raw frame writer: each case gets the answer RFC 9113 and nginx give, and the loop's
/// statistics (connections, pooled buffers, timers) return to 0 once the abusive client is
/// gone — the check that the edge's memory stayed bounded.
@Suite(.timeLimit(.minutes(3)))
struct HTTP2AbuseTests {
    /// One throwaway CA for the suite (making it runs openssl several times).
    static let pki = Result { try TestPKI() }

    static func server(_ configuration: HelloHandler.Configuration = HelloHandler.Configuration()) throws -> HelloServer {
        let pki = try pki.get()
        let context = try TLSContext(
            configuration: .init(
                certificates: [.init(chainPath: pki.path("a.pem"), keyPath: pki.path("a.key"))],
                applicationProtocols: ["h2", "http/1.1"]))
        return try HelloServer(configuration: configuration, tls: context)
    }

    /// Waits until the abusive client's connection is gone and nothing it caused is held.
    static func expectNothingHeld(_ server: HelloServer, sourceLocation: SourceLocation = #_sourceLocation) async {
        let statistics = await server.waitFor { $0[0].connections == 0 && $0[0].buffersInUse == 0 && $0[0].timersArmed == 0 }
        #expect(statistics[0].connections == 0, sourceLocation: sourceLocation)
        #expect(statistics[0].buffersInUse == 0, sourceLocation: sourceLocation)
        #expect(statistics[0].timersArmed == 0, sourceLocation: sourceLocation)
    }

    /// Connects, exchanges SETTINGS, runs `abuse` and reads every frame until the server
    /// closes the connection (off the pool).
    static func framesUntilClosed(
        port: Int, after abuse: @escaping @Sendable (RawHTTP2Client) throws -> Void
    ) async throws -> [RawFrame] {
        try await offThePool {
            let client = try RawHTTP2Client(port: port)
            try client.handshake()
            try abuse(client)
            return try client.framesUntilClosed()
        }
    }

    // MARK: - Rapid reset (CVE-2023-44487)

    @Test func rapidResetGetsGoAwayAndTheConnectionCloses() async throws {
        let server = try Self.server()
        defer { server.stop() }
        let port = server.port
        let (frames, pairsSent) = try await offThePool {
            let client = try RawHTTP2Client(port: port)
            try client.handshake()
            // Open and at once cancel streams, 100 pairs per write, past the bucket of 1000
            // resets of open streams in 30 s (HTTP2Limits' default).
            var stream: UInt32 = 1
            var pairs = 0
            writing: for _ in 0..<30 {
                var batch: [UInt8] = []
                for _ in 0..<100 {
                    batch += H2.headers(stream: stream, H2.request()) + H2.rstStream(stream: stream)
                    stream += 2
                }
                guard client.trySend(batch) else { break writing }
                pairs += 100
            }
            return (try client.framesUntilClosed(timeout: 20), pairs)
        }
        let goAway = try #require(frames.first { $0.kind == .goAway }, "no GOAWAY in \(frames.count) frames")
        // The session's own bound (not nghttp2's, which says INTERNAL_ERROR) answers with
        // ENHANCE_YOUR_CALM; the connection then closes once no stream is open.
        #expect(goAway.errorCode == H2Error.enhanceYourCalm)
        #expect(pairsSent > 1000)
        let statistics = await server.statistics()
        #expect(statistics[0].requests <= 1100)  // the streams after the GOAWAY were never answered
        await Self.expectNothingHeld(server)
        // The loop is fine: a well-behaved client is served.
        let status = try await offThePool { try RawHTTP2Client.get(port: port) }
        #expect(status == 200)
    }

    // MARK: - CONTINUATION

    @Test func continuationFloodIsAConnectionErrorNotBuffering() async throws {
        let server = try Self.server()
        defer { server.stop() }
        let port = server.port
        let frames = try await Self.framesUntilClosed(port: port) { client in
            // A header block that never ends: HEADERS without END_HEADERS, then small
            // CONTINUATION frames that never set it either.
            _ = client.trySend(H2.headers(stream: 1, H2.request(), endStream: true, endHeaders: false))
            for i in 0..<1000 {
                guard client.trySend(H2.continuation(stream: 1, block: H2.headerBlock([("x-filler-\(i)", "a")]))) else { break }
            }
        }
        let goAway = try #require(frames.first { $0.kind == .goAway }, "no GOAWAY in \(frames)")
        #expect(goAway.errorCode == H2Error.enhanceYourCalm)
        #expect(!frames.contains { $0.kind == .headers })  // the request was never answered
        await Self.expectNothingHeld(server)
    }

    @Test func continuationOnAnotherStreamIsAProtocolError() async throws {
        let server = try Self.server()
        defer { server.stop() }
        let port = server.port
        let frames = try await Self.framesUntilClosed(port: port) { client in
            try client.send(
                H2.headers(stream: 1, H2.request(), endStream: true, endHeaders: false)
                    + H2.continuation(stream: 3, block: H2.headerBlock([("x-a", "b")]), endHeaders: true))
        }
        let goAway = try #require(frames.first { $0.kind == .goAway }, "no GOAWAY in \(frames)")
        #expect(goAway.errorCode == H2Error.protocolError)
        await Self.expectNothingHeld(server)
    }

    // MARK: - Header list size

    @Test func oversizedHeaderListGets431AndTheConnectionServesOtherStreams() async throws {
        let server = try Self.server()
        defer { server.stop() }
        let port = server.port
        let (settings, refused, answered) = try await offThePool {
            let client = try RawHTTP2Client(port: port)
            let settings = try client.handshake()
            // 20 KiB of fields against the advertised 16 KiB, across HEADERS + CONTINUATION.
            let big = H2.headerBlock(H2.request() + (0..<20).map { ("x-big-\($0)", String(repeating: "v", count: 1000)) })
            let half = big.count / 2
            try client.send(
                H2.headers(stream: 1, block: Array(big[..<half]), endStream: true, endHeaders: false)
                    + H2.continuation(stream: 1, block: Array(big[half...]), endHeaders: true))
            let refused = try client.frames(until: { $0.stream == 1 && $0.endStream })
            try client.send(H2.headers(stream: 3, H2.request()))
            let answered = try client.frames(until: { $0.stream == 3 && $0.endStream })
            return (settings, refused, answered)
        }
        #expect(settings[H2.Setting.maxHeaderListSize] == 16_384)
        let head = try #require(refused.first { $0.kind == .headers && $0.stream == 1 })
        #expect(head.status == 431)
        #expect(head.endStream)  // no body
        #expect(!refused.contains { $0.kind == .goAway })
        #expect(answered.first { $0.kind == .headers && $0.stream == 3 }?.status == 200)
        #expect(answered.contains { $0.kind == .data && $0.stream == 3 && $0.payload == Array("Hello, world!\n".utf8) })
        let statistics = await server.statistics()
        #expect(statistics[0].requests == 1)  // the handler never saw the refused request
        await Self.expectNothingHeld(server)
    }

    // MARK: - SETTINGS and PING floods

    /// A peer that floods PINGs (or SETTINGS) and never reads: its ACKs wait inside nghttp2,
    /// which ends the connection past 1000 (GOAWAY ENHANCE_YOUR_CALM); what the socket holds
    /// stays at the session's output limit, and the send deadline aborts the close the peer
    /// never reads.
    @Test(arguments: [FloodKind.ping, .settings])
    func floodFromAPeerThatNeverReadsClosesTheConnection(_ kind: FloodKind) async throws {
        let server = try Self.server(.init(sendTimeout: 500))
        defer { server.stop() }
        let port = server.port
        let flooding = Task {
            try await offThePool { () -> (SendableBox<RawHTTP2Client>, Int) in
                let client = try RawHTTP2Client(port: port, receiveBuffer: 4096)
                let frame = kind == .ping ? H2.ping(7) : H2.settings()
                let batch = (0..<500).flatMap { _ in frame }
                var sent = 0
                while sent < 400_000 && client.trySend(batch) { sent += 500 }
                return (SendableBox(client), sent)
            }
        }
        // The pooled buffers while the flood lasts: bounded by the session's output limit
        // (64 KiB in 16 KiB chunks), not by the flood.
        // Until the session found the flood and the connection is gone (on a loaded machine the
        // whole connection may come and go between two polls: its end is what counts).
        var mostBuffers = 0
        var ended = false
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline {
            let statistics = await server.statistics()
            mostBuffers = max(mostBuffers, statistics[0].buffersInUse)
            if statistics[0].http2ConnectionErrors > 0 && statistics[0].connections == 0 {
                ended = true
                break
            }
            try await Task.sleep(for: .milliseconds(5))
        }
        // The client still holds its socket: the server is the one that closed.
        let (client, sent) = try await flooding.value
        #expect(ended, "the flooding connection was not closed within 60 s")
        #expect(mostBuffers <= 8)
        await Self.expectNothingHeld(server)
        let statistics = await server.statistics()
        #expect(statistics[0].http2ConnectionErrors == 1)  // the session found the flood
        withExtendedLifetime(client) {}
        _ = sent
    }

    enum FloodKind: Sendable, CustomStringConvertible {
        case ping, settings
        var description: String { self == .ping ? "PING" : "SETTINGS" }
    }

    @Test func pingFloodFromAPeerThatReadsIsAnswered() async throws {
        let server = try Self.server()
        defer { server.stop() }
        let port = server.port
        let (acks, goAways) = try await offThePool {
            let client = try RawHTTP2Client(port: port)
            try client.handshake()
            var acks = 0
            var goAways = 0
            for round in 0..<10 {
                try client.send((0..<500).flatMap { _ in H2.ping(UInt64(round)) })
                let frames = try client.frames(until: { _ in acks == 500 * (round + 1) }) { frame in
                    if frame.kind == .ping && frame.isAck { acks += 1 }
                    if frame.kind == .goAway { goAways += 1 }
                }
                _ = frames
            }
            return (acks, goAways)
        }
        #expect(acks == 5000)  // five times the ACK bound: it counts unsent ACKs, not PINGs
        #expect(goAways == 0)
        await Self.expectNothingHeld(server)
    }

    @Test func settingsWithTooManyEntriesAreAConnectionError() async throws {
        let server = try Self.server()
        defer { server.stop() }
        let port = server.port
        let frames = try await Self.framesUntilClosed(port: port) { client in
            try client.send(H2.settings((0..<40).map { (id: UInt16(0x100 + $0), value: 1) }))
        }
        let goAway = try #require(frames.first { $0.kind == .goAway }, "no GOAWAY in \(frames)")
        #expect(goAway.errorCode == H2Error.enhanceYourCalm)
        await Self.expectNothingHeld(server)
    }

    // MARK: - Flow control

    @Test func zeroWindowStallIsResetAfterTheSendTimeout() async throws {
        let sendTimeout: UInt64 = 300
        let server = try Self.server(.init(sendTimeout: sendTimeout))
        defer { server.stop() }
        let port = server.port
        let (frames, elapsed) = try await offThePool {
            let client = try RawHTTP2Client(port: port, settings: [(H2.Setting.initialWindowSize, 0)])
            try client.handshake()
            let start = Date()
            try client.send(H2.headers(stream: 1, H2.request()))
            // PINGs keep the connection busy: they must not count as progress of the stream.
            var frames: [RawFrame] = []
            while !frames.contains(where: { $0.kind == .rstStream }) {
                try client.send(H2.ping(1))
                frames += try client.frames(until: { $0.kind == .rstStream || $0.kind == .ping })
                guard Date().timeIntervalSince(start) < 10 else { break }
            }
            return (frames, Date().timeIntervalSince(start))
        }
        #expect(frames.first { $0.kind == .headers }?.status == 200)
        #expect(!frames.contains { $0.kind == .data })  // the window never opened
        let reset = try #require(frames.first { $0.kind == .rstStream }, "no RST_STREAM in \(frames)")
        #expect(reset.stream == 1)
        #expect(reset.errorCode == H2Error.cancel)
        #expect(elapsed >= Double(sendTimeout) / 1000)  // not before the deadline
        #expect(!frames.contains { $0.kind == .goAway })  // the connection stays
        await Self.expectNothingHeld(server)
    }

    // MARK: - Concurrency and drain

    @Test func streamsBeyondTheAdvertisedMaximumAreRefusedAndDrainLetsTheOthersFinish() async throws {
        let server = try Self.server()
        defer { server.stop() }
        let port = server.port
        let (client, settings) = try await offThePool { () -> (SendableBox<RawHTTP2Client>, [UInt16: UInt32]) in
            let client = try RawHTTP2Client(port: port)
            let settings = try client.handshake()
            // 130 requests whose bodies have not ended: all stay open.
            try client.send((0..<130).flatMap { H2.headers(stream: UInt32(1 + 2 * $0), H2.request(), endStream: false) })
            return (SendableBox(client), settings)
        }
        #expect(settings[H2.Setting.maxConcurrentStreams] == 128)
        let refused = try await offThePool {
            try client.value.frames(until: { $0.kind == .rstStream && $0.stream == 259 })
        }
        let resets = refused.filter { $0.kind == .rstStream }
        #expect(resets.map(\.stream) == [257, 259])  // the 129th and 130th
        #expect(resets.allSatisfy { $0.errorCode == H2Error.refusedStream })  // the client may retry them
        #expect(server.drain())
        let (goAwayFrames, answered) = try await offThePool {
            let goAway = try client.value.frames(until: { $0.kind == .goAway })
            // Streams opened after the GOAWAY are ignored; the open ones finish.
            try client.value.send(H2.headers(stream: 261, H2.request()))
            try client.value.send((0..<128).flatMap { H2.data(stream: UInt32(1 + 2 * $0), []) })
            return (goAway, try client.value.framesUntilClosed())
        }
        let goAway = try #require(goAwayFrames.last)
        #expect(goAway.kind == .goAway)
        #expect(goAway.errorCode == H2Error.noError)
        #expect(goAway.lastStreamID == 255)  // the last stream processed; 257 and 259 were not
        let statuses = answered.filter { $0.kind == .headers }
        #expect(statuses.count == 128)
        let open: Set<UInt32> = Set((0..<128).map { (index: Int) -> UInt32 in UInt32(1 + 2 * index) })
        #expect(Set(statuses.map(\.stream)) == open)
        #expect(statuses.allSatisfy { $0.status == 200 })
        #expect(!answered.contains { $0.stream == 261 })
        await Self.expectNothingHeld(server)
    }

    @Test func streamsPastTwiceTheMaximumAtOnceAreAConnectionError() async throws {
        let server = try Self.server()
        defer { server.stop() }
        let port = server.port
        let frames = try await Self.framesUntilClosed(port: port) { client in
            // 257 streams in one TLS record (so one read): 128 accepted, 128 refused while their
            // resets wait to be sent, and one past nghttp2's own limit of 256. Static-table
            // HPACK (GET, https, /, and :authority "a") keeps each HEADERS at 16 bytes.
            let block: [UInt8] = [0x82, 0x87, 0x84, 0x41, 0x01, UInt8(ascii: "a")]
            try client.send(
                (0..<257).flatMap { H2.headers(stream: UInt32(1 + 2 * $0), block: block, endStream: false, endHeaders: true) })
        }
        let goAway = try #require(frames.first { $0.kind == .goAway }, "no GOAWAY in \(frames.count) frames")
        #expect(goAway.errorCode == H2Error.protocolError)
        await Self.expectNothingHeld(server)
    }
}

/// Hands a value that one test uses from one thread at a time between off-pool closures.
final class SendableBox<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}

extension RawHTTP2Client {
    /// Reads the server's SETTINGS (returned) and acknowledges it.
    @discardableResult
    func handshake() throws -> [UInt16: UInt32] {
        let frames = try frames(until: { $0.kind == .settings && !$0.isAck })
        guard let settings = frames.last, settings.kind == .settings else { throw TestFailure("no SETTINGS: \(frames)") }
        try send(H2.settingsAck)
        return settings.settings
    }

    /// Reads frames, calling `observe` on each, until `predicate` holds after one.
    func frames(until predicate: (RawFrame) -> Bool, timeout: Double = 10, observe: (RawFrame) -> Void) throws -> [RawFrame] {
        try frames(until: { frame in
            observe(frame)
            return predicate(frame)
        }, timeout: timeout)
    }

    /// One well-formed GET on a new connection: the response's status.
    static func get(port: Int) throws -> Int? {
        let client = try RawHTTP2Client(port: port)
        try client.handshake()
        try client.send(H2.headers(stream: 1, H2.request()))
        return try client.frames(until: { $0.kind == .headers && $0.stream == 1 }).last?.status
    }
}
