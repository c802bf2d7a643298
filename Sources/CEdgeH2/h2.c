#include "CEdgeH2.h"

#include <nghttp2/nghttp2.h>
#include <stdlib.h>
#include <string.h>

// MARK: - Sink

ceio_h2_sink *ceio_h2_sink_new(void) {
    ceio_h2_sink *sink = calloc(1, sizeof *sink);
    if (!sink) return NULL;
    sink->capacity = 256;
    sink->events = malloc(sink->capacity * sizeof *sink->events);
    sink->arena_capacity = 64 * 1024;
    sink->arena = malloc(sink->arena_capacity);
    if (!sink->events || !sink->arena) {
        ceio_h2_sink_free(sink);
        return NULL;
    }
    return sink;
}

void ceio_h2_sink_free(ceio_h2_sink *sink) {
    if (!sink) return;
    free(sink->events);
    free(sink->arena);
    free(sink);
}

void ceio_h2_sink_reset(ceio_h2_sink *sink) {
    sink->count = 0;
    sink->arena_used = 0;
    sink->failed = 0;
}

static ceio_h2_event *push(ceio_h2_sink *sink, uint32_t kind, int32_t stream_id) {
    if (sink->count == sink->capacity) {
        size_t capacity = sink->capacity * 2;
        ceio_h2_event *grown = realloc(sink->events, capacity * sizeof *grown);
        if (!grown) {
            sink->failed = 1;
            return NULL;
        }
        sink->events = grown;
        sink->capacity = capacity;
    }
    ceio_h2_event *event = &sink->events[sink->count++];
    memset(event, 0, sizeof *event);
    event->kind = kind;
    event->stream_id = stream_id;
    return event;
}

// Copies bytes into the arena; returns the offset, or -1.
static long keep(ceio_h2_sink *sink, const uint8_t *bytes, size_t length) {
    if (sink->arena_used + length > sink->arena_capacity) {
        size_t capacity = sink->arena_capacity;
        while (sink->arena_used + length > capacity) capacity *= 2;
        uint8_t *grown = realloc(sink->arena, capacity);
        if (!grown) {
            sink->failed = 1;
            return -1;
        }
        sink->arena = grown;
        sink->arena_capacity = capacity;
    }
    long offset = (long)sink->arena_used;
    memcpy(sink->arena + offset, bytes, length);
    sink->arena_used += length;
    return offset;
}

// MARK: - Callbacks

static int on_begin_headers(nghttp2_session *session, const nghttp2_frame *frame, void *user_data) {
    (void)session;
    if (frame->hd.type != NGHTTP2_HEADERS || frame->headers.cat != NGHTTP2_HCAT_REQUEST) return 0;
    return push(user_data, CEIO_H2_STREAM_OPENED, frame->hd.stream_id) ? 0 : NGHTTP2_ERR_CALLBACK_FAILURE;
}

static int on_header(nghttp2_session *session, const nghttp2_frame *frame, const uint8_t *name, size_t name_length,
                     const uint8_t *value, size_t value_length, uint8_t flags, void *user_data) {
    (void)session;
    (void)flags;
    if (frame->hd.type != NGHTTP2_HEADERS) return 0;
    ceio_h2_sink *sink = user_data;
    long name_offset = keep(sink, name, name_length);
    long value_offset = keep(sink, value, value_length);
    ceio_h2_event *event = push(sink, CEIO_H2_HEADER, frame->hd.stream_id);
    if (!event || name_offset < 0 || value_offset < 0) return NGHTTP2_ERR_CALLBACK_FAILURE;
    event->a_offset = (uint32_t)name_offset;
    event->a_length = (uint32_t)name_length;
    event->b_offset = (uint32_t)value_offset;
    event->b_length = (uint32_t)value_length;
    return 0;
}

static int on_frame_recv(nghttp2_session *session, const nghttp2_frame *frame, void *user_data) {
    (void)session;
    ceio_h2_sink *sink = user_data;
    switch (frame->hd.type) {
    case NGHTTP2_HEADERS:
        if (frame->headers.cat == NGHTTP2_HCAT_REQUEST && !push(sink, CEIO_H2_HEADERS_COMPLETE, frame->hd.stream_id))
            return NGHTTP2_ERR_CALLBACK_FAILURE;
        /* fall through */
    case NGHTTP2_DATA:
        if ((frame->hd.flags & NGHTTP2_FLAG_END_STREAM) && !push(sink, CEIO_H2_REQUEST_COMPLETE, frame->hd.stream_id))
            return NGHTTP2_ERR_CALLBACK_FAILURE;
        break;
    default:
        break;
    }
    return 0;
}

static int on_data_chunk(nghttp2_session *session, uint8_t flags, int32_t stream_id, const uint8_t *data, size_t length,
                         void *user_data) {
    (void)session;
    (void)flags;
    ceio_h2_sink *sink = user_data;
    long offset = keep(sink, data, length);
    ceio_h2_event *event = push(sink, CEIO_H2_DATA, stream_id);
    if (!event || offset < 0) return NGHTTP2_ERR_CALLBACK_FAILURE;
    event->a_offset = (uint32_t)offset;
    event->a_length = (uint32_t)length;
    return 0;
}

typedef struct {
    const uint8_t *body;
    size_t length;
    size_t offset;
} body_source;

static int on_stream_close(nghttp2_session *session, int32_t stream_id, uint32_t error_code, void *user_data) {
    free(nghttp2_session_get_stream_user_data(session, stream_id));
    ceio_h2_event *event = push(user_data, CEIO_H2_STREAM_CLOSED, stream_id);
    if (!event) return NGHTTP2_ERR_CALLBACK_FAILURE;
    event->error_code = error_code;
    return 0;
}

static ssize_t read_body(nghttp2_session *session, int32_t stream_id, uint8_t *buffer, size_t length,
                         uint32_t *data_flags, nghttp2_data_source *source, void *user_data) {
    (void)session;
    (void)stream_id;
    (void)user_data;
    body_source *body = source->ptr;
    size_t n = body->length - body->offset;
    if (n > length) n = length;
    memcpy(buffer, body->body + body->offset, n);
    body->offset += n;
    if (body->offset == body->length) *data_flags |= NGHTTP2_DATA_FLAG_EOF;
    return (ssize_t)n;
}

// MARK: - Sessions

ceio_h2_session *ceio_h2_server_new(ceio_h2_sink *sink, const ceio_h2_settings *settings) {
    nghttp2_session_callbacks *callbacks;
    if (nghttp2_session_callbacks_new(&callbacks) != 0) return NULL;
    nghttp2_session_callbacks_set_on_begin_headers_callback(callbacks, on_begin_headers);
    nghttp2_session_callbacks_set_on_header_callback(callbacks, on_header);
    nghttp2_session_callbacks_set_on_frame_recv_callback(callbacks, on_frame_recv);
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(callbacks, on_data_chunk);
    nghttp2_session_callbacks_set_on_stream_close_callback(callbacks, on_stream_close);
    nghttp2_option *option;
    if (nghttp2_option_new(&option) != 0) {
        nghttp2_session_callbacks_del(callbacks);
        return NULL;
    }
    // Bound what a peer can make the session queue: ACKs of PING/SETTINGS floods, entries
    // per SETTINGS frame, and our own header blocks.
    nghttp2_option_set_max_outbound_ack(option, 1000);
    nghttp2_option_set_max_settings(option, 32);
    nghttp2_option_set_max_send_header_block_length(option, 64 * 1024);
    nghttp2_session *session = NULL;
    int result = nghttp2_session_server_new2(&session, callbacks, sink, option);
    nghttp2_option_del(option);
    nghttp2_session_callbacks_del(callbacks);
    if (result != 0) return NULL;
    nghttp2_settings_entry entries[4] = {
        {NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, settings->max_concurrent_streams},
        {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, settings->initial_window_size},
        {NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE, settings->max_header_list_size},
        {NGHTTP2_SETTINGS_MAX_FRAME_SIZE, settings->max_frame_size},
    };
    if (nghttp2_submit_settings(session, NGHTTP2_FLAG_NONE, entries, 4) != 0) {
        nghttp2_session_del(session);
        return NULL;
    }
    return session;
}

void ceio_h2_session_free(ceio_h2_session *session) { nghttp2_session_del(session); }

ssize_t ceio_h2_receive(ceio_h2_session *session, const uint8_t *data, size_t length) {
    return nghttp2_session_mem_recv(session, data, length);
}

ssize_t ceio_h2_send(ceio_h2_session *session, const uint8_t **data) { return nghttp2_session_mem_send(session, data); }

int ceio_h2_wants_io(ceio_h2_session *session) {
    return nghttp2_session_want_read(session) || nghttp2_session_want_write(session);
}

int ceio_h2_submit_response(ceio_h2_session *session, int32_t stream_id, const uint8_t *const *names,
                            const size_t *name_lengths, const uint8_t *const *values, const size_t *value_lengths,
                            size_t count, const uint8_t *body, size_t body_length) {
    nghttp2_nv fields[32];
    if (count > 32) return -1;
    for (size_t i = 0; i < count; i++) {
        fields[i].name = (uint8_t *)names[i];
        fields[i].namelen = name_lengths[i];
        fields[i].value = (uint8_t *)values[i];
        fields[i].valuelen = value_lengths[i];
        fields[i].flags = NGHTTP2_NV_FLAG_NONE;
    }
    if (!body) return nghttp2_submit_response(session, stream_id, fields, count, NULL);
    body_source *source = malloc(sizeof *source);
    if (!source) return -1;
    source->body = body;
    source->length = body_length;
    source->offset = 0;
    if (nghttp2_session_set_stream_user_data(session, stream_id, source) != 0) {
        free(source);
        return -1;
    }
    nghttp2_data_provider provider;
    provider.source.ptr = source;
    provider.read_callback = read_body;
    int result = nghttp2_submit_response(session, stream_id, fields, count, &provider);
    if (result != 0) {
        nghttp2_session_set_stream_user_data(session, stream_id, NULL);
        free(source);
    }
    return result;
}

int ceio_h2_reset_stream(ceio_h2_session *session, int32_t stream_id, uint32_t error_code) {
    return nghttp2_submit_rst_stream(session, NGHTTP2_FLAG_NONE, stream_id, error_code);
}

int ceio_h2_goaway(ceio_h2_session *session) {
    return nghttp2_submit_goaway(session, NGHTTP2_FLAG_NONE, nghttp2_session_get_last_proc_stream_id(session),
                                 NGHTTP2_NO_ERROR, NULL, 0);
}
