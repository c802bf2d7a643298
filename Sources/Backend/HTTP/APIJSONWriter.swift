import NIOCore

/// Writes JSON into a byte buffer with exactly the bytes ``JSONEncoder/api`` writes, for the few
/// responses hot enough that `JSONEncoder` itself showed in a profile (an uncached layout spent a
/// fifth of a worker's CPU in it).
///
/// The caller writes an object's keys in the order the encoder sorts them (by their UTF-8
/// bytes), and leaves out what the encoder leaves out (a `nil` optional, encoded if present).
/// What it matches, checked against the encoder by the tests:
/// - strings: `"` and `\` escaped, `\b`, `\f`, `\n`, `\r`, `\t`, other control characters as
///   `\u00XX` (lowercase hex); `/`, DEL and everything else, non-ASCII included, as they are.
///   (The logs' escaper, `appendJSONString` in ServerSupport, escapes DEL and writes `\b`/`\f`
///   as `\u00XX`, so the API's bytes cannot come from it.)
/// - numbers: a `Double` as its `description` without a trailing `.0` (`700`, `0.1`, `1e-07`,
///   `-0`); an `Int` in decimal. A non-finite `Double` throws, as the encoder does.
struct APIJSONWriter {
    private(set) var buffer: ByteBuffer
    /// Whether the next member of the object or array being written is its first.
    private var first = true

    init(capacity: Int) {
        buffer = ByteBufferAllocator().buffer(capacity: capacity)
    }

    // MARK: Structure

    mutating func beginObject() {
        buffer.writeInteger(UInt8(ascii: "{"))
        first = true
    }

    mutating func endObject() {
        buffer.writeInteger(UInt8(ascii: "}"))
        first = false
    }

    mutating func beginArray() {
        buffer.writeInteger(UInt8(ascii: "["))
        first = true
    }

    mutating func endArray() {
        buffer.writeInteger(UInt8(ascii: "]"))
        first = false
    }

    /// Starts an array element.
    mutating func element() {
        if !first { buffer.writeInteger(UInt8(ascii: ",")) }
        first = false
    }

    /// Starts a member: `"key":`. `key` is written as it is (the models' keys need no escape).
    ///
    /// One write into the buffer for the separator, the quotes, the key and the colon: each
    /// `ByteBuffer` write checks capacity and uniqueness, and five of them per key were half of
    /// the writer's time in an uncached layout's profile.
    mutating func key(_ key: StaticString) {
        let separated = !first
        first = false
        guard key.hasPointerRepresentation else {
            if separated { buffer.writeInteger(UInt8(ascii: ",")) }
            buffer.writeInteger(UInt8(ascii: "\""))
            buffer.writeStaticString(key)
            buffer.writeStaticString("\":")
            return
        }
        let name = UnsafeRawBufferPointer(start: key.utf8Start, count: key.utf8CodeUnitCount)
        buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: name.count + 4) { out in
            var at = 0
            if separated {
                out[at] = UInt8(ascii: ",")
                at += 1
            }
            out[at] = UInt8(ascii: "\"")
            UnsafeMutableRawBufferPointer(rebasing: out[(at + 1)...]).copyMemory(from: name)
            at += 1 + name.count
            out[at] = UInt8(ascii: "\"")
            out[at + 1] = UInt8(ascii: ":")
            return at + 2
        }
    }

    // MARK: Values

    mutating func null() { buffer.writeStaticString("null") }

    mutating func bool(_ value: Bool) { buffer.writeStaticString(value ? "true" : "false") }

    mutating func int(_ value: Int) { buffer.writeString(String(value)) }

    /// - Throws: ``NonFiniteNumber`` for NaN and infinities, which JSON cannot carry.
    mutating func double(_ value: Double) throws {
        guard value.isFinite else { throw NonFiniteNumber() }
        // Whole numbers (most stored sizes, weights and watts): their `description` is the
        // integer's digits and `.0`, so the digits alone; `-0` keeps its sign below.
        if value.magnitude < 1e9, value.rounded(.towardZero) == value, value != 0 || value.sign == .plus {
            int(Int(value))
            return
        }
        let text = value.description
        let utf8 = text.utf8
        if utf8.count >= 2, text.hasSuffix(".0") {
            buffer.writeBytes(utf8.dropLast(2))
        } else {
            buffer.writeString(text)
        }
    }

    mutating func string(_ value: String) {
        var value = value
        // Most strings need no escape: the quotes and the text in one write.
        let plain = value.withUTF8 { bytes -> Bool in
            guard !bytes.contains(where: { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }) else {
                return false
            }
            buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: bytes.count + 2) { out in
                out[0] = UInt8(ascii: "\"")
                if let base = bytes.baseAddress {
                    UnsafeMutableRawBufferPointer(rebasing: out[1...]).copyMemory(
                        from: UnsafeRawBufferPointer(start: base, count: bytes.count))
                }
                out[bytes.count + 1] = UInt8(ascii: "\"")
                return bytes.count + 2
            }
            return true
        }
        if plain { return }
        buffer.writeInteger(UInt8(ascii: "\""))
        value.withUTF8 { bytes in
            var runStart = 0
            for index in bytes.indices {
                let byte = bytes[index]
                guard byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") else { continue }
                buffer.writeBytes(UnsafeBufferPointer(rebasing: bytes[runStart..<index]))
                writeEscape(byte)
                runStart = index + 1
            }
            buffer.writeBytes(UnsafeBufferPointer(rebasing: bytes[runStart..<bytes.count]))
        }
        buffer.writeInteger(UInt8(ascii: "\""))
    }

    // MARK: Members

    mutating func member(_ key: StaticString, _ value: String) {
        self.key(key)
        string(value)
    }

    mutating func member(_ key: StaticString, _ value: Int) {
        self.key(key)
        int(value)
    }

    mutating func member(_ key: StaticString, _ value: Bool) {
        self.key(key)
        bool(value)
    }

    mutating func member(_ key: StaticString, _ value: Double) throws {
        self.key(key)
        try double(value)
    }

    /// A member left out when `value` is `nil` (`encodeIfPresent`).
    mutating func member(_ key: StaticString, _ value: String?) {
        if let value { member(key, value) }
    }

    mutating func member(_ key: StaticString, _ value: Int?) {
        if let value { member(key, value) }
    }

    mutating func member(_ key: StaticString, _ value: Double?) throws {
        if let value { try member(key, value) }
    }

    /// A `[String: Int]` member (typical ports), its keys sorted by their UTF-8 bytes as the encoder
    /// sorts them; left out when `nil`.
    mutating func member(_ key: StaticString, _ value: [String: Int]?) {
        guard let value else { return }
        self.key(key)
        beginObject()
        for (name, count) in value.sorted(by: { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }) {
            if !first { buffer.writeInteger(UInt8(ascii: ",")) }
            first = false
            string(name)
            buffer.writeInteger(UInt8(ascii: ":"))
            int(count)
        }
        endObject()
    }

    // MARK: Helpers

    private mutating func writeEscape(_ byte: UInt8) {
        switch byte {
        case UInt8(ascii: "\""): buffer.writeStaticString("\\\"")
        case UInt8(ascii: "\\"): buffer.writeStaticString("\\\\")
        case 0x08: buffer.writeStaticString("\\b")
        case 0x0C: buffer.writeStaticString("\\f")
        case UInt8(ascii: "\n"): buffer.writeStaticString("\\n")
        case UInt8(ascii: "\r"): buffer.writeStaticString("\\r")
        case UInt8(ascii: "\t"): buffer.writeStaticString("\\t")
        default:
            // Every byte that gets here is below 0x20: `\u00` and two lowercase hex digits.
            func hexDigit(_ nibble: UInt8) -> UInt8 {
                nibble < 10 ? UInt8(ascii: "0") + nibble : UInt8(ascii: "a") + nibble - 10
            }
            buffer.writeStaticString("\\u00")
            buffer.writeInteger(hexDigit(byte >> 4))
            buffer.writeInteger(hexDigit(byte & 0x0F))
        }
    }
}

/// A NaN or infinite number where the API writes JSON (which has no spelling for them).
struct NonFiniteNumber: Error {}
