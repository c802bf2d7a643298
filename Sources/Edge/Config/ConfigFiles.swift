import Foundation

/// Checks on the files and directories a configuration names (TLS certificates and keys, the
/// ACME webroot), made when the file is loaded so that `--check` and a `SIGHUP` reload refuse a
/// configuration whose files are missing instead of the edge failing on the first handshake.
///
/// Only existence, type and permission are checked here; the contents are not read (the TLS
/// section checks a ticket key file's size and that an OCSP response parses). Parsing the PEM
/// (and matching the key to the certificate) is the TLS runtime's job, which reports its own
/// errors. Relative paths are relative to the edge's working directory, as everywhere else in
/// the configuration.
enum ConfigFiles {
    /// What a file is for, which decides the advice in messages.
    enum Role {
        case certificateChain
        case privateKey
        case ocspResponse
        case sessionTicketKey

        var noun: String {
            switch self {
            case .certificateChain: return "certificate"
            case .privateKey: return "private key"
            case .ocspResponse: return "OCSP response"
            case .sessionTicketKey: return "session ticket key"
            }
        }

        /// The file of a Let's Encrypt live directory that plays this role (a name for messages).
        var letsEncryptFile: String {
            switch self {
            case .certificateChain: return "fullchain.pem"
            case .privateKey: return "privkey.pem"
            case .ocspResponse: return "ocsp.der"
            case .sessionTicketKey: return "ticket.key"
            }
        }

        /// What to do when the file is missing.
        var advice: String {
            switch self {
            case .certificateChain, .privateKey:
                return
                    "give the \(noun) PEM file (with Let's Encrypt: /etc/letsencrypt/live/NAME/\(letsEncryptFile)), or for development run deploy/generate_ssl_cert.sh and use certs/dev/\(self == .certificateChain ? "cert.pem" : "key.pem")"
            case .ocspResponse:
                return
                    "run the refresh job once to write it (systemctl start homerack-ocsp-refresh.service; see docs/TLS.md, OCSP stapling), or remove ocsp_response"
            case .sessionTicketKey:
                return "make it with: openssl rand 80 > FILE (mode 0600, the same file on every edge that shares tickets)"
            }
        }
    }

    /// A path to a PEM file that exists, is not a directory and can be read by this process.
    /// - Parameters:
    ///   - text: the path as written (after environment substitution).
    ///   - role: what the file holds, for the advice in messages.
    /// - Returns: `text` unchanged.
    /// - Throws: ``ConfigValueError`` saying what is wrong with the path and what to do.
    static func readableFile(_ text: String, role: Role) throws(ConfigValueError) -> String {
        try checkPathText(text, noun: "\(role.noun) file")
        let advice = role.advice
        var info = stat()
        guard stat(text, &info) == 0 else {
            throw missing(text, errorNumber: errno, advice: advice)
        }
        if info.st_mode & S_IFMT == S_IFDIR {
            throw ConfigValueError(
                "'\(text)' is a directory; name the \(role.noun) file in it, e.g. \(joined(text, role.letsEncryptFile))"
            )
        }
        guard access(text, R_OK) == 0 else {
            let privateKeyHint =
                role == .privateKey
                ? " (Let's Encrypt keeps privkey.pem readable by root only; docs/TLS.md shows how to give the edge's group read access)"
                : ""
            throw ConfigValueError(
                "'\(text)' cannot be read by the edge (uid \(getuid())): permission denied; let the edge's user or group read it\(privateKeyHint)"
            )
        }
        return text
    }

    /// A path to a directory that exists and whose files this process can read.
    /// - Parameters:
    ///   - text: the path as written (after environment substitution).
    ///   - purpose: what the directory is for, as in "the ACME webroot".
    ///   - advice: what to do when it is missing.
    /// - Returns: `text` unchanged.
    /// - Throws: ``ConfigValueError`` saying what is wrong with the path and what to do.
    static func directory(_ text: String, purpose: String, advice: String) throws(ConfigValueError) -> String {
        try checkPathText(text, noun: "directory")
        var info = stat()
        guard stat(text, &info) == 0 else {
            throw missing(text, errorNumber: errno, advice: advice)
        }
        guard info.st_mode & S_IFMT == S_IFDIR else {
            throw ConfigValueError("'\(text)' is not a directory; \(purpose) must be a directory")
        }
        guard access(text, R_OK | X_OK) == 0 else {
            throw ConfigValueError(
                "'\(text)' cannot be read by the edge (uid \(getuid())): permission denied; let the edge's user or group read and enter it"
            )
        }
        return text
    }

    /// Refuses an empty path or one with control characters, before touching the file system.
    private static func checkPathText(_ text: String, noun: String) throws(ConfigValueError) {
        guard !text.isEmpty else { throw ConfigValueError("is empty; give the path of the \(noun)") }
        guard !text.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) else {
            throw ConfigValueError("the path contains a control character")
        }
    }

    /// Why `stat` failed, in words: a missing file, a dangling symbolic link (a Let's Encrypt
    /// `live/` link whose `archive/` target was removed), or a directory on the way the edge may
    /// not enter.
    private static func missing(_ text: String, errorNumber: Int32, advice: String) -> ConfigValueError {
        let location =
            text.hasPrefix("/")
            ? "" : " (relative to the edge's working directory, \(FileManager.default.currentDirectoryPath))"
        switch errorNumber {
        case ENOENT, ENOTDIR:
            var linkInfo = stat()
            if lstat(text, &linkInfo) == 0, linkInfo.st_mode & S_IFMT == S_IFLNK {
                let target = (try? FileManager.default.destinationOfSymbolicLink(atPath: text)) ?? "?"
                return ConfigValueError(
                    "'\(text)'\(location) is a symbolic link to '\(target)', which does not exist; reissue the certificate or fix the link"
                )
            }
            return ConfigValueError("'\(text)' does not exist\(location); \(advice)")
        case EACCES:
            return ConfigValueError(
                "'\(text)'\(location) cannot be reached by the edge (uid \(getuid())): a directory on the way to it may not be entered; let the edge's user or group enter it (see docs/TLS.md)"
            )
        default:
            return ConfigValueError("'\(text)'\(location) cannot be checked: \(String(cString: strerror(errorNumber)))")
        }
    }

    private static func joined(_ directory: String, _ file: String) -> String {
        directory.hasSuffix("/") ? directory + file : "\(directory)/\(file)"
    }
}
