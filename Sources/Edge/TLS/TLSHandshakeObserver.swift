import NIOCore
import NIOSSL
import NIOTLS

/// Watches a TLS connection's handshake: closes it if the handshake does not finish within the
/// client header timeout (a client that opens a socket and never speaks must not hold it), and
/// counts completed handshakes and failures by reason for the metrics.
final class TLSHandshakeObserver: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = NIOAny

    private let metrics: EdgeMetrics
    private let shard: Int
    private let timeout: TimeAmount
    private var timer: Scheduled<Void>?
    private var completed = false

    init(metrics: EdgeMetrics, shard: Int, timeout: TimeAmount) {
        self.metrics = metrics
        self.shard = shard
        self.timeout = timeout
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { armTimer(context: context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        armTimer(context: context)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        timer?.cancel()
        if !completed { metrics.recordHandshakeFailure(shard: shard, reason: "closed") }
        completed = true
        context.fireChannelInactive()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? TLSUserEvent, case .handshakeCompleted(let negotiated) = event {
            completed = true
            timer?.cancel()
            metrics.recordHandshake(shard: shard, protocol: negotiated == "h2" ? "h2" : "http/1.1")
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if !completed {
            completed = true
            metrics.recordHandshakeFailure(shard: shard, reason: Self.reason(error))
            context.close(promise: nil)
            return
        }
        context.fireErrorCaught(error)
    }

    private func armTimer(context: ChannelHandlerContext) {
        guard timer == nil, !completed else { return }
        timer = context.eventLoop.assumeIsolated().scheduleTask(in: timeout) { [weak self] in
            guard let self, !self.completed else { return }
            self.completed = true
            self.metrics.recordHandshakeFailure(shard: self.shard, reason: "timeout")
            context.close(promise: nil)
        }
    }

    /// A bounded label for a handshake error (BoringSSL's reason, simplified).
    static func reason(_ error: any Error) -> String {
        let text = "\(error)".uppercased()
        if text.contains("HTTP_REQUEST") || text.contains("WRONG_VERSION_NUMBER") { return "not_tls" }
        if text.contains("UNSUPPORTED_PROTOCOL") || text.contains("WRONG_VERSION") || text.contains("PROTOCOL_VERSION") {
            return "protocol_version"
        }
        if text.contains("NO_SHARED_CIPHER") || text.contains("NO_CIPHERS") { return "no_shared_cipher" }
        if text.contains("NO_APPLICATION_PROTOCOL") || text.contains("ALPN") { return "alpn" }
        if text.contains("ALERT") { return "client_alert" }
        if text.contains("EOF") || text.contains("UNCLEANSHUTDOWN") { return "eof" }
        return "other"
    }
}
