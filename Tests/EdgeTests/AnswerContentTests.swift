import Testing

@testable import Edge

@Suite("Answer content")
struct AnswerContentTests {
    typealias Field = AnswerContent.Field

    @Test func eachLocalAnswerHasItsStatusFieldsAndBody() {
        var limits = LimitsConfig()
        limits.rateLimitStatus = 503
        limits.connectionLimitStatus = 429
        let redirect = { (status: 308, location: "https://a.example/x") }
        let cases: [(LocalAnswer, AnswerContent)] = [
            (.connectionLimited, .init(status: 429, fields: [Field(name: "Content-Type", value: "application/json")],
                body: .envelope(code: "TOO_MANY_CONNECTIONS", message: "too many connections from this address"))),
            (.badRequest("why"), .error(400, "why")),
            (.forbidden, .error(403, "forbidden")),
            (.payloadTooLarge, .error(413, "request body too large")),
            (.notFound, .init(status: 404, fields: [Field(name: "Content-Type", value: "application/json")],
                body: .envelope(code: "RESOURCE_NOT_FOUND", message: "no route for this path"))),
            (.rateLimited(retryAfter: .milliseconds(1500)), .init(status: 503,
                fields: [Field(name: "Content-Type", value: "application/json"), Field(name: "Retry-After", value: "2")],
                body: .envelope(code: "RATE_LIMITED", message: "rate limit exceeded"))),
            (.methodNotAllowed(allow: "GET, HEAD", message: "only reads"), .init(status: 405,
                fields: [Field(name: "Content-Type", value: "application/json"), Field(name: "Allow", value: "GET, HEAD")],
                body: .envelope(code: "METHOD_NOT_ALLOWED", message: "only reads"))),
            (.httpsRedirect, .init(status: 308, fields: [Field(name: "Location", value: "https://a.example/x")], body: .text(""))),
            (.respond(status: 418, body: "tea", contentType: "text/plain"),
             .init(status: 418, fields: [Field(name: "Content-Type", value: "text/plain")], body: .text("tea"))),
            (.redirect(location: "https://b.example/", status: 302),
             .init(status: 302, fields: [Field(name: "Location", value: "https://b.example/")], body: .text(""))),
        ]
        for (answer, content) in cases {
            #expect(AnswerContent(answer, limits: limits, httpsRedirect: redirect) == content, "\(answer)")
        }
    }

    @Test(arguments: [
        (Duration.zero, "1"), (.milliseconds(1), "1"), (.milliseconds(999), "1"), (.seconds(1), "1"),
        (.seconds(1) + .nanoseconds(1), "2"), (.milliseconds(2500), "3"), (.seconds(59) + .milliseconds(1), "60"),
        (.seconds(60), "60"),
    ])
    func rateLimitedRetryAfterRoundsUpToWholeSeconds(wait: Duration, expected: String) {
        var limits = LimitsConfig()
        limits.rateLimitStatus = 429
        let content = AnswerContent(.rateLimited(retryAfter: wait), limits: limits)
        #expect(content.status == 429)
        #expect(content.fields.first { $0.name == "Retry-After" }?.value == expected, "\(wait)")
    }

    @Test func retryAfterIsTheWaitInWholeSecondsRoundedUpAndAtLeastOne() {
        #expect(AnswerContent.retryAfterSeconds(.zero) == 1)
        #expect(AnswerContent.retryAfterSeconds(.milliseconds(1)) == 1)
        #expect(AnswerContent.retryAfterSeconds(.seconds(1)) == 1)
        #expect(AnswerContent.retryAfterSeconds(.nanoseconds(1_000_000_001)) == 2)
        #expect(AnswerContent.retryAfterSeconds(.seconds(59)) == 59)
    }
}
