/// A set of header names matched ASCII-case-insensitively without allocating, hashing or
/// reference counting: the names are kept lowercased in one byte array, ordered by length, with
/// a table from a length to its names, and a candidate is compared byte by byte with the few
/// names of its length. Header rewriting checks every field of every message against a few such
/// sets (a dictionary keyed by length cost a hash per field, about 1 % of the edge's CPU).
struct HeaderNameSet: Sendable {
    /// The lowercased names, shortest first, back to back.
    private let bytes: [UInt8]
    /// For a length `n`: the names of that length start at `starts[n]` in `bytes` and end at
    /// `starts[n + 1]` (all names of length `n` back to back).
    private let starts: [Int]

    init<Names: Sequence>(_ names: Names) where Names.Element == String {
        let unique = Set(names.map { $0.lowercased() }).map { Array($0.utf8) }.sorted { $0.count < $1.count }
        let longest = unique.last?.count ?? 0
        var bytes: [UInt8] = []
        var starts = [Int](repeating: 0, count: longest + 2)
        var next = 0
        for length in 0...longest {
            starts[length] = bytes.count
            while next < unique.count, unique[next].count == length {
                bytes += unique[next]
                next += 1
            }
        }
        starts[longest + 1] = bytes.count
        self.bytes = bytes
        self.starts = starts
    }

    var isEmpty: Bool { bytes.isEmpty }

    func contains(_ name: String) -> Bool {
        contains(bytes: name.utf8)
    }

    /// Whether a name given as its bytes (any case) is in the set: the I/O core's fields are
    /// views into its input, never strings.
    func contains<Name: Collection<UInt8>>(bytes name: Name) -> Bool {
        let length = name.count
        guard length > 0, length + 1 < starts.count else { return false }
        var offset = starts[length]
        let end = starts[length + 1]
        while offset < end {
            if Self.equalsIgnoringCase(name, bytes, at: offset) { return true }
            offset += length
        }
        return false
    }

    @inline(__always)
    private static func equalsIgnoringCase<Name: Collection<UInt8>>(_ name: Name, _ lowercased: [UInt8], at offset: Int) -> Bool {
        var index = offset
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
