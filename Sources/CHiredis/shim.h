// hiredis from Debian's libhiredis-dev. The backend uses its command encoding (redisFormatCommandArgv) and reply
// parser (redisReader) under its NIO-driven client (no hiredis socket code there); the edge's shared
// rate-limit zones use its blocking client, with timeouts, on one sync thread per zone.
#include <hiredis/hiredis.h>
#include <hiredis/read.h>
