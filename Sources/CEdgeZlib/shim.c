#include "CEdgeZlib.h"

#include <stdlib.h>
#include <zlib.h>

struct cez_deflater {
    z_stream stream;
};

cez_deflater *cez_deflater_new(int level, int window_bits, int mem_level) {
    cez_deflater *deflater = calloc(1, sizeof(cez_deflater));
    if (deflater == NULL) return NULL;
    // windowBits + 16: a gzip header and trailer around the deflate data.
    if (deflateInit2(&deflater->stream, level, Z_DEFLATED, window_bits + 16, mem_level, Z_DEFAULT_STRATEGY) != Z_OK) {
        free(deflater);
        return NULL;
    }
    return deflater;
}

int cez_deflater_reset(cez_deflater *deflater) { return deflateReset(&deflater->stream); }

void cez_deflater_free(cez_deflater *deflater) {
    if (deflater == NULL) return;
    deflateEnd(&deflater->stream);
    free(deflater);
}

int cez_deflate(cez_deflater *deflater, const void *in, size_t in_length, size_t *consumed, void *out, size_t out_capacity,
                size_t *produced, int flush) {
    z_stream *stream = &deflater->stream;
    // zlib's counts are 32-bit: callers pass at most a read's and a scratch buffer's worth.
    stream->next_in = (Bytef *)in;
    stream->avail_in = (uInt)in_length;
    stream->next_out = (Bytef *)out;
    stream->avail_out = (uInt)out_capacity;
    int code = deflate(stream, flush);
    *consumed = in_length - stream->avail_in;
    *produced = out_capacity - stream->avail_out;
    return code;
}

int cez_gunzip(const void *in, size_t in_length, void *out, size_t out_capacity, size_t *produced) {
    z_stream stream = {0};
    if (inflateInit2(&stream, 15 + 16) != Z_OK) return Z_MEM_ERROR;
    stream.next_in = (Bytef *)in;
    stream.avail_in = (uInt)in_length;
    stream.next_out = (Bytef *)out;
    stream.avail_out = (uInt)out_capacity;
    int code = inflate(&stream, Z_FINISH);
    *produced = out_capacity - stream.avail_out;
    inflateEnd(&stream);
    return code;
}
