import Limits

/// Works out the real client address of a request, as nginx's `real_ip` module with
/// `real_ip_recursive on`: `X-Forwarded-For` is believed only when the connection comes from a
/// trusted proxy, and is read right to left, skipping trusted hops, so the first untrusted
/// address is the client. A client cannot forge its way in by sending its own header: the
/// entries it wrote are to the left of the ones the trusted proxies appended.
enum ClientAddress {
    /// - Parameters:
    ///   - peer: the TCP peer's address.
    ///   - forwardedFor: every `X-Forwarded-For` header value, in order.
    ///   - trusted: the trusted proxy ranges.
    /// - Returns: the client address to key limits and logs by.
    static func resolve(peer: ClientKey, forwardedFor: [Substring], trusted: [CIDR]) -> ClientKey {
        guard !trusted.isEmpty, isTrusted(peer, trusted) else { return peer }
        var client = peer
        for header in forwardedFor.reversed() {
            for entry in header.split(separator: ",").reversed() {
                let text = entry.trimmingSpaces
                guard let address = ClientKey(parsing: text) else {
                    // Garbage in the chain: stop at the last address we could vouch for.
                    return client
                }
                client = address
                if !isTrusted(address, trusted) { return client }
            }
        }
        return client
    }

    static func isTrusted(_ address: ClientKey, _ trusted: [CIDR]) -> Bool {
        trusted.contains { $0.contains(address) }
    }
}

extension Substring {
    /// Without leading and trailing spaces and tabs (HTTP's optional white space).
    var trimmingSpaces: Substring {
        var text = self
        while let first = text.first, first == " " || first == "\t" { text.removeFirst() }
        while let last = text.last, last == " " || last == "\t" { text.removeLast() }
        return text
    }
}
