#include "CEdgeTLS.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ocsp.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

// Mozilla's "intermediate" TLS 1.2 suites (server-side-tls v5.7).
static const char *const default_tls12_ciphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:"
    "DHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES256-GCM-SHA384:DHE-RSA-CHACHA20-POLY1305";
static const char *const default_tls13_suites =
    "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256";

enum { max_certificates = 64, max_names = 256, max_ticket_keys = 8 };

typedef struct {
    unsigned char name[16];
    unsigned char hmac_key[32];
    unsigned char aes_key[32];
    size_t hmac_size;  // 16 or 32
    int aes256;
} ticket_key;

typedef struct {
    SSL_CTX *ctx;
    unsigned char *ocsp;  // DER, guarded by the context's lock
    size_t ocsp_length;
    int64_t ocsp_next_update;  // Unix seconds: not stapled from then on
} certificate;

typedef struct {
    char *name;  // lower case; "*.x" for wildcards
    int certificate;
} name_entry;

struct ceio_tls_context {
    char *tls12_ciphers;
    char *tls13_suites;
    unsigned char *alpn;
    size_t alpn_length;
    certificate certificates[max_certificates];
    int certificate_count;
    name_entry names[max_names];
    int name_count;
    pthread_rwlock_t lock;  // ticket keys and OCSP responses
    ticket_key keys[max_ticket_keys];
    size_t key_count;
};

static int context_index = -1;
static int certificate_index = -1;
static pthread_once_t indexes_once = PTHREAD_ONCE_INIT;

static void make_indexes(void) {
    context_index = SSL_CTX_get_ex_new_index(0, NULL, NULL, NULL, NULL);
    certificate_index = SSL_CTX_get_ex_new_index(0, NULL, NULL, NULL, NULL);
}

static void set_error(char *error, size_t capacity, const char *what) {
    if (!error || capacity == 0) return;
    unsigned long code = ERR_get_error();
    char detail[256] = "";
    if (code) ERR_error_string_n(code, detail, sizeof detail);
    snprintf(error, capacity, "%s%s%s", what, code ? ": " : "", detail);
    ERR_clear_error();
}

static char *duplicate(const char *text) {
    if (!text) return NULL;
    size_t n = strlen(text) + 1;
    char *copy = malloc(n);
    if (copy) memcpy(copy, text, n);
    return copy;
}

// MARK: - Callbacks

static int match_name(const char *pattern, const char *name) {
    if (pattern[0] == '*' && pattern[1] == '.') {
        const char *dot = strchr(name, '.');
        return dot && dot != name && strcasecmp(pattern + 1, dot) == 0;
    }
    return strcasecmp(pattern, name) == 0;
}

static int servername_callback(SSL *ssl, int *alert, void *arg) {
    (void)alert;
    ceio_tls_context *context = arg;
    const char *name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
    if (!name) return SSL_TLSEXT_ERR_NOACK;
    pthread_rwlock_rdlock(&context->lock);  // the certificates may be replaced (a reload)
    int chosen = -1;
    for (int i = 0; i < context->name_count && chosen < 0; i++) {  // exact names first
        if (context->names[i].name[0] != '*' && match_name(context->names[i].name, name))
            chosen = context->names[i].certificate;
    }
    for (int i = 0; i < context->name_count && chosen < 0; i++) {
        if (context->names[i].name[0] == '*' && match_name(context->names[i].name, name))
            chosen = context->names[i].certificate;
    }
    if (chosen > 0) SSL_set_SSL_CTX(ssl, context->certificates[chosen].ctx);
    pthread_rwlock_unlock(&context->lock);
    return SSL_TLSEXT_ERR_OK;  // unknown names get the default certificate, like nginx
}

static int alpn_callback(SSL *ssl, const unsigned char **out, unsigned char *out_length,
                         const unsigned char *in, unsigned int in_length, void *arg) {
    (void)ssl;
    ceio_tls_context *context = arg;
    if (!context->alpn) return SSL_TLSEXT_ERR_NOACK;
    // Server preference: the first of our protocols the client offers.
    for (size_t i = 0; i < context->alpn_length; i += 1 + context->alpn[i]) {
        const unsigned char *ours = context->alpn + i;
        for (unsigned int j = 0; j < in_length; j += 1 + in[j]) {
            if (in[j] == ours[0] && j + 1 + in[j] <= in_length && memcmp(in + j + 1, ours + 1, ours[0]) == 0) {
                *out = in + j + 1;
                *out_length = in[j];
                return SSL_TLSEXT_ERR_OK;
            }
        }
    }
    return SSL_TLSEXT_ERR_NOACK;  // no common protocol: go on without ALPN (HTTP/1.1)
}

static int ticket_callback(SSL *ssl, unsigned char name[16], unsigned char iv[EVP_MAX_IV_LENGTH],
                           EVP_CIPHER_CTX *cipher, EVP_MAC_CTX *mac, int encrypt) {
    ceio_tls_context *context = SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), context_index);
    if (!context) return -1;
    int result = 0;
    pthread_rwlock_rdlock(&context->lock);
    const ticket_key *key = NULL;
    if (encrypt) {
        if (context->key_count == 0) {
            result = 0;  // no keys: no ticket
            goto done;
        }
        key = &context->keys[0];
        const EVP_CIPHER *algorithm = key->aes256 ? EVP_aes_256_cbc() : EVP_aes_128_cbc();
        if (RAND_bytes(iv, EVP_CIPHER_get_iv_length(algorithm)) != 1) { result = -1; goto done; }
        memcpy(name, key->name, 16);
        if (EVP_EncryptInit_ex(cipher, algorithm, NULL, key->aes_key, iv) != 1) { result = -1; goto done; }
        result = 1;
    } else {
        size_t i;
        for (i = 0; i < context->key_count; i++) {
            if (memcmp(context->keys[i].name, name, 16) == 0) break;
        }
        if (i == context->key_count) {
            result = 0;  // unknown key (rotated out): a full handshake
            goto done;
        }
        key = &context->keys[i];
        const EVP_CIPHER *algorithm = key->aes256 ? EVP_aes_256_cbc() : EVP_aes_128_cbc();
        if (EVP_DecryptInit_ex(cipher, algorithm, NULL, key->aes_key, iv) != 1) { result = -1; goto done; }
        // 2: valid, and issue a new ticket: under the current key when this one was an older
        // key's, and always in TLS 1.3, where OpenSSL sends no ticket after a resumption
        // otherwise (1) and clients use a ticket once: without a new one, every other
        // connection of a client was a full handshake (measured: 50 % resumed under wrk).
        result = i == 0 && SSL_version(ssl) != TLS1_3_VERSION ? 1 : 2;
    }
    {
        OSSL_PARAM params[2];
        params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, "SHA256", 0);
        params[1] = OSSL_PARAM_construct_end();
        if (EVP_MAC_init(mac, key->hmac_key, key->hmac_size, params) != 1) result = -1;
    }
done:
    pthread_rwlock_unlock(&context->lock);
    return result;
}

static int status_callback(SSL *ssl, void *arg) {
    ceio_tls_context *context = arg;
    intptr_t index = (intptr_t)SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), certificate_index);
    int result = SSL_TLSEXT_ERR_NOACK;
    pthread_rwlock_rdlock(&context->lock);
    certificate *cert = index < context->certificate_count ? &context->certificates[index] : NULL;
    // An expired response is never sent, even between two looks of the refresher: a client
    // that checks it would refuse the connection, one that gets none asks the CA itself.
    if (cert && cert->ocsp && cert->ocsp_length && (int64_t)time(NULL) < cert->ocsp_next_update) {
        unsigned char *copy = OPENSSL_malloc(cert->ocsp_length);  // OpenSSL takes ownership
        if (copy) {
            memcpy(copy, cert->ocsp, cert->ocsp_length);
            if (SSL_set_tlsext_status_ocsp_resp(ssl, copy, (long)cert->ocsp_length) == 1) {
                result = SSL_TLSEXT_ERR_OK;
            } else {
                OPENSSL_free(copy);
            }
        }
    }
    pthread_rwlock_unlock(&context->lock);
    return result;
}

// MARK: - Context

ceio_tls_context *ceio_tls_context_new(const char *tls12_ciphers, const char *tls13_suites,
                                       const unsigned char *alpn, size_t alpn_length,
                                       char *error, size_t error_capacity) {
    pthread_once(&indexes_once, make_indexes);
    ceio_tls_context *context = calloc(1, sizeof *context);
    if (!context) return NULL;
    context->tls12_ciphers = duplicate(tls12_ciphers ? tls12_ciphers : default_tls12_ciphers);
    context->tls13_suites = duplicate(tls13_suites ? tls13_suites : default_tls13_suites);
    if (alpn && alpn_length) {
        context->alpn = malloc(alpn_length);
        memcpy(context->alpn, alpn, alpn_length);
        context->alpn_length = alpn_length;
    }
    pthread_rwlock_init(&context->lock, NULL);
    // Check the cipher settings now, so a bad list fails at startup, not at the first cert.
    SSL_CTX *probe = SSL_CTX_new(TLS_server_method());
    int ok = probe && SSL_CTX_set_cipher_list(probe, context->tls12_ciphers) == 1 &&
             SSL_CTX_set_ciphersuites(probe, context->tls13_suites) == 1;
    if (!ok) set_error(error, error_capacity, "invalid cipher list or TLS 1.3 suites");
    SSL_CTX_free(probe);
    if (!ok) {
        ceio_tls_context_free(context);
        return NULL;
    }
    return context;
}

static int add_name(ceio_tls_context *context, const char *name, size_t length, int index) {
    if (context->name_count == max_names || length == 0) return 0;
    char *copy = malloc(length + 1);
    if (!copy) return 0;
    for (size_t i = 0; i < length; i++) copy[i] = (char)((name[i] >= 'A' && name[i] <= 'Z') ? name[i] + 32 : name[i]);
    copy[length] = 0;
    context->names[context->name_count].name = copy;
    context->names[context->name_count].certificate = index;
    context->name_count++;
    return 1;
}

static void add_certificate_names(ceio_tls_context *context, X509 *x509, int index) {
    GENERAL_NAMES *names = X509_get_ext_d2i(x509, NID_subject_alt_name, NULL, NULL);
    int added = 0;
    if (names) {
        for (int i = 0; i < sk_GENERAL_NAME_num(names); i++) {
            GENERAL_NAME *name = sk_GENERAL_NAME_value(names, i);
            if (name->type != GEN_DNS) continue;
            const unsigned char *data = ASN1_STRING_get0_data(name->d.dNSName);
            added += add_name(context, (const char *)data, (size_t)ASN1_STRING_length(name->d.dNSName), index);
        }
        GENERAL_NAMES_free(names);
    }
    if (!added) {
        char common[256];
        if (X509_NAME_get_text_by_NID(X509_get_subject_name(x509), NID_commonName, common, sizeof common) > 0)
            add_name(context, common, strlen(common), index);
    }
}

int ceio_tls_context_add_certificate(ceio_tls_context *context, const char *chain_path,
                                     const char *key_path, const char *const *server_names,
                                     size_t server_name_count, char *error, size_t error_capacity) {
    if (context->certificate_count == max_certificates) {
        snprintf(error, error_capacity, "too many certificates (at most %d)", max_certificates);
        return -1;
    }
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    if (!ctx) {
        set_error(error, error_capacity, "SSL_CTX_new");
        return -1;
    }
    int index = context->certificate_count;
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION);
    SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);
    // Write partially and let a retried write come from another buffer holding the same
    // bytes (the loop keeps unsent output in pooled chunks); release buffers when idle.
    SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
                              SSL_MODE_RELEASE_BUFFERS);
    // Read ahead (as nginx does): one read takes whatever the socket has, where OpenSSL would
    // otherwise read each record's 5-byte header and then its body (measured: 4 reads per
    // keep-alive request against nginx's 2, and 11 per new connection against 6.5). Bytes it
    // holds beyond the record are seen by SSL_has_pending, which the loop's reads check.
    SSL_CTX_set_read_ahead(ctx, 1);
    // Stateless tickets only: no server-side cache to lock across loops.
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
    SSL_CTX_set_session_id_context(ctx, (const unsigned char *)"edgeio", 6);
    if (SSL_CTX_set_cipher_list(ctx, context->tls12_ciphers) != 1 ||
        SSL_CTX_set_ciphersuites(ctx, context->tls13_suites) != 1 ||
        SSL_CTX_set1_groups_list(ctx, "X25519:P-256:P-384") != 1) {
        set_error(error, error_capacity, "cipher settings");
        SSL_CTX_free(ctx);
        return -1;
    }
    if (SSL_CTX_use_certificate_chain_file(ctx, chain_path) != 1) {
        set_error(error, error_capacity, "certificate chain");
        SSL_CTX_free(ctx);
        return -1;
    }
    if (SSL_CTX_use_PrivateKey_file(ctx, key_path, SSL_FILETYPE_PEM) != 1 || SSL_CTX_check_private_key(ctx) != 1) {
        set_error(error, error_capacity, "private key");
        SSL_CTX_free(ctx);
        return -1;
    }
    SSL_CTX_set_ex_data(ctx, context_index, context);
    SSL_CTX_set_ex_data(ctx, certificate_index, (void *)(intptr_t)index);
    SSL_CTX_set_tlsext_servername_callback(ctx, servername_callback);
    SSL_CTX_set_tlsext_servername_arg(ctx, context);
    SSL_CTX_set_alpn_select_cb(ctx, alpn_callback, context);
    SSL_CTX_set_tlsext_ticket_key_evp_cb(ctx, ticket_callback);
    SSL_CTX_set_tlsext_status_cb(ctx, status_callback);
    SSL_CTX_set_tlsext_status_arg(ctx, context);
    context->certificates[index].ctx = ctx;
    context->certificate_count++;
    if (server_name_count == 0) {
        add_certificate_names(context, SSL_CTX_get0_certificate(ctx), index);
    } else {
        for (size_t i = 0; i < server_name_count; i++) add_name(context, server_names[i], strlen(server_names[i]), index);
    }
    return index;
}

int ceio_tls_context_certificate_not_after(ceio_tls_context *context, int index, int64_t *not_after) {
    if (index < 0 || index >= context->certificate_count) return -1;
    X509 *leaf = SSL_CTX_get0_certificate(context->certificates[index].ctx);
    const ASN1_TIME *time = leaf ? X509_get0_notAfter(leaf) : NULL;
    struct tm tm;
    if (!time || ASN1_TIME_to_tm(time, &tm) != 1) return -2;
    *not_after = (int64_t)timegm(&tm);
    return 0;
}

// The issuer of `leaf` among the certificate's chain (fullchain.pem holds it), or NULL.
static X509 *chain_issuer(SSL_CTX *ctx, X509 *leaf) {
    STACK_OF(X509) *chain = NULL;
    if (SSL_CTX_get0_chain_certs(ctx, &chain) != 1 || !chain) return NULL;
    for (int i = 0; i < sk_X509_num(chain); i++) {
        X509 *candidate = sk_X509_value(chain, i);
        if (X509_check_issued(candidate, leaf) == X509_V_OK) return candidate;
    }
    return NULL;
}

// Whether an OCSP single response's CertID names `leaf`: the whole CertID when the issuer is
// known (its key hash included), else the serial number and the issuer name's hash.
static int names_certificate(OCSP_SINGLERESP *single, X509 *leaf, X509 *issuer) {
    const OCSP_CERTID *id = OCSP_SINGLERESP_get0_id(single);
    ASN1_OCTET_STRING *name_hash = NULL;
    ASN1_OBJECT *algorithm = NULL;
    ASN1_INTEGER *serial = NULL;
    if (!id || OCSP_id_get0_info(&name_hash, &algorithm, NULL, &serial, (OCSP_CERTID *)id) != 1) return 0;
    if (!serial || ASN1_INTEGER_cmp(serial, X509_get0_serialNumber(leaf)) != 0) return 0;
    const EVP_MD *digest = EVP_get_digestbyobj(algorithm);
    if (!digest) return 0;
    if (issuer) {
        OCSP_CERTID *expected = OCSP_cert_to_id(digest, leaf, issuer);
        int same = expected && OCSP_id_cmp(expected, id) == 0;
        OCSP_CERTID_free(expected);
        return same;
    }
    unsigned char hash[EVP_MAX_MD_SIZE];
    unsigned int hash_length = 0;
    if (X509_NAME_digest(X509_get_issuer_name(leaf), digest, hash, &hash_length) != 1) return 0;
    return name_hash && (unsigned int)ASN1_STRING_length(name_hash) == hash_length &&
           memcmp(ASN1_STRING_get0_data(name_hash), hash, hash_length) == 0;
}

int ceio_tls_context_check_ocsp_response(ceio_tls_context *context, int index, const unsigned char *der,
                                         size_t length, int64_t *next_update, int *status) {
    pthread_rwlock_rdlock(&context->lock);  // a reload may swap the certificates meanwhile
    if (index < 0 || index >= context->certificate_count) {
        pthread_rwlock_unlock(&context->lock);
        return CEIO_OCSP_NO_CERTIFICATE;
    }
    SSL_CTX *ctx = context->certificates[index].ctx;
    SSL_CTX_up_ref(ctx);
    pthread_rwlock_unlock(&context->lock);
    X509 *leaf = SSL_CTX_get0_certificate(ctx);
    X509 *issuer = leaf ? chain_issuer(ctx, leaf) : NULL;
    const unsigned char *cursor = der;
    OCSP_RESPONSE *response = length ? d2i_OCSP_RESPONSE(NULL, &cursor, (long)length) : NULL;
    OCSP_BASICRESP *basic = NULL;
    int result = CEIO_OCSP_NOT_A_RESPONSE;
    if (response && OCSP_response_status(response) == OCSP_RESPONSE_STATUS_SUCCESSFUL &&
        (basic = OCSP_response_get1_basic(response))) {
        result = CEIO_OCSP_OTHER_CERTIFICATE;
        for (int i = 0; leaf && i < OCSP_resp_count(basic); i++) {
            OCSP_SINGLERESP *single = OCSP_resp_get0(basic, i);
            if (!single || !names_certificate(single, leaf, issuer)) continue;
            ASN1_GENERALIZEDTIME *next = NULL;
            int reason = 0;
            int cert_status = OCSP_single_get0_status(single, &reason, NULL, NULL, &next);
            struct tm tm;
            if (cert_status < 0) continue;
            if (!next) {
                *next_update = INT64_MAX;  // "newer information is always available" (RFC 6960)
            } else if (ASN1_TIME_to_tm(next, &tm) == 1) {
                *next_update = (int64_t)timegm(&tm);
            } else {
                continue;
            }
            *status = cert_status;
            result = 0;
            break;
        }
        OCSP_BASICRESP_free(basic);
    }
    OCSP_RESPONSE_free(response);
    SSL_CTX_free(ctx);
    return result;
}

int ceio_tls_context_set_ocsp_response(ceio_tls_context *context, int index, const unsigned char *der,
                                       size_t length) {
    int64_t next_update = 0;
    int status = 0;
    if (length) {
        int checked = ceio_tls_context_check_ocsp_response(context, index, der, length, &next_update, &status);
        if (checked != 0) return checked;
    }
    unsigned char *copy = NULL;
    if (length) {
        copy = malloc(length);
        if (!copy) return CEIO_OCSP_NOT_A_RESPONSE;
        memcpy(copy, der, length);
    }
    pthread_rwlock_wrlock(&context->lock);
    if (index < 0 || index >= context->certificate_count) {
        pthread_rwlock_unlock(&context->lock);
        free(copy);
        return CEIO_OCSP_NO_CERTIFICATE;
    }
    unsigned char *old = context->certificates[index].ocsp;
    context->certificates[index].ocsp = copy;
    context->certificates[index].ocsp_length = length;
    context->certificates[index].ocsp_next_update = next_update;
    pthread_rwlock_unlock(&context->lock);
    free(old);
    return 0;
}

int ceio_tls_check_tls13_suites(const char *suites, char *error, size_t error_capacity) {
    if (!suites || !*suites) {
        snprintf(error, error_capacity, "is empty");
        return -1;
    }
    // OpenSSL skips names it does not know (and takes TLS 1.2 suites' standard names) as long
    // as one name is good, so each name is tried on its own.
    const char *start = suites;
    int result = 0;
    while (result == 0) {
        const char *end = strchr(start, ':');
        size_t n = end ? (size_t)(end - start) : strlen(start);
        char name[96];
        if (n == 0 || n >= sizeof name) {
            snprintf(error, error_capacity, n == 0 ? "has an empty name (two ':' in a row, or one at an end)"
                                                   : "has a name too long to be a TLS 1.3 suite");
            return -1;
        }
        memcpy(name, start, n);
        name[n] = 0;
        SSL_CTX *probe = SSL_CTX_new(TLS_server_method());
        int found = 0;
        if (probe && SSL_CTX_set_ciphersuites(probe, name) == 1) {
            STACK_OF(SSL_CIPHER) *ciphers = SSL_CTX_get_ciphers(probe);
            for (int i = 0; i < sk_SSL_CIPHER_num(ciphers) && !found; i++) {
                const SSL_CIPHER *cipher = sk_SSL_CIPHER_value(ciphers, i);
                found = (SSL_CIPHER_get_protocol_id(cipher) & 0xff00) == 0x1300 &&
                        strcmp(SSL_CIPHER_standard_name(cipher), name) == 0;
            }
        }
        SSL_CTX_free(probe);
        ERR_clear_error();
        if (!found) {
            snprintf(error, error_capacity, "'%s' is not a TLS 1.3 cipher suite this OpenSSL knows", name);
            result = -1;
        }
        if (!end) break;
        start = end + 1;
    }
    return result;
}

int ceio_tls_context_set_ticket_keys(ceio_tls_context *context, const unsigned char *keys, size_t count,
                                     size_t key_size) {
    if (count > max_ticket_keys || (count && key_size != 48 && key_size != 80)) return -1;
    ticket_key parsed[max_ticket_keys];
    memset(parsed, 0, sizeof parsed);
    for (size_t i = 0; i < count; i++) {
        const unsigned char *k = keys + i * key_size;
        memcpy(parsed[i].name, k, 16);
        if (key_size == 48) {  // nginx: name, AES-128 key, HMAC key
            memcpy(parsed[i].aes_key, k + 16, 16);
            memcpy(parsed[i].hmac_key, k + 32, 16);
            parsed[i].hmac_size = 16;
            parsed[i].aes256 = 0;
        } else {  // nginx: name, HMAC key, AES-256 key
            memcpy(parsed[i].hmac_key, k + 16, 32);
            memcpy(parsed[i].aes_key, k + 48, 32);
            parsed[i].hmac_size = 32;
            parsed[i].aes256 = 1;
        }
    }
    pthread_rwlock_wrlock(&context->lock);
    memcpy(context->keys, parsed, sizeof parsed);
    context->key_count = count;
    pthread_rwlock_unlock(&context->lock);
    OPENSSL_cleanse(parsed, sizeof parsed);
    return 0;
}

void ceio_tls_context_free(ceio_tls_context *context) {
    if (!context) return;
    for (int i = 0; i < context->certificate_count; i++) {
        SSL_CTX_free(context->certificates[i].ctx);
        free(context->certificates[i].ocsp);
    }
    for (int i = 0; i < context->name_count; i++) free(context->names[i].name);
    free(context->tls12_ciphers);
    free(context->tls13_suites);
    free(context->alpn);
    OPENSSL_cleanse(context->keys, sizeof context->keys);
    pthread_rwlock_destroy(&context->lock);
    free(context);
}

// MARK: - Connections

void ceio_tls_context_take_certificates(ceio_tls_context *context, ceio_tls_context *from) {
    // The new certificates answer to `context` from now on (their callbacks' argument and
    // ex_data); the old ones keep pointing at it too, so a handshake still running on one is safe.
    for (int i = 0; i < from->certificate_count; i++) {
        SSL_CTX *ctx = from->certificates[i].ctx;
        SSL_CTX_set_ex_data(ctx, context_index, context);
        SSL_CTX_set_tlsext_servername_arg(ctx, context);
        SSL_CTX_set_alpn_select_cb(ctx, alpn_callback, context);
        SSL_CTX_set_tlsext_status_arg(ctx, context);
    }
    pthread_rwlock_wrlock(&context->lock);
    certificate certificates[max_certificates];
    memcpy(certificates, context->certificates, sizeof certificates);
    memcpy(context->certificates, from->certificates, sizeof certificates);
    memcpy(from->certificates, certificates, sizeof certificates);
    int count = context->certificate_count;
    context->certificate_count = from->certificate_count;
    from->certificate_count = count;
    name_entry names[max_names];
    memcpy(names, context->names, sizeof names);
    memcpy(context->names, from->names, sizeof names);
    memcpy(from->names, names, sizeof names);
    count = context->name_count;
    context->name_count = from->name_count;
    from->name_count = count;
    pthread_rwlock_unlock(&context->lock);
}

ceio_tls *ceio_tls_new(ceio_tls_context *context, int fd) {
    pthread_rwlock_rdlock(&context->lock);
    SSL *ssl = context->certificate_count > 0 ? SSL_new(context->certificates[0].ctx) : NULL;
    pthread_rwlock_unlock(&context->lock);
    if (!ssl) return NULL;
    if (SSL_set_fd(ssl, fd) != 1) {
        SSL_free(ssl);
        return NULL;
    }
    SSL_set_accept_state(ssl);
    return ssl;
}

// Why a handshake failed, from OpenSSL's first error (bounded labels for metrics).
static int handshake_failure(int ssl_error) {
    unsigned long code = ERR_peek_error();
    if (code == 0) return ssl_error == SSL_ERROR_SYSCALL || ssl_error == SSL_ERROR_ZERO_RETURN ? CEIO_TLS_FAILED_EOF
                                                                                              : CEIO_TLS_FAILED_OTHER;
    if (ERR_GET_LIB(code) != ERR_LIB_SSL) return CEIO_TLS_FAILED_OTHER;
    int reason = ERR_GET_REASON(code);
    switch (reason) {
    case SSL_R_HTTP_REQUEST:
    case SSL_R_HTTPS_PROXY_REQUEST:
    case SSL_R_WRONG_VERSION_NUMBER:
    case SSL_R_PACKET_LENGTH_TOO_LONG:
    case SSL_R_RECORD_LENGTH_MISMATCH:
        return CEIO_TLS_FAILED_NOT_TLS;
    case SSL_R_UNSUPPORTED_PROTOCOL:
    case SSL_R_VERSION_TOO_LOW:
    case SSL_R_VERSION_TOO_HIGH:
        return CEIO_TLS_FAILED_PROTOCOL_VERSION;
    case SSL_R_NO_SHARED_CIPHER:
    case SSL_R_NO_CIPHERS_AVAILABLE:
        return CEIO_TLS_FAILED_NO_SHARED_CIPHER;
    case SSL_R_NO_APPLICATION_PROTOCOL:
        return CEIO_TLS_FAILED_ALPN;
    case SSL_R_UNEXPECTED_EOF_WHILE_READING:
        return CEIO_TLS_FAILED_EOF;
    default:
        return reason >= SSL_AD_REASON_OFFSET ? CEIO_TLS_FAILED_CLIENT_ALERT : CEIO_TLS_FAILED_OTHER;
    }
}

int ceio_tls_handshake(ceio_tls *tls) {
    ERR_clear_error();
    int r = SSL_do_handshake(tls);
    if (r == 1) return 1;
    int e = SSL_get_error(tls, r);
    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) return 0;
    int failure = handshake_failure(e);
    ERR_clear_error();
    return failure;
}

ssize_t ceio_tls_read(ceio_tls *tls, void *buffer, size_t capacity) {
    ERR_clear_error();
    int r = SSL_read(tls, buffer, capacity > INT32_MAX ? INT32_MAX : (int)capacity);
    if (r > 0) return r;
    int e = SSL_get_error(tls, r);
    switch (e) {
    case SSL_ERROR_WANT_READ:
    case SSL_ERROR_WANT_WRITE:
        return -1;
    case SSL_ERROR_ZERO_RETURN:
        return 0;
    case SSL_ERROR_SYSCALL:
        // TCP EOF without close_notify: OpenSSL 3 reports it as SSL_R_UNEXPECTED_EOF_WHILE_READING.
        if (ERR_GET_REASON(ERR_peek_error()) == SSL_R_UNEXPECTED_EOF_WHILE_READING ||
            (ERR_peek_error() == 0 && errno == 0)) {
            ERR_clear_error();
            return 0;
        }
        ERR_clear_error();
        return -2;
    case SSL_ERROR_SSL:
        if (ERR_GET_REASON(ERR_peek_error()) == SSL_R_UNEXPECTED_EOF_WHILE_READING) {
            ERR_clear_error();
            return 0;
        }
        ERR_clear_error();
        return -2;
    default:
        ERR_clear_error();
        return -2;
    }
}

ssize_t ceio_tls_write(ceio_tls *tls, const void *buffer, size_t length) {
    ERR_clear_error();
    int r = SSL_write(tls, buffer, length > INT32_MAX ? INT32_MAX : (int)length);
    if (r > 0) return r;
    int e = SSL_get_error(tls, r);
    if (e == SSL_ERROR_WANT_WRITE || e == SSL_ERROR_WANT_READ) return -1;
    ERR_clear_error();
    return -2;
}

int ceio_tls_has_pending(ceio_tls *tls) { return SSL_has_pending(tls); }

void ceio_tls_free(ceio_tls *tls, int notify) {
    if (notify && SSL_is_init_finished(tls)) {
        ERR_clear_error();
        SSL_shutdown(tls);  // one call: sends close_notify, does not wait for the peer's
        ERR_clear_error();
    }
    SSL_free(tls);
}

const unsigned char *ceio_tls_alpn(ceio_tls *tls, unsigned int *length) {
    const unsigned char *data = NULL;
    SSL_get0_alpn_selected(tls, &data, length);
    return data;
}

const char *ceio_tls_server_name(ceio_tls *tls) { return SSL_get_servername(tls, TLSEXT_NAMETYPE_host_name); }

const char *ceio_tls_version(ceio_tls *tls) { return SSL_get_version(tls); }

int ceio_tls_session_reused(ceio_tls *tls) { return SSL_session_reused(tls); }

int ceio_ocsp_response_next_update(const unsigned char *der, size_t length, int64_t *next_update) {
    const unsigned char *cursor = der;
    OCSP_RESPONSE *response = d2i_OCSP_RESPONSE(NULL, &cursor, (long)length);
    if (!response) return -1;
    int result = -1;
    OCSP_BASICRESP *basic = NULL;
    if (OCSP_response_status(response) == OCSP_RESPONSE_STATUS_SUCCESSFUL && (basic = OCSP_response_get1_basic(response))) {
        int64_t earliest = INT64_MAX;
        int count = OCSP_resp_count(basic);
        for (int i = 0; i < count; i++) {
            ASN1_GENERALIZEDTIME *next = NULL;
            OCSP_SINGLERESP *single = OCSP_resp_get0(basic, i);
            if (!single || OCSP_single_get0_status(single, NULL, NULL, NULL, &next) < 0 || !next) continue;
            struct tm tm;
            if (ASN1_TIME_to_tm(next, &tm) != 1) continue;
            int64_t seconds = (int64_t)timegm(&tm);
            if (seconds < earliest) earliest = seconds;
        }
        *next_update = earliest;
        result = count > 0 ? 0 : -1;
        OCSP_BASICRESP_free(basic);
    }
    OCSP_RESPONSE_free(response);
    return result;
}
