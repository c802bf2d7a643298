/// Where an HTTP/1.1 message body ends, tracked while its bytes are relayed unchanged:
/// a Content-Length countdown, a chunked-coding scanner (sizes, extensions, trailers), or
/// "until the connection closes". The bytes themselves are never copied or re-framed.
public struct BodyFraming: Sendable {
    public enum Kind: UInt8, Sendable {
        /// No body (or the body is complete).
        case none
        case length
        case chunked
        /// Ends when the upstream closes (a response without length or chunking).
        case untilClose
    }

    enum ChunkState: UInt8, Sendable {
        case size, sizeSeen, extensions, sizeLF, data, dataCR, dataLF, trailerStart, trailerLine, trailerLF, finalLF
    }

    /// Length: bytes left. Chunked: bytes left in the current chunk's data.
    var remaining: Int
    /// The kind (bits 0-7), the chunk scanner's state (bits 8-15) and the announced bytes
    /// (bits 16-63) in one word: with ``remaining``, 16 bytes, and every connection's entry
    /// holds two of these (the idle connection's memory, issue 13).
    var packed: UInt64

    public private(set) var kind: Kind {
        @inline(__always) get { Kind(rawValue: UInt8(truncatingIfNeeded: packed)) ?? .none }
        @inline(__always) set { packed = packed & ~0xff | UInt64(newValue.rawValue) }
    }

    var state: ChunkState {
        @inline(__always) get { ChunkState(rawValue: UInt8(truncatingIfNeeded: packed >> 8)) ?? .size }
        @inline(__always) set { packed = packed & ~0xff00 | UInt64(newValue.rawValue) << 8 }
    }

    /// The body's bytes announced so far: `Content-Length`'s, or, chunked, the chunk sizes whose
    /// size lines arrived (what a body-size limit counts: a chunk is refused as soon as its size
    /// line arrives, before its data is relayed). Saturates at 2^48 - 1, far above the largest
    /// `max_body_size` (1 TiB).
    public private(set) var announcedBytes: Int {
        @inline(__always) get { Int(packed >> 16) }
        @inline(__always) set { packed = packed & 0xffff | UInt64(min(max(0, newValue), (1 << 48) - 1)) << 16 }
    }

    public init(kind: Kind, length: Int = 0) {
        remaining = length
        packed = 0
        self.kind = kind == .length && length == 0 ? .none : kind
        state = .size
        if kind == .length { announcedBytes = length }
    }

    /// A body that already went whole, of `bytes` bytes (an HTTP/2 stream's request body, kept
    /// for the access log once the response starts).
    public init(completedBytes bytes: Int) {
        self.init(kind: .none)
        announcedBytes = bytes
    }

    /// The body's bytes received so far (chunked: of the chunks announced; without the
    /// coding's size lines).
    public var receivedBytes: Int { announcedBytes - remaining }

    /// Whether the body is complete.
    public var isComplete: Bool { kind == .none }

    /// Result of ``consume(_:from:)``.
    public enum Outcome: Sendable, Equatable {
        /// `used` bytes belong to the body; more are expected (or, `complete`, it ended).
        case body(used: Int, complete: Bool)
        /// The chunked coding is broken: the message cannot be relayed further.
        case malformed
    }

    /// Takes the bytes of `input[offset...]` that belong to the body.
    public mutating func consume(_ input: UnsafeRawBufferPointer, from offset: Int) -> Outcome {
        let available = input.count - offset
        switch kind {
        case .none:
            return .body(used: 0, complete: true)
        case .untilClose:
            return .body(used: available, complete: false)
        case .length:
            let used = min(available, remaining)
            remaining -= used
            if remaining == 0 { kind = .none }
            return .body(used: used, complete: kind == .none)
        case .chunked:
            return consumeChunked(input, from: offset)
        }
    }
    mutating func consumeChunked(_ input: UnsafeRawBufferPointer, from offset: Int) -> Outcome {
        scanChunked(input, from: offset) { _, _ in }
    }

    /// Takes the body bytes of `input[offset...]` as ``consume(_:from:)`` does, and hands
    /// `payload` the body's content in them: the bytes themselves for a length or a close, the
    /// chunks' data without the coding (sizes, extensions, trailers) for a chunked body. For
    /// a peer that wants the content, not the HTTP/1.1 framing (an HTTP/2 client).
    @inline(__always)
    public mutating func consumePayload(
        _ input: UnsafeRawBufferPointer, from offset: Int, _ payload: (UnsafeRawBufferPointer) -> Void
    ) -> Outcome {
        guard kind == .chunked else {
            let outcome = consume(input, from: offset)
            if case .body(let used, _) = outcome, used > 0 {
                payload(UnsafeRawBufferPointer(rebasing: input[offset..<(offset + used)]))
            }
            return outcome
        }
        return scanChunked(input, from: offset) { start, end in
            payload(UnsafeRawBufferPointer(rebasing: input[start..<end]))
        }
    }

    /// The chunked coding's scanner; `data` gets each run of chunk data (`start..<end` in `input`).
    @inline(__always)
    mutating func scanChunked(_ input: UnsafeRawBufferPointer, from offset: Int, _ data: (Int, Int) -> Void) -> Outcome {
        var i = offset
        let count = input.count
        while i < count {
            let c = input[i]
            switch state {
            case .size, .sizeSeen:
                let digit: Int
                switch c {
                case 48...57: digit = Int(c) - 48
                case 65...70: digit = Int(c) - 55
                case 97...102: digit = Int(c) - 87
                default: digit = -1
                }
                if digit >= 0 {
                    guard remaining < 1 << 40 else { return .malformed }
                    remaining = remaining << 4 | digit
                    state = .sizeSeen
                } else if state == .sizeSeen && (c == 59 || c == 32 || c == 9) {
                    state = .extensions
                } else if state == .sizeSeen && c == 13 {
                    state = .sizeLF
                } else {
                    return .malformed
                }
                i += 1
            case .extensions:
                if c == 13 { state = .sizeLF } else if c == 10 { return .malformed }
                i += 1
            case .sizeLF:
                guard c == 10 else { return .malformed }
                i += 1
                announcedBytes += remaining
                state = remaining == 0 ? .trailerStart : .data
            case .data:
                let n = min(remaining, count - i)
                data(i, i + n)
                remaining -= n
                i += n
                if remaining == 0 { state = .dataCR }
            case .dataCR:
                guard c == 13 else { return .malformed }
                state = .dataLF
                i += 1
            case .dataLF:
                guard c == 10 else { return .malformed }
                state = .size
                i += 1
            case .trailerStart:
                state = c == 13 ? .finalLF : .trailerLine
                i += 1
            case .trailerLine:
                if c == 13 { state = .trailerLF }
                i += 1
            case .trailerLF:
                guard c == 10 else { return .malformed }
                state = .trailerStart
                i += 1
            case .finalLF:
                guard c == 10 else { return .malformed }
                i += 1
                kind = .none
                state = .size
                return .body(used: i - offset, complete: true)
            }
        }
        return .body(used: i - offset, complete: false)
    }
}
