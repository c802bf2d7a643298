// CEdgeZlib: zlib's deflate (Debian's zlib1g-dev) for the I/O core's response compression.
// The z_stream stays on the C side (its init is a macro Swift cannot call, and its fields are
// zlib's business): Swift holds an opaque deflater and hands it input and an output buffer.
#ifndef CEDGEZLIB_H
#define CEDGEZLIB_H

#include <stddef.h>

typedef struct cez_deflater cez_deflater;

/// zlib's flush values, as `cez_deflate` takes them.
static const int CEZ_NO_FLUSH = 0;
static const int CEZ_SYNC_FLUSH = 2;
static const int CEZ_FINISH = 4;
/// zlib's return codes `cez_deflate` passes on.
static const int CEZ_OK = 0;
static const int CEZ_STREAM_END = 1;
static const int CEZ_BUF_ERROR = -5;

/// A deflater writing the gzip format (RFC 1952) at `level` with a window of 2^`window_bits`
/// bytes (9-15) and `mem_level` (1-9); NULL when zlib cannot allocate it.
cez_deflater *cez_deflater_new(int level, int window_bits, int mem_level);

/// Starts a new gzip member with the same parameters (no allocation); 0 on success.
int cez_deflater_reset(cez_deflater *deflater);

void cez_deflater_free(cez_deflater *deflater);

/// One `deflate` call: takes input from `in` (`*consumed` set to what it took), writes output
/// to `out` (`*produced` set to what it wrote). Returns zlib's code.
int cez_deflate(cez_deflater *deflater, const void *in, size_t in_length, size_t *consumed, void *out, size_t out_capacity,
                size_t *produced, int flush);

/// Decompresses one whole gzip member (`in`) into `out` (tests check what the edge sent);
/// `*produced` set to the bytes written. Returns zlib's code: CEZ_STREAM_END when the member
/// ended (its CRC and length checked), CEZ_BUF_ERROR when it was cut short or `out` too small.
int cez_gunzip(const void *in, size_t in_length, void *out, size_t out_capacity, size_t *produced);

#endif
