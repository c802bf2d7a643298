import CEdgeTLS

#if canImport(Glibc)
    import Glibc
#endif

/// Server-side TLS settings shared by every loop of a group: certificates chosen by SNI,
/// TLS 1.2 and 1.3 only, the TLS 1.2 cipher list (default: Mozilla intermediate) and TLS 1.3
/// suites, ALPN, session-ticket keys and stapled OCSP responses. Ticket keys and OCSP
/// responses can be replaced while loops run (rotation, refresh); OpenSSL's `SSL_CTX` is
/// safe to share between threads.
public final class TLSContext: @unchecked Sendable {
    /// One certificate chain and its key, PEM files.
    public struct Certificate: Sendable {
        public var chainPath: String
        public var keyPath: String
        /// A DER OCSP response to staple (as `openssl ocsp -respout` writes it), or `nil`.
        public var ocspResponsePath: String?
        /// The SNI names it answers for ("*.example.org" matches one label); empty: the
        /// names in the certificate (its DNS subjectAltNames, else its CN).
        public var serverNames: [String]

        public init(chainPath: String, keyPath: String, ocspResponsePath: String? = nil, serverNames: [String] = []) {
            self.chainPath = chainPath
            self.keyPath = keyPath
            self.ocspResponsePath = ocspResponsePath
            self.serverNames = serverNames
        }
    }

    public struct Configuration: Sendable {
        /// The first is the default (no SNI, or a name no certificate has).
        public var certificates: [Certificate]
        /// OpenSSL cipher list for TLS 1.2; `nil`: Mozilla intermediate.
        public var tls12Ciphers: String?
        /// `SSL_CTX_set_ciphersuites` list for TLS 1.3; `nil`: AES-128-GCM, AES-256-GCM,
        /// ChaCha20-Poly1305.
        public var tls13Suites: String?
        /// ALPN protocols in server preference order.
        public var applicationProtocols: [String]
        /// Session-ticket keys, 48 or 80 bytes each (nginx's `ssl_session_ticket_key` files);
        /// the first encrypts. Empty: no tickets (full handshakes).
        public var ticketKeys: [[UInt8]]

        public init(
            certificates: [Certificate], tls12Ciphers: String? = nil, tls13Suites: String? = nil,
            applicationProtocols: [String] = ["h2", "http/1.1"], ticketKeys: [[UInt8]] = []
        ) {
            self.certificates = certificates
            self.tls12Ciphers = tls12Ciphers
            self.tls13Suites = tls13Suites
            self.applicationProtocols = applicationProtocols
            self.ticketKeys = ticketKeys
        }
    }

    @usableFromInline let pointer: OpaquePointer
    /// What built it (a reload builds its new certificates with the same settings).
    let configuration: Configuration

    /// Builds the context: loads every certificate, key and OCSP response.
    /// - Throws: ``TLSError`` naming what was wrong.
    public init(configuration: Configuration) throws {
        pointer = try Self.makeContext(configuration)
        self.configuration = configuration
        try setTicketKeys(configuration.ticketKeys)
    }

    /// Certificates loaded for a reload, not in use yet (``install(_:)``); after it, they hold
    /// the replaced ones until released (OpenSSL keeps those that open connections use alive).
    public final class LoadedCertificates: @unchecked Sendable {
        let pointer: OpaquePointer
        init(_ pointer: OpaquePointer) { self.pointer = pointer }
        deinit { ceio_tls_context_free(pointer) }

        /// Each certificate's leaf expiry, in load order (see ``TLSContext/notAfter``).
        public var notAfter: [Int64] { TLSContext.notAfter(pointer) }
    }

    /// Each certificate's leaf expiry (`notAfter`, Unix seconds), in configuration order, for
    /// the expiry metric; read before the loops start (a reload reads its
    /// ``LoadedCertificates/notAfter`` before installing them).
    public var notAfter: [Int64] { Self.notAfter(pointer) }

    static func notAfter(_ pointer: OpaquePointer) -> [Int64] {
        var result: [Int64] = []
        var index: Int32 = 0
        var value: Int64 = 0
        while true {
            let found = ceio_tls_context_certificate_not_after(pointer, index, &value)
            if found == -1 { return result }
            result.append(found == 0 ? value : 0)  // 0: a time OpenSSL could not convert
            index += 1
        }
    }

    /// Loads `certificates` (and their OCSP responses) with this context's settings, for a
    /// reload: everything is read and checked before anything changes.
    /// - Throws: ``TLSError`` naming the file at fault.
    public func load(_ certificates: [Certificate]) throws -> LoadedCertificates {
        var next = configuration
        next.certificates = certificates
        return LoadedCertificates(try Self.makeContext(next))
    }

    /// A reload: new handshakes use the loaded certificates from now on (the first is the
    /// default); connections already open keep theirs.
    public func install(_ loaded: LoadedCertificates) {
        ceio_tls_context_take_certificates(pointer, loaded.pointer)
    }

    /// A C context with the configuration's settings, certificates and OCSP responses.
    static func makeContext(_ configuration: Configuration) throws -> OpaquePointer {
        guard !configuration.certificates.isEmpty else { throw TLSError("no certificate configured") }
        var alpn: [UInt8] = []
        for name in configuration.applicationProtocols {
            let bytes = Array(name.utf8)
            guard !bytes.isEmpty, bytes.count < 256 else { throw TLSError("invalid ALPN protocol \"\(name)\"") }
            alpn.append(UInt8(bytes.count))
            alpn += bytes
        }
        var error = [CChar](repeating: 0, count: 512)
        let created = alpn.withUnsafeBufferPointer { alpnBuffer in
            ceio_tls_context_new(
                configuration.tls12Ciphers, configuration.tls13Suites, alpnBuffer.baseAddress, alpnBuffer.count,
                &error, error.count)
        }
        guard let context = created else { throw TLSError(Self.string(error)) }
        do {
            for (index, certificate) in configuration.certificates.enumerated() {
                var names = certificate.serverNames.map { strdup($0) }
                defer { names.forEach { free($0) } }
                let added = names.withUnsafeMutableBufferPointer { buffer in
                    buffer.withMemoryRebound(to: UnsafePointer<CChar>?.self) {
                        ceio_tls_context_add_certificate(
                            context, certificate.chainPath, certificate.keyPath, $0.baseAddress, $0.count, &error, error.count)
                    }
                }
                guard added == index else {
                    throw TLSError("\(certificate.chainPath): \(Self.string(error))")
                }
                if let path = certificate.ocspResponsePath {
                    // Unreadable, not a response, or for another certificate: refused. An expired
                    // one is taken but never stapled (the refresher says so).
                    let der = try Self.readFile(path)
                    let result = der.withUnsafeBufferPointer {
                        ceio_tls_context_set_ocsp_response(context, Int32(index), $0.baseAddress, $0.count)
                    }
                    if result != 0 { throw TLSError("\(path): \(OCSPCheck.Problem(code: result).description)") }
                }
            }
        } catch {
            ceio_tls_context_free(context)
            throw error
        }
        return context
    }

    deinit { ceio_tls_context_free(pointer) }

    /// Replaces the session-ticket keys (rotation): the first encrypts new tickets, every one
    /// decrypts; tickets under a key no longer listed fall back to a full handshake.
    /// - Throws: ``TLSError`` when a key is not 48 or 80 bytes or keys differ in size.
    public func setTicketKeys(_ keys: [[UInt8]]) throws {
        let size = keys.first?.count ?? 80
        guard keys.allSatisfy({ $0.count == size }), size == 48 || size == 80, keys.count <= 8 else {
            throw TLSError("session ticket keys must all be 48 or all 80 bytes, at most 8")
        }
        let joined = keys.flatMap { $0 }
        let result = joined.withUnsafeBufferPointer { ceio_tls_context_set_ticket_keys(pointer, $0.baseAddress, keys.count, size) }
        guard result == 0 else { throw TLSError("could not set session ticket keys") }
    }

    /// Replaces the stapled OCSP response of a certificate (empty: staple nothing). It is
    /// stapled until its `nextUpdate`, never after.
    /// - Throws: ``TLSError`` when it is not a successful response for that certificate
    ///   (``checkOCSPResponse(_:forCertificate:)``); the previous staple then stays.
    public func setOCSPResponse(_ der: [UInt8], forCertificate index: Int) throws {
        let result = der.withUnsafeBufferPointer {
            ceio_tls_context_set_ocsp_response(pointer, Int32(index), $0.baseAddress, $0.count)
        }
        guard result == 0 else { throw TLSError(OCSPCheck.Problem(code: result).description) }
    }

    /// What a DER OCSP response says about certificate `index`, or why it cannot be stapled.
    /// The signature is not verified here: clients verify what they are stapled.
    public func checkOCSPResponse(_ der: [UInt8], forCertificate index: Int) -> OCSPCheck {
        var next: Int64 = 0
        var status: Int32 = 0
        let result = der.withUnsafeBufferPointer {
            ceio_tls_context_check_ocsp_response(pointer, Int32(index), $0.baseAddress, $0.count, &next, &status)
        }
        guard result == 0 else { return .unusable(OCSPCheck.Problem(code: result)) }
        return .response(nextUpdate: next, revoked: status == 1 /* V_OCSP_CERTSTATUS_REVOKED */)
    }

    /// Checks a TLS 1.3 suite list (`SSL_CTX_set_ciphersuites` format) name by name: OpenSSL
    /// itself skips unknown names as long as one is known, so a typo would silently drop a suite.
    /// - Throws: ``TLSError`` naming the first name that is not a TLS 1.3 suite.
    public static func checkTLS13Suites(_ suites: String) throws {
        var error = [CChar](repeating: 0, count: 256)
        guard ceio_tls_check_tls13_suites(suites, &error, error.count) == 0 else { throw TLSError(string(error)) }
    }

    /// Reads a ticket key file (48 or 80 random bytes, like nginx's `ssl_session_ticket_key`).
    public static func readTicketKey(path: String) throws -> [UInt8] {
        let bytes = try readFile(path)
        guard bytes.count == 48 || bytes.count == 80 else {
            throw TLSError("\(path): a session ticket key file must hold 48 or 80 bytes, not \(bytes.count)")
        }
        return bytes
    }

    static func string(_ buffer: [CChar]) -> String {
        String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    static func readFile(_ path: String) throws -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw TLSError("\(path): cannot open (errno \(errno))") }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 { throw TLSError("\(path): read failed (errno \(errno))") }
            if n == 0 { return bytes }
            bytes += buffer[0..<n]
        }
    }
}

/// A TLS configuration problem, with OpenSSL's reason where there is one.
public struct TLSError: Error, CustomStringConvertible, Sendable {
    public let description: String
    init(_ description: String) { self.description = description }
}

/// An OCSP response checked against a certificate (``TLSContext/checkOCSPResponse(_:forCertificate:)``).
public enum OCSPCheck: Equatable, Sendable {
    /// A successful response naming the certificate: valid until `nextUpdate` (Unix seconds;
    /// `Int64.max` when it gives none); `revoked` when it says the certificate is revoked.
    case response(nextUpdate: Int64, revoked: Bool)
    case unusable(Problem)

    /// Why a response cannot be stapled.
    public enum Problem: Equatable, Sendable, CustomStringConvertible {
        case notAResponse
        case otherCertificate
        case noCertificate

        init(code: Int32) {
            switch code {
            case Int32(CEIO_OCSP_OTHER_CERTIFICATE): self = .otherCertificate
            case Int32(CEIO_OCSP_NO_CERTIFICATE): self = .noCertificate
            default: self = .notAResponse
            }
        }

        public var description: String {
            switch self {
            case .notAResponse:
                "not a successful DER OCSP response (as `openssl ocsp -respout` writes it); check the refresh job's output"
            case .otherCertificate:
                "the OCSP response is for another certificate (serial or issuer differ); refresh it for the certificate now configured"
            case .noCertificate: "no such certificate"
            }
        }
    }
}

/// What a TLS connection negotiated (for logs and tests; allocates).
public struct TLSConnectionInfo: Sendable, Equatable {
    public var version: String
    public var applicationProtocol: String?
    public var serverName: String?
    public var resumed: Bool
}
