import NIOSSL

/// The certificates of one TLS listener, loaded from PEM and checked, with SNI selection.
///
/// Immutable: a reload loads a whole new set and swaps it in, so a handshake never sees half of
/// an update, and a set that fails to load never replaces the one serving.
final class CertificateSet: Sendable {
    /// One certificate chain with its key.
    struct Entry: Sendable {
        let chain: [NIOSSLCertificate]
        let key: NIOSSLPrivateKey
        let serverNames: [String]
        let source: String
    }

    let entries: [Entry]
    private let exact: [String: Int]
    private let wildcard: [String: Int]

    /// Loads and checks every certificate of `config`.
    /// - Throws: ``EdgeError`` naming the file when a PEM does not parse, is empty, or the key
    ///   does not belong to the certificate.
    init(config: TLSListenerConfig) throws {
        var entries: [Entry] = []
        var exact: [String: Int] = [:]
        var wildcard: [String: Int] = [:]
        for certificate in config.certificates {
            let chain: [NIOSSLCertificate]
            let key: NIOSSLPrivateKey
            do {
                chain = try NIOSSLCertificate.fromPEMFile(certificate.certificateChain)
            } catch {
                throw EdgeError.tls("cannot read the certificate chain \(certificate.certificateChain): \(error); it must be a PEM file, leaf first")
            }
            guard !chain.isEmpty else {
                throw EdgeError.tls("\(certificate.certificateChain) holds no certificate")
            }
            do {
                key = try NIOSSLPrivateKey(file: certificate.privateKey, format: .pem)
            } catch {
                throw EdgeError.tls("cannot read the private key \(certificate.privateKey): \(error); it must be an unencrypted PEM key")
            }
            // BoringSSL checks that the key belongs to the leaf when a context is built with both.
            do {
                _ = try NIOSSLContext(
                    configuration: .makeServerConfiguration(certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key)))
            } catch {
                throw EdgeError.tls("the key \(certificate.privateKey) does not match the certificate \(certificate.certificateChain) (\(error))")
            }
            let index = entries.count
            entries.append(Entry(chain: chain, key: key, serverNames: certificate.serverNames, source: certificate.certificateChain))
            for name in certificate.serverNames.map({ $0.lowercased() }) {
                if name.hasPrefix("*.") { wildcard[String(name.dropFirst(2)), default: index] = index } else { exact[name, default: index] = index }
            }
        }
        guard !entries.isEmpty else { throw EdgeError.tls("a TLS listener needs at least one certificate") }
        self.entries = entries
        self.exact = exact
        self.wildcard = wildcard
    }

    /// Each server name with the expiry of its leaf certificate (Unix seconds); a certificate
    /// without names (the default) is listed as `default`.
    var expiries: [(serverName: String, notAfter: Int)] {
        entries.flatMap { entry in
            let notAfter = Int(entry.chain[0].notValidAfter)
            return (entry.serverNames.isEmpty ? ["default"] : entry.serverNames).map { ($0, notAfter) }
        }
    }

    /// The entry for a client's SNI name: an exact name, then a one-label wildcard, else the first.
    func select(serverName: String?) -> Entry {
        guard let name = serverName?.lowercased() else { return entries[0] }
        if let index = exact[name] { return entries[index] }
        if let dot = name.firstIndex(of: "."), let index = wildcard[String(name[name.index(after: dot)...])] {
            return entries[index]
        }
        return entries[0]
    }
}
