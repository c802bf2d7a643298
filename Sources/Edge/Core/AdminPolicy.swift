import EdgeIO
import EdgeIOProxy

#if canImport(Glibc)
    import Glibc
#endif

/// The admin listener's decisions on the core: `GET /metrics` (and `HEAD`) in Prometheus text
/// format, `404` for anything else. Nothing is ever forwarded, so the upstream half of the
/// policy is never asked. It listens on loopback by default, apart from client traffic, so
/// metrics are never public.
struct AdminPolicy: ProxyPolicy {
    let state: EdgeState

    mutating func decide(
        _ request: EdgeIOProxy.HTTPRequestHead, in input: UnsafeRawBufferPointer, client: ClientContext, answer: inout HeadWriter
    ) -> ProxyDecision {
        let head = CoreRequestHead(head: request, input: input)
        let method = head.methodName
        let path = head.target.prefix { $0 != "?" }
        let closes = !request.keepAlive || request.answerCloses(received: input.count)
        let status: Int
        let body: String
        let type: StaticString
        if path == "/metrics" && (method == "GET" || method == "HEAD") {
            let runtime = state.runtime
            status = 200
            body = state.metrics.render(clusters: runtime.clusters, now: MonotonicClock().now())
            type = "text/plain; version=0.0.4; charset=utf-8"
        } else {
            status = 404
            body = "only GET /metrics is served here\n"
            type = "text/plain"
        }
        answer.append(status == 200 ? "HTTP/1.1 200 OK\r\nContent-Type: " : "HTTP/1.1 404 Not Found\r\nContent-Type: ")
        answer.append(type)
        answer.append("\r\nCache-Control: no-store\r\nContent-Length: ")
        answer.appendDecimal(body.utf8.count)
        if closes {
            answer.append("\r\nConnection: close")
        } else if request.minorVersion == 0 {
            answer.append("\r\nConnection: keep-alive")
        }
        answer.append("\r\n\r\n")
        if method != "HEAD" {
            var body = body
            body.withUTF8 { answer.append(UnsafeRawBufferPointer($0)) }
        }
        return .answered(close: closes)
    }

    // Never asked: the admin listener forwards nothing.
    func upstreamAddress(_ index: Int) -> EdgeIO.SocketAddress {
        preconditionFailure("the admin listener forwards no request")
    }
    mutating func writeRequestFields(
        _ request: EdgeIOProxy.HTTPRequestHead, in input: UnsafeRawBufferPointer, client: ClientContext, tag: UInt64,
        into writer: inout HeadWriter
    ) {}
    func dropsResponseField(_ name: UnsafeRawBufferPointer, tag: UInt64) -> Bool { false }
    mutating func writeResponseFields(status: Int, client: ClientContext, tag: UInt64, into writer: inout HeadWriter) {}
}

/// The admin listener on the core: one loop (a scrape every few seconds needs no more), whose
/// buffers are large enough for the whole metrics text as one answer (1 MiB; a larger text
/// would be answered 500: thousands of upstream servers or zones).
final class AdminListener: Sendable {
    let group: EdgeIO.EventLoopGroup<ProxyHandler<AdminPolicy>>
    /// Where it listens (its port resolved when the configuration said 0).
    let address: EdgeIO.SocketAddress

    static var chunkSize: Int { 1 << 20 }

    /// - Throws: ``EdgeError`` when the address cannot be bound.
    init(address: EndpointAddress, state: EdgeState) throws {
        let resolved = try address.resolve(context: "admin listener")
        var loop = EventLoopConfiguration(
            host: resolved.host ?? "", port: UInt16(resolved.port ?? 0), loopCount: 1, chunkSize: Self.chunkSize)
        loop.unixPath = resolved.unixPath
        do {
            group = try EdgeIO.EventLoopGroup(configuration: loop) { _ in
                ProxyHandler(configuration: .init(), policy: AdminPolicy(state: state), chunkSize: Self.chunkSize)
            }
        } catch {
            throw EdgeError.bind(address, reason: "\(error)")
        }
        self.address = try resolved.unixPath.map { try EdgeIO.SocketAddress(unixPath: $0) }
            ?? EdgeIO.SocketAddress(host: loop.host, port: UInt16(group.port))
    }

    /// Stops the loop (its connections close) and removes a Unix socket's file.
    func stop() {
        group.stop()
        if let path = address.unixPath { unlink(path) }
    }
}
