// nghttp2 1.52 (Debian's libnghttp2-dev) for EdgeIO's HTTP/2. The callbacks live in C
// (CEdgeH2); this module is the link line and the declared dependency.
#include <nghttp2/nghttp2.h>
