import Testing

@testable import Edge

@Suite struct HeaderNameSetTests {
    static let set = HeaderNameSet(["X-Request-ID", "te", "Trailer", "x-real-ip", "x-forwarded-for", "expect", "TE"])

    @Test(arguments: ["x-request-id", "X-REQUEST-ID", "X-Request-Id", "te", "Te", "trailer", "x-real-ip", "X-Forwarded-For", "expect"])
    func namesAreFoundInAnyCase(_ name: String) {
        #expect(Self.set.contains(name))
        #expect(Self.set.contains(bytes: Array(name.utf8)))
    }

    @Test(arguments: ["", "t", "tf", "x-request-ie", "x-request-idx", "x-forwarded-fo", "a-much-longer-header-name-than-any", "expecT ", "x_real-ip"])
    func otherNamesAreNot(_ name: String) {
        #expect(!Self.set.contains(name))
    }

    @Test func anEmptySetHoldsNothing() {
        let empty = HeaderNameSet([String]())
        #expect(empty.isEmpty)
        #expect(!empty.contains("te") && !empty.contains(""))
        #expect(!Self.set.isEmpty)
    }
}
