import NIOHTTP1

@testable import Edge

/// SwiftNIO's parsed head, as the engine reads heads (see ``RequestHeadFields``): the
/// tests' reference parser (the edge itself parses with its core, ``CoreRequestHead``), so the
/// filter chain's tests can build heads with NIO's types and the core's parse can be checked
/// against an independent one.
///
/// Values are given without trailing whitespace (RFC 9110 §5.5: a field value excludes it):
/// NIO's decoder drops leading whitespace but keeps trailing, so `Host: a  ` read as it came
/// would be refused as no host name, and `Content-Length: 10 ` would not read as a length. The
/// I/O core's parser trims both; the engine must see the same values from either.
extension HTTPRequestHead: RequestHeadFields {
    public var methodName: String { method.rawValue }
    public var target: String { uri }
    public var isHTTP11OrLater: Bool { version.major > 1 || (version.major == 1 && version.minor >= 1) }
    public func first(_ name: String) -> String? { headers.first(name: name).map(Self.withoutTrailingWhitespace) }
    public func contains(_ name: String) -> Bool { headers.contains(name: name) }
    public func values(_ name: String) -> [String] { headers[name].map(Self.withoutTrailingWhitespace) }
    public func forEachValue(_ name: String, _ body: (String) -> Void) {
        let length = name.utf8.count
        for (field, value) in headers where field.utf8.count == length && field.lowercased() == name {
            body(Self.withoutTrailingWhitespace(value))
        }
    }

    /// `value` without trailing spaces and tabs (no copy when it has none, the usual case).
    private static func withoutTrailingWhitespace(_ value: String) -> String {
        guard let last = value.utf8.last, last == 32 || last == 9 else { return value }
        var end = value.utf8.endIndex
        while end > value.utf8.startIndex {
            let before = value.utf8.index(before: end)
            guard value.utf8[before] == 32 || value.utf8[before] == 9 else { break }
            end = before
        }
        return String(value.utf8[..<end])!
    }
}
