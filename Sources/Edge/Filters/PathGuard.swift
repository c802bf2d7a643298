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
        let path = target.prefix { $0 != "?" && $0 != "#" }
        return isForbiddenPath(path) || (path.utf8.contains(UInt8(ascii: "%")) && isForbiddenPath(Substring(percentDecoded(path))))
    }

    /// One pass over the bytes: a segment starting with `.` (but `.well-known`), a trailing `~`,
    /// a backslash or a NUL.
    private static func isForbiddenPath(_ path: Substring) -> Bool {
        let bytes = path.utf8
        if bytes.last == UInt8(ascii: "~") { return true }
        var index = bytes.startIndex
        while index != bytes.endIndex {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\\") || byte == 0 { return true }
            let next = bytes.index(after: index)
            if byte == UInt8(ascii: "/"), next != bytes.endIndex, bytes[next] == UInt8(ascii: ".") {
                let segment = path[next...]
                if !segment.hasPrefix(".well-known/") && segment != ".well-known" { return true }
            }
            index = next
        }
        return false
    }

    /// Percent-decodes bytes; malformed escapes are kept as they are.
    static func percentDecoded(_ text: Substring) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.utf8.count)
        var iterator = Array(text.utf8)[...]
        while let byte = iterator.popFirst() {
            if byte == UInt8(ascii: "%"), iterator.count >= 2,
                let high = hexValue(iterator[iterator.startIndex]),
                let low = hexValue(iterator[iterator.startIndex + 1])
            {
                bytes.append(high << 4 | low)
                iterator = iterator.dropFirst(2)
            } else {
                bytes.append(byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
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
