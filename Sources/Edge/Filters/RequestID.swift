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

    /// A new ID from `random`.
    static func generate<R: RandomNumberGenerator>(using random: inout R) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var bytes = [UInt8](repeating: 0, count: 32)
        for half in 0..<2 {
            var word = random.next()
            for index in 0..<16 {
                bytes[half * 16 + index] = digits[Int(word & 0xF)]
                word >>= 4
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
