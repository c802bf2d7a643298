import Crypto
import Foundation

/// The bearer tokens allowed to write, kept only as SHA-256 digests.
///
/// Configuration gives either tokens (hashed at start, the plain text dropped) or digests
/// (`sha256:<64 hex>`, so the secret never sits in a config file). A presented token is hashed
/// and compared with every digest in constant time (no early exit on the first differing byte,
/// none on the first matching digest), so timing reveals neither the token nor which one matched.
public struct APITokens: Sendable, Equatable {
    private let digests: [[UInt8]]

    /// - Parameter entries: plain tokens or `sha256:<hex>` digests; empty entries are ignored.
    /// - Throws: ``InvalidEntry`` for a `sha256:` entry that is not 64 hex digits.
    public init(entries: [String]) throws {
        var digests: [[UInt8]] = []
        for entry in entries.map({ $0.trimmingCharacters(in: .whitespaces) }) where !entry.isEmpty {
            if entry.hasPrefix("sha256:") {
                let hex = entry.dropFirst("sha256:".count)
                guard let bytes = Self.bytes(fromHex: hex), bytes.count == 32 else { throw InvalidEntry() }
                digests.append(bytes)
            } else {
                digests.append(Self.digest(entry))
            }
        }
        self.digests = digests
    }

    public struct InvalidEntry: Error, CustomStringConvertible {
        public var description: String { "API token digests must be written sha256:<64 hex digits>" }
    }

    /// Whether no token is configured (writes stay open).
    public var isEmpty: Bool { digests.isEmpty }

    /// Whether `token` is one of the configured tokens.
    public func accepts(_ token: String) -> Bool {
        let presented = Self.digest(token)
        var matched: UInt8 = 0
        for digest in digests {
            var difference: UInt8 = 0
            for index in 0..<32 { difference |= digest[index] ^ presented[index] }
            matched |= difference == 0 ? 1 : 0
        }
        return matched == 1
    }

    /// `sha256:<hex>` for a token, what an operator writes into the configuration.
    public static func digestEntry(for token: String) -> String {
        "sha256:" + digest(token).map { String(format: "%02x", $0) }.joined()
    }

    static func digest(_ token: String) -> [UInt8] {
        Array(SHA256.hash(data: Data(token.utf8)))
    }

    /// The bytes of a hex string; `nil` unless every character is a hex digit (`UInt8(_:radix:)`
    /// alone would also take a sign, reading `+f` as 15).
    private static func bytes(fromHex hex: Substring) -> [UInt8]? {
        let digits = Array(hex.utf8)
        guard digits.count % 2 == 0 else { return nil }
        func value(_ digit: UInt8) -> UInt8? {
            switch digit {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit - UInt8(ascii: "A") + 10
            default: nil
            }
        }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(digits.count / 2)
        for index in stride(from: 0, to: digits.count, by: 2) {
            guard let high = value(digits[index]), let low = value(digits[index + 1]) else { return nil }
            bytes.append(high << 4 | low)
        }
        return bytes
    }
}
