import Foundation

/// URL- and file-name-safe identifiers made from names (`"Ubiquiti Networks"` → `ubiquiti-networks`).
///
/// Device types and brands carry a unique slug; a create that leaves it out gets one made from
/// the name (see ``CatalogInput/withDerivedSlug(_:)``). Brand logo files are named after the
/// slug, and a client-chosen slug may hold anything (`../x`), so file names go through
/// ``make(from:)`` again: its output only ever holds `a-z`, `0-9` and single inner hyphens.
public enum Slug {
    /// The slug of `text`: diacritics folded (`é` → `e`), lowercased, every run of other
    /// characters turned into one `-`, no leading or trailing `-`.
    /// - Parameter text: a name, or a slug to make file-name safe.
    /// - Returns: the slug; empty when `text` holds no ASCII letter or digit once folded.
    public static func make(from text: String) -> String {
        let folded = text.folding(options: .diacriticInsensitive, locale: Locale(identifier: "en_US_POSIX"))
            .lowercased()
        var slug = ""
        var separated = false
        for scalar in folded.unicodeScalars {
            guard ("a"..."z").contains(scalar) || ("0"..."9").contains(scalar) else {
                separated = true
                continue
            }
            if separated, !slug.isEmpty { slug.append("-") }
            separated = false
            slug.unicodeScalars.append(scalar)
        }
        return slug
    }
}
