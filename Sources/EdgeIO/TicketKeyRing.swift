/// Session-ticket keys on a schedule, as pure state (the time and the new keys are inputs): the
/// newest key encrypts new tickets, and the `decryptOnly` keys before it still decrypt, so a
/// ticket resumes for at least `decryptOnly` × `rotation` after it was issued and never longer
/// than (`decryptOnly` + 1) × `rotation`. A key that leaks therefore opens at most that window
/// of recorded sessions (forward secrecy for TLS 1.2 tickets, as nginx gets from rotating its
/// `ssl_session_ticket_key` files).
///
/// For keys an edge makes itself. Several edges that must resume each other's tickets share a
/// key file instead (``TLSContext/readTicketKey(path:)``), rotated by whoever writes the file.
public struct TicketKeyRing: Sendable, Equatable {
    /// Milliseconds between new keys.
    public let rotation: UInt64
    /// How many earlier keys still decrypt.
    public let decryptOnly: Int
    /// Newest first: what ``TLSContext/setTicketKeys(_:)`` takes.
    public private(set) var keys: [[UInt8]]
    /// When the next key is due (the clock's milliseconds).
    public private(set) var nextRotation: UInt64

    /// - Parameters:
    ///   - rotation: milliseconds between new keys (at least 1).
    ///   - decryptOnly: earlier keys kept for decryption (0 to 7: OpenSSL's context takes 8).
    ///   - firstKey: the key to start with (48 or 80 bytes).
    ///   - now: the clock's milliseconds.
    public init(rotation: UInt64, decryptOnly: Int, firstKey: [UInt8], now: UInt64) {
        precondition(rotation > 0 && (0...7).contains(decryptOnly), "a ticket key ring needs a rotation and 0-7 older keys")
        self.rotation = rotation
        self.decryptOnly = decryptOnly
        keys = [firstKey]
        nextRotation = now + rotation
    }

    /// Rotates when a new key is due.
    /// - Parameters:
    ///   - now: the clock's milliseconds.
    ///   - newKey: makes the new key (only called when one is due).
    /// - Returns: the keys to install, or `nil` when nothing is due. After a long pause (a
    ///   suspended machine) one new key is made, not one per missed interval.
    public mutating func advance(now: UInt64, newKey: () -> [UInt8]) -> [[UInt8]]? {
        guard now >= nextRotation else { return nil }
        keys.insert(newKey(), at: 0)
        if keys.count > decryptOnly + 1 { keys.removeLast(keys.count - decryptOnly - 1) }
        nextRotation = now + rotation
        return keys
    }
}
