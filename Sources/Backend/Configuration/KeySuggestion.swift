/// "Did you mean" for a misspelt configuration key.
///
/// An unknown key in a file is an error rather than something silently ignored (a typo in
/// `DB_POOL_MAX` would otherwise leave the default in place unnoticed), and naming the key that
/// was probably meant saves a trip to `docs/CONFIG.md`. (The edge has its own for YAML keys; the
/// backend does not link the edge's target.)
enum KeySuggestion {
    /// The candidate `word` most likely stands for, if any is close enough: the same letters
    /// ignoring case and separators, or a few edits away.
    static func closest(to word: String, in candidates: [String]) -> String? {
        let target = normalize(word)
        if let match = candidates.first(where: { normalize($0) == target }) { return match }
        var best: (candidate: String, distance: Int)?
        for candidate in candidates {
            let normalized = normalize(candidate)
            let distance = editDistance(target, normalized)
            let allowed = max(1, min(target.count, normalized.count) / 3)
            if distance <= allowed, distance < (best?.distance ?? .max) { best = (candidate, distance) }
        }
        return best?.candidate
    }

    private static func normalize(_ word: String) -> [Character] {
        Array(word.uppercased().filter { $0 != "_" && $0 != "-" })
    }

    /// Optimal string alignment distance: insertions, deletions, substitutions and swaps of two
    /// neighbours each cost 1 (`DATABSE` is one step from `DATABASE`).
    private static func editDistance(_ a: [Character], _ b: [Character]) -> Int {
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var previousPrevious = [Int](repeating: 0, count: b.count + 1)
        var previous = Array(0...b.count)
        var current = [Int](repeating: 0, count: b.count + 1)
        for i in 1...a.count {
            current[0] = i
            for j in 1...b.count {
                let cost = a[i - 1] == b[j - 1] ? 0 : 1
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
                if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] {
                    current[j] = min(current[j], previousPrevious[j - 2] + 1)
                }
            }
            (previousPrevious, previous, current) = (previous, current, previousPrevious)
        }
        return previous[b.count]
    }
}
