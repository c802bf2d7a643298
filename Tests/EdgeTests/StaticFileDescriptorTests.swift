import Foundation
import Testing

@testable import Edge

/// Nested in ``ProxyIntegrationTests`` (a serialized suite), as the other close-path suites: a
/// 50 MB file is opened here.
extension ProxyIntegrationTests {
    /// A static file's descriptor is held only while its answer is sent: a client that goes away
    /// mid-file (HTTP/1.1) or resets the stream mid-file (HTTP/2) leaves none open. The edge runs
    /// in this process, so its descriptors are counted in `/proc/self/fd`.
    @Suite("Static files: descriptors closed on every path", .serialized)
    struct StaticFileDescriptorTests {
        static let size = 50 * 1024 * 1024

        /// Descriptors of this process open on `path`.
        static func descriptors(on path: String) -> Int {
            let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []
            return entries.filter { (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/\($0)")) == path }
                .count
        }

        @Test func aClientGoneMidFileLeavesNoDescriptorOpen() async throws {
            try await ClosePathTests.withPatternFiles([Self.size]) { root in
                let path = URL(fileURLWithPath: root).resolvingSymlinksInPath().path + "/pattern-\(Self.size)"
                var yaml = EdgeYAML()
                yaml.routes = ["{prefix: /files/, static: {root: \"\(root)\"}}"]
                try await withEdge(yaml: yaml) { edge in
                    for round in 0..<3 {
                        let connection = try edge.connect()
                        try connection.sendRequest("GET", "/files/pattern-\(Self.size)")
                        // The client reads nothing: the answer stalls with the file open.
                        try await eventually("round \(round): the file to be open while its answer stalls") {
                            Self.descriptors(on: path) == 1
                        }
                        connection.close()
                        try await eventually("round \(round): the file's descriptor to be closed with the client") {
                            Self.descriptors(on: path) == 0
                        }
                    }
                }
            }
        }

        @Test func anHTTP2StreamResetMidFileLeavesNoDescriptorOpen() async throws {
            try await ClosePathTests.withPatternFiles([Self.size]) { root in
                let path = URL(fileURLWithPath: root).resolvingSymlinksInPath().path + "/pattern-\(Self.size)"
                try await withUpstreams(["a"]) { upstreams in
                    try await TLSClosePathTests.withHTTPSEdge(root: root, upstream: upstreams[0]) { port, _ in
                        try await HTTP2StreamTests.withConnection(port: port) { connection in
                            try await connection.send(
                                RawHTTP2Connection.headers(
                                    stream: 1, RawHTTP2Connection.request("GET", "/files/pattern-\(Self.size)"), endStream: true))
                            // The client sends no WINDOW_UPDATE: the stream stalls after its first window.
                            try await connection.frames(until: "stream 1's first DATA") {
                                $0.contains { $0.kind == .data && $0.streamID == 1 }
                            }
                            #expect(Self.descriptors(on: path) == 1)
                            let cancel = RawHTTP2Connection.frame(type: 3, flags: 0, stream: 1, payload: RawHTTP2Connection.bytes(8, count: 4))
                            try await connection.send(cancel)
                            try await eventually("the file's descriptor to be closed with the stream") {
                                Self.descriptors(on: path) == 0
                            }
                            // The connection goes on (the answer's head: its body would wait for the
                            // connection's window, which this client never opens).
                            try await connection.send(
                                RawHTTP2Connection.headers(stream: 3, RawHTTP2Connection.request("GET", "/pattern?bytes=10"), endStream: true))
                            try await connection.frames(until: "stream 3's answer") { $0.contains { $0.streamID == 3 && $0.kind == .headers } }
                            #expect(try connection.statuses()[3] == 200)
                        }
                    }
                }
            }
        }
    }
}
