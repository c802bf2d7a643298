/// Which responses the edge gzips: nginx's `gzip` rules, with the client's `Accept-Encoding` read as RFC 9110
/// §12.5.3 reads it.
public enum ResponseCompression {
    /// nginx's `gzip_min_length` default: a body known to be shorter goes as it is (a gzip
    /// member's header and trailer alone take 18 bytes).
    public static var minimumLength: Int { 20 }

    /// Whether a response of a compressing route may be gzipped (the client's `Accept-Encoding`
    /// aside): it has a body (not HEAD, 1xx, 204, 304, a known length under
    /// ``minimumLength``), is not a part of a representation (206: its `Content-Range` counts
    /// the identity bytes) nor already encoded, and its media type is text-like.
    /// - Parameters:
    ///   - contentLength: `Content-Length`, or -1 when the body has none.
    ///   - contentEncoded: the response has a `Content-Encoding`.
    ///   - compressibleType: ``isCompressibleType(_:)`` of its `Content-Type` (`false` without one).
    public static func eligible(
        status: Int, isHEAD: Bool, contentLength: Int, contentEncoded: Bool, compressibleType: Bool
    ) -> Bool {
        guard status >= 200, status != 204, status != 206, status != 304, !isHEAD, !contentEncoded, compressibleType
        else { return false }
        return contentLength < 0 || contentLength >= minimumLength
    }

    /// Whether a `Content-Type` value names a type worth compressing (text, JSON, XML, SVG,
    /// JavaScript, web manifests); parameters (`; charset=…`) and case do not matter.
    public static func isCompressibleType(_ value: UnsafeRawBufferPointer) -> Bool {
        var end = 0
        while end < value.count && value[end] != UInt8(ascii: ";") { end += 1 }
        var start = 0
        while start < end && (value[start] == 32 || value[start] == 9) { start += 1 }
        while end > start && (value[end - 1] == 32 || value[end - 1] == 9) { end -= 1 }
        let type = UnsafeRawBufferPointer(rebasing: value[start..<end])
        return hasPrefix(type, "text/") || equals(type, "application/json") || equals(type, "application/javascript")
            || equals(type, "application/xml") || equals(type, "image/svg+xml") || equals(type, "application/manifest+json")
            || hasSuffix(type, "+json") || hasSuffix(type, "+xml")
    }

    /// The deflate window for a body of `contentLength` bytes (-1: unknown), as nginx picks it:
    /// from 2^15 bytes (`memLevel` 8, 256 KiB of deflate state) down while the body fits in
    /// half the window with room for a match (262 bytes), `memLevel` shrinking along, so a
    /// 3 KB answer holds 32 KiB of state rather than 256 KiB. The output is the same as with
    /// the full window: deflate never looks further back than the body.
    public static func window(forLength contentLength: Int) -> (windowBits: Int32, memLevel: Int32) {
        var windowBits: Int32 = 15
        var memLevel: Int32 = 8
        if contentLength > 0 {
            while windowBits > 9 && contentLength < (1 << (windowBits - 1)) - 262 {
                windowBits -= 1
                memLevel -= 1
            }
        }
        return (windowBits, max(1, memLevel))
    }

    static func equals(_ bytes: UnsafeRawBufferPointer, _ word: StaticString) -> Bool {
        bytes.count == word.utf8CodeUnitCount && hasPrefix(bytes, word)
    }

    /// Case-insensitive for letters (`word` is lower case).
    static func hasPrefix(_ bytes: UnsafeRawBufferPointer, _ word: StaticString) -> Bool {
        let count = word.utf8CodeUnitCount
        guard bytes.count >= count else { return false }
        let letters = word.utf8Start
        for i in 0..<count where lowercased(bytes[i]) != letters[i] { return false }
        return true
    }

    static func hasSuffix(_ bytes: UnsafeRawBufferPointer, _ word: StaticString) -> Bool {
        let count = word.utf8CodeUnitCount
        guard bytes.count >= count else { return false }
        return hasPrefix(UnsafeRawBufferPointer(rebasing: bytes[(bytes.count - count)...]), word)
    }

    @inline(__always)
    static func lowercased(_ c: UInt8) -> UInt8 { c >= 65 && c <= 90 ? c | 0x20 : c }
}

/// A request's `Accept-Encoding`, read field by field (several fields are one list), as RFC
/// 9110 §12.5.3 reads it: gzip is acceptable when `gzip` (or its alias `x-gzip`) is listed with
/// a q-value above 0, or, not listed, when `*` is; `gzip;q=0` refuses it whatever `*` says; no
/// field at all means no compression (what nginx and SwiftNIO's compressor do, rather than the
/// RFC's "anything goes"). A malformed q-value counts as 0, as SwiftNIO's compressor counts it.
///
/// Differences from SwiftNIO's `HTTPResponseCompressor` (what the edge used before its own
/// core): that one
/// answers `deflate` whenever it ranks as high as gzip (`gzip, deflate, br`, what browsers send;
/// here: gzip) and `deflate`-only clients (here: not compressed), matches tokens
/// case-sensitively, and lets `*` win over `gzip;q=0`.
public struct AcceptEncoding: Sendable {
    /// The q-values in thousandths; -1 when not listed.
    var gzip: Int = -1
    var any: Int = -1

    public init() {}

    /// Reads one `Accept-Encoding` field's value.
    public mutating func add(_ value: UnsafeRawBufferPointer) {
        var i = 0
        let count = value.count
        while i < count {
            // One element: a coding, then parameters.
            while i < count && (value[i] == 32 || value[i] == 9 || value[i] == UInt8(ascii: ",")) { i += 1 }
            let tokenStart = i
            while i < count && value[i] != UInt8(ascii: ",") && value[i] != UInt8(ascii: ";") && value[i] != 32 && value[i] != 9 {
                i += 1
            }
            let token = UnsafeRawBufferPointer(rebasing: value[tokenStart..<i])
            var q = 1000
            while i < count && value[i] != UInt8(ascii: ",") {
                if value[i] == UInt8(ascii: ";") {
                    i += 1
                    while i < count && (value[i] == 32 || value[i] == 9) { i += 1 }
                    let nameStart = i
                    while i < count && value[i] != UInt8(ascii: "=") && value[i] != UInt8(ascii: ",") && value[i] != UInt8(ascii: ";") {
                        i += 1
                    }
                    var name = UnsafeRawBufferPointer(rebasing: value[nameStart..<i])
                    while name.count > 0 && (name[name.count - 1] == 32 || name[name.count - 1] == 9) {
                        name = UnsafeRawBufferPointer(rebasing: name[0..<(name.count - 1)])
                    }
                    guard i < count && value[i] == UInt8(ascii: "=") else {
                        if ResponseCompression.equals(name, "q") { q = 0 }  // `q` without a value
                        continue
                    }
                    i += 1
                    while i < count && (value[i] == 32 || value[i] == 9) { i += 1 }
                    let valueStart = i
                    while i < count && value[i] != UInt8(ascii: ",") && value[i] != UInt8(ascii: ";") && value[i] != 32
                        && value[i] != 9
                    {
                        i += 1
                    }
                    if ResponseCompression.equals(name, "q") {
                        q = Self.qValue(UnsafeRawBufferPointer(rebasing: value[valueStart..<i]))
                    }
                } else {
                    i += 1  // whitespace before a parameter
                }
            }
            if ResponseCompression.equals(token, "gzip") || ResponseCompression.equals(token, "x-gzip") {
                gzip = max(gzip, q)
            } else if ResponseCompression.equals(token, "*") {
                any = max(any, q)
            }
        }
    }

    /// Whether the client takes a gzipped body.
    public var allowsGzip: Bool { gzip >= 0 ? gzip > 0 : any > 0 }

    /// `qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] )` in thousandths; 0 when
    /// malformed.
    static func qValue(_ text: UnsafeRawBufferPointer) -> Int {
        guard text.count >= 1, text.count <= 5, text[0] == UInt8(ascii: "0") || text[0] == UInt8(ascii: "1") else { return 0 }
        var thousandths = text[0] == UInt8(ascii: "1") ? 1000 : 0
        guard text.count > 1 else { return thousandths }
        guard text[1] == UInt8(ascii: ".") else { return 0 }
        var scale = 100
        for i in 2..<text.count {
            let digit = Int(text[i]) - 48
            guard digit >= 0 && digit <= 9 else { return 0 }
            thousandths += digit * scale
            scale /= 10
        }
        return thousandths > 1000 ? 0 : thousandths
    }
}
