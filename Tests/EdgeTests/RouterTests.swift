import Testing

@testable import Edge

@Suite("Router")
struct RouterTests {
    let router = Router<String>([
        (prefix: "/", route: "root"), (prefix: "/api/", route: "api"), (prefix: "/api/v2/", route: "v2"),
        (prefix: "/docs", route: "docs"),
    ])

    @Test(arguments: [
        ("/api/v2/users", "v2"), ("/api/v1/users", "api"), ("/api/", "api"), ("/api", "root"), ("/docs", "docs"),
        ("/docs/intro", "docs"), ("/docsx", "docs"), ("/", "root"), ("/index.html", "root"),
    ])
    func longestMatchingPrefixWins(path: String, expected: String) {
        #expect(router.route(for: Substring(path)) == expected)
    }

    @Test func orderOfTheRoutesDoesNotMatter() {
        let reversed = Router<String>([(prefix: "/api/v2/", route: "v2"), (prefix: "/", route: "root"), (prefix: "/api/", route: "api")])
        let forward = Router<String>([(prefix: "/", route: "root"), (prefix: "/api/", route: "api"), (prefix: "/api/v2/", route: "v2")])
        for path in ["/api/v2/x", "/api/x", "/x"] {
            #expect(reversed.route(for: Substring(path)) == forward.route(for: Substring(path)))
        }
    }

    @Test func pathMatchingNoPrefixHasNoRoute() {
        let router = Router<String>([(prefix: "/api/", route: "api"), (prefix: "/static/", route: "static")])
        #expect(router.route(for: "/") == nil)
        #expect(router.route(for: "/ap") == nil)
        #expect(router.route(for: "/API/x") == nil, "prefixes are case-sensitive")
        #expect(Router<String>([]).route(for: "/anything") == nil)
    }
}
