/// Where a value sits in the configuration, printed as `routes[2].rate_limit.zone`.
///
/// Problems name the key path as well as the line, because a line alone is ambiguous in a flow
/// mapping (`{zone: api, burst: 10}`) and the path is what `docs/CONFIG.md` is indexed by.
struct ConfigKeyPath: Hashable, Sendable, CustomStringConvertible {
    private enum Component: Hashable, Sendable {
        case key(String)
        case index(Int)
    }

    private var components: [Component] = []

    /// The document root (prints as the empty string).
    static let root = ConfigKeyPath()

    /// This path followed by a mapping key.
    func appending(_ key: String) -> ConfigKeyPath {
        var path = self
        path.components.append(.key(key))
        return path
    }

    /// This path followed by a list index (from 0).
    func appending(index: Int) -> ConfigKeyPath {
        var path = self
        path.components.append(.index(index))
        return path
    }

    var description: String {
        var text = ""
        for component in components {
            switch component {
            case .index(let index):
                text += "[\(index)]"
            case .key(let key):
                // User-chosen names (header names, zone names) may hold dots; quote those so the
                // path stays unambiguous.
                if !key.isEmpty, key.utf8.allSatisfy({ Self.plainKeyBytes.contains($0) }) {
                    text += text.isEmpty ? key : ".\(key)"
                } else {
                    text += "[\"\(key)\"]"
                }
            }
        }
        return text
    }

    private static let plainKeyBytes = Set(
        Array(UInt8(ascii: "a")...UInt8(ascii: "z")) + Array(UInt8(ascii: "A")...UInt8(ascii: "Z"))
            + Array(UInt8(ascii: "0")...UInt8(ascii: "9")) + [UInt8(ascii: "_"), UInt8(ascii: "-")]
    )
}
