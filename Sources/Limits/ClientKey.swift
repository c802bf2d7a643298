/// A client address as a limit key: 16 bytes, no allocation, cheap to hash and compare.
///
/// IPv4 addresses are kept in their IPv4-mapped IPv6 form (`::ffff:a.b.c.d`), so one
/// fixed-width slot holds either family and the two can never collide. IPv6 clients
/// usually get a whole /64 from their provider, so a zone can aggregate IPv6 keys by /64
/// (``aggregated(ipv6PrefixLength64:)``); otherwise one client could dodge a per-address
/// limit by rotating through 2^64 addresses.
public struct ClientKey: Hashable, Sendable, CustomStringConvertible {
    /// The upper 64 bits of the IPv6 (or IPv4-mapped) address.
    public let high: UInt64
    /// The lower 64 bits of the IPv6 (or IPv4-mapped) address.
    public let low: UInt64

    @usableFromInline
    static let ipv4MappedHigh: UInt64 = 0
    @usableFromInline
    static let ipv4MappedLowPrefix: UInt64 = 0x0000_FFFF_0000_0000

    /// The key of an IPv4 address given as a host-order integer (`0x7F00_0001` is 127.0.0.1).
    @inlinable
    public init(ipv4 address: UInt32) {
        self.high = Self.ipv4MappedHigh
        self.low = Self.ipv4MappedLowPrefix | UInt64(address)
    }

    /// The key of an IPv6 address given as two host-order halves.
    ///
    /// IPv4-mapped addresses (`::ffff:a.b.c.d`) are the same key as the IPv4 address, which
    /// is what a dual-stack socket reports for IPv4 clients.
    @inlinable
    public init(ipv6High high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
    }

    /// The key of an address in network byte order: 4 bytes (IPv4) or 16 bytes (IPv6).
    ///
    /// - Returns: `nil` when `bytes` has another length.
    public init?<Bytes: Collection>(networkOrderBytes bytes: Bytes) where Bytes.Element == UInt8 {
        switch bytes.count {
        case 4:
            self.init(ipv4: bytes.reduce(UInt32(0)) { $0 << 8 | UInt32($1) })
        case 16:
            var high: UInt64 = 0
            var low: UInt64 = 0
            for (index, byte) in bytes.enumerated() {
                if index < 8 { high = high << 8 | UInt64(byte) } else { low = low << 8 | UInt64(byte) }
            }
            self.init(ipv6High: high, low: low)
        default:
            return nil
        }
    }

    /// Whether this key is an IPv4 address.
    @inlinable
    public var isIPv4: Bool {
        high == Self.ipv4MappedHigh && low & 0xFFFF_FFFF_0000_0000 == Self.ipv4MappedLowPrefix
    }

    /// This key with an IPv6 address reduced to its /64 network when `ipv6PrefixLength64` is set;
    /// IPv4 keys are returned unchanged.
    @inlinable
    public func aggregated(ipv6PrefixLength64: Bool) -> ClientKey {
        guard ipv6PrefixLength64, !isIPv4 else { return self }
        return ClientKey(ipv6High: high, low: 0)
    }

    /// The address in its usual text form (`192.0.2.1`, `2001:db8::1`).
    public var description: String {
        if isIPv4 {
            let v4 = UInt32(truncatingIfNeeded: low)
            return "\(v4 >> 24).\(v4 >> 16 & 0xFF).\(v4 >> 8 & 0xFF).\(v4 & 0xFF)"
        }
        let groups = (0..<8).map { index -> UInt16 in
            let word = index < 4 ? high : low
            return UInt16(truncatingIfNeeded: word >> (48 - 16 * UInt64(index % 4)))
        }
        // RFC 5952: compress the longest run (length >= 2) of zero groups, the first one on ties.
        var bestStart = -1
        var bestLength = 0
        var index = 0
        while index < 8 {
            if groups[index] == 0 {
                var end = index
                while end < 8, groups[end] == 0 { end += 1 }
                if end - index > bestLength, end - index >= 2 {
                    bestStart = index
                    bestLength = end - index
                }
                index = end
            } else {
                index += 1
            }
        }
        func hex(_ range: Range<Int>) -> String {
            groups[range].map { String($0, radix: 16) }.joined(separator: ":")
        }
        if bestStart < 0 { return hex(0..<8) }
        return hex(0..<bestStart) + "::" + hex((bestStart + bestLength)..<8)
    }
}

extension ClientKey {
    /// Parses an IPv4 (`192.0.2.1`) or IPv6 (`2001:db8::1`, `::ffff:192.0.2.1`, `[::1]`,
    /// `fe80::1%eth0`) address.
    ///
    /// Only the strict forms are accepted: no leading zeros in IPv4 parts (they are octal to
    /// some parsers), no ports, no host names. The parser exists because `X-Forwarded-For`
    /// entries arrive as text and must never be trusted to be well formed.
    /// - Returns: `nil` for anything that is not exactly one address.
    public init?(parsing text: Substring) {
        var text = text
        if text.first == "[" {
            guard text.last == "]" else { return nil }
            text = text.dropFirst().dropLast()
        }
        if let percent = text.firstIndex(of: "%") {
            guard text.contains(":"), percent != text.index(before: text.endIndex) else { return nil }
            text = text[..<percent]
        }
        if text.contains(":") {
            guard let (high, low) = Self.parseIPv6(text) else { return nil }
            self.init(ipv6High: high, low: low)
        } else {
            guard let v4 = Self.parseIPv4(text) else { return nil }
            self.init(ipv4: v4)
        }
    }

    /// Parses an address; see ``init(parsing:)-(Substring)``.
    public init?(parsing text: String) {
        self.init(parsing: Substring(text))
    }

    static func parseIPv4(_ text: Substring) -> UInt32? {
        var result: UInt32 = 0
        var parts = 0
        for part in text.split(separator: ".", omittingEmptySubsequences: false) {
            guard !part.isEmpty, part.count <= 3, part.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }),
                part.count == 1 || part.first != "0", let value = UInt32(part), value <= 255
            else { return nil }
            result = result << 8 | value
            parts += 1
        }
        return parts == 4 ? result : nil
    }

    static func parseIPv6(_ text: Substring) -> (UInt64, UInt64)? {
        // Split around "::" (at most once), then parse each side's groups.
        var head: [UInt16] = []
        var tail: [UInt16] = []
        let compressed: Bool
        if let range = text.firstRange(of: "::") {
            compressed = true
            guard text[range.upperBound...].firstRange(of: "::") == nil,
                let left = parseGroups(text[..<range.lowerBound], allowIPv4Tail: false),
                let right = parseGroups(text[range.upperBound...], allowIPv4Tail: true)
            else { return nil }
            head = left
            tail = right
        } else {
            compressed = false
            guard let all = parseGroups(text, allowIPv4Tail: true) else { return nil }
            head = all
        }
        let explicit = head.count + tail.count
        if compressed ? explicit > 7 : explicit != 8 { return nil }
        let groups = head + Array(repeating: 0, count: 8 - explicit) + tail
        var high: UInt64 = 0
        var low: UInt64 = 0
        for (index, group) in groups.enumerated() {
            if index < 4 { high = high << 16 | UInt64(group) } else { low = low << 16 | UInt64(group) }
        }
        return (high, low)
    }

    private static func parseGroups(_ text: Substring, allowIPv4Tail: Bool) -> [UInt16]? {
        if text.isEmpty { return [] }
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        var groups: [UInt16] = []
        for (index, part) in parts.enumerated() {
            if index == parts.count - 1, allowIPv4Tail, part.contains(".") {
                guard let v4 = parseIPv4(part) else { return nil }
                groups.append(UInt16(v4 >> 16))
                groups.append(UInt16(v4 & 0xFFFF))
                continue
            }
            guard !part.isEmpty, part.count <= 4, part.utf8.allSatisfy(\.isASCIIHexDigit),
                let value = UInt16(part, radix: 16)
            else { return nil }
            groups.append(value)
        }
        return groups
    }
}

extension UInt8 {
    fileprivate var isASCIIHexDigit: Bool {
        (0x30...0x39).contains(self) || (0x41...0x46).contains(self) || (0x61...0x66).contains(self)
    }
}
