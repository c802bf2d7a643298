import NIOCore
import NIOSSL
import Synchronization

/// TLS for one listener: one `NIOSSLContext` for the life of the process (so TLS 1.3 session
/// tickets it issued stay valid across certificate reloads), and a certificate set that a
/// reload swaps. Every handshake asks the SNI callback for its certificate, so a new set is used
/// by the next handshake while open connections keep theirs.
final class TLSListenerContext: Sendable {
    /// TLS 1.2 suites: ECDHE with AES-GCM or ChaCha20-Poly1305 (Mozilla "intermediate"). TLS 1.3
    /// suites are BoringSSL's fixed set (AES-GCM and ChaCha20-Poly1305), which no setting changes.
    static let tls12Ciphers: [NIOTLSCipher] = [
        .TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, .TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
        .TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, .TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
        .TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256, .TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
    ]

    let sslContext: NIOSSLContext
    let http2: Bool
    let limits: HTTP2Limits
    private let certificates: CertificateStore

    /// - Throws: ``EdgeError`` when a certificate or key cannot be used.
    init(config: TLSListenerConfig) throws {
        let set = try CertificateSet(config: config)
        let store = CertificateStore(set)
        self.certificates = store
        self.http2 = config.http2
        self.limits = config.http2Limits
        let first = set.entries[0]
        var tls = TLSConfiguration.makeServerConfiguration(
            certificateChain: first.chain.map { .certificate($0) }, privateKey: .privateKey(first.key))
        tls.minimumTLSVersion = .tlsv12
        tls.maximumTLSVersion = .tlsv13
        tls.cipherSuiteValues = Self.tls12Ciphers
        tls.applicationProtocols = config.http2 ? ["h2", "http/1.1"] : ["http/1.1"]
        tls.sslContextCallback = { values, promise in
            let entry = store.current.select(serverName: values.serverHostname)
            var override = NIOSSLContextConfigurationOverride()
            override.certificateChain = entry.chain.map { .certificate($0) }
            override.privateKey = .privateKey(entry.key)
            promise.succeed(override)
        }
        do {
            sslContext = try NIOSSLContext(configuration: tls)
        } catch {
            throw EdgeError.tls("cannot set up TLS: \(error)")
        }
    }

    /// Uses `set` for new handshakes; open connections keep the certificate they were given.
    func install(_ set: CertificateSet) {
        certificates.replace(with: set)
    }

    /// The certificates in use (tests and logs).
    var current: CertificateSet { certificates.current }
}

/// The certificate set in use, shared by the SNI callback and reloads.
final class CertificateStore: Sendable {
    private let state: Mutex<CertificateSet>

    init(_ set: CertificateSet) { state = Mutex(set) }

    var current: CertificateSet { state.withLock { $0 } }

    func replace(with set: CertificateSet) { state.withLock { $0 = set } }
}
