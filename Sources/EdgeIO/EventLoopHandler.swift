import CEdgeTLS

/// What an event loop calls when something happens on its connections, timers or mailbox.
///
/// The loop is generic over its handler (``EventLoop/run(handler:io:)``), so with the loop's
/// `@inlinable` code every call below is a direct, specialised call: no existential box, no
/// closure context, no reference counting and no allocation per event. The handler is a value
/// owned by the loop's thread; it keeps its per-connection state in its own table indexed by
/// ``ConnectionID/index`` (slots are reused; compare the generation).
///
/// Every ``LoopIO`` operation a callback performs is safe in any callback: closes are
/// deferred until the callback returns, so the input buffer passed to
/// ``received(_:on:io:)`` stays valid for the whole call.
///
/// The engine (issue 12) plugs in here: a handler turns each callback into an engine event
/// and performs the actions it returns through `io` (write, close, arm timer, connect…).
public protocol EventLoopHandler: SendableMetatype {
    /// Cross-loop messages (reload, drain, metrics requests), posted with
    /// ``EventLoopGroup/post(_:toLoop:)``.
    associatedtype Message: Sendable = Never

    /// A connection was accepted on the loop's listener.
    mutating func accepted(_ connection: ConnectionID, io: inout LoopIO)

    /// An outbound connection from ``LoopIO/connect(host:port:)`` is established
    /// (`error == 0`) or failed (errno; ``closed(_:reason:io:)`` follows).
    mutating func connectCompleted(_ connection: ConnectionID, error: Int32, io: inout LoopIO)

    /// Bytes arrived. `input` holds every unconsumed byte so far (earlier leftovers first);
    /// it is valid only during the call.
    /// - Returns: how many bytes from the front of `input` were consumed. The rest is kept
    ///   (in a pooled buffer attached to the connection) and passed again, with whatever
    ///   arrives next. Consuming nothing from a full buffer closes the connection
    ///   (``CloseReason/inputOverflow``).
    mutating func received(_ input: UnsafeRawBufferPointer, on connection: ConnectionID, io: inout LoopIO) -> Int

    /// The peer closed its sending side (read returned 0). The connection stays open for
    /// writing until the handler closes it.
    mutating func inputEnded(on connection: ConnectionID, io: inout LoopIO)

    /// Output that had to wait for the socket has been written (after a partial write or a
    /// short ``LoopIO/sendFile(_:offset:count:on:)``): the handler may write more.
    mutating func writable(_ connection: ConnectionID, io: inout LoopIO)

    /// The connection is closed and its id is stale from now on.
    mutating func closed(_ connection: ConnectionID, reason: CloseReason, io: inout LoopIO)

    /// A timer armed with ``LoopIO/armTimer(at:payload:)`` fired.
    mutating func timerFired(_ timer: TimerID, payload: UInt64, io: inout LoopIO)

    /// A message posted to this loop arrived.
    mutating func received(message: Message, io: inout LoopIO)

    /// A TLS handshake on the loop's listener failed (the connection is closed; the handler
    /// never heard of it): for metrics.
    mutating func handshakeFailed(_ failure: TLSHandshakeFailure, io: inout LoopIO)
}

/// Why a TLS handshake failed, as a bounded label (the edge's `reason` in
/// `edge_tls_handshake_failures_total`).
public enum TLSHandshakeFailure: String, Sendable, CaseIterable {
    /// Plain HTTP, or another protocol, on a TLS port.
    case notTLS = "not_tls"
    /// A version below TLS 1.2.
    case protocolVersion = "protocol_version"
    case noSharedCipher = "no_shared_cipher"
    case alpn
    case clientAlert = "client_alert"
    /// The client closed during the handshake.
    case eof
    /// No handshake within the handshake timeout.
    case timeout
    case other

    @usableFromInline
    init(code: Int32) {
        switch Int(code) {
        case CEIO_TLS_FAILED_NOT_TLS: self = .notTLS
        case CEIO_TLS_FAILED_PROTOCOL_VERSION: self = .protocolVersion
        case CEIO_TLS_FAILED_NO_SHARED_CIPHER: self = .noSharedCipher
        case CEIO_TLS_FAILED_ALPN: self = .alpn
        case CEIO_TLS_FAILED_CLIENT_ALERT: self = .clientAlert
        case CEIO_TLS_FAILED_EOF: self = .eof
        default: self = .other
        }
    }
}

extension EventLoopHandler {
    @inlinable
    public mutating func connectCompleted(_ connection: ConnectionID, error: Int32, io: inout LoopIO) {}
    @inlinable
    public mutating func inputEnded(on connection: ConnectionID, io: inout LoopIO) { io.close(connection) }
    @inlinable
    public mutating func writable(_ connection: ConnectionID, io: inout LoopIO) {}
    @inlinable
    public mutating func closed(_ connection: ConnectionID, reason: CloseReason, io: inout LoopIO) {}
    @inlinable
    public mutating func timerFired(_ timer: TimerID, payload: UInt64, io: inout LoopIO) {}
    @inlinable
    public mutating func handshakeFailed(_ failure: TLSHandshakeFailure, io: inout LoopIO) {}
}

extension EventLoopHandler where Message == Never {
    @inlinable
    public mutating func received(message: Never, io: inout LoopIO) {}
}
