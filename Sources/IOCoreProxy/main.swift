// iocore-proxy: the I/O core's HTTP/1.1 reverse-proxy fixture, for tests and
// bench/compare-proxies (PROXY_FIXTURE_BIN).
//
//   iocore-proxy --upstream HOST:PORT|unix:PATH [--host 127.0.0.1] [--port 0] [--loops 1]
//                [--keepalive 64] [--tls-port N --tls-cert chain.pem --tls-key key.pem]
//
// Prints "listening on HOST:PORT" (and "listening tls on HOST:PORT") once the loops run;
// stops cleanly on SIGINT or SIGTERM.
import EdgeIO
import EdgeIOProxy

#if canImport(Glibc)
    import Glibc
#endif

func printError(_ message: String) {
    let line = message + "\n"
    _ = line.withCString { Glibc.write(2, $0, strlen($0)) }
}

var host = "127.0.0.1"
var port: UInt16 = 0
var loops = 1
var keepAlive = 64
var upstreams: [String] = []
var tlsPort: UInt16?
var tlsCertificate: String?
var tlsKey: String?
var arguments = CommandLine.arguments.dropFirst().makeIterator()
while let argument = arguments.next() {
    guard let value = arguments.next() else {
        printError("missing value for \(argument)")
        exit(2)
    }
    switch argument {
    case "--host": host = value
    case "--port": port = UInt16(value) ?? 0
    case "--loops": loops = value == "auto" ? Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))) : Int(value) ?? 1
    case "--keepalive": keepAlive = Int(value) ?? 64
    case "--upstream": upstreams.append(value)
    case "--tls-port": tlsPort = UInt16(value)
    case "--tls-cert": tlsCertificate = value
    case "--tls-key": tlsKey = value
    default:
        printError("unknown option \(argument)")
        exit(2)
    }
}
guard !upstreams.isEmpty else {
    printError("usage: iocore-proxy --upstream HOST:PORT|unix:PATH [--host H] [--port P] [--loops N]")
    exit(2)
}

var signals = sigset_t()
sigemptyset(&signals)
sigaddset(&signals, SIGINT)
sigaddset(&signals, SIGTERM)
pthread_sigmask(SIG_BLOCK, &signals, nil)

do {
    let addresses = try upstreams.map { spec -> SocketAddress in
        if spec.hasPrefix("unix:") { return try SocketAddress(unixPath: String(spec.dropFirst(5))) }
        guard let colon = spec.lastIndex(of: ":"), let upstreamPort = UInt16(spec[spec.index(after: colon)...]) else {
            throw EdgeIOError.connect(errno: EINVAL, context: "--upstream \(spec)")
        }
        return try SocketAddress(host: String(spec[..<colon]).trimmingBrackets(), port: upstreamPort)
    }
    var tlsListen: EventLoopConfiguration?
    if let tlsPort, let tlsCertificate, let tlsKey {
        let context = try TLSContext(
            configuration: .init(
                certificates: [.init(chainPath: tlsCertificate, keyPath: tlsKey)], applicationProtocols: ["http/1.1"],
                // One random ticket key per run: resumption works, across this process's loops.
                ticketKeys: [(0..<80).map { _ in UInt8.random(in: 0...255) }]))
        tlsListen = EventLoopConfiguration(host: host, port: tlsPort, loopCount: loops, tls: context)
    }
    let server = try ProxyServer(
        listen: EventLoopConfiguration(host: host, port: port, loopCount: loops), tlsListen: tlsListen,
        upstreams: addresses, configuration: .init(keepAlivePerUpstream: keepAlive))
    print("listening on \(host):\(server.port)")
    if tlsListen != nil { print("listening tls on \(host):\(server.tlsPort)") }
    fflush(nil)
    var received: Int32 = 0
    sigwait(&signals, &received)
    server.stop()
} catch {
    printError("iocore-proxy: \(error)")
    exit(1)
}

extension String {
    func trimmingBrackets() -> String {
        hasPrefix("[") && hasSuffix("]") ? String(dropFirst().dropLast()) : self
    }
}
