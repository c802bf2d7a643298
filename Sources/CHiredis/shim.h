// hiredis from Debian's libhiredis-dev: command encoding (redisFormatCommandArgv) and the reply
// parser (redisReader), used by the backend's NIO-driven Redis client. No socket code of hiredis
// is used: the bytes travel over SwiftNIO.
#include <hiredis/hiredis.h>
#include <hiredis/read.h>
