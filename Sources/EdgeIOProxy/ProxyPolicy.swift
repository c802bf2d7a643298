import EdgeIO

/// The decisions of a proxied exchange, asked by ``ProxyHandler`` (which only moves bytes).
///
/// This is the seam for the edge's engine (issue 12): the engine implements it (routing,
/// filters, limits, header rules, drain), the handler performs what it answers. Every call is
/// made on the loop's thread with the request's bytes still in the loop's input buffer, and
/// must not allocate on the keep-alive path: write headers through ``HeadWriter``.
public protocol ProxyPolicy {
    /// Answers to work the policy handed to another thread (a strict shared zone's store asked
    /// for a request that waits: ``ProxyDecision/decideLater(milliseconds:)``), posted to the
    /// loop's mailbox as ``ProxyHandler/Message/policy(_:)`` and given back to the policy on
    /// the loop's thread by ``received(_:)``.
    associatedtype Event: Sendable = Never

    /// A request head was parsed.
    /// - Parameters:
    ///   - request: the head, as offsets into `input`.
    ///   - input: the bytes the head was parsed from (valid during the call only).
    ///   - client: the client connection.
    ///   - answer: where a whole answer of the policy's own goes (``ProxyDecision/answered(close:)``).
    /// - Returns: forward to an upstream (by index, see ``upstreamAddress(_:)``), or answer locally.
    mutating func decide(
        _ request: HTTPRequestHead, in input: UnsafeRawBufferPointer, client: ClientContext, answer: inout HeadWriter
    ) -> ProxyDecision

    /// The address of upstream `index` (as ``ProxyDecision/forward(upstream:tag:)`` names it).
    /// Indexes are the policy's, stable for the handler's life: a policy whose upstreams change
    /// (a reload) gives new addresses new indexes, and each index has its own keep-alive pool.
    func upstreamAddress(_ index: Int) -> SocketAddress

    /// Writes the request line sent upstream (`METHOD target HTTP/1.1\r\n`) instead of the
    /// client's own, and returns `true`; `false` keeps the client's line as it is.
    mutating func writeRequestLine(
        _ request: HTTPRequestHead, in input: UnsafeRawBufferPointer, tag: UInt64, into writer: inout HeadWriter) -> Bool

    /// Whether a field of the client's request is dropped (besides the hop-by-hop ones).
    /// - Parameter name: the field name as received.
    func dropsRequestField(_ name: UnsafeRawBufferPointer) -> Bool

    /// Appends the fields the forwarded request gains (`Name: value\r\n` each), after the
    /// client's own fields minus the hop-by-hop ones.
    mutating func writeRequestFields(
        _ request: HTTPRequestHead, in input: UnsafeRawBufferPointer, client: ClientContext, tag: UInt64,
        into writer: inout HeadWriter)

    /// Whether a field of the upstream's response is dropped (besides the hop-by-hop ones).
    /// - Parameters:
    ///   - name: the field name as received.
    ///   - tag: the exchange's tag.
    /// (`mutating` so that a policy can read its exchange in place rather than copy it.)
    mutating func dropsResponseField(_ name: UnsafeRawBufferPointer, tag: UInt64) -> Bool

    /// Whether the response of exchange `tag` goes to the client gzipped: the handler then
    /// drops its `Content-Length`, adds `Content-Encoding: gzip` and `Vary: Accept-Encoding`,
    /// and frames the compressed body itself. Asked only for a response with a body (not for
    /// HEAD, 1xx, 204, 304 or a zero length). ``HTTPResponseHead/gzipEligible(in:)`` and
    /// ``HTTPRequestHead/acceptsGzip(in:)`` hold the rules; the policy adds the route's choice.
    /// - Parameters:
    ///   - response: the upstream's head, as offsets into `input` (valid during the call only).
    mutating func compressesResponse(_ response: HTTPResponseHead, in input: UnsafeRawBufferPointer, tag: UInt64) -> Bool

    /// Appends the fields the response gains (security headers, the request ID...).
    mutating func writeResponseFields(status: Int, client: ClientContext, tag: UInt64, into writer: inout HeadWriter)

    /// The exchange ended (for logs and metrics).
    /// - Parameters:
    ///   - status: the status the client got (502 when the upstream failed before answering;
    ///     the response's status when the upstream cut its body short), or 499 when the client
    ///     closed its connection before the response ended (nginx's code).
    ///   - bodyBytes: the response body bytes relayed to the client (nginx's `$body_bytes_sent`).
    ///   - requestBytes: the request body bytes received from the client (without the chunked
    ///     coding's size lines).
    mutating func exchangeEnded(client: ClientContext, tag: UInt64, status: Int, bodyBytes: Int, requestBytes: Int)

    /// An attempt at an upstream failed before any response byte and the request may go to
    /// another server (``UpstreamRetryPolicy``'s `nextServer`).
    /// - Parameters:
    ///   - tag: the exchange's tag.
    ///   - afterFailure: count a failure against the server just tried (passive health).
    /// - Returns: the next upstream's index, or `nil` for none (the client gets 502).
    mutating func nextUpstream(tag: UInt64, afterFailure: Bool) -> Int?

    /// An attempt failed in a way that counts against the server (a timeout, a reset that
    /// cannot be retried); the client gets 502 or 504.
    mutating func upstreamFailed(tag: UInt64)

    /// Writes a whole answer the handler makes itself (400 for a malformed head, 413, 431, 502,
    /// 504) and returns `true`; `false` leaves it to the handler's short plain-text answers.
    /// - Parameters:
    ///   - tag: the exchange's tag, when a request was forwarded (`nil` before any decision).
    ///   - close: the connection closes after it (say `Connection: close`).
    ///   - http10: the request was HTTP/1.0.
    mutating func writeAnswer(
        status: Int, tag: UInt64?, client: ClientContext, close: Bool, http10: Bool, into writer: inout HeadWriter
    ) -> Bool

    /// The exchange's connect, send (the upstream taking the request body) and response
    /// timeouts in milliseconds (0: none), or `nil` for the handler's
    /// ``ProxyHandler/Configuration/upstreamTimeout`` for each. (`mutating` as
    /// ``dropsResponseField(_:tag:)``.)
    mutating func upstreamTimeouts(tag: UInt64) -> (connect: UInt64, send: UInt64, response: UInt64)?

    /// A client connection was accepted (its address is known).
    mutating func connectionOpened(_ client: ClientContext)

    /// A client connection closed, after the end of its last exchange.
    mutating func connectionClosed(_ client: ClientContext)

    /// A TLS client's handshake completed (before ``connectionOpened(_:)``), with HTTP/2 or
    /// HTTP/1.1 chosen by ALPN.
    mutating func tlsHandshakeCompleted(http2: Bool, resumed: Bool)

    /// A TLS handshake failed (the connection never reached the handler).
    mutating func tlsHandshakeFailed(_ failure: TLSHandshakeFailure)

    /// An event the policy posted for itself arrived on the loop.
    /// - Returns: the client connection (and HTTP/2 stream, else 0) whose waiting request
    ///   (``ProxyDecision/decideLater(milliseconds:)``) may now be decided: the handler asks
    ///   ``decide(_:in:client:answer:)`` again with the same head.
    mutating func received(_ event: Event) -> (connection: ConnectionID, stream: Int32)?

    /// A request that waited for ``ProxyDecision/decideLater(milliseconds:)`` will not be
    /// decided: its HTTP/2 stream was reset. (A closed connection's waiting request is the
    /// policy's to end in ``connectionClosed(_:)``.)
    mutating func requestAbandoned(_ client: ClientContext)
}

extension ProxyPolicy where Event == Never {
    public mutating func received(_ event: Never) -> (connection: ConnectionID, stream: Int32)? {}
}

extension ProxyPolicy {
    public mutating func nextUpstream(tag: UInt64, afterFailure: Bool) -> Int? { nil }
    public func upstreamTimeouts(tag: UInt64) -> (connect: UInt64, send: UInt64, response: UInt64)? { nil }
    public mutating func writeAnswer(
        status: Int, tag: UInt64?, client: ClientContext, close: Bool, http10: Bool, into writer: inout HeadWriter
    ) -> Bool { false }
    public mutating func upstreamFailed(tag: UInt64) {}
    public mutating func connectionOpened(_ client: ClientContext) {}
    public mutating func connectionClosed(_ client: ClientContext) {}
    public mutating func tlsHandshakeCompleted(http2: Bool, resumed: Bool) {}
    public mutating func tlsHandshakeFailed(_ failure: TLSHandshakeFailure) {}
    public mutating func requestAbandoned(_ client: ClientContext) {}
    public mutating func exchangeEnded(client: ClientContext, tag: UInt64, status: Int, bodyBytes: Int, requestBytes: Int) {}
    public mutating func writeRequestLine(
        _ request: HTTPRequestHead, in input: UnsafeRawBufferPointer, tag: UInt64, into writer: inout HeadWriter
    ) -> Bool { false }
    public func dropsRequestField(_ name: UnsafeRawBufferPointer) -> Bool { false }
    public mutating func compressesResponse(_ response: HTTPResponseHead, in input: UnsafeRawBufferPointer, tag: UInt64) -> Bool {
        false
    }
}

/// What the client connection is, for policies (no allocation).
public struct ClientContext {
    public let connection: ConnectionID
    /// The peer's numeric address as text, in ``ProxyPolicy/connectionOpened(_:)`` only (empty
    /// in the later calls, and for Unix-domain peers): the handler does not hold it for every
    /// connection; a policy that needs it later keeps its own copy, by connection.
    public let address: UnsafeRawBufferPointer
    /// Whether the connection is TLS.
    public let secure: Bool
    /// Whether the request is a stream of an HTTP/2 connection (its head made from the
    /// stream's fields: `:authority` as `Host`, which HTTP/2 does not require).
    public let http2: Bool
    /// The request's HTTP/2 stream (0 for HTTP/1.x, and outside a request).
    public let stream: Int32
    public init(connection: ConnectionID, address: UnsafeRawBufferPointer, secure: Bool, http2: Bool = false, stream: Int32 = 0) {
        self.connection = connection
        self.address = address
        self.secure = secure
        self.http2 = http2
        self.stream = stream
    }
}

/// What a ``ProxyPolicy`` decided about a request.
public enum ProxyDecision: Sendable, Equatable {
    /// Forward to this upstream; `tag` comes back in the later calls of this exchange (a
    /// request ID, an engine's exchange index).
    case forward(upstream: Int, tag: UInt64)
    /// As ``forward(upstream:tag:)``, after `milliseconds` (nginx's `limit_req` delay): the
    /// request stays unread in the connection's buffer meanwhile (an HTTP/2 stream's head and
    /// body are kept, as for ``decideLater(milliseconds:)``), and goes without asking the
    /// policy again.
    case forwardAfter(milliseconds: UInt64, upstream: Int, tag: UInt64)
    /// The policy cannot decide yet: it asked elsewhere (a strict shared zone's store). The
    /// request stays unread in the connection's buffer until the policy's answer arrives
    /// (``ProxyPolicy/received(_:)`` names the connection) or `milliseconds` pass, whichever
    /// is first; then the handler asks ``ProxyPolicy/decide(_:in:client:answer:)`` again with
    /// the same bytes. On HTTP/2 the stream's head is kept, and its body meanwhile (up to
    /// 64 KiB a stream, then the connection's reading pauses until the wait ends).
    case decideLater(milliseconds: UInt64)
    /// Answer locally with this status (400, 403, 404, 413, 429, 503...) and a short body.
    /// `close`: close the connection afterwards (always done when the request has a body).
    case respond(status: Int, close: Bool)
    /// The policy wrote a whole answer (head and body) into `decide`'s `answer` writer; the
    /// handler sends it as it is. `close`: close the connection afterwards; the handler also
    /// closes it when the request has a body not all received (never read) or the client did
    /// not ask to keep it, so the answer must say `Connection: close` then (see ``HTTPRequestHead/answerCloses(received:)``).
    case answered(close: Bool)
    /// The policy wrote an answer's head (only) into `decide`'s `answer` writer; its body is
    /// `count` bytes of the open regular file `descriptor` from `offset`. The handler owns the
    /// descriptor from here: it sends those bytes (`sendfile` on plain TCP, read and written
    /// over TLS; appended to an HTTP/2 stream), pausing while the client's output backs up, and
    /// closes the descriptor when done or when the connection goes. `close` as for
    /// ``answered(close:)``.
    case file(descriptor: Int32, offset: Int, count: Int, close: Bool)
}

/// Appends bytes to a fixed buffer the handler owns (a head being rewritten); overflowing
/// it marks the writer, and the handler then answers 502 (response) or 431 (request).
public struct HeadWriter {
    let base: UnsafeMutableRawPointer
    let capacity: Int
    public private(set) var count: Int
    public private(set) var overflowed: Bool
    init(base: UnsafeMutableRawPointer, capacity: Int) {
        self.base = base
        self.capacity = capacity
        count = 0
        overflowed = false
    }
    public mutating func append(_ bytes: UnsafeRawBufferPointer) {
        guard count + bytes.count <= capacity else {
            overflowed = true
            return
        }
        if let source = bytes.baseAddress { (base + count).copyMemory(from: source, byteCount: bytes.count) }
        count += bytes.count
    }
    public mutating func append(_ text: StaticString) {
        append(UnsafeRawBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
    }

    /// Appends `value` as 16 lower-case hex digits.
    public mutating func appendHex(_ value: UInt64) {
        guard count + 16 <= capacity else {
            overflowed = true
            return
        }
        var v = value
        var i = 15
        while i >= 0 {
            let nibble = UInt8(truncatingIfNeeded: v & 0xf)
            (base + count + i).storeBytes(of: nibble < 10 ? 48 + nibble : 87 + nibble, as: UInt8.self)
            v >>= 4
            i -= 1
        }
        count += 16
    }

    /// Appends `value` in decimal.
    public mutating func appendDecimal(_ value: Int) {
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)  // 24 bytes, enough for Int
        withUnsafeMutableBytes(of: &digits) { buffer in
            var v = value.magnitude
            var i = buffer.count
            repeat {
                i -= 1
                buffer[i] = UInt8(truncatingIfNeeded: v % 10) + 48
                v /= 10
            } while v > 0
            if value < 0 {
                i -= 1
                buffer[i] = UInt8(ascii: "-")
            }
            append(UnsafeRawBufferPointer(rebasing: buffer[i...]))
        }
    }
}
