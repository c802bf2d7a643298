// CEdgeTLS: server-side TLS on OpenSSL 3 for EdgeIO. One context (shared by every loop)
// holds a certificate per name (chosen by SNI), the TLS 1.2 cipher list and TLS 1.3 suites,
// ALPN preferences, session-ticket keys (set and rotated by the caller, nginx's 48/80-byte
// key format) and a stapled OCSP response per certificate. Connections use the loop's
// non-blocking socket directly (SSL_set_fd); every call returns at once.
#ifndef CEDGETLS_H
#define CEDGETLS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

typedef struct ceio_tls_context ceio_tls_context;
typedef struct ssl_st ceio_tls;

/// A context with no certificate yet. `tls12_ciphers` (OpenSSL cipher list) and
/// `tls13_suites` (SSL_CTX_set_ciphersuites format) may be NULL for the defaults;
/// `alpn` is the wire format (length-prefixed names) in server preference order, or NULL.
/// Returns NULL and a message in `error` on failure.
ceio_tls_context *ceio_tls_context_new(const char *tls12_ciphers, const char *tls13_suites,
                                       const unsigned char *alpn, size_t alpn_length,
                                       char *error, size_t error_capacity);
/// Adds a certificate chain and key (PEM files); the first one added is the default for
/// clients without SNI or with an unknown name. It answers for `server_names` (SNI), or when
/// there are none for the certificate's DNS subjectAltNames (CN when it has none);
/// "*.example.com" matches one label.
/// Returns the certificate's index, or -1 and a message in `error`.
int ceio_tls_context_add_certificate(ceio_tls_context *context, const char *chain_path,
                                     const char *key_path, const char *const *server_names,
                                     size_t server_name_count, char *error, size_t error_capacity);
/// A reload: `context` takes the certificates (and names) of `from`, a context built with the
/// same settings and loaded in full beforehand; `from` keeps the old ones (free it after).
/// New handshakes use the new certificates; connections already open keep theirs.
void ceio_tls_context_take_certificates(ceio_tls_context *context, ceio_tls_context *from);
/// The `notAfter` of certificate `index`'s leaf (Unix seconds) in `not_after`: 0; -1 when
/// there is no such certificate, -2 when its time does not convert. For the expiry metric.
int ceio_tls_context_certificate_not_after(ceio_tls_context *context, int index, int64_t *not_after);
/// Reads a DER OCSP response: 0 and the earliest `nextUpdate` of its single responses (Unix
/// seconds; INT64_MAX when none says) when it is a successful basic response, -1 otherwise.
int ceio_ocsp_response_next_update(const unsigned char *der, size_t length, int64_t *next_update);

/// Why an OCSP response was not taken (ceio_tls_context_check_ocsp_response's results).
enum {
    CEIO_OCSP_NOT_A_RESPONSE = -1,     // not DER, not "successful", or not a basic response
    CEIO_OCSP_OTHER_CERTIFICATE = -2,  // no single response names the certificate
    CEIO_OCSP_NO_CERTIFICATE = -3,     // no certificate `index`
};
/// Checks a DER OCSP response for certificate `index`: 0 with its `nextUpdate` (Unix seconds;
/// INT64_MAX when it has none) and the certificate's status (V_OCSP_CERTSTATUS_GOOD, _REVOKED,
/// _UNKNOWN) when it is a successful basic response naming that certificate (by the issuer's
/// name and key hashes and the serial number; without the issuer in the chain file, by the
/// name hash and serial only), else a CEIO_OCSP_* reason. The signature is not verified: the
/// client does that, as with any staple. Thread-safe.
int ceio_tls_context_check_ocsp_response(ceio_tls_context *context, int index,
                                         const unsigned char *der, size_t length,
                                         int64_t *next_update, int *status);
/// Sets (replaces) the DER OCSP response stapled for certificate `index` (`length` 0: none)
/// after the check above (its reason on failure, nothing changed). A response is stapled until
/// its `nextUpdate`, never after. Thread-safe: loops may be handshaking meanwhile.
int ceio_tls_context_set_ocsp_response(ceio_tls_context *context, int index,
                                       const unsigned char *der, size_t length);
/// 0 when `suites` (`SSL_CTX_set_ciphersuites` format) is a non-empty ':'-separated list of
/// TLS 1.3 suites OpenSSL knows, else -1 and which name is wrong in `error`. (OpenSSL itself
/// skips unknown names as long as one is known.)
int ceio_tls_check_tls13_suites(const char *suites, char *error, size_t error_capacity);
/// Sets (replaces) the session-ticket keys: `count` keys of `key_size` (48 or 80) bytes
/// each, concatenated. The first encrypts new tickets, all decrypt. `count` 0 disables
/// tickets (full handshakes only). Thread-safe.
int ceio_tls_context_set_ticket_keys(ceio_tls_context *context, const unsigned char *keys,
                                     size_t count, size_t key_size);
void ceio_tls_context_free(ceio_tls_context *context);

/// A server-side TLS connection on `fd` (non-blocking), or NULL.
ceio_tls *ceio_tls_new(ceio_tls_context *context, int fd);
/// Why a handshake failed (ceio_tls_handshake's negative results).
enum {
    CEIO_TLS_FAILED_OTHER = -1,
    CEIO_TLS_FAILED_NOT_TLS = -2,           // plain HTTP or another protocol
    CEIO_TLS_FAILED_PROTOCOL_VERSION = -3,  // below TLS 1.2
    CEIO_TLS_FAILED_NO_SHARED_CIPHER = -4,
    CEIO_TLS_FAILED_ALPN = -5,
    CEIO_TLS_FAILED_CLIENT_ALERT = -6,
    CEIO_TLS_FAILED_EOF = -7,               // the client closed mid-handshake
};
/// Drives the handshake: 1 done, 0 waiting for the socket, < 0 failed (CEIO_TLS_FAILED_*).
int ceio_tls_handshake(ceio_tls *tls);
/// Reads plaintext: > 0 bytes, 0 end of stream (close_notify or TCP EOF), -1 would block,
/// -2 failed.
ssize_t ceio_tls_read(ceio_tls *tls, void *buffer, size_t capacity);
/// Writes plaintext: > 0 bytes taken (possibly fewer than `length`), -1 would block
/// (retry later with at least the same bytes), -2 failed.
ssize_t ceio_tls_write(ceio_tls *tls, const void *buffer, size_t length);
/// Whether decrypted or undecrypted bytes are buffered inside OpenSSL.
int ceio_tls_has_pending(ceio_tls *tls);
/// Sends close_notify when `notify` (without waiting for the peer's) and frees the connection.
void ceio_tls_free(ceio_tls *tls, int notify);
/// The negotiated ALPN protocol (not NUL-terminated) or NULL.
const unsigned char *ceio_tls_alpn(ceio_tls *tls, unsigned int *length);
/// The SNI name the client sent, or NULL.
const char *ceio_tls_server_name(ceio_tls *tls);
/// "TLSv1.2", "TLSv1.3".
const char *ceio_tls_version(ceio_tls *tls);
/// Whether the session was resumed (ticket).
int ceio_tls_session_reused(ceio_tls *tls);

#endif
