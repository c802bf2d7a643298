/// A set of header names matched ASCII-case-insensitively without allocating: the names are kept
/// lowercased and grouped by length, and a candidate is compared byte by byte. Header rewriting
/// checks every header of every message against a few such sets, so `lowercased()` plus hashing
/// per header would be a large part of the proxy's per-request cost.
struct HeaderNameSet: Sendable {
    private let byLength: [Int: [[UInt8]]]

    init<Names: Sequence>(_ names: Names) where Names.Element == String {
        var byLength: [Int: [[UInt8]]] = [:]
        for name in Set(names.map { $0.lowercased() }) {
            byLength[name.utf8.count, default: []].append(Array(name.utf8))
        }
        self.byLength = byLength
    }

    var isEmpty: Bool { byLength.isEmpty }

    func contains(_ name: String) -> Bool {
        contains(bytes: name.utf8)
    }

    /// Whether a name given as its bytes (any case) is in the set: the I/O core's fields are
    /// views into its input, never strings.
    func contains<Name: Collection<UInt8>>(bytes name: Name) -> Bool {
        guard let candidates = byLength[name.count] else { return false }
        for candidate in candidates where Self.equalsIgnoringCase(name, candidate) { return true }
        return false
    }

    private static func equalsIgnoringCase<Name: Collection<UInt8>>(_ name: Name, _ lowercased: [UInt8]) -> Bool {
        var index = 0
        for byte in name {
            let folded = byte >= 0x41 && byte <= 0x5A ? byte | 0x20 : byte
            if folded != lowercased[index] { return false }
            index += 1
        }
        return true
    }
}

extension HeaderNameSet: ExpressibleByArrayLiteral {
    init(arrayLiteral elements: String...) {
        self.init(elements)
    }
}
