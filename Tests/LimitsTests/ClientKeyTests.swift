import Limits
import Testing

@Suite("Client keys")
struct ClientKeyTests {
    @Test(arguments: [
        ("192.0.2.1", "192.0.2.1"), ("0.0.0.0", "0.0.0.0"), ("255.255.255.255", "255.255.255.255"),
        ("::1", "::1"), ("[::1]", "::1"), ("2001:db8::1", "2001:db8::1"), ("2001:DB8:0:0:1:0:0:1", "2001:db8::1:0:0:1"),
        ("fe80::1%eth0", "fe80::1"), ("::", "::"), ("1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8"),
        ("::ffff:192.0.2.1", "192.0.2.1"), ("64:ff9b::192.0.2.33", "64:ff9b::c000:221"),
    ])
    func parsesAndPrintsAddresses(text: String, printed: String) throws {
        let key = try #require(ClientKey(parsing: text))
        #expect(key.description == printed)
    }

    @Test(arguments: [
        "", "1.2.3", "1.2.3.4.5", "256.0.0.1", "01.2.3.4", "1.2.3.4:80", "a.b.c.d", " 1.2.3.4", "1:2:3:4:5:6:7:8:9",
        "1::2::3", ":::", "12345::", "g::1", "+1::", "[::1", "::1]", "example.com", "1:2:3:4:5:6:7", "%eth0", "1.2.3.4%x",
    ])
    func refusesAnythingThatIsNotExactlyOneAddress(text: String) {
        #expect(ClientKey(parsing: text) == nil)
    }

    @Test func ipv4MappedIPv6IsTheSameClientAsIPv4() {
        #expect(ClientKey(parsing: "::ffff:10.0.0.1") == ClientKey(parsing: "10.0.0.1"))
        #expect(ClientKey(parsing: "10.0.0.1")!.isIPv4)
        #expect(!ClientKey(parsing: "::1")!.isIPv4)
    }

    @Test func networkOrderBytesMatchTheTextForm() {
        #expect(ClientKey(networkOrderBytes: [192, 0, 2, 1]) == ClientKey(parsing: "192.0.2.1"))
        let v6: [UInt8] = [0x20, 0x01, 0x0d, 0xb8] + Array(repeating: 0, count: 11) + [1]
        #expect(ClientKey(networkOrderBytes: v6) == ClientKey(parsing: "2001:db8::1"))
        #expect(ClientKey(networkOrderBytes: [1, 2, 3]) == nil)
    }

    @Test func aggregationKeepsOnlyTheSlash64OfIPv6() {
        let key = ClientKey(parsing: "2001:db8:aa:bb:1:2:3:4")!
        #expect(key.aggregated(ipv6PrefixLength64: true).description == "2001:db8:aa:bb::")
        #expect(key.aggregated(ipv6PrefixLength64: false) == key)
        let v4 = ClientKey(parsing: "192.0.2.1")!
        #expect(v4.aggregated(ipv6PrefixLength64: true) == v4)
    }
}
