import EdgeIO
import EdgeIOHello
import Foundation
import Testing

/// A loop without a listener opening outbound connections (what the engine's upstream
/// exchanges will do): connect, write, read the answer, close.
@Suite(.timeLimit(.minutes(1)))
struct OutboundConnectionTests {
    /// Fetches `GET /` from a port and reports the raw response (or the failure).
    enum Outcome: Sendable, Equatable {
        case response([UInt8])
        case failed(CloseReason)
    }

    struct FetchHandler: EventLoopHandler {
        enum Message: Sendable {
            case fetch(port: UInt16, reply: @Sendable (Outcome) -> Void)
        }

        var pending: [ConnectionID: (reply: @Sendable (Outcome) -> Void, bytes: [UInt8])] = [:]

        mutating func accepted(_ connection: ConnectionID, io: inout LoopIO) {}

        mutating func received(message: Message, io: inout LoopIO) {
            switch message {
            case .fetch(let port, let reply):
                switch io.connect(host: "127.0.0.1", port: port) {
                case .success(let connection): pending[connection] = (reply, [])
                case .failure: reply(.failed(.connectFailed(errno: -1)))
                }
            }
        }

        mutating func connectCompleted(_ connection: ConnectionID, error: Int32, io: inout LoopIO) {
            guard error == 0 else { return }  // closed(…, .connectFailed) follows
            let request = Array("GET / HTTP/1.1\r\nHost: upstream\r\nConnection: close\r\n\r\n".utf8)
            request.withUnsafeBytes { io.write($0, on: connection) }
        }

        mutating func received(_ input: UnsafeRawBufferPointer, on connection: ConnectionID, io: inout LoopIO) -> Int {
            pending[connection]?.bytes.append(contentsOf: input)
            return input.count
        }

        mutating func closed(_ connection: ConnectionID, reason: CloseReason, io: inout LoopIO) {
            guard let entry = pending.removeValue(forKey: connection) else { return }
            switch reason {
            case .closed: entry.reply(.response(entry.bytes))
            default: entry.reply(.failed(reason))
            }
        }
    }

    func fetch(_ group: EventLoopGroup<FetchHandler>, port: Int) async -> Outcome {
        await withCheckedContinuation { continuation in
            group.post(.fetch(port: UInt16(port), reply: { continuation.resume(returning: $0) }), toLoop: 0)
        }
    }

    @Test func connectsWritesAndReadsTheResponse() async throws {
        let upstream = try HelloServer()
        defer { upstream.stop() }
        let group = try EventLoopGroup(configuration: EventLoopConfiguration(listens: false)) { _ in FetchHandler() }
        defer { group.stop() }
        #expect(group.port == 0)
        let result = await fetch(group, port: upstream.port)
        guard case .response(let bytes) = result else {
            Issue.record("fetch failed: \(result)")
            return
        }
        #expect(Response.parse(bytes)?.0.status == 200)
    }

    @Test func refusedConnectionReportsConnectFailed() async throws {
        // A port bound but not listening (held for the test: a closed one could be taken by
        // another test's server in between).
        let (socket, port) = try refusingLoopbackPort()
        defer { close(socket) }
        let group = try EventLoopGroup(configuration: EventLoopConfiguration(listens: false)) { _ in FetchHandler() }
        defer { group.stop() }
        let result = await fetch(group, port: port)
        #expect(result == .failed(.connectFailed(errno: ECONNREFUSED)))
    }
}

