import NIOCore

/// What a worker tells its supervisor over the pipe the supervisor gave it (`--supervisor-fd`).
///
/// Framing: one kind byte, a 4-byte big-endian payload length, the payload. A pipe has one
/// writer per worker, so frames never interleave; the supervisor reads them with
/// ``WorkerMessageDecoder``.
public enum WorkerMessage: Sendable, Hashable {
    /// The worker accepts connections on its socket.
    case ready
    /// Sent every second once every event loop of the worker has run a task: a worker whose
    /// loops are blocked goes silent, and the supervisor kills it after the worker timeout.
    case heartbeat
    /// The worker served its request budget. It keeps serving until the supervisor has started
    /// its replacement and sends `SIGTERM` (then it drains).
    case recycling(requests: Int)
    /// The worker's metrics in the Prometheus text format; `final` is the last one, sent after
    /// the last request finished and just before the worker exits.
    case metrics(String, final: Bool)

    /// The largest payload a supervisor accepts (a metrics snapshot); anything larger is a
    /// broken worker, and its pipe is closed.
    public static let maximumPayload = 16 * 1024 * 1024

    private enum Kind: UInt8 {
        case ready = 0x52  // R
        case heartbeat = 0x48  // H
        case recycling = 0x43  // C
        case metrics = 0x4D  // M
        case finalMetrics = 0x46  // F
    }

    /// Appends this message's frame to `buffer`.
    public func encode(into buffer: inout ByteBuffer) {
        let kind: Kind
        var payload = ""
        switch self {
        case .ready: kind = .ready
        case .heartbeat: kind = .heartbeat
        case .recycling(let requests):
            kind = .recycling
            payload = String(requests)
        case .metrics(let text, let final):
            kind = final ? .finalMetrics : .metrics
            payload = text
        }
        buffer.writeInteger(kind.rawValue)
        buffer.writeInteger(UInt32(payload.utf8.count))
        buffer.writeString(payload)
    }

    /// Reads one whole frame from `buffer`.
    /// - Returns: the message, or `nil` when the frame is not complete yet (nothing is consumed).
    /// - Throws: ``WorkerMessageError`` for an unknown kind or an oversized payload.
    public static func decode(from buffer: inout ByteBuffer) throws -> WorkerMessage? {
        guard let rawKind: UInt8 = buffer.getInteger(at: buffer.readerIndex),
            let length: UInt32 = buffer.getInteger(at: buffer.readerIndex + 1)
        else { return nil }
        guard let kind = Kind(rawValue: rawKind) else {
            throw WorkerMessageError(description: "unknown kind \(rawKind)")
        }
        guard length <= maximumPayload else { throw WorkerMessageError(description: "a \(length)-byte payload") }
        guard buffer.readableBytes >= 5 + Int(length) else { return nil }
        buffer.moveReaderIndex(forwardBy: 5)
        let payload = buffer.readString(length: Int(length)) ?? ""
        switch kind {
        case .ready: return .ready
        case .heartbeat: return .heartbeat
        case .recycling:
            guard let requests = Int(payload) else { throw WorkerMessageError(description: "recycling '\(payload)'") }
            return .recycling(requests: requests)
        case .metrics: return .metrics(payload, final: false)
        case .finalMetrics: return .metrics(payload, final: true)
        }
    }
}

/// A frame no worker writes: the pipe carries something else, and the supervisor closes it.
public struct WorkerMessageError: Error, CustomStringConvertible {
    public let description: String
}

/// Splits a worker's pipe into ``WorkerMessage``s.
public struct WorkerMessageDecoder: ByteToMessageDecoder {
    public typealias InboundOut = WorkerMessage

    public init() {}

    public mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let message = try WorkerMessage.decode(from: &buffer) else { return .needMoreData }
        context.fireChannelRead(Self.wrapInboundOut(message))
        return .continue
    }

    public mutating func decodeLast(
        context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool
    ) throws -> DecodingState {
        try decode(context: context, buffer: &buffer)
    }
}
