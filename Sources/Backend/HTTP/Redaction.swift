import Foundation

/// Removes secrets from text bound for logs or responses: passwords in URLs
/// (`postgres://user:secret@host` → `postgres://user:***@host`), bearer tokens, and
/// `password=`/`token=`/`secret=` style pairs, JSON's `"password": "..."` included. Every log
/// line that may hold configuration or an error's text goes through it.
public enum Redaction {
    public static let mask = "***"

    private static let keyNames = #"[A-Za-z_]*(?:password|passwd|pwd|token|secret|api_key|apikey)[A-Za-z_]*"#

    private static let patterns: [(NSRegularExpression, String)] = [
        // scheme://user:password@host. The password runs to the last `@` of the URL, so one
        // holding an unescaped `@` is masked whole (at worst a path with an `@` is masked too).
        (try! NSRegularExpression(pattern: #"([A-Za-z][A-Za-z0-9+.-]*://[^:/@\s"']*):[^\s"']*@"#), "$1:\(mask)@"),
        // Authorization: Bearer abc / Bearer abc
        (try! NSRegularExpression(pattern: #"(?i)(bearer\s+)[A-Za-z0-9._~+/=-]+"#), "$1\(mask)"),
        // password=..., token: ..., secret=..., api_key=..., and JSON's "password": "..." (the key's
        // closing quote may stand between the name and the separator). Quoted values keep their
        // quotes, so JSON stays JSON.
        (try! NSRegularExpression(pattern: #"(?i)\b("# + keyNames + #")(["']?\s*[=:]\s*)"[^"]*""#), "$1$2\"\(mask)\""),
        (try! NSRegularExpression(pattern: #"(?i)\b("# + keyNames + #")(["']?\s*[=:]\s*)'[^']*'"#), "$1$2'\(mask)'"),
        (try! NSRegularExpression(pattern: #"(?i)\b("# + keyNames + #")(["']?\s*[=:]\s*)[^\s,;&"']+"#), "$1$2\(mask)"),
    ]

    /// `text` with every secret it recognises replaced by `***`.
    public static func redact(_ text: String) -> String {
        guard mayContainSecret(text) else { return text }
        var result = text
        for (regex, template) in patterns {
            let range = NSRange(result.startIndex..., in: result)
            result = regex.stringByReplacingMatches(in: result, range: range, withTemplate: template)
        }
        return result
    }

    /// Whether any pattern could match: each needs a `:`, `=` or `@`, or the word "bearer". Most
    /// log values (methods, routes, ids, numbers) have none of these, and skip the regular
    /// expressions.
    static func mayContainSecret(_ text: String) -> Bool {
        var bearerMatched = 0
        let bearer = Array("bearer".utf8)
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: ":"), UInt8(ascii: "="), UInt8(ascii: "@"):
                return true
            default:
                let lower = byte | 0x20  // ASCII letters to lowercase; other bytes never match below
                if lower == bearer[bearerMatched] {
                    bearerMatched += 1
                    if bearerMatched == bearer.count { return true }
                } else {
                    bearerMatched = lower == bearer[0] ? 1 : 0
                }
            }
        }
        return false
    }
}
