import Foundation

/// Removes secrets from text bound for logs or responses: passwords in URLs
/// (`postgres://user:secret@host` → `postgres://user:***@host`), bearer tokens, and
/// `password=`/`token=`/`secret=` style pairs. Every log line that may hold configuration or an
/// error's text goes through it.
public enum Redaction {
    public static let mask = "***"

    private static let patterns: [(NSRegularExpression, String)] = [
        // scheme://user:password@host
        (try! NSRegularExpression(pattern: #"([A-Za-z][A-Za-z0-9+.-]*://[^:/@\s]*):[^@\s]*@"#), "$1:\(mask)@"),
        // Authorization: Bearer abc / Bearer abc
        (try! NSRegularExpression(pattern: #"(?i)(bearer\s+)[A-Za-z0-9._~+/=-]+"#), "$1\(mask)"),
        // password=..., token: ..., secret=..., api_key=...
        (
            try! NSRegularExpression(
                pattern: #"(?i)\b([A-Za-z_]*(?:password|passwd|pwd|token|secret|api_key|apikey)[A-Za-z_]*)(\s*[=:]\s*)("[^"]*"|'[^']*'|[^\s,;&"']+)"#),
            "$1$2\(mask)"
        ),
    ]

    /// `text` with every secret it recognises replaced by `***`.
    public static func redact(_ text: String) -> String {
        var result = text
        for (regex, template) in patterns {
            let range = NSRange(result.startIndex..., in: result)
            result = regex.stringByReplacingMatches(in: result, range: range, withTemplate: template)
        }
        return result
    }
}
