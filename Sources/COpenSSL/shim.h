// OpenSSL 3 (Debian's libssl-dev) for EdgeIO's TLS. The TLS glue itself is C (CEdgeTLS);
// Swift sees OpenSSL only through it, so this module is mainly the link line and the
// package's declared dependency on libssl-dev.
#include <openssl/ssl.h>
#include <openssl/err.h>
