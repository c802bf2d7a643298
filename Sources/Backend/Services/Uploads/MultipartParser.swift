#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Reads a whole `multipart/form-data` body (RFC 7578, syntax of RFC 2046 §5.1.1) into its parts.
///
/// The body is already in memory and bounded by the request's size limit; the parser bounds
/// what it builds from it (parts, header bytes per part) so a hostile body cannot make it do
/// more work than that. It is strict about the syntax a browser or `curl` produces (CRLF line
/// ends, header lines `Name: value`, a closing delimiter) and tolerant where RFC 2046 is: a
/// preamble and an epilogue are skipped, and spaces or tabs may follow a delimiter. A delimiter
/// only counts when CRLF precedes it (or it opens the body) and `--`, or padding and CRLF,
/// follow it, so content that merely contains `--boundary` stays content.
public struct MultipartParser: Sendable {
    /// How much a body may ask the parser to build.
    public struct Limits: Sendable {
        /// Most parts a form may have.
        public var maxParts: Int
        /// Most bytes of one part's header block.
        public var maxHeaderBytes: Int

        public init(maxParts: Int = 16, maxHeaderBytes: Int = 8 * 1024) {
            self.maxParts = maxParts
            self.maxHeaderBytes = maxHeaderBytes
        }
    }

    /// What follows a delimiter's boundary.
    private enum Delimiter {
        /// Another part, whose header block starts at the index.
        case part(headersStart: Int)
        /// The closing delimiter (`--boundary--`): the rest is epilogue.
        case close
    }

    private static let crlf: [UInt8] = [13, 10]
    private static let blankLine: [UInt8] = [13, 10, 13, 10]

    public let limits: Limits
    /// `--boundary`.
    private let dashBoundary: [UInt8]
    /// CRLF `--boundary`: how every delimiter but a first one at the very start begins.
    private let delimiterPrefix: [UInt8]

    /// - Parameters:
    ///   - boundary: from ``MultipartBoundary/from(contentType:)``.
    ///   - limits: the bounds on parts and headers.
    public init(boundary: String, limits: Limits = Limits()) {
        self.limits = limits
        self.dashBoundary = Array("--\(boundary)".utf8)
        self.delimiterPrefix = Self.crlf + dashBoundary
    }

    /// The parts of `body`, in order.
    /// - Parameter body: the whole request body.
    /// - Returns: every part; empty for a form with no fields (`--boundary--`).
    /// - Throws: ``MultipartError`` when the body breaks the syntax or the limits.
    public func parse(_ body: [UInt8]) throws(MultipartError) -> [MultipartPart] {
        let atStart = body.starts(with: dashBoundary) ? delimiter(in: body, boundaryEnd: dashBoundary.count) : nil
        guard var next = atStart ?? nextDelimiter(in: body, from: 0)?.delimiter else {
            throw .malformed("The body holds no multipart boundary; is it multipart/form-data?")
        }
        var parts: [MultipartPart] = []
        while case .part(let headersStart) = next {
            guard parts.count < limits.maxParts else { throw .tooManyParts(limit: limits.maxParts) }
            let (headers, contentStart) = try readHeaders(in: body, from: headersStart)
            guard let (contentEnd, delimiter) = nextDelimiter(in: body, from: contentStart) else {
                throw .malformed("The multipart body ends before its closing boundary")
            }
            parts.append(try MultipartPart(headers: headers, body: body[contentStart..<contentEnd]))
            next = delimiter
        }
        return parts
    }

    /// The first delimiter at or after `start`: where the content before it ends, and what it is.
    private func nextDelimiter(in body: [UInt8], from start: Int) -> (contentEnd: Int, delimiter: Delimiter)? {
        var from = start
        while let candidate = Self.index(of: delimiterPrefix, in: body, from: from, to: body.count) {
            if let delimiter = delimiter(in: body, boundaryEnd: candidate + delimiterPrefix.count) {
                return (candidate, delimiter)
            }
            from = candidate + 1
        }
        return nil
    }

    /// What the boundary ending at `boundaryEnd` is: `--` closes the body; optional spaces or
    /// tabs and CRLF open a part; anything else means it was content, not a delimiter.
    private func delimiter(in body: [UInt8], boundaryEnd: Int) -> Delimiter? {
        if body[boundaryEnd...].starts(with: [UInt8(ascii: "-"), UInt8(ascii: "-")]) { return .close }
        var index = boundaryEnd
        while index < body.count, body[index] == UInt8(ascii: " ") || body[index] == UInt8(ascii: "\t") {
            index += 1
        }
        return body[index...].starts(with: Self.crlf) ? .part(headersStart: index + 2) : nil
    }

    /// The header lines starting at `start`, and where the part's content starts (after the
    /// blank line).
    private func readHeaders(
        in body: [UInt8], from start: Int
    ) throws(MultipartError) -> (headers: [MultipartPart.Header], contentStart: Int) {
        if body[start...].starts(with: Self.crlf) { return ([], start + 2) }  // no headers at all
        let window = min(body.count, start + limits.maxHeaderBytes + Self.blankLine.count)
        guard let end = Self.index(of: Self.blankLine, in: body, from: start, to: window) else {
            if window < body.count { throw .headersTooLarge(limit: limits.maxHeaderBytes) }
            throw .malformed("A form part's headers do not end with a blank line")
        }
        var headers: [MultipartPart.Header] = []
        var lineStart = start
        while lineStart < end {
            let lineEnd = Self.index(of: Self.crlf, in: body, from: lineStart, to: end) ?? end
            headers.append(try Self.header(body[lineStart..<lineEnd]))
            lineStart = lineEnd + 2
        }
        return (headers, end + Self.blankLine.count)
    }

    /// One `Name: value` line. Folded lines (obsolete, and banned by RFC 7578) are refused.
    private static func header(_ line: ArraySlice<UInt8>) throws(MultipartError) -> MultipartPart.Header {
        guard let colon = line.firstIndex(of: UInt8(ascii: ":")) else {
            throw .malformed("A form part's header line has no ':'")
        }
        let name = String(decoding: line[..<colon], as: UTF8.self)
        guard !name.isEmpty, !name.contains(where: { $0 == " " || $0 == "\t" }) else {
            throw .malformed("A form part's header line has no valid name")
        }
        let value = String(decoding: line[line.index(after: colon)...], as: UTF8.self)
        let trimmed = value.drop(while: { $0 == " " || $0 == "\t" })
        let end = trimmed.lastIndex(where: { $0 != " " && $0 != "\t" }).map(trimmed.index(after:)) ?? trimmed.startIndex
        return MultipartPart.Header(name: name.lowercased(), value: String(trimmed[..<end]))
    }

    /// The first index in `start..<end` where `pattern` occurs wholly inside that range.
    /// `memchr` finds candidates for the first byte, so a multi-megabyte upload is scanned at
    /// memory speed even in debug builds.
    static func index(of pattern: [UInt8], in bytes: [UInt8], from start: Int, to end: Int) -> Int? {
        guard let first = pattern.first, start >= 0, end <= bytes.count, end - start >= pattern.count else {
            return nil
        }
        return bytes.withUnsafeBufferPointer { haystack -> Int? in
            pattern.withUnsafeBufferPointer { needle -> Int? in
                guard let base = haystack.baseAddress, let needleBase = needle.baseAddress else { return nil }
                let lastStart = end - needle.count
                var index = start
                while index <= lastStart {
                    guard let found = memchr(base + index, Int32(first), lastStart - index + 1) else { return nil }
                    let offset = UnsafeRawPointer(base).distance(to: UnsafeRawPointer(found))
                    if memcmp(base + offset, needleBase, needle.count) == 0 { return offset }
                    index = offset + 1
                }
                return nil
            }
        }
    }
}
