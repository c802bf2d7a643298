import Testing

@testable import Edge

@Suite("Path guard")
struct PathGuardTests {
    @Test(arguments: [
        "/.env", "/.git/config", "/app/.git/HEAD", "/.htaccess", "/a/../b", "/..", "/index.html~", "/a~", "/dir/file.bak~",
        "/%2eenv", "/%2Egit/config", "/a/%2e%2e/b", "/index.html%7e", "/index.html%7E", "/.well-knownx/y", "/.well-known/../.env",
        "/.well-known/.hidden", "/a\\..\\b", "/.", "/a/.",
    ])
    func forbidsHiddenFilesDotSegmentsAndBackups(target: String) {
        #expect(PathGuard.isForbidden(Substring(target)), "\(target)")
    }

    @Test(arguments: [
        "/", "/index.html", "/api/v1/users", "/files/report.v2.pdf", "/a.b/c", "/.well-known/acme-challenge/token",
        "/.well-known", "/.well-known/", "/search?q=/.env", "/search?backup=file~", "/a?x=%2e", "/%41bc", "/a%20b",
        "/a#~",
    ])
    func allowsOrdinaryPathsWellKnownAndAnythingInTheQuery(target: String) {
        #expect(!PathGuard.isForbidden(Substring(target)), "\(target)")
    }

    @Test func percentDecodingKeepsMalformedEscapes() {
        #expect(PathGuard.percentDecoded("/a%2") == "/a%2")
        #expect(PathGuard.percentDecoded("/a%zz") == "/a%zz")
        #expect(PathGuard.percentDecoded("/%2e%2E") == "/..")
    }
}
