import EdgeRules
import Testing

@testable import Edge

/// The framing of a response's body, for every output, as a table: status x request method x
/// client version x whether the head has a `Content-Length`.
@Suite("Response framing")
struct ResponseFramingTests {
    typealias Body = ResponseFraming.Body

    @Test(arguments: [
        // status, HEAD, CONNECT, Content-Length, HTTP/1.1 -> HTTP/1 body, adds chunked, keeps framing fields, ends by close, HTTP/2 body
        (200, false, false, true, true, Body.identity, false, true, false, Body.identity),
        (200, false, false, false, true, .chunked, true, true, false, .identity),
        (200, false, false, false, false, .identity, false, true, true, .identity),
        (200, false, false, true, false, .identity, false, true, false, .identity),
        (200, true, false, true, true, .none, false, true, false, .none),
        (200, true, false, false, true, .none, true, true, false, .none),
        (200, true, false, false, false, .none, false, true, false, .none),
        (404, false, false, false, true, .chunked, true, true, false, .identity),
        (204, false, false, true, true, .none, false, false, false, .none),
        (304, false, false, false, true, .none, false, false, false, .none),
        (304, true, false, true, false, .none, false, false, false, .none),
        (101, false, false, false, true, .none, false, false, false, .none),
        (103, false, false, false, true, .none, false, false, false, .none),
        (200, false, true, false, true, .none, false, false, false, .none),
        (502, false, false, true, false, .identity, false, true, false, .identity),
    ] as [(Int, Bool, Bool, Bool, Bool, Body, Bool, Bool, Bool, Body)])
    func eachCase(
        status: Int, isHEAD: Bool, isCONNECT: Bool, hasContentLength: Bool, http11: Bool, http1Body: Body, addsChunked: Bool,
        keepsFields: Bool, endsByClose: Bool, http2Body: Body
    ) {
        let framing = ResponseFraming(status: status, isHEAD: isHEAD, isCONNECT: isCONNECT)
        let http1 = framing.http1(hasContentLength: hasContentLength, clientIsHTTP11: http11)
        #expect(http1.body == http1Body)
        #expect(http1.addsChunked == addsChunked)
        #expect(framing.keepsFramingFields == keepsFields)
        #expect(framing.endsByClose(hasContentLength: hasContentLength, clientIsHTTP11: http11) == endsByClose)
        #expect(framing.http2 == http2Body)
    }

    @Test func onlyInterimNoContentAndNotModifiedStatusesHaveNoContent() {
        let without = (100...599).filter { !ResponseFraming.statusAllowsContent($0) }
        #expect(without == Array(100...199) + [204, 304])
    }
}
