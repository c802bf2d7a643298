import Foundation
import Synchronization
import Testing

@testable import Edge

/// Protocol switching (WebSocket): the upstream's `101` turns both connections into a byte
/// tunnel; a refused upgrade is an ordinary response after which the client connection closes.
extension ProxyIntegrationTests {
    static func upgradeRequest(_ path: String) -> String {
        "GET \(path) HTTP/1.1\r\nHost: edge.test\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
    }

    @Test func webSocketUpgradeIsTunnelledBothWaysAndClosesTheUpstreamWithTheClient() async throws {
        try await withWebSocketUpstream { upstream in
            try await withEdge(yaml: .proxying(to: [EdgeYAML.server(upstream.address)])) { edge in
                let client = try RawTunnelClient(port: edge.port)
                defer { client.close() }
                try client.send(Self.upgradeRequest("/ws"))
                let head = try client.readHead()
                #expect(head.status == 101)
                #expect(head.header("Upgrade")?.lowercased() == "websocket")
                #expect(head.header("Connection")?.lowercased().contains("upgrade") == true)
                #expect(head.header("Sec-WebSocket-Accept") == "dGhlIHNhbXBsZSBub25jZQ==", "the upstream's accept is passed on")
                Self.expectDecorated(head)

                let seen = try #require(upstream.requestHeads.first)
                let lower = seen.lowercased()
                #expect(lower.contains("\r\nupgrade: websocket"), "the upstream is asked to upgrade: \(seen)")
                #expect(lower.contains("\r\nconnection: upgrade"), "the upstream is asked to upgrade: \(seen)")
                #expect(lower.contains("\r\nsec-websocket-key: dghlihnhbxbszsbub25jzq=="), "the key is forwarded: \(seen)")

                for round in 0..<5 {
                    let message = Array("frame \(round) ".utf8) + (0..<(round * 3000)).map { UInt8(truncatingIfNeeded: $0 &* 31) }
                    try client.send(message)
                    let echoed = try client.read(count: message.count)
                    #expect(echoed == message, "round \(round) came back intact")
                }
                // Binary, including bytes that look like HTTP, pass untouched.
                let binary: [UInt8] = Array("HTTP/1.1 200 OK\r\n\r\n".utf8) + [0, 255, 13, 10, 0x81, 0x7e]
                try client.send(binary)
                #expect(try client.read(count: binary.count) == binary)
                #expect(upstream.connectionsAccepted == 1)
                #expect(upstream.connectionsClosed == 0)

                client.close()
                try await eventually("the upstream connection to close with the client", timeout: .seconds(5)) {
                    upstream.connectionsClosed == 1
                }
                try await eventually("the edge to stop counting the tunnelled connection", timeout: .seconds(5)) {
                    metricValue(try edge.metrics(), "edge_open_connections") == 0
                }
            }
        }
    }

    /// Megabytes each way at once through an echoing upstream: both directions back up in
    /// turn (each side's reading pauses while the other's output waits), and every byte
    /// arrives in order.
    @Test func aTunnelCarriesMegabytesBothWaysAtOnceIntact() async throws {
        try await withWebSocketUpstream { upstream in
            try await withEdge(yaml: .proxying(to: [EdgeYAML.server(upstream.address)])) { edge in
                let client = try RawTunnelClient(port: edge.port)
                defer { client.close() }
                try client.send(Self.upgradeRequest("/ws"))
                #expect(try client.readHead().status == 101)
                let message = (0..<(6 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 131 &+ $0 >> 13) }
                let sent = Mutex<(any Error)??>(nil)
                nonisolated(unsafe) let sender = client
                let thread = Thread {
                    do {
                        try sender.send(message)
                        sent.withLock { $0 = .some(nil) }
                    } catch {
                        sent.withLock { $0 = .some(error) }
                    }
                }
                thread.start()
                let echoed = try client.read(count: message.count, timeout: .seconds(60))
                try await eventually("the sender to finish", timeout: .seconds(10)) { sent.withLock { $0 != nil } }
                if case .some(.some(let error)) = sent.withLock({ $0 }) { Issue.record("sending failed: \(error)") }
                #expect(echoed == message, "6 MiB came back intact")
            }
        }
    }

    @Test func webSocketUpstreamClosingClosesTheClient() async throws {
        try await withWebSocketUpstream { upstream in
            try await withEdge(yaml: .proxying(to: [EdgeYAML.server(upstream.address)])) { edge in
                let client = try RawTunnelClient(port: edge.port)
                defer { client.close() }
                try client.send(Self.upgradeRequest("/ws"))
                #expect(try client.readHead().status == 101)
                try client.send("ping")
                #expect(try client.read(count: 4) == Array("ping".utf8))
                await upstream.stop()
                #expect(client.isClosed(within: .seconds(3)), "the upstream's close reaches the client")
            }
        }
    }

    /// The response decoder hands over the bytes behind the 101 only when it is removed, outside
    /// any read cycle: the tunnel must flush them itself (they used to wait for the next read).
    @Test
    func bytesTheUpstreamSendsRightBehindItsSwitchingProtocolsReachTheClient() async throws {
        try await withWebSocketUpstream { upstream in
            try await withEdge(yaml: .proxying(to: [EdgeYAML.server(upstream.address)])) { edge in
                let client = try RawTunnelClient(port: edge.port)
                defer { client.close() }
                try client.send(Self.upgradeRequest("/ws-greet"))
                let head = try client.readHead()
                #expect(head.status == 101)
                let greeting = Array(WebSocketUpstream.greeting.utf8)
                #expect(try client.read(count: greeting.count) == greeting, "the bytes in the 101's write")
                try client.send("after")
                #expect(try client.read(count: 5) == Array("after".utf8), "and the tunnel still echoes")
            }
        }
    }

    @Test func refusedUpgradeIsAnsweredAndThenTheClientConnectionCloses() async throws {
        try await withWebSocketUpstream { upstream in
            try await withEdge(yaml: .proxying(to: [EdgeYAML.server(upstream.address)])) { edge in
                let connection = try edge.connect()
                defer { connection.close() }
                try connection.send(Self.upgradeRequest("/not-a-socket"))
                let response = try connection.readResponse(timeout: .seconds(5))
                #expect(response.status == 200)
                #expect(response.text == WebSocketUpstream.refusal)
                #expect(response.header("Upgrade") == nil)
                Self.expectDecorated(response)
                #expect(
                    response.header("Connection")?.lowercased() == "close",
                    "the edge announces that it closes (the decoder parses nothing after an upgrade request)")
                try connection.waitForClose(timeout: .seconds(3))
                #expect(upstream.upgrades == 0)
            }
        }
    }
}
