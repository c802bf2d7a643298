import Foundation
import ServerSupport
import Testing

@Suite("JSON string escaping")
struct JSONStringTests {
    private func escaped(_ value: String) -> String {
        var text = ""
        appendJSONString(value, to: &text)
        return text
    }

    @Test func plainTextIsOnlyQuoted() {
        #expect(escaped("") == #""""#)
        #expect(escaped("GET /api/racks") == #""GET /api/racks""#)
    }

    @Test func quotesAndBackslashesAreEscaped() {
        #expect(escaped(#"say "hi""#) == #""say \"hi\"""#)
        #expect(escaped(#"C:\dir\"#) == #""C:\\dir\\""#)
        #expect(escaped(#"\""#) == #""\\\"""#)
    }

    @Test func lineBreaksAndTabsUseTheirShortEscapes() {
        #expect(escaped("a\nb\rc\td") == #""a\nb\rc\td""#)
    }

    @Test func otherControlCharactersAndDELAreHexEscapes() {
        #expect(escaped("\u{0}") == #""\u0000""#)
        #expect(escaped("\u{1}\u{8}\u{C}\u{1B}\u{1F}") == #""\u0001\u0008\u000c\u001b\u001f""#)
        #expect(escaped("\u{7F}") == #""\u007f""#)
        // The first printable character and the one after DEL stand as they are.
        #expect(escaped(" ~\u{80}") == "\" ~\u{80}\"")
    }

    @Test func nonASCIIIsKeptAsItIs() {
        let text = "Zürich 東京 🚀 e\u{301}"
        #expect(escaped(text) == "\"\(text)\"")
    }

    /// An escaped character followed by a combining mark forms one `Character` with it; the
    /// run after the escape must start at the mark, not be rounded back to the quote.
    @Test func anEscapeBeforeACombiningMarkIsWrittenOnce() {
        // Compared as bytes: `String`'s `==` is canonical equivalence.
        #expect(Array(escaped("\"\u{301}x").utf8) == Array("\"\\\"\u{301}x\"".utf8))
        #expect(Array(escaped("\n\u{20DD}").utf8) == Array("\"\\n\u{20DD}\"".utf8))
    }

    @Test func appendsToWhatTheStringAlreadyHolds() {
        var line = #"{"message":"#
        appendJSONString("a\"b", to: &line)
        line += "}"
        #expect(line == #"{"message":"a\"b"}"#)
    }

    /// Every scalar from U+0000 to U+00FF, plus some beyond, reads back unchanged through a
    /// JSON parser, so the output is valid JSON whatever the input.
    @Test func everyLatin1ScalarRoundTripsThroughAJSONParser() throws {
        var scalars = String.UnicodeScalarView()
        for value in 0...0xFF { scalars.append(Unicode.Scalar(UInt8(value))) }
        let text = String(scalars) + "\u{2028}\u{FFFF}😀"
        var line = "["
        appendJSONString(text, to: &line)
        line += "]"
        let parsed = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String]
        #expect(parsed == [text])
    }
}
