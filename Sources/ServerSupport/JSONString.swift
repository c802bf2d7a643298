/// Appends `value` to `text` as a JSON string (RFC 8259 §7): in quotes, with `"` and `\`
/// escaped, line feed, carriage return and tab as `\n`, `\r`, `\t`, every other control
/// character and DEL as `\u00XX` (lowercase hex), and everything else, non-ASCII included,
/// as it is.
///
/// The one escaper of the edge's access and error logs, the backend's log lines and the
/// supervisor's event lines. It writes into the caller's string in place, copying each run of
/// characters that need no escape in one append, and allocates nothing of its own: the edge
/// formats an access line per request with it. Escaping DEL is not required by RFC 8259, but
/// keeps a terminal reading the log from acting on it.
///
/// Runs are found on UTF-8 bytes: every byte to escape is ASCII, and an ASCII byte is never
/// part of a multi-byte sequence, so a run always starts and ends on a Unicode scalar.
@inlinable
public func appendJSONString(_ value: String, to text: inout String) {
    text.append("\"")
    let bytes = value.utf8
    var runStart = bytes.startIndex
    var index = runStart
    while index != bytes.endIndex {
        let byte = bytes[index]
        if byte >= 0x20, byte != UInt8(ascii: "\""), byte != UInt8(ascii: "\\"), byte != 0x7F {
            bytes.formIndex(after: &index)
            continue
        }
        // A `Substring` made from the UTF-8 view keeps bounds that are not `Character` bounds
        // (a quote followed by a combining mark), where `value[runStart..<index]` would round.
        text.append(contentsOf: Substring(bytes[runStart..<index]))
        appendJSONEscape(byte, to: &text)
        bytes.formIndex(after: &index)
        runStart = index
    }
    text.append(contentsOf: Substring(bytes[runStart..<bytes.endIndex]))
    text.append("\"")
}

/// The escape of one ASCII byte that may not stand as it is in a JSON string.
@usableFromInline
func appendJSONEscape(_ byte: UInt8, to text: inout String) {
    switch byte {
    case UInt8(ascii: "\""): text.append("\\\"")
    case UInt8(ascii: "\\"): text.append("\\\\")
    case UInt8(ascii: "\n"): text.append("\\n")
    case UInt8(ascii: "\r"): text.append("\\r")
    case UInt8(ascii: "\t"): text.append("\\t")
    default:
        // Every byte that gets here is below 0x80: two hex digits after `\u00`.
        func hexDigit(_ nibble: UInt8) -> Unicode.Scalar {
            Unicode.Scalar(nibble < 10 ? UInt8(ascii: "0") + nibble : UInt8(ascii: "a") + nibble - 10)
        }
        text.append("\\u00")
        text.unicodeScalars.append(hexDigit(byte >> 4))
        text.unicodeScalars.append(hexDigit(byte & 0x0F))
    }
}
