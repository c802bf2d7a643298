import Testing

@testable import Edge

/// The scalar notations: durations, sizes, addresses, numbers, switches and `${VAR}`.
extension ConfigLoaderTests {
    /// The message `parse` throws for `text`, or `nil` when it parses.
    func rejection<T>(_ text: String, _ parse: (String) throws(ConfigValueError) -> T) -> String? {
        do {
            _ = try parse(text)
            return nil
        } catch {
            return error.message
        }
    }

    // MARK: Durations

    @Test(arguments: [
        ("500ms", Duration.milliseconds(500)), ("12s", .seconds(12)), ("2m", .seconds(120)), ("1h", .seconds(3600)),
        ("1d", .seconds(86_400)), ("12", .seconds(12)), ("1m30s", .seconds(90)), ("1h30m", .seconds(5400)),
        ("1s500ms", .milliseconds(1500)), ("1ms", .milliseconds(1)), ("86400", .seconds(86_400)),
    ])
    func durationsInNginxNotation(text: String, expected: Duration) throws {
        #expect(try ConfigValues.duration(text) == expected)
    }

    @Test func durationsThatAreZeroNegativeFractionalOrMalformedAreRefused() {
        let duration = ConfigValues.duration
        #expect(rejection("0", duration)?.contains("more than 0") == true)
        #expect(rejection("0ms", duration)?.contains("more than 0") == true)
        #expect(rejection("-1s", duration)?.contains("negative") == true)
        #expect(rejection("1.5s", duration)?.contains("1500ms") == true)
        #expect(rejection("10x", duration)?.contains("'x' is not a unit") == true)
        #expect(rejection("10sec", duration)?.contains("'sec' is not a unit") == true)
        #expect(rejection("30s1m", duration)?.contains("largest first") == true)
        #expect(rejection("1s1s", duration)?.contains("largest first") == true)
        #expect(rejection("25h", duration)?.contains("at most 24h") == true)
        #expect(rejection("86401", duration)?.contains("at most 24h") == true)
        #expect(rejection("99999999999999999999s", duration)?.contains("at most 24h") == true)
        #expect(rejection("", duration)?.contains("expected a duration") == true)
        #expect(rejection("s", duration)?.contains("expected a duration") == true)
        #expect(rejection("1 s", duration) != nil)
    }

    @Test func durationsFormatTheWayTheyAreWritten() {
        #expect(ConfigValues.format(.seconds(90)) == "1m30s")
        #expect(ConfigValues.format(.milliseconds(2500)) == "2s500ms")
        #expect(ConfigValues.format(.seconds(3600)) == "1h")
    }

    // MARK: Sizes

    @Test(arguments: [
        ("10m", 10 << 20), ("10M", 10 << 20), ("128k", 128 << 10), ("128K", 128 << 10), ("1g", 1 << 30),
        ("1500", 1500), ("1", 1),
    ])
    func sizesInNginxNotation(text: String, expected: Int) throws {
        #expect(try ConfigValues.size(text, in: 1...(1 << 40)) == expected)
    }

    @Test func sizesWithByteSuffixesFractionsOrOutOfRangeAreRefused() {
        let size = { (text: String) throws(ConfigValueError) in try ConfigValues.size(text, in: 1...(1 << 40)) }
        #expect(rejection("10mb", size)?.contains("write 10m") == true)
        #expect(rejection("10MB", size)?.contains("write 10m") == true)
        #expect(rejection("1.5m", size)?.contains("1536k") == true)
        #expect(rejection("-1", size)?.contains("expected a size") == true)
        #expect(rejection("m", size)?.contains("expected a size") == true)
        #expect(rejection("2048g", size)?.contains("from 1 to 1024g") == true)
        #expect(rejection("99999999999999999999g", size) != nil)
    }

    @Test func zeroBodySizeIsRefusedBecauseNginxReadsItAsUnlimited() {
        let found = problems(Self.listener + "limits: {max_body_size: 0}\n")
        expectProblem(found, at: "limits.max_body_size", line: 2, "no limit in nginx", "e.g. 10m")
    }

    // MARK: Addresses

    @Test(arguments: [
        ("127.0.0.1:8080", EndpointAddress.tcp(host: "127.0.0.1", port: 8080)),
        ("0.0.0.0:80", .tcp(host: "0.0.0.0", port: 80)),
        ("*:80", .tcp(host: "0.0.0.0", port: 80)),
        ("[::1]:8080", .tcp(host: "::1", port: 8080)),
        ("[::]:443", .tcp(host: "::", port: 443)),
        ("[fe80::1%eth0]:80", .tcp(host: "fe80::1%eth0", port: 80)),
        ("localhost:0", .tcp(host: "localhost", port: 0)),
        ("edge-1.internal:65535", .tcp(host: "edge-1.internal", port: 65535)),
        ("unix:/run/homerack/edge.sock", .unix(path: "/run/homerack/edge.sock")),
        ("unix:edge.sock", .unix(path: "edge.sock")),
    ])
    func listenAddresses(text: String, expected: EndpointAddress) throws {
        #expect(try EndpointAddress(parsing: text, for: .listen) == expected)
    }

    @Test func addressesPrintBackInTheirWrittenForm() throws {
        for text in ["127.0.0.1:8080", "[::1]:8080", "unix:/run/edge.sock"] {
            #expect(try EndpointAddress(parsing: text, for: .listen).description == text)
        }
    }

    @Test func malformedAddressesSayWhatToWrite() {
        let listen = { (text: String) throws(ConfigValueError) in try EndpointAddress(parsing: text, for: .listen) }
        #expect(rejection("::1:8080", listen)?.contains("[::1]:8080") == true)
        #expect(rejection("8080", listen)?.contains("*:8080") == true)
        #expect(rejection("localhost", listen)?.contains("no port") == true)
        #expect(rejection("[::1]", listen)?.contains("no port") == true)
        #expect(rejection("[::1:80", listen)?.contains("closing ']'") == true)
        #expect(rejection("[1.2.3.4]:80", listen)?.contains("not an IPv6 address") == true)
        #expect(rejection("256.0.0.1:80", listen)?.contains("not a valid IPv4 address") == true)
        #expect(rejection("127.0.0.01:80", listen)?.contains("leading zeros") == true)
        #expect(rejection("bad_host!:80", listen)?.contains("not a host name") == true)
        #expect(rejection("-bad:80", listen)?.contains("not a host name") == true)
        #expect(rejection("127.0.0.1:65536", listen)?.contains("not a port") == true)
        #expect(rejection("127.0.0.1:http", listen)?.contains("not a port") == true)
        #expect(rejection(":80", listen)?.contains("no host") == true)
        #expect(rejection("http://127.0.0.1:80", listen)?.contains("is a URL") == true)
        #expect(rejection("", listen)?.contains("empty address") == true)
        #expect(rejection("unix:", listen)?.contains("no socket path") == true)
        #expect(rejection("unix:/" + String(repeating: "s", count: 107), listen)?.contains("at most 107") == true)
    }

    @Test func upstreamAddressesMustBeConnectable() {
        let connect = { (text: String) throws(ConfigValueError) in try EndpointAddress(parsing: text, for: .connect) }
        #expect(rejection("*:80", connect)?.contains("only makes sense for listening") == true)
        #expect(rejection("127.0.0.1:0", connect)?.contains("port 0") == true)
        #expect(rejection("0.0.0.0:80", connect)?.contains("use 127.0.0.1") == true)
        #expect(rejection("[::]:80", connect)?.contains("use [::1]") == true)
        #expect(rejection("backend:8000", connect) == nil)
        #expect(rejection("unix:/run/backend.sock", connect) == nil)
    }

    // MARK: Numbers and switches

    @Test func integersTakeUnderscoresAndSigns() throws {
        #expect(try ConfigValues.integer("160_000", in: 0...1_000_000) == 160_000)
        #expect(try ConfigValues.integer("+5", in: 0...10) == 5)
        #expect(try ConfigValues.integer("-0", in: 0...10) == 0)
        let small = { (text: String) throws(ConfigValueError) in try ConfigValues.integer(text, in: 0...10) }
        #expect(rejection("1__0", small)?.contains("expected a whole number") == true)
        #expect(rejection("_1", small)?.contains("expected a whole number") == true)
        #expect(rejection("1.0", small)?.contains("expected a whole number") == true)
        #expect(rejection("0x10", small)?.contains("expected a whole number") == true)
        #expect(rejection("11", small)?.contains("out of range") == true)
        #expect(rejection("99999999999999999999", small)?.contains("too large") == true)
    }

    @Test func switchesAcceptNginxOnAndOff() throws {
        for text in ["true", "on", "yes", "True", "ON"] { #expect(try ConfigValues.bool(text)) }
        for text in ["false", "off", "no", "False"] { #expect(try !ConfigValues.bool(text)) }
        #expect(rejection("1", ConfigValues.bool)?.contains("expected true or false") == true)
    }

    // MARK: Environment substitution

    @Test func substitutionFollowsShellDefaults() throws {
        let environment = ["SET": "value", "EMPTY": ""]
        func substitute(_ text: String) throws -> String {
            try EnvironmentSubstitution.substitute(text, environment: environment)
        }
        #expect(try substitute("${SET}") == "value")
        #expect(try substitute("a-${SET}-b") == "a-value-b")
        #expect(try substitute("${UNSET:-fallback}") == "fallback")
        #expect(try substitute("${EMPTY:-fallback}") == "fallback")
        #expect(try substitute("${EMPTY}") == "")
        #expect(try substitute("${UNSET:-}") == "")
        #expect(try substitute("${UNSET:-a:b}") == "a:b")
        #expect(try substitute("$SET and $ alone") == "$SET and $ alone")
        #expect(try substitute("$${SET}") == "${SET}")
        #expect(try substitute("no variables") == "no variables")
    }

    @Test func malformedReferencesAreRefused() {
        let substitute = { (text: String) throws(ConfigValueError) in
            try EnvironmentSubstitution.substitute(text, environment: [:])
        }
        #expect(rejection("${UNSET}", substitute)?.contains("UNSET is not set") == true)
        #expect(rejection("${1ABC}", substitute)?.contains("not a variable reference") == true)
        #expect(rejection("${}", substitute)?.contains("not a variable reference") == true)
        #expect(rejection("${A B}", substitute)?.contains("not a variable reference") == true)
        #expect(rejection("${OPEN", substitute)?.contains("no closing '}'") == true)
    }
}
