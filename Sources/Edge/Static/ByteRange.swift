/// A `Range: bytes=…` request on a static file (RFC 9110 §14): one range is served with `206`;
/// a range that starts past the end gets `416`; several ranges, another unit or a malformed
/// header are ignored and the whole file is sent (as the RFC allows, and as nginx does for
/// several ranges when it would not build a multipart answer).
enum ByteRange: Equatable {
    /// Serve these bytes with 206.
    case satisfiable(Range<Int>)
    /// Nothing of the file is in the range: 416 with `Content-Range: bytes */SIZE`.
    case unsatisfiable
    /// Send the whole file with 200.
    case ignored

    /// Reads a `Range` header value for a file of `size` bytes.
    static func parse(_ header: String?, size: Int) -> ByteRange {
        guard let header else { return .ignored }
        var text = Substring(header).drop { $0 == " " }
        guard text.lowercased().hasPrefix("bytes=") else { return .ignored }
        text = text.dropFirst("bytes=".count)
        guard !text.contains(",") else { return .ignored }
        let spec = Self.trimmingSpaces(text)
        guard let dash = spec.firstIndex(of: "-") else { return .ignored }
        let first = spec[..<dash]
        let last = spec[spec.index(after: dash)...]
        if first.isEmpty {
            // A suffix: the last N bytes.
            guard let count = Self.number(last) else { return .ignored }
            guard count > 0 else { return .unsatisfiable }
            guard size > 0 else { return .unsatisfiable }
            return .satisfiable(max(0, size - count)..<size)
        }
        guard let start = Self.number(first) else { return .ignored }
        let end: Int
        if last.isEmpty {
            end = size - 1
        } else {
            guard let given = Self.number(last) else { return .ignored }
            guard given >= start else { return .ignored }  // an invalid range: ignored
            end = min(given, size - 1)
        }
        guard start < size else { return .unsatisfiable }
        return .satisfiable(start..<(end + 1))
    }

    private static func trimmingSpaces(_ text: Substring) -> Substring {
        var text = text
        while text.first == " " { text.removeFirst() }
        while text.last == " " { text.removeLast() }
        return text
    }

    /// A run of decimal digits (no sign, no spaces), or `nil`; values past `Int.max` saturate.
    private static func number(_ text: Substring) -> Int? {
        guard !text.isEmpty, text.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) else { return nil }
        return Int(text) ?? Int.max
    }
}
