/// Refuses paths that reach hidden files or editor backups, as the old front's
/// `location ~ /\. { deny all; }` and `location ~ ~$ { deny all; }` did: `/.git/config`,
/// `/.env`, `/api/../x`, `/index.html~`.
///
/// The check runs on the percent-decoded path as well as the raw one, so `/%2egit` is caught.
/// `/.well-known/` stays reachable (ACME challenges and other standard files live there).
enum PathGuard {
    /// Whether the request target must be answered 403.
    /// - Parameter target: the request URI (path and query).
    static func isForbidden(_ target: Substring) -> Bool {
        // On the target's bytes: every request passes here, and walking a Substring by
        // Characters (grapheme breaking) cost more than the rest of the check.
        var target = target
        return target.withUTF8 { isForbidden(bytes: $0) }
    }

    static func isForbidden(bytes target: UnsafeBufferPointer<UInt8>) -> Bool {
        let end = target.firstIndex { $0 == UInt8(ascii: "?") || $0 == UInt8(ascii: "#") } ?? target.endIndex
        let path = UnsafeBufferPointer(rebasing: target[..<end])
        if isForbiddenPath(path) { return true }
        guard path.contains(UInt8(ascii: "%")) else { return false }
        return percentDecodedBytes(path).withUnsafeBufferPointer { isForbiddenPath($0) }
    }

    private static let wellKnown = Array(".well-known".utf8)

    /// One pass over the bytes: a segment starting with `.` (but `.well-known`), a trailing `~`,
    /// a backslash or a NUL.
    private static func isForbiddenPath(_ path: UnsafeBufferPointer<UInt8>) -> Bool {
        if path.last == UInt8(ascii: "~") { return true }
        for index in path.indices {
            let byte = path[index]
            if byte == UInt8(ascii: "\\") || byte == 0 { return true }
            let next = index + 1
            if byte == UInt8(ascii: "/"), next != path.endIndex, path[next] == UInt8(ascii: ".") {
                let segment = path[next...]
                let isWellKnown =
                    segment.starts(with: wellKnown)
                    && (segment.count == wellKnown.count || segment[next + wellKnown.count] == UInt8(ascii: "/"))
                if !isWellKnown { return true }
            }
        }
        return false
    }

    /// Percent-decodes bytes; malformed escapes are kept as they are.
    static func percentDecoded(_ text: Substring) -> String {
        var text = text
        return String(decoding: text.withUTF8 { percentDecodedBytes($0) }, as: UTF8.self)
    }

    private static func percentDecodedBytes(_ text: UnsafeBufferPointer<UInt8>) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.count)
        var index = text.startIndex
        while index < text.endIndex {
            let byte = text[index]
            if byte == UInt8(ascii: "%"), text.endIndex - index > 2,
                let high = hexValue(text[index + 1]),
                let low = hexValue(text[index + 2])
            {
                bytes.append(high << 4 | low)
                index += 3
            } else {
                bytes.append(byte)
                index += 1
            }
        }
        return bytes
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
}
