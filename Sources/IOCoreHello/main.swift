// iocore-hello: the I/O core's HTTP/1.1 fixed-response server, for bench/iocore-hello.
//
//   iocore-hello [--host 127.0.0.1] [--port 0] [--loops 1] [--body-bytes N]
//
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
    let group = try EventLoopGroup<HelloHandler>(
        configuration: EventLoopConfiguration(host: host, port: port, loopCount: loops)
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
