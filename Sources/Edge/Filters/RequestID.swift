/// Request IDs: kept from a trusted hop when well formed, otherwise generated.
///
/// A well-formed ID is 1 to 128 characters of letters, digits, `-`, `_`, `.`, `:` (UUIDs,
/// ULIDs, and the hex IDs nginx's `$request_id` makes), so an ID can never carry header
/// injection or a log-breaking character. Generated IDs are 32 hex digits (128 random bits),
/// the shape of nginx's `$request_id`.
enum RequestID {
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

    /// A new ID from `random`: 32 lowercase hex digits (nginx's `$request_id` shape), written
    /// straight into the string's storage (one allocation per request).
    static func generate<R: RandomNumberGenerator>(using random: inout R) -> String {
        let words = (random.next(), random.next())
        return String(unsafeUninitializedCapacity: 32) { buffer in
            for index in 0..<32 {
                let word = index < 16 ? words.0 : words.1
                let nibble = UInt8(truncatingIfNeeded: word >> (UInt64(index % 16) * 4)) & 0xF
                buffer[index] = nibble < 10 ? UInt8(ascii: "0") + nibble : UInt8(ascii: "a") + nibble - 10
            }
            return 32
        }
    }
}
