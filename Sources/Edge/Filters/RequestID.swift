/// A request's ID, sent upstream and to the client in `X-Request-ID` and written to the access
/// log: a trusted proxy's well-formed one, else a new one of 32 lowercase hex digits (nginx's
/// `$request_id` shape). A new ID is kept as its two random words and written out digit by digit
/// where it goes: as a `String` it would take a heap allocation per request (32 bytes is too
/// long for an inline string).
enum RequestID: Hashable, Sendable, CustomStringConvertible {
    /// A new ID: the hex digits of these two words, low nibble first.
    case generated(UInt64, UInt64)
    /// A trusted proxy's ID, as it came (``isWellFormed(_:)``).
    case given(String)

    static func isWellFormed(_ id: Substring) -> Bool {
        guard !id.isEmpty, id.utf8.count <= 128 else { return false }
        return id.utf8.allSatisfy { byte in
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."),
                UInt8(ascii: ":"):
                return true
            default:
                return false
            }
        }
    }

    /// A new ID from `random`.
    static func generate<R: RandomNumberGenerator>(using random: inout R) -> RequestID {
        .generated(random.next(), random.next())
    }

    /// Calls `body` with the ID's bytes (no allocation for a generated one).
    @inline(__always)
    func withBytes<Result>(_ body: (UnsafeRawBufferPointer) -> Result) -> Result {
        switch self {
        case .generated(let low, let high):
            var digits: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
            return withUnsafeMutableBytes(of: &digits) { buffer in
                for index in 0..<32 {
                    let word = index < 16 ? low : high
                    let nibble = UInt8(truncatingIfNeeded: word >> (UInt64(index % 16) * 4)) & 0xF
                    buffer[index] = nibble < 10 ? UInt8(ascii: "0") + nibble : UInt8(ascii: "a") + nibble - 10
                }
                return body(UnsafeRawBufferPointer(buffer))
            }
        case .given(var text):
            return text.withUTF8 { body(UnsafeRawBufferPointer($0)) }
        }
    }

    /// The ID as text (for the access log and error bodies).
    var description: String {
        switch self {
        case .generated: withBytes { String(decoding: $0, as: UTF8.self) }
        case .given(let text): text
        }
    }
}
