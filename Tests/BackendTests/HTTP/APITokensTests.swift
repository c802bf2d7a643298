import Backend
import Testing

@Suite("HTTP: API tokens")
struct APITokensTests {
    @Test func plainTokensAndDigestsAreBothAccepted() throws {
        let tokens = try APITokens(entries: ["plain-one", APITokens.digestEntry(for: "hashed-two"), "  ", ""])
        #expect(!tokens.isEmpty)
        #expect(tokens.accepts("plain-one"))
        #expect(tokens.accepts("hashed-two"))
        #expect(!tokens.accepts("plain-two"))
        #expect(!tokens.accepts(""))
        // The digest itself is not a token.
        #expect(!tokens.accepts(APITokens.digestEntry(for: "hashed-two")))
    }

    @Test func digestEntriesAreSHA256InLowercaseHex() {
        // sha256("abc")
        #expect(
            APITokens.digestEntry(for: "abc")
                == "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    }

    @Test func uppercaseDigestsAreAccepted() throws {
        let entry = "sha256:" + APITokens.digestEntry(for: "abc").dropFirst(7).uppercased()
        #expect(try APITokens(entries: [entry]).accepts("abc"))
    }

    @Test(arguments: [
        "sha256:abc",
        "sha256:" + String(repeating: "g", count: 64),
        // A sign is not a hex digit, though Int parsing would take it.
        "sha256:+a" + String(repeating: "0", count: 62),
        "sha256:-0" + String(repeating: "0", count: 62),
        "sha256:" + String(repeating: "0", count: 66),
    ])
    func malformedDigestsAreRefused(entry: String) {
        #expect(throws: APITokens.InvalidEntry.self) { try APITokens(entries: [entry]) }
    }

    @Test func noEntriesMeansNoTokens() throws {
        #expect(try APITokens(entries: []).isEmpty)
        #expect(try APITokens(entries: [" ", ""]).isEmpty)
    }
}
