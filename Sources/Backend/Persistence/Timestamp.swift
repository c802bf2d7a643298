import Foundation

/// The store's timestamps: ISO-8601 UTC text with microseconds (`2025-05-01T12:00:00.123456Z`).
///
/// Text keeps one column type on both engines and sorts chronologically. Microseconds matter:
/// the thermal cache key hashes a rack's `updated_at`, so two changes in one millisecond must
/// still give different keys.
public enum Timestamp {
    public static func string(from date: Date) -> String {
        let seconds = date.timeIntervalSince1970
        var whole = seconds.rounded(.down)
        var micros = Int(((seconds - whole) * 1_000_000).rounded())
        if micros >= 1_000_000 {
            whole += 1
            micros -= 1_000_000
        }
        var time = time_t(whole)
        var parts = tm()
        gmtime_r(&time, &parts)
        func pad(_ value: Int32, _ width: Int) -> String {
            let text = String(value)
            return String(repeating: "0", count: max(0, width - text.count)) + text
        }
        let microText = String(micros)
        return "\(pad(parts.tm_year + 1900, 4))-\(pad(parts.tm_mon + 1, 2))-\(pad(parts.tm_mday, 2))"
            + "T\(pad(parts.tm_hour, 2)):\(pad(parts.tm_min, 2)):\(pad(parts.tm_sec, 2))"
            + ".\(String(repeating: "0", count: 6 - microText.count))\(microText)Z"
    }
}
