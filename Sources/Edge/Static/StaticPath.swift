/// Maps a request path to a file below a static root, refusing anything that could escape it.
///
/// Pure: the caller checks the result against the file system (and resolves symbolic links,
/// see ``StaticFiles``). The path after the route prefix is percent-decoded once; a decoded
/// `..` segment, a NUL byte or a backslash refuses the request, so `/%2e%2e/etc/passwd` and
/// `/..%2fetc` are as dead as `/../etc`.
enum StaticPath {
    /// - Parameters:
    ///   - target: the request URI.
    ///   - prefix: the route's prefix.
    /// - Returns: the relative path below the root (no leading slash; empty for the root
    ///   itself), or `nil` when it must be refused.
    static func relative(target: String, prefix: String) -> String? {
        let path = target.prefix { $0 != "?" && $0 != "#" }
        guard path.hasPrefix(prefix) || prefix.hasSuffix("/") && path + "/" == prefix else { return nil }
        let rest = path.count >= prefix.count ? String(path.dropFirst(prefix.count)) : ""
        let decoded = PathGuard.percentDecoded(Substring(rest))
        if decoded.contains("\0") || decoded.contains("\\") { return nil }
        var segments: [Substring] = []
        for segment in decoded.split(separator: "/", omittingEmptySubsequences: true) {
            if segment == "." { continue }
            if segment == ".." || segment.hasPrefix(".") { return nil }
            segments.append(segment)
        }
        return segments.joined(separator: "/")
    }

    /// A strong validator from size and modification time, as nginx makes its ETags.
    static func entityTag(size: Int, modifiedSeconds: Int) -> String {
        "\"\(String(modifiedSeconds, radix: 16))-\(String(size, radix: 16))\""
    }

    /// Whether a `Range` applies under the request's `If-Range` (RFC 9110 §13.1.5): always
    /// without one; with one, only when it names the file's current entity tag or date exactly,
    /// so a client resuming a download of a file that changed gets the whole new file.
    static func ifRangeHolds(_ ifRange: String?, entityTag: String, lastModified: String) -> Bool {
        guard let ifRange else { return true }
        var value = Substring(ifRange)
        while value.first == " " || value.first == "\t" { value.removeFirst() }
        while value.last == " " || value.last == "\t" { value.removeLast() }
        return value == entityTag || value == lastModified
    }

    /// Whether the client's cached copy is current (`If-None-Match` wins over `If-Modified-Since`).
    static func isNotModified(ifNoneMatch: String?, ifModifiedSince: String?, entityTag: String, lastModified: String)
        -> Bool
    {
        if let ifNoneMatch {
            return ifNoneMatch.split(separator: ",").contains { tag in
                let trimmed = Substring(tag).trimmingSpaces
                return trimmed == "*" || trimmed == entityTag || trimmed == "W/" + entityTag
            }
        }
        if let ifModifiedSince { return ifModifiedSince == lastModified }
        return false
    }
}
