/// The certificate expiry metric's entries for a TLS listener
/// (`edge_tls_certificate_expiry_timestamp_seconds`).
enum CertificateExpiry {
    /// Each server name of `tls`'s certificates with its leaf's `notAfter` (Unix seconds), from
    /// the expiries of the certificates as loaded (``EdgeIO/TLSContext/notAfter``, same order);
    /// a certificate without `server_names` (it answers for the names in it) is listed as
    /// `default`.
    static func entries(_ tls: TLSListenerConfig, notAfter: [Int64]) -> [(serverName: String, notAfter: Int)] {
        zip(tls.certificates, notAfter).flatMap { certificate, notAfter in
            (certificate.serverNames.isEmpty ? ["default"] : certificate.serverNames).map { ($0, Int(notAfter)) }
        }
    }
}
