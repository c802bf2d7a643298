import Limits
import Testing

@testable import Edge

@Suite("Client address")
struct ClientAddressTests {
    let trusted = [CIDR(parsing: "10.0.0.0/8")!, CIDR(parsing: "::1/128")!]
    let proxy = ClientKey(parsing: "10.0.0.1")!

    func resolve(peer: ClientKey, _ headers: [String], trusted: [CIDR]? = nil) -> String {
        ClientAddress.resolve(peer: peer, forwardedFor: headers.map { Substring($0) }, trusted: trusted ?? self.trusted).description
    }

    @Test func untrustedPeerIgnoresForwardedFor() {
        let peer = ClientKey(parsing: "203.0.113.9")!
        #expect(resolve(peer: peer, ["198.51.100.1"]) == "203.0.113.9")
        #expect(resolve(peer: peer, ["10.0.0.2"]) == "203.0.113.9")
    }

    @Test func noTrustedProxiesIgnoresForwardedFor() {
        #expect(resolve(peer: proxy, ["198.51.100.1"], trusted: []) == "10.0.0.1")
    }

    @Test func trustedPeerTakesTheRightmostUntrustedEntry() {
        #expect(resolve(peer: proxy, ["198.51.100.1"]) == "198.51.100.1")
        #expect(resolve(peer: proxy, ["6.6.6.6, 198.51.100.1"]) == "198.51.100.1", "a forged entry to the left is not believed")
    }

    @Test func trustedHopsAreSkippedRightToLeft() {
        #expect(resolve(peer: proxy, ["6.6.6.6, 198.51.100.1, 10.1.1.1, 10.2.2.2"]) == "198.51.100.1")
        #expect(resolve(peer: proxy, ["6.6.6.6", "198.51.100.1, 10.1.1.1", "10.2.2.2"]) == "198.51.100.1", "several header lines read as one list")
    }

    @Test func allTrustedChainGivesTheLeftmostEntry() {
        #expect(resolve(peer: proxy, ["10.3.3.3, 10.2.2.2"]) == "10.3.3.3")
    }

    @Test func garbageEntryStopsAtTheLastAddressVouchedFor() {
        #expect(resolve(peer: proxy, ["198.51.100.1, not-an-ip, 10.2.2.2"]) == "10.2.2.2")
        #expect(resolve(peer: proxy, ["198.51.100.1, unknown"]) == "10.0.0.1")
        #expect(resolve(peer: proxy, ["198.51.100.1, 203.0.113.5:443"]) == "10.0.0.1", "an address with a port is not an address")
    }

    @Test func emptyOrMissingHeaderGivesThePeer() {
        #expect(resolve(peer: proxy, []) == "10.0.0.1")
    }

    @Test func spacesAroundEntriesAndIPv6AreUnderstood() {
        #expect(resolve(peer: proxy, ["  2001:db8::7 ,\t10.9.9.9 "]) == ClientKey(parsing: "2001:db8::7")!.description)
        #expect(resolve(peer: ClientKey(parsing: "::1")!, ["198.51.100.4"]) == "198.51.100.4")
    }
}
