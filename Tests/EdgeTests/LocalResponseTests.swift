import Foundation
import NIOCore
import NIOHTTP1
import Testing

@testable import Edge

@Suite("Local responses")
struct LocalResponseTests {
    static let decorations = ResponseDecorations(headers: HeadersConfig.homerack.add, cacheControl: nil)

    /// A rate-limited answer as the edge writes it, with `status` configured.
    func rateLimited(status: Int, retryAfter: Duration) -> LocalResponse {
        var limits = LimitsConfig()
        limits.rateLimitStatus = status
        return LocalResponse(AnswerContent(.rateLimited(retryAfter: retryAfter), limits: limits))
    }

    @Test(arguments: [
        (Duration.zero, "1"), (.milliseconds(1), "1"), (.milliseconds(999), "1"), (.seconds(1), "1"),
        (.seconds(1) + .nanoseconds(1), "2"), (.milliseconds(2500), "3"), (.seconds(59) + .milliseconds(1), "60"),
        (.seconds(60), "60"),
    ])
    func rateLimitedRetryAfterRoundsUpToWholeSeconds(wait: Duration, expected: String) {
        let response = rateLimited(status: 429, retryAfter: wait)
        #expect(response.headers["Retry-After"] == [expected], "\(wait)")
    }

    @Test func rateLimitedUsesTheConfiguredStatus() {
        #expect(rateLimited(status: 429, retryAfter: .seconds(1)).status == .tooManyRequests)
        #expect(rateLimited(status: 503, retryAfter: .seconds(1)).status == .serviceUnavailable)
    }

    @Test func partsCarryLengthSecurityHeadersAndRequestID() {
        let (head, body) = LocalResponse.notFound.parts(
            decorations: Self.decorations, requestID: "abc", keepAlive: true, allocator: ByteBufferAllocator())
        #expect(head.status == .notFound)
        #expect(head.headers["Content-Length"] == [String(body.readableBytes)])
        #expect(head.headers["Content-Type"] == ["application/json"])
        #expect(head.headers["X-Request-ID"] == ["abc"])
        #expect(!head.headers.contains(name: "Connection"))
        #expect(!head.headers.contains(name: "Server"))
        for (name, value) in HeadersConfig.homerack.add { #expect(head.headers[name] == [value], "\(name)") }
        #expect(
            String(buffer: body)
                == "{\"detail\":\"no route for this path\",\"error\":{\"code\":\"RESOURCE_NOT_FOUND\",\"message\":\"no route for this path\",\"request_id\":\"abc\"}}\n"
        )
    }

    @Test func closingPartsSayConnectionClose() {
        let (head, _) = LocalResponse.payloadTooLarge.parts(
            decorations: Self.decorations, requestID: "abc", keepAlive: false, allocator: ByteBufferAllocator())
        #expect(head.headers["Connection"] == ["close"])
    }

    @Test func serializedResponseIsACompleteHTTPMessage() {
        let buffer = LocalResponse.requestTimeout.serialized(decorations: Self.decorations, requestID: "abc", allocator: ByteBufferAllocator())
        let text = String(buffer: buffer)
        #expect(text.hasPrefix("HTTP/1.1 408 Request Timeout\r\n"))
        let parts = text.components(separatedBy: "\r\n\r\n")
        #expect(parts.count == 2)
        let lengthLine = parts[0].split(separator: "\r\n").first { $0.lowercased().hasPrefix("content-length:") }
        #expect(lengthLine.map { Int($0.split(separator: ":")[1].trimmingCharacters(in: .whitespaces)) } == parts[1].utf8.count)
        #expect(parts[0].lowercased().contains("connection: close"))
    }
}

/// What each of the edge's own answers says, decided by the engine for every shell.
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

    @Test func retryAfterIsTheWaitInWholeSecondsRoundedUpAndAtLeastOne() {
        #expect(AnswerContent.retryAfterSeconds(.zero) == 1)
        #expect(AnswerContent.retryAfterSeconds(.milliseconds(1)) == 1)
        #expect(AnswerContent.retryAfterSeconds(.seconds(1)) == 1)
        #expect(AnswerContent.retryAfterSeconds(.nanoseconds(1_000_000_001)) == 2)
        #expect(AnswerContent.retryAfterSeconds(.seconds(59)) == 59)
    }
}
