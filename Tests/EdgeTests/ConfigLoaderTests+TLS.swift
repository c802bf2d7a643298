import Foundation
import Testing

@testable import Edge

/// A temporary directory for the files a TLS configuration names. The loader only checks that
/// they exist and can be read, so their contents are placeholders, not PEM.
final class ConfigTestFiles {
    let root: String

    init() throws {
        var template = Array((NSTemporaryDirectory() + "/edge-config-test.XXXXXX").utf8CString)
        guard template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) != nil else {
            throw CocoaError(.fileWriteUnknown)
        }
        root = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
    }

    deinit { try? FileManager.default.removeItem(atPath: root) }

    /// Writes `name` (placeholder contents) and returns its path.
    @discardableResult
    func file(_ name: String, mode: Int = 0o600) throws -> String {
        let path = "\(root)/\(name)"
        try FileManager.default.createDirectory(
            atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        guard FileManager.default.createFile(atPath: path, contents: Data("placeholder, not PEM\n".utf8)) else {
            throw CocoaError(.fileWriteUnknown)
        }
        try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: path)
        return path
    }

    /// Makes directory `name` and returns its path.
    func directory(_ name: String) throws -> String {
        let path = "\(root)/\(name)"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    /// A path under the directory that does not exist.
    func missing(_ name: String) -> String { "\(root)/\(name)" }
}

/// `tls`, `https_redirect` and `headers.hsts`.
extension ConfigLoaderTests {
    /// A certificate and key pair, and the YAML of a TLS listener using them.
    struct TLSFiles {
        let files: ConfigTestFiles
        let certificate: String
        let key: String

        init() throws {
            files = try ConfigTestFiles()
            certificate = try files.file("live/homerack.example/fullchain.pem", mode: 0o644)
            key = try files.file("live/homerack.example/privkey.pem")
        }

        /// Six lines: a TLS listener on 127.0.0.1:8443 with the pair and no names. Lines indented
        /// by 10 spaces continue the certificate, by 6 the `tls` mapping, by 2 the listener list.
        var listener: String {
            """
            listeners:
              - address: 127.0.0.1:8443
                tls:
                  certificates:
                    - certificate: \(certificate)
                      key: \(key)

            """
        }
    }

    // MARK: Mapping onto the model

    @Test func everyTLSKeyMapsOntoTheModel() throws {
        let tls = try TLSFiles()
        let rsaCertificate = try tls.files.file("rsa/cert.pem")
        let rsaKey = try tls.files.file("rsa/key.pem")
        let webroot = try tls.files.directory("acme")
        let config = try parse(
            """
            listeners:
              - name: https
                address: "[::]:443"
                tls:
                  certificates:
                    - certificate: \(tls.certificate)
                      key: \(tls.key)
                      server_names: [homerack.example, WWW.homerack.example]
                    - certificate: \(rsaCertificate)
                      key: \(rsaKey)
                      server_names: ["*.lab.homerack.example"]
                  http2: false
                  http2_limits: {max_concurrent_streams: 64, max_header_list_size: 32k, max_resets: 50, reset_window: 1m}
              - name: http
                address: "[::]:80"
                https_redirect:
                  primary_name: homerack.example
                  server_names: [homerack.example, www.homerack.example, "[2001:db8::1]", 192.0.2.10]
                  https_port: 8443
                  acme_webroot: \(webroot)
            headers:
              hsts: "max-age=63072000; includeSubDomains; preload"
            """)

        var expectedTLS = TLSListenerConfig(certificates: [
            TLSCertificateConfig(
                certificateChain: tls.certificate, privateKey: tls.key,
                serverNames: ["homerack.example", "www.homerack.example"]),
            TLSCertificateConfig(
                certificateChain: rsaCertificate, privateKey: rsaKey, serverNames: ["*.lab.homerack.example"]),
        ])
        expectedTLS.http2 = false
        expectedTLS.http2Limits.maxConcurrentStreams = 64
        expectedTLS.http2Limits.maxHeaderListSize = 32 * 1024
        expectedTLS.http2Limits.maxResets = 50
        expectedTLS.http2Limits.resetWindow = .seconds(60)
        #expect(
            config.listeners[0]
                == ListenerConfig(name: "https", address: .tcp(host: "::", port: 443), tls: expectedTLS))
        #expect(
            config.listeners[1]
                == ListenerConfig(
                    name: "http", address: .tcp(host: "::", port: 80),
                    httpsRedirect: HTTPSRedirectConfig(
                        primaryName: "homerack.example",
                        serverNames: ["homerack.example", "www.homerack.example", "[2001:db8::1]", "192.0.2.10"],
                        httpsPort: 8443, acmeWebroot: webroot)))
        #expect(config.headers.hsts == "max-age=63072000; includeSubDomains; preload")
        #expect(config.headers.add.map(\.name) == HeadersConfig.homerack.add.map(\.name))
    }

    @Test func tlsAndRedirectGetTheDocumentedDefaults() throws {
        let tls = try TLSFiles()
        let config = try parse(
            tls.listener + """
                  - address: 127.0.0.1:8080
                    https_redirect: {primary_name: Localhost, https_port: 443}
                """)
        let listener = try #require(config.listeners.first?.tls)
        #expect(listener.http2)
        #expect(listener.http2Limits == HTTP2Limits())
        #expect(listener.http2Limits.maxConcurrentStreams == 128 && listener.http2Limits.maxHeaderListSize == 16_384)
        #expect(listener.http2Limits.maxResets == 200 && listener.http2Limits.resetWindow == .seconds(30))
        #expect(listener.certificates[0].serverNames.isEmpty)
        // 443 is what https:// implies, so the redirect carries no port.
        #expect(config.listeners[1].httpsRedirect == HTTPSRedirectConfig(primaryName: "localhost"))
        #expect(config.listeners[1].tls == nil)
        #expect(config.headers.hsts == "max-age=31536000; includeSubDomains")
    }

    @Test func plainListenersHaveNeitherTLSNorRedirect() throws {
        let config = try parse(Self.listener)
        #expect(config.listeners[0].tls == nil && config.listeners[0].httpsRedirect == nil)
    }

    @Test func limitsAcceptTheirBoundaries() throws {
        let tls = try TLSFiles()
        let low = try parse(
            tls.listener
                + "      http2_limits: {max_concurrent_streams: 1, max_header_list_size: 1k, max_resets: 1, reset_window: 1ms}\n"
        )
        #expect(low.listeners[0].tls?.http2Limits.maxHeaderListSize == 1024)
        let high = try parse(
            tls.listener
                + "      http2_limits: {max_concurrent_streams: 10000, max_header_list_size: 1m, max_resets: 100000, reset_window: 24h}\n"
        )
        #expect(high.listeners[0].tls?.http2Limits.maxConcurrentStreams == 10_000)
        #expect(high.listeners[0].tls?.http2Limits.maxHeaderListSize == 1 << 20)
        #expect(high.listeners[0].tls?.http2Limits.maxResets == 100_000)
    }

    @Test func certificatePathsComeFromTheEnvironment() throws {
        let tls = try TLSFiles()
        let config = try parse(
            """
            listeners:
              - address: 127.0.0.1:8443
                tls:
                  certificates:
                    - {certificate: "${CERT}", key: "${KEY:-\(tls.key)}", server_names: ["${NAME}"]}
            """,
            environment: ["CERT": tls.certificate, "NAME": "rack.example.org"])
        #expect(
            config.listeners[0].tls?.certificates
                == [
                    TLSCertificateConfig(
                        certificateChain: tls.certificate, privateKey: tls.key, serverNames: ["rack.example.org"])
                ])

        let found = problems(
            """
            listeners:
              - address: 127.0.0.1:8443
                tls:
                  certificates:
                    - {certificate: "${HOMERACK_TLS_CERT}", key: \(tls.key)}
            """)
        expectProblem(
            found, at: "listeners[0].tls.certificates[0].certificate", line: 5,
            "environment variable HOMERACK_TLS_CERT is not set")
    }

    // MARK: Files

    @Test func missingCertificateNamesTheFileAndTheDevelopmentScript() throws {
        let tls = try TLSFiles()
        let missingCertificate = tls.files.missing("live/other/fullchain.pem")
        let missingKey = tls.files.missing("live/other/privkey.pem")
        let found = problems(
            """
            listeners:
              - address: 127.0.0.1:8443
                tls:
                  certificates:
                    - certificate: \(missingCertificate)
                      key: \(missingKey)
            """)
        expectProblem(
            found, at: "listeners[0].tls.certificates[0].certificate", line: 5,
            "'\(missingCertificate)' does not exist", "fullchain.pem", "run deploy/generate_ssl_cert.sh")
        expectProblem(
            found, at: "listeners[0].tls.certificates[0].key", line: 6, "'\(missingKey)' does not exist",
            "privkey.pem", "certs/dev/key.pem")
        #expect(found.count == 2)
    }

    @Test func relativeCertificatePathsNameTheWorkingDirectory() {
        let found = problems(
            """
            listeners:
              - address: 127.0.0.1:8443
                tls: {certificates: [{certificate: no-such-dir/cert.pem, key: no-such-dir/key.pem}]}
            """)
        expectProblem(
            found, at: "listeners[0].tls.certificates[0].certificate", line: 3,
            "relative to the edge's working directory, \(FileManager.default.currentDirectoryPath)")
    }

    @Test func directoriesAndDanglingLinksAreNotCertificates() throws {
        let tls = try TLSFiles()
        let directory = try tls.files.directory("live/homerack.example/dir")
        let link = tls.files.missing("live/homerack.example/dangling.pem")
        try FileManager.default.createSymbolicLink(
            atPath: link, withDestinationPath: "../../archive/homerack.example/privkey3.pem")
        let found = problems(
            """
            listeners:
              - address: 127.0.0.1:8443
                tls:
                  certificates:
                    - certificate: \(directory)
                      key: \(link)
            """)
        expectProblem(
            found, at: "listeners[0].tls.certificates[0].certificate", line: 5, "is a directory",
            "\(directory)/fullchain.pem")
        expectProblem(
            found, at: "listeners[0].tls.certificates[0].key", line: 6, "symbolic link",
            "archive/homerack.example/privkey3.pem", "does not exist")
    }

    @Test(.enabled(if: getuid() != 0, "root reads every file, so permission cannot be denied"))
    func unreadableKeyIsReportedWithTheFix() throws {
        let tls = try TLSFiles()
        let key = try tls.files.file("locked/privkey.pem", mode: 0o000)
        let found = problems(
            """
            listeners:
              - address: 127.0.0.1:8443
                tls: {certificates: [{certificate: \(tls.certificate), key: \(key)}]}
            """)
        expectProblem(found, at: "listeners[0].tls.certificates[0].key", line: 3, "cannot be read", "docs/TLS.md")
    }

    @Test func certificatesAreRequiredWithBothFiles() throws {
        let tls = try TLSFiles()
        let found = problems(
            """
            listeners:
              - address: 127.0.0.1:8443
                tls: {http2: true}
              - address: 127.0.0.1:8444
                tls: {certificates: []}
              - address: 127.0.0.1:8445
                tls:
                  certificates:
                    - certificate: \(tls.certificate)
              - address: 127.0.0.1:8446
                tls: {certificates: {certificate: \(tls.certificate), key: \(tls.key)}}
            """)
        expectProblem(found, at: "listeners[0].tls.certificates", line: 3, "is required", "deploy/generate_ssl_cert.sh")
        expectProblem(found, at: "listeners[1].tls.certificates", line: 5, "no certificates")
        expectProblem(found, at: "listeners[2].tls.certificates[0].key", line: 9, "is required", "privkey.pem")
        expectProblem(found, at: "listeners[3].tls.certificates", line: 11, "expected a list, found a mapping")
        #expect(found.count == 4)
    }

    // MARK: Server names

    @Test func serverNamesAreDNSNamesWithWildcardsOnlyAsTheLeftmostLabel() throws {
        let tls = try TLSFiles()
        let names = [
            "a.*.example.org", "foo*.example.org", "\"*\"", "192.0.2.1", "\"[::1]\"", "exa_mple.org", "-a.example",
            "example.org.", "bücher.example", "a..b", "example.123", String(repeating: "a", count: 64) + ".org", "\"\"",
        ]
        let found = problems(
            tls.listener + "          server_names:\n"
                + names.map { "            - \($0)\n" }.joined())
        let path = "listeners[0].tls.certificates[0].server_names"
        let expectations: [(Int, String)] = [
            (0, "whole leftmost label"), (1, "whole leftmost label"), (2, "the first certificate already answers"),
            (3, "is an IP address"), (4, "is an IP address"), (5, "'_' is not allowed"),
            (6, "cannot start or end with '-'"),
            (7, "without the trailing dot"), (8, "xn--"), (9, "empty label"), (10, "last label is all digits"),
            (11, "longer than 63"), (12, "is empty"),
        ]
        for (index, fragment) in expectations {
            expectProblem(found, at: "\(path)[\(index)]", line: 8 + index, fragment)
        }
        #expect(found.count == names.count)
    }

    @Test func serverNamesAreStoredInLowercaseWithWildcards() throws {
        let tls = try TLSFiles()
        let config = try parse(
            tls.listener + "          server_names: [\"*.Lab.Example.ORG\", XN--bcher-kva.example, localhost]\n")
        #expect(
            config.listeners[0].tls?.certificates[0].serverNames
                == ["*.lab.example.org", "xn--bcher-kva.example", "localhost"])
    }

    @Test func aServerNameSelectsOneCertificate() throws {
        let tls = try TLSFiles()
        let found = problems(
            """
            listeners:
              - address: 127.0.0.1:8443
                tls:
                  certificates:
                    - certificate: \(tls.certificate)
                      key: \(tls.key)
                      server_names: [homerack.example, "*.homerack.example", homerack.example]
                    - certificate: \(tls.certificate)
                      key: \(tls.key)
                      server_names: [HomeRack.example, www.homerack.example]
                    - certificate: \(tls.certificate)
                      key: \(tls.key)
                    - certificate: \(tls.certificate)
                      key: \(tls.key)
                      server_names: []
            """)
        let path = "listeners[0].tls.certificates"
        expectProblem(found, at: "\(path)[0].server_names[2]", line: 7, "'homerack.example' is listed twice")
        expectProblem(
            found, at: "\(path)[1].server_names[0]", line: 10,
            "'homerack.example' is already claimed by certificates[0]")
        expectProblem(found, at: "\(path)[2]", line: 11, "certificates[2] has no server_names", "only the first")
        expectProblem(found, at: "\(path)[3]", line: 15, "certificates[3] has no server_names")
        #expect(found.count == 4)
    }

    // MARK: tls or https_redirect

    @Test func aListenerTerminatesTLSOrRedirectsNotBoth() throws {
        let tls = try TLSFiles()
        let found = problems(
            tls.listener + """
                    https_redirect: {primary_name: localhost}
                """)
        expectProblem(
            found, at: "listeners[0].https_redirect", line: 7, "either terminates TLS (tls) or only redirects to HTTPS")
        #expect(found.count == 1)
    }

    @Test func redirectHostsArePlainNamesOrAddresses() {
        let found = problems(
            """
            listeners:
              - address: 127.0.0.1:80
                https_redirect:
                  primary_name: homerack.example:8443
                  server_names: ["*.homerack.example", "::1", "[::1]", "[1.2.3.4]", www.homerack.example, WWW.homerack.example, bad_name.example]
              - address: 127.0.0.1:81
                https_redirect: {server_names: [homerack.example]}
              - address: 127.0.0.1:82
                https_redirect: {primary_name: "*.homerack.example"}
            """)
        let path = "listeners[0].https_redirect"
        expectProblem(found, at: "\(path).primary_name", line: 4, "has a port", "(homerack.example)", "https_port")
        expectProblem(found, at: "\(path).server_names[0]", line: 5, "wildcards are not allowed here")
        expectProblem(found, at: "\(path).server_names[1]", line: 5, "in brackets, as [::1]")
        expectProblem(found, at: "\(path).server_names[3]", line: 5, "not an IPv6 address in brackets")
        expectProblem(found, at: "\(path).server_names[5]", line: 5, "'www.homerack.example' is listed twice")
        expectProblem(found, at: "\(path).server_names[6]", line: 5, "'_' is not allowed")
        expectProblem(found, at: "listeners[1].https_redirect.primary_name", line: 7, "is required")
        expectProblem(found, at: "listeners[2].https_redirect.primary_name", line: 9, "wildcards are not allowed")
        #expect(found.count == 8)
    }

    @Test func httpsPortIsAPort() {
        let found = problems(
            """
            listeners:
              - {address: 127.0.0.1:80, https_redirect: {primary_name: localhost, https_port: 0}}
              - {address: 127.0.0.1:81, https_redirect: {primary_name: localhost, https_port: 65536}}
              - {address: 127.0.0.1:82, https_redirect: {primary_name: localhost, https_port: https}}
              - {address: 127.0.0.1:83, https_redirect: {primary_name: localhost, https_port: 65535}}
            """)
        expectProblem(found, at: "listeners[0].https_redirect.https_port", line: 2, "from 1 to 65535")
        expectProblem(found, at: "listeners[1].https_redirect.https_port", line: 3, "from 1 to 65535")
        expectProblem(found, at: "listeners[2].https_redirect.https_port", line: 4, "expected a whole number")
        #expect(found.count == 3)
    }

    @Test func acmeWebrootMustBeAnExistingDirectory() throws {
        let files = try ConfigTestFiles()
        let missing = files.missing("letsencrypt")
        let file = try files.file("not-a-directory")
        let found = problems(
            """
            listeners:
              - address: 127.0.0.1:80
                https_redirect: {primary_name: localhost, acme_webroot: \(missing)}
              - address: 127.0.0.1:81
                https_redirect: {primary_name: localhost, acme_webroot: \(file)}
            """)
        expectProblem(
            found, at: "listeners[0].https_redirect.acme_webroot", line: 3, "does not exist", "mkdir -p \(missing)",
            "--webroot -w \(missing)")
        expectProblem(found, at: "listeners[1].https_redirect.acme_webroot", line: 5, "is not a directory")
    }

    // MARK: HTTP/2 limits

    @Test func http2LimitsOutOfRangeNameTheRange() throws {
        let tls = try TLSFiles()
        let low = problems(
            tls.listener
                + "      http2_limits: {max_concurrent_streams: 0, max_header_list_size: 512, max_resets: 0, reset_window: 0s}\n"
        )
        let path = "listeners[0].tls.http2_limits"
        expectProblem(low, at: "\(path).max_concurrent_streams", line: 7, "from 1 to 10000")
        expectProblem(low, at: "\(path).max_header_list_size", line: 7, "from 1k to 1m")
        expectProblem(low, at: "\(path).max_resets", line: 7, "from 1 to 100000")
        expectProblem(low, at: "\(path).reset_window", line: 7, "more than 0")
        #expect(low.count == 4)

        let high = problems(
            tls.listener
                + "      http2_limits: {max_concurrent_streams: 10001, max_header_list_size: 2m, max_resets: 100001}\n"
                + "      http2: maybe\n")
        expectProblem(high, at: "\(path).max_concurrent_streams", line: 7, "from 1 to 10000")
        expectProblem(high, at: "\(path).max_header_list_size", line: 7, "from 1k to 1m")
        expectProblem(high, at: "\(path).max_resets", line: 7, "from 1 to 100000")
        expectProblem(high, at: "listeners[0].tls.http2", line: 8, "expected true or false")
        #expect(high.count == 4)
    }

    // MARK: Unknown keys

    @Test func nginxTLSDirectivesSuggestTheEdgeKeys() throws {
        let tls = try TLSFiles()
        let found = problems(
            """
            listeners:
              - address: 127.0.0.1:8443
                ssl: on
                tls:
                  certficates: []
                  http2_limits: {http2_max_concurrent_streams: 10, max_reset: 5}
              - address: 127.0.0.1:8444
                tls:
                  certificates:
                    - ssl_certificate: \(tls.certificate)
                      ssl_certificate_key: \(tls.key)
                      server_name: homerack.example
              - address: 127.0.0.1:80
                https_redirect: {primary_name: localhost, https_prot: 8443, webroot: /tmp}
            headers:
              Strict-Transport-Security: "max-age=1"
            """)
        expectProblem(found, at: "listeners[0].ssl", line: 3, "did you mean 'tls'?")
        expectProblem(found, at: "listeners[0].tls.certficates", line: 5, "did you mean 'certificates'?")
        expectProblem(
            found, at: "listeners[0].tls.http2_limits.http2_max_concurrent_streams", line: 6,
            "did you mean 'max_concurrent_streams'?")
        expectProblem(found, at: "listeners[0].tls.http2_limits.max_reset", line: 6, "did you mean 'max_resets'?")
        expectProblem(found, at: "listeners[0].tls.certificates", line: 5, "is required")
        let certificate = "listeners[1].tls.certificates[0]"
        expectProblem(found, at: "\(certificate).ssl_certificate", line: 10, "did you mean 'certificate'?")
        expectProblem(found, at: "\(certificate).ssl_certificate_key", line: 11, "did you mean 'key'?")
        expectProblem(found, at: "\(certificate).server_name", line: 12, "did you mean 'server_names'?")
        expectProblem(found, at: "\(certificate).certificate", line: 10, "is required")
        expectProblem(found, at: "\(certificate).key", line: 10, "is required")
        expectProblem(found, at: "listeners[2].https_redirect.https_prot", line: 14, "did you mean 'https_port'?")
        expectProblem(found, at: "listeners[2].https_redirect.webroot", line: 14, "did you mean 'acme_webroot'?")
        expectProblem(found, at: "headers.Strict-Transport-Security", line: 16, "did you mean 'hsts'?")
        #expect(found.count == 13)
    }

    // MARK: HSTS

    @Test func hstsIsAPolicyOrOff() throws {
        #expect(try parse(Self.listener + "headers: {hsts: off}\n").headers.hsts == nil)
        #expect(try parse(Self.listener + "headers: {hsts: false}\n").headers.hsts == nil)
        #expect(try parse(Self.listener + "headers: {hsts: }\n").headers.hsts == "max-age=31536000; includeSubDomains")
        #expect(try parse(Self.listener + "headers: {hsts: \"max-age=0\"}\n").headers.hsts == "max-age=0")
        #expect(
            try parse(Self.listener + "headers: {hsts: \"MAX-AGE=\\\"600\\\"; includesubdomains;\"}\n").headers.hsts
                == "MAX-AGE=\"600\"; includesubdomains;")
        #expect(
            try parse(Self.listener + "headers: {hsts: \"${HSTS:-max-age=60}\"}\n", environment: [:]).headers.hsts
                == "max-age=60")
    }

    @Test(arguments: [
        ("includeSubDomains", "has no max-age"),
        ("max-age=1y", "number of seconds"),
        ("max-age=", "number of seconds"),
        ("max-age=31536000; includeSubdomain", "did you mean 'includeSubDomains'?"),
        ("max-age=31536000; max-age=1", "'max-age' is given twice"),
        ("max-age=31536000; includeSubDomains=yes", "takes no value"),
        ("max-age=31536000; preload", "preload needs"),
        ("max-age=600; includeSubDomains; preload", "at least 31536000"),
        ("", "is empty"),
        ("max-age=1\\r\\nSet-Cookie: a=b", "line break"),
    ])
    func malformedHSTSIsRefused(value: String, fragment: String) {
        let found = problems(Self.listener + "headers:\n  hsts: \"\(value)\"\n")
        expectProblem(found, at: "headers.hsts", line: 3, fragment)
    }

    @Test func strictTransportSecurityBelongsInHSTSNotAdd() {
        let found = problems(Self.listener + "headers:\n  add:\n    Strict-Transport-Security: max-age=1\n")
        expectProblem(found, at: "headers.add.Strict-Transport-Security", line: 4, "set by headers.hsts")
    }

    // MARK: Listening sockets

    @Test func ipv6WildcardOverlapsIPv6AddressesAndDualStackIPv4() {
        let found = problems(
            """
            listeners:
              - {name: v6, address: "[::]:443"}
              - {name: v4, address: "0.0.0.0:443"}
              - {name: loop6, address: "[::1]:443"}
              - {name: loop4, address: "127.0.0.1:443"}
              - {name: other, address: "127.0.0.1:444"}
            """)
        expectProblem(found, at: "listeners[2].address", line: 4, "every IPv6 address")
        // 127.0.0.1:443 overlaps 0.0.0.0:443 whatever the sysctl says.
        expectProblem(found, at: "listeners[3].address", line: 5, "overlaps listeners[1] (0.0.0.0:443)")
        if ConfigLoader.ipv6WildcardIsDualStack {
            expectProblem(
                found, at: "listeners[1].address", line: 3, "overlaps listeners[0] ([::]:443)", "dual-stack",
                "drop 0.0.0.0:443")
            #expect(found.count == 3)
        } else {
            #expect(found.count == 2)
        }
    }
}
