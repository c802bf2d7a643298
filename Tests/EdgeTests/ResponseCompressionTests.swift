import EdgeRules
import Testing

/// The gzip rules both I/O shells share: the client's `Accept-Encoding` (RFC 9110 §12.5.3),
/// which responses qualify (nginx's gzip rules), and the deflate window per body length.
@Suite("Response compression rules")
struct ResponseCompressionTests {
    static func allowsGzip(_ fields: [String]) -> Bool {
        var accept = AcceptEncoding()
        for field in fields {
            var field = field
            field.withUTF8 { accept.add(UnsafeRawBufferPointer($0)) }
        }
        return accept.allowsGzip
    }

    @Test(arguments: [
        "gzip", "gzip, deflate, br", "br;q=1.0, gzip;q=0.8", "*", "x-gzip", "GZip", "deflate, *;q=0.1", "gzip ; q=1",
        "gzip;q=0.001", "identity;q=0, gzip", "gzip;level=9",
    ])
    func takesGzip(_ value: String) {
        #expect(Self.allowsGzip([value]), "\(value)")
    }

    @Test(arguments: [
        "", "deflate", "br, identity", "gzip;q=0", "gzip;q=0.000", "gzip; q=0, *", "*;q=0", "gzip;q=2", "gzip;q=0.5x",
        "gzip;q", "gzipped", "nogzip",
    ])
    func refusesGzip(_ value: String) {
        #expect(!Self.allowsGzip([value]), "\(value)")
    }

    @Test func severalFieldsAreOneList() {
        #expect(Self.allowsGzip(["br", "gzip"]))
        #expect(!Self.allowsGzip(["*", "gzip;q=0"]), "an explicit refusal wins over *")
        #expect(!Self.allowsGzip([]), "no Accept-Encoding: no compression")
    }

    static func eligible(status: Int = 200, isHEAD: Bool = false, length: Int = -1, encoded: Bool = false, type: String = "text/html")
        -> Bool
    {
        var type = type
        let compressible = type.withUTF8 { ResponseCompression.isCompressibleType(UnsafeRawBufferPointer($0)) }
        return ResponseCompression.eligible(
            status: status, isHEAD: isHEAD, contentLength: length, contentEncoded: encoded, compressibleType: compressible)
    }

    @Test func textWithABodyQualifies() {
        #expect(Self.eligible())
        #expect(Self.eligible(length: 20))
        #expect(Self.eligible(status: 404, type: "application/json"))
        for type in ["Text/Plain; charset=utf-8", " application/problem+json", "image/svg+xml", "application/atom+xml", "application/javascript"] {
            #expect(Self.eligible(type: type), "\(type)")
        }
    }

    @Test func whatCannotOrNeedNotBeCompressedDoesNot() {
        #expect(!Self.eligible(length: 19), "under gzip_min_length")
        #expect(!Self.eligible(length: 0))
        #expect(!Self.eligible(status: 206), "a range counts identity bytes")
        #expect(!Self.eligible(status: 204))
        #expect(!Self.eligible(status: 304))
        #expect(!Self.eligible(status: 101))
        #expect(!Self.eligible(isHEAD: true))
        #expect(!Self.eligible(encoded: true))
        for type in ["image/png", "application/octet-stream", "application/gzip", "", "textual/plain", "application/jsonx"] {
            #expect(!Self.eligible(type: type), "\(type)")
        }
    }

    @Test func smallKnownBodiesGetSmallerWindowsAsNginxPicksThem() {
        #expect(ResponseCompression.window(forLength: -1) == (15, 8))
        #expect(ResponseCompression.window(forLength: 20_000) == (15, 8))
        #expect(ResponseCompression.window(forLength: 10_000) == (14, 7))
        #expect(ResponseCompression.window(forLength: 3_000) == (12, 5))
        #expect(ResponseCompression.window(forLength: 20) == (9, 2))
    }
}
