import NIOCore
import Testing

@testable import Edge

/// Graceful shutdown of TLS listeners: in-flight HTTPS requests finish within the grace, and
/// idle connections (HTTP/1.1 and HTTP/2) are closed at once rather than held for the grace.
@Suite("TLS graceful shutdown on loopback")
struct TLSShutdownTests {
    /// Starts an edge from `listeners(certificate)`, runs `body`, and makes sure the edge is shut
    /// down exactly once (`body` may do it itself and say so by returning `true`).
    func withEdge(
        _ listeners: (TLSTestCertificate) -> [ListenerConfig],
        _ body: (EdgeServer, TLSTestUpstream) async throws -> Bool
    ) async throws {
        let directory = try TLSTestDirectory()
        defer { directory.remove() }
        let upstream = try await TLSTestUpstream.start(name: "app")
        let server: EdgeServer
        do {
            let certificate = try directory.makeCertificate("a.test")
            server = try await EdgeServer.start(
                config: try TLSTestConfig.make(upstream: upstream, listeners: listeners(certificate)))
        } catch {
            await upstream.stop()
            throw error
        }
        var shutDown = false
        do {
            shutDown = try await body(server, upstream)
        } catch {
            await server.shutdown(grace: .milliseconds(500))
            await upstream.stop()
            throw error
        }
        if !shutDown { await server.shutdown(grace: .milliseconds(500)) }
        await upstream.stop()
    }

    /// The deployment's pair: the `:80` redirect listener first, then `:443`.
    static func redirectThenHTTPS(_ certificate: TLSTestCertificate) -> [ListenerConfig] {
        [
            ListenerConfig(
                name: "redirect", address: .tcp(host: "127.0.0.1", port: 0),
                httpsRedirect: HTTPSRedirectConfig(primaryName: "a.test")),
            TLSTestConfig.https(certificates: [certificate.config(serverNames: ["a.test"])]),
        ]
    }

    @Test(arguments: [["http/1.1"], ["h2"]])
    func anInFlightHttpsRequestFinishesDuringShutdownWhenTheTlsListenerIsNotTheFirst(alpn: [String]) async throws {
        try await withEdge(Self.redirectThenHTTPS) { server, upstream in
            var options = TLSClientOptions()
            options.alpn = alpn
            let port = try #require(server.listenerAddresses[1].port)
            let connection = try await TLSTestConnection.connect(port: port, tls: options)
            async let response = connection.request(.GET, "/app/slow?ms=800", timeout: .seconds(10))
            try await tlsEventually("the request to reach the upstream") { upstream.requestsReceived == 1 }
            await server.shutdown(grace: .seconds(5))
            do {
                let finished = try await response
                #expect(finished.status == 200, "the request in flight at shutdown is answered")
            } catch {
                Issue.record("the \(alpn[0]) request in flight on the second listener was cut off by shutdown: \(error)")
            }
            await connection.close()
            return true
        }
    }

    @Test(arguments: [["http/1.1"], ["h2"]])
    func idleHttpsConnectionsAreClosedAtShutdownWithoutWaitingForTheGrace(alpn: [String]) async throws {
        try await withEdge({ [TLSTestConfig.https(certificates: [$0.config(serverNames: ["a.test"])])] }) { server, _ in
            var options = TLSClientOptions()
            options.alpn = alpn
            let port = try #require(server.listenerAddresses[0].port)
            let connection = try await TLSTestConnection.connect(port: port, tls: options)
            let response = try await connection.request(.GET, "/app/before-shutdown")
            #expect(response.status == 200)
            let started = ContinuousClock.now
            // A grace far longer than any scheduling delay, so "did not wait for it" stays
            // distinguishable on a fully loaded machine.
            await server.shutdown(grace: .seconds(30))
            let took = ContinuousClock.now - started
            #expect(took < .seconds(10), "shutdown held an idle \(alpn[0]) connection for \(took) of its 30 s grace")
            if alpn == ["h2"] {
                #expect(connection.log.goAway != nil, "an HTTP/2 client is told to go away (GOAWAY) at shutdown")
            }
            await connection.close()
            return true
        }
    }
}
