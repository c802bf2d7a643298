import ServerSupport

/// "Did you mean" for a misspelt configuration key.
///
/// An unknown key in a file is an error rather than something silently ignored (a typo in
/// `DB_POOL_MAX` would otherwise leave the default in place unnoticed), and naming the key that
/// was probably meant saves a trip to `docs/CONFIG.md`. The edge has its own for YAML keys (with
/// nginx names and its own normalisation); both rank by ``optimalStringAlignmentDistance(_:_:)``.
enum KeySuggestion {
    /// The candidate `word` most likely stands for, if any is close enough: the same letters
    /// ignoring case and separators, or a few edits away.
    static func closest(to word: String, in candidates: [String]) -> String? {
        let target = normalize(word)
        if let match = candidates.first(where: { normalize($0) == target }) { return match }
        var best: (candidate: String, distance: Int)?
        for candidate in candidates {
            let normalized = normalize(candidate)
            let distance = optimalStringAlignmentDistance(target, normalized)
            let allowed = max(1, min(target.count, normalized.count) / 3)
            if distance <= allowed, distance < (best?.distance ?? .max) { best = (candidate, distance) }
        }
        return best?.candidate
    }

    private static func normalize(_ word: String) -> [Character] {
        Array(word.uppercased().filter { $0 != "_" && $0 != "-" })
    }
}
