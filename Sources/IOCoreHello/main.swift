// iocore-hello: the I/O core's HTTP/1.1 fixed-response server, for bench/iocore-hello.
//
//   iocore-hello [--host 127.0.0.1] [--port 0] [--loops 1] [--body-bytes N]
//                [--tls-cert chain.pem --tls-key key.pem [--ticket-key 80-byte-file]]
//
// With a certificate it serves TLS 1.2/1.3 with ALPN h2 and http/1.1 (HTTP/2 through nghttp2).
// Prints "listening on HOST:PORT" once the loops run; stops cleanly on SIGINT or SIGTERM.
import EdgeIO
import EdgeIOHello

#if canImport(Glibc)
    import Glibc
#endif

func printError(_ message: String) {
    let line = message + "\n"
    _ = line.withCString { Glibc.write(2, $0, strlen($0)) }
}

func flushStandardOutput() { fflush(nil) }

var host = "127.0.0.1"
var port: UInt16 = 0
var loops = 1
var bodyBytes: Int?
var tlsCertificate: String?
var tlsKey: String?
var ticketKey: String?
var arguments = CommandLine.arguments.dropFirst().makeIterator()
while let argument = arguments.next() {
    guard let value = arguments.next() else {
        printError("missing value for \(argument)")
        exit(2)
    }
    switch argument {
    case "--host": host = value
    case "--port": port = UInt16(value) ?? 0
    case "--loops": loops = Int(value) ?? 1
    case "--body-bytes": bodyBytes = Int(value)
    case "--tls-cert": tlsCertificate = value
    case "--tls-key": tlsKey = value
    case "--ticket-key": ticketKey = value
    default:
        printError("unknown option \(argument)")
        exit(2)
    }
}

var configuration = HelloHandler.Configuration()
if let bodyBytes {
    configuration.body = (0..<bodyBytes).map { _ in UInt8(ascii: "x") }
}
// Block the stop signals before the loop threads start (they inherit the mask), then wait
// for one on this thread.
var signals = sigset_t()
sigemptyset(&signals)
sigaddset(&signals, SIGINT)
sigaddset(&signals, SIGTERM)
pthread_sigmask(SIG_BLOCK, &signals, nil)

let handlerConfiguration = configuration
do {
    var tls: TLSContext?
    if let tlsCertificate, let tlsKey {
        tls = try TLSContext(
            configuration: .init(
                certificates: [.init(chainPath: tlsCertificate, keyPath: tlsKey)],
                ticketKeys: try ticketKey.map { [try TLSContext.readTicketKey(path: $0)] } ?? []))
    }
    let group = try EventLoopGroup<HelloHandler>(
        configuration: EventLoopConfiguration(host: host, port: port, loopCount: loops, tls: tls)
    ) { _ in HelloHandler(configuration: handlerConfiguration) }
    print("listening on \(host):\(group.port)")
    flushStandardOutput()
    var received: Int32 = 0
    sigwait(&signals, &received)
    group.stop()
} catch {
    printError("iocore-hello: \(error)")
    exit(1)
}
