#include "CEdgeH2.h"

#include <nghttp2/nghttp2.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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

// MARK: - Connections

// A request stream the session accepted (stream user data; refused streams have none) and its
// response body once one is submitted, linked into its connection's list of open streams, so
// the send deadline can find the responses that stalled and a freed session its records.
typedef struct body_source {
    const uint8_t *body;
    size_t length;
    // Bytes handed to nghttp2 so far (the send deadline's measure of progress).
    size_t offset;
    // What the owner called this stream (ceio_h2_stream_set_owner); in its events.
    uint64_t owner;
    // A streamed response (ceio_h2_submit_head): its body bytes wait in `queue` from
    // `queue_start` to `queue_end` until nghttp2 takes them; `ended`: no more will come.
    // `paused`: the owner stopped its source over the high-water mark (see ceio_h2_next_drained).
    int streaming, ended, paused;
    uint8_t *queue;
    size_t queue_start, queue_end, queue_capacity;
    // `offset` at the previous sweep of the send deadline.
    size_t swept_offset;
    // A response was submitted; the whole body was handed to nghttp2; the stream was reset by
    // the send deadline.
    int responding, finished, reset;
    int32_t stream_id;
    struct body_source *previous, *next;
} body_source;

struct ceio_h2_connection {
    nghttp2_session *session;
    ceio_h2_sink *sink;
    uint32_t max_header_list_size;
    // The header block being received (HTTP/2 sends one at a time: CONTINUATION frames must
    // follow their HEADERS with nothing between) and its size so far, counted as RFC 9113
    // section 6.5.2 does: name + value + 32 per field.
    int32_t header_stream;
    uint32_t header_bytes;
    int header_too_large;
    // The header block belongs to a refused stream: decoded for HPACK, not recorded.
    int header_refused;
    body_source *streams;
    size_t responding_count;
    // Streams beyond `max_streams` open at once are refused (REFUSED_STREAM). nghttp2 itself is
    // configured with twice as many, so only a client past that gets its connection error.
    uint32_t max_streams, open_streams;
    // The highest stream accepted: what a GOAWAY names as processed.
    int32_t last_accepted;
    // The rapid-reset bucket (see ceio_h2_limits): tokens scaled by the window in ms, so that
    // each millisecond adds `reset_burst` units and each reset costs `reset_window_ms`.
    uint64_t reset_units, reset_capacity;
    uint32_t reset_burst, reset_window_ms;
    uint64_t reset_refilled_ms;
    // Our first SETTINGS frame, as the peer must see it (see ceio_h2_send).
    int settings_sent;
    uint8_t settings_frame[64];
};

// The stream's record, or NULL for a stream the session refused (or never saw).
static body_source *accepted_stream(nghttp2_session *session, int32_t stream_id) {
    return nghttp2_session_get_stream_user_data(session, stream_id);
}

static void unlink_stream(ceio_h2_session *connection, body_source *stream) {
    if (stream->previous) stream->previous->next = stream->next;
    else connection->streams = stream->next;
    if (stream->next) stream->next->previous = stream->previous;
    if (stream->responding && !stream->finished) connection->responding_count--;
    connection->open_streams--;
}

// MARK: - Callbacks

static int on_begin_headers(nghttp2_session *session, const nghttp2_frame *frame, void *user_data) {
    ceio_h2_session *connection = user_data;
    if (frame->hd.type != NGHTTP2_HEADERS) return 0;
    int32_t stream_id = frame->hd.stream_id;
    connection->header_stream = stream_id;
    connection->header_bytes = 0;
    connection->header_too_large = 0;
    connection->header_refused = 0;
    if (frame->headers.cat != NGHTTP2_HCAT_REQUEST) return 0;
    if (connection->open_streams >= connection->max_streams) {
        // Over the advertised SETTINGS_MAX_CONCURRENT_STREAMS: a stream error the client may
        // retry (RFC 9113 section 5.1.2, 8.7), as nginx and HAProxy answer; the connection goes on.
        connection->header_refused = 1;
        int result = nghttp2_submit_rst_stream(session, NGHTTP2_FLAG_NONE, stream_id, NGHTTP2_REFUSED_STREAM);
        return nghttp2_is_fatal(result) ? NGHTTP2_ERR_CALLBACK_FAILURE : 0;
    }
    body_source *stream = calloc(1, sizeof *stream);
    if (!stream) return NGHTTP2_ERR_CALLBACK_FAILURE;
    stream->stream_id = stream_id;
    if (nghttp2_session_set_stream_user_data(session, stream_id, stream) != 0) {
        free(stream);
        return NGHTTP2_ERR_CALLBACK_FAILURE;
    }
    stream->next = connection->streams;
    if (stream->next) stream->next->previous = stream;
    connection->streams = stream;
    connection->open_streams++;
    if (stream_id > connection->last_accepted) connection->last_accepted = stream_id;
    return push(connection->sink, CEIO_H2_STREAM_OPENED, stream_id) ? 0 : NGHTTP2_ERR_CALLBACK_FAILURE;
}

static int on_header(nghttp2_session *session, const nghttp2_frame *frame, const uint8_t *name, size_t name_length,
                     const uint8_t *value, size_t value_length, uint8_t flags, void *user_data) {
    (void)session;
    (void)flags;
    if (frame->hd.type != NGHTTP2_HEADERS) return 0;
    ceio_h2_session *connection = user_data;
    ceio_h2_sink *sink = connection->sink;
    // Past the advertised SETTINGS_MAX_HEADER_LIST_SIZE the fields are still decoded (HPACK's
    // table must stay in step) but no longer kept: the arena stays bounded however long the
    // block (nghttp2 inflates each frame as it comes and never buffers a whole block).
    uint64_t bytes = (uint64_t)connection->header_bytes + name_length + value_length + 32;
    connection->header_bytes = bytes > UINT32_MAX ? UINT32_MAX : (uint32_t)bytes;
    if (connection->header_too_large || connection->header_refused) return 0;
    if (connection->header_bytes > connection->max_header_list_size) {
        connection->header_too_large = 1;
        // Trailers: the request is under way and may be answered already, so the stream is
        // reset (nghttp2 sends RST_STREAM INTERNAL_ERROR for this return value).
        if (frame->headers.cat != NGHTTP2_HCAT_REQUEST) return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
        return 0;
    }
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

// A request head over the advertised header list size is refused like nghttpx (and RFC 6585)
// do: a 431 response that ends the stream, so the connection and its other streams go on and
// the client learns why (a bare RST_STREAM would say nothing it could act on).
static int refuse_large_head(ceio_h2_session *connection, int32_t stream_id) {
    static const uint8_t status_name[] = ":status", status_value[] = "431";
    static const uint8_t length_name[] = "content-length", length_value[] = "0";
    nghttp2_nv fields[2] = {
        {(uint8_t *)status_name, (uint8_t *)status_value, 7, 3, NGHTTP2_NV_FLAG_NO_COPY_NAME | NGHTTP2_NV_FLAG_NO_COPY_VALUE},
        {(uint8_t *)length_name, (uint8_t *)length_value, 14, 1, NGHTTP2_NV_FLAG_NO_COPY_NAME | NGHTTP2_NV_FLAG_NO_COPY_VALUE},
    };
    int result = nghttp2_submit_response(connection->session, stream_id, fields, 2, NULL);
    return nghttp2_is_fatal(result) ? NGHTTP2_ERR_CALLBACK_FAILURE : 0;
}

static uint64_t monotonic_ms(void) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (uint64_t)now.tv_sec * 1000 + (uint64_t)now.tv_nsec / 1000000;
}

// A reset of a stream still open takes a token; with none left the connection ends with
// GOAWAY ENHANCE_YOUR_CALM (as RFC 9113 section 5.4.1 suggests for excess),
// naming the last stream processed. A reset of a stream already answered and closed is not
// counted: it cost the server nothing.
static int count_reset(ceio_h2_session *connection, int32_t stream_id) {
    if (connection->reset_window_ms == 0 || !accepted_stream(connection->session, stream_id)) return 0;
    uint64_t now = monotonic_ms();
    uint64_t refill = (now - connection->reset_refilled_ms) * connection->reset_burst;
    connection->reset_refilled_ms = now;
    connection->reset_units = connection->reset_units + refill > connection->reset_capacity
                                  ? connection->reset_capacity
                                  : connection->reset_units + refill;
    if (connection->reset_units >= connection->reset_window_ms) {
        connection->reset_units -= connection->reset_window_ms;
        return 0;
    }
    int result = nghttp2_session_terminate_session2(connection->session, connection->last_accepted,
                                                    NGHTTP2_ENHANCE_YOUR_CALM);
    return nghttp2_is_fatal(result) ? NGHTTP2_ERR_CALLBACK_FAILURE : 0;
}

static int on_frame_recv(nghttp2_session *session, const nghttp2_frame *frame, void *user_data) {
    (void)session;
    ceio_h2_session *connection = user_data;
    ceio_h2_sink *sink = connection->sink;
    switch (frame->hd.type) {
    case NGHTTP2_RST_STREAM:
        return count_reset(connection, frame->hd.stream_id);
    case NGHTTP2_HEADERS:
        if (!accepted_stream(session, frame->hd.stream_id)) return 0;  // refused: its RST_STREAM is queued
        if (connection->header_too_large && frame->hd.stream_id == connection->header_stream) {
            connection->header_too_large = 0;
            // The handler never sees this request: no head, no end of request.
            if (frame->headers.cat == NGHTTP2_HCAT_REQUEST) return refuse_large_head(connection, frame->hd.stream_id);
            return 0;
        }
        if (frame->headers.cat == NGHTTP2_HCAT_REQUEST && !push(sink, CEIO_H2_HEADERS_COMPLETE, frame->hd.stream_id))
            return NGHTTP2_ERR_CALLBACK_FAILURE;
        /* fall through */
    case NGHTTP2_DATA: {
        body_source *stream = accepted_stream(session, frame->hd.stream_id);
        if (!stream || !(frame->hd.flags & NGHTTP2_FLAG_END_STREAM)) return 0;
        ceio_h2_event *event = push(sink, CEIO_H2_REQUEST_COMPLETE, frame->hd.stream_id);
        if (!event) return NGHTTP2_ERR_CALLBACK_FAILURE;
        event->owner = stream->owner;
        break;
    }
    default:
        break;
    }
    return 0;
}

static int on_data_chunk(nghttp2_session *session, uint8_t flags, int32_t stream_id, const uint8_t *data, size_t length,
                         void *user_data) {
    (void)flags;
    body_source *stream = accepted_stream(session, stream_id);
    if (!stream) return 0;
    ceio_h2_sink *sink = ((ceio_h2_session *)user_data)->sink;
    long offset = keep(sink, data, length);
    ceio_h2_event *event = push(sink, CEIO_H2_DATA, stream_id);
    if (!event || offset < 0) return NGHTTP2_ERR_CALLBACK_FAILURE;
    event->owner = stream->owner;
    event->a_offset = (uint32_t)offset;
    event->a_length = (uint32_t)length;
    return 0;
}

static int on_stream_close(nghttp2_session *session, int32_t stream_id, uint32_t error_code, void *user_data) {
    ceio_h2_session *connection = user_data;
    body_source *source = accepted_stream(session, stream_id);
    if (!source) return 0;  // a refused stream: the handler never heard of it
    unlink_stream(connection, source);
    uint64_t owner = source->owner;
    free(source->queue);
    free(source);
    ceio_h2_event *event = push(connection->sink, CEIO_H2_STREAM_CLOSED, stream_id);
    if (!event) return NGHTTP2_ERR_CALLBACK_FAILURE;
    event->error_code = error_code;
    event->owner = owner;
    return 0;
}

// A streamed response's next bytes: what its queue holds, the end once it is empty and ended,
// or DEFERRED (ceio_h2_stream_append resumes it).
static ssize_t read_queue(ceio_h2_session *connection, body_source *body, uint8_t *buffer, size_t length,
                          uint32_t *data_flags) {
    size_t available = body->queue_end - body->queue_start;
    if (available == 0 && !body->ended) return NGHTTP2_ERR_DEFERRED;
    size_t n = available < length ? available : length;
    if (n > 0) memcpy(buffer, body->queue + body->queue_start, n);
    body->queue_start += n;
    body->offset += n;
    if (body->queue_start == body->queue_end) body->queue_start = body->queue_end = 0;
    if (body->ended && body->queue_end == 0) {
        *data_flags |= NGHTTP2_DATA_FLAG_EOF;
        body->finished = 1;
        connection->responding_count--;
    }
    return (ssize_t)n;
}

static ssize_t read_body(nghttp2_session *session, int32_t stream_id, uint8_t *buffer, size_t length,
                         uint32_t *data_flags, nghttp2_data_source *source, void *user_data) {
    (void)session;
    (void)stream_id;
    body_source *body = source->ptr;
    if (body->streaming) return read_queue(user_data, body, buffer, length, data_flags);
    size_t n = body->length - body->offset;
    if (n > length) n = length;
    memcpy(buffer, body->body + body->offset, n);
    body->offset += n;
    if (body->offset == body->length) {
        *data_flags |= NGHTTP2_DATA_FLAG_EOF;
        body->finished = 1;
        ((ceio_h2_session *)user_data)->responding_count--;  // nothing left to stall
    }
    return (ssize_t)n;
}

// MARK: - Sessions

ceio_h2_session *ceio_h2_server_new(ceio_h2_sink *sink, const ceio_h2_settings *settings,
                                    const ceio_h2_limits *limits) {
    ceio_h2_session *connection = calloc(1, sizeof *connection);
    if (!connection) return NULL;
    connection->sink = sink;
    connection->max_header_list_size = settings->max_header_list_size;
    connection->max_streams = settings->max_concurrent_streams;
    nghttp2_session_callbacks *callbacks;
    if (nghttp2_session_callbacks_new(&callbacks) != 0) {
        free(connection);
        return NULL;
    }
    nghttp2_session_callbacks_set_on_begin_headers_callback(callbacks, on_begin_headers);
    nghttp2_session_callbacks_set_on_header_callback(callbacks, on_header);
    nghttp2_session_callbacks_set_on_frame_recv_callback(callbacks, on_frame_recv);
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(callbacks, on_data_chunk);
    nghttp2_session_callbacks_set_on_stream_close_callback(callbacks, on_stream_close);
    nghttp2_option *option;
    if (nghttp2_option_new(&option) != 0) {
        nghttp2_session_callbacks_del(callbacks);
        free(connection);
        return NULL;
    }
    // Bound what a peer can make the session queue or do. The ACK bound only holds because
    // the owner pulls frames (ceio_h2_send) no faster than the socket takes them: frames
    // moved out to a write queue would no longer count.
    nghttp2_option_set_max_outbound_ack(option, limits->max_outbound_ack);
    nghttp2_option_set_max_settings(option, limits->max_settings);
    nghttp2_option_set_max_continuations(option, limits->max_continuations);
    // Rapid reset is bounded by our own bucket (count_reset), which answers ENHANCE_YOUR_CALM
    // and counts only resets of open streams; nghttp2's own (INTERNAL_ERROR) is set out of reach.
    nghttp2_option_set_stream_reset_rate_limit(option, UINT64_MAX, UINT64_MAX);
    connection->reset_burst = limits->reset_burst;
    connection->reset_window_ms = limits->reset_window_ms;
    connection->reset_capacity = (uint64_t)limits->reset_burst * limits->reset_window_ms;
    connection->reset_units = connection->reset_capacity;
    connection->reset_refilled_ms = monotonic_ms();
    nghttp2_option_set_max_send_header_block_length(option, 64 * 1024);
    // Closed streams are not kept for the priority tree: a client opening and resetting
    // streams leaves nothing behind.
    nghttp2_option_set_no_closed_streams(option, 1);
    int result = nghttp2_session_server_new2(&connection->session, callbacks, connection, option);
    nghttp2_option_del(option);
    nghttp2_session_callbacks_del(callbacks);
    if (result != 0) {
        free(connection);
        return NULL;
    }
    // nghttp2 treats a stream past its limit as a connection error once the peer acknowledged
    // it ("max concurrent streams exceeded", GOAWAY PROTOCOL_ERROR): it gets twice the limit, the
    // refusal at the limit is ours (on_begin_headers), and the frame the peer sees says the
    // limit (ceio_h2_send).
    uint32_t session_streams = settings->max_concurrent_streams > UINT32_MAX / 2 ? UINT32_MAX
                                                                                : settings->max_concurrent_streams * 2;
    nghttp2_settings_entry entries[4] = {
        {NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, session_streams},
        {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, settings->initial_window_size},
        {NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE, settings->max_header_list_size},
        {NGHTTP2_SETTINGS_MAX_FRAME_SIZE, settings->max_frame_size},
    };
    if (nghttp2_submit_settings(connection->session, NGHTTP2_FLAG_NONE, entries, 4) != 0) {
        ceio_h2_session_free(connection);
        return NULL;
    }
    return connection;
}

void ceio_h2_session_free(ceio_h2_session *connection) {
    // nghttp2_session_del calls no stream-close callback: free the records of streams still open.
    body_source *stream = connection->streams;
    while (stream) {
        body_source *next = stream->next;
        free(stream->queue);
        free(stream);
        stream = next;
    }
    nghttp2_session_del(connection->session);
    free(connection);
}

// The GOAWAY code for a receive error nghttp2 reports without queueing a GOAWAY of its own
// (RFC 9113 section 5.4.1: a connection error should be announced with GOAWAY).
static uint32_t goaway_code(ssize_t error) {
    switch (error) {
    case NGHTTP2_ERR_FLOODED:
    case NGHTTP2_ERR_TOO_MANY_CONTINUATIONS:
    case NGHTTP2_ERR_TOO_MANY_SETTINGS:
        return NGHTTP2_ENHANCE_YOUR_CALM;
    case NGHTTP2_ERR_NOMEM:
    case NGHTTP2_ERR_CALLBACK_FAILURE:
        return NGHTTP2_INTERNAL_ERROR;
    default:
        return NGHTTP2_PROTOCOL_ERROR;
    }
}

ssize_t ceio_h2_receive(ceio_h2_session *connection, const uint8_t *data, size_t length) {
    ssize_t result = nghttp2_session_mem_recv(connection->session, data, length);
    // A GOAWAY queued already (by nghttp2 for the errors it terminates on itself) wins; this
    // one is ignored then.
    if (result < 0)
        nghttp2_session_terminate_session2(connection->session, connection->last_accepted, goaway_code(result));
    return result;
}

ssize_t ceio_h2_send(ceio_h2_session *connection, const uint8_t **data) {
    ssize_t length = nghttp2_session_mem_send(connection->session, data);
    if (connection->settings_sent || length <= 0) return length;
    connection->settings_sent = 1;
    // The first frame out is our SETTINGS (nothing else is queued before the session has read
    // anything): a copy with the advertised stream limit in place of nghttp2's doubled one.
    const uint8_t *frame = *data;
    size_t frame_length = 9 + ((size_t)frame[0] << 16 | (size_t)frame[1] << 8 | frame[2]);
    if (frame[3] != NGHTTP2_SETTINGS || (size_t)length != frame_length || frame_length > sizeof connection->settings_frame)
        return -1;  // not the session we built
    memcpy(connection->settings_frame, frame, frame_length);
    for (size_t offset = 9; offset + 6 <= frame_length; offset += 6) {
        uint8_t *entry = connection->settings_frame + offset;
        if ((entry[0] << 8 | entry[1]) != NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS) continue;
        uint32_t limit = connection->max_streams;
        entry[2] = (uint8_t)(limit >> 24);
        entry[3] = (uint8_t)(limit >> 16);
        entry[4] = (uint8_t)(limit >> 8);
        entry[5] = (uint8_t)limit;
    }
    *data = connection->settings_frame;
    return length;
}

int ceio_h2_wants_io(ceio_h2_session *connection) {
    return nghttp2_session_want_read(connection->session) || nghttp2_session_want_write(connection->session);
}

// Submits a response whose body `source` provides (whole, or streamed as it is appended), and
// counts it as responding. The send-deadline sweep has not seen it yet: its first look only
// marks where the body stands.
static int submit_with_body(ceio_h2_session *connection, int32_t stream_id, const nghttp2_nv *fields, size_t count,
                            body_source *source) {
    source->swept_offset = SIZE_MAX;
    nghttp2_data_provider provider;
    provider.source.ptr = source;
    provider.read_callback = read_body;
    int result = nghttp2_submit_response(connection->session, stream_id, fields, count, &provider);
    if (result != 0) return result;
    source->responding = 1;
    connection->responding_count++;
    return 0;
}

int ceio_h2_submit_response(ceio_h2_session *connection, int32_t stream_id, const uint8_t *const *names,
                            const size_t *name_lengths, const uint8_t *const *values, const size_t *value_lengths,
                            size_t count, const uint8_t *body, size_t body_length) {
    nghttp2_session *session = connection->session;
    nghttp2_nv fields[32];
    if (count > 32) return -1;
    for (size_t i = 0; i < count; i++) {
        fields[i].name = (uint8_t *)names[i];
        fields[i].namelen = name_lengths[i];
        fields[i].value = (uint8_t *)values[i];
        fields[i].valuelen = value_lengths[i];
        fields[i].flags = NGHTTP2_NV_FLAG_NONE;
    }
    body_source *source = accepted_stream(session, stream_id);
    if (!source || source->responding) return -1;  // closed (reset) already, or answered
    if (!body) return nghttp2_submit_response(session, stream_id, fields, count, NULL);
    source->body = body;
    source->length = body_length;
    return submit_with_body(connection, stream_id, fields, count, source);
}

int ceio_h2_reset_stream(ceio_h2_session *connection, int32_t stream_id, uint32_t error_code) {
    return nghttp2_submit_rst_stream(connection->session, NGHTTP2_FLAG_NONE, stream_id, error_code);
}

int ceio_h2_goaway(ceio_h2_session *connection) {
    return nghttp2_submit_goaway(connection->session, NGHTTP2_FLAG_NONE, connection->last_accepted, NGHTTP2_NO_ERROR,
                                 NULL, 0);
}

size_t ceio_h2_reset_stalled(ceio_h2_session *connection) {
    for (body_source *source = connection->streams; source; source = source->next) {
        if (!source->responding) continue;
        int waiting_on_peer = !source->streaming || source->queue_end > source->queue_start;
        if (!source->finished && !source->reset && waiting_on_peer && source->offset == source->swept_offset) {
            // The stream closes when the RST_STREAM is sent; its source is freed then.
            // (nginx resets a timed-out stream with PROTOCOL_ERROR; CANCEL says what happened:
            // the server no longer wants the stream, the peer broke no rule.)
            source->reset = 1;
            nghttp2_submit_rst_stream(connection->session, NGHTTP2_FLAG_NONE, source->stream_id, NGHTTP2_CANCEL);
        }
        source->swept_offset = source->offset;
    }
    return connection->responding_count;
}

size_t ceio_h2_responses_in_flight(ceio_h2_session *connection) { return connection->responding_count; }

// MARK: - Streamed responses (a proxy's: the body arrives after the head)

int ceio_h2_stream_set_owner(ceio_h2_session *connection, int32_t stream_id, uint64_t owner) {
    body_source *stream = accepted_stream(connection->session, stream_id);
    if (!stream) return -1;
    stream->owner = owner;
    return 0;
}

int ceio_h2_submit_head(ceio_h2_session *connection, int32_t stream_id, const uint8_t *base, const uint32_t *spans,
                        size_t count, int with_body) {
    nghttp2_session *session = connection->session;
    body_source *source = accepted_stream(session, stream_id);
    if (!source || source->responding) return -1;  // closed (reset) already, or answered
    if (count > CEIO_H2_MAX_FIELDS) return -1;
    nghttp2_nv fields[CEIO_H2_MAX_FIELDS];
    for (size_t i = 0; i < count; i++) {
        fields[i].name = (uint8_t *)base + spans[4 * i];
        fields[i].namelen = spans[4 * i + 1];
        fields[i].value = (uint8_t *)base + spans[4 * i + 2];
        fields[i].valuelen = spans[4 * i + 3];
        fields[i].flags = NGHTTP2_NV_FLAG_NONE;  // nghttp2 copies them
    }
    if (!with_body) {
        int result = nghttp2_submit_response(session, stream_id, fields, count, NULL);
        if (result == 0) source->responding = source->finished = 1;
        return result;
    }
    source->streaming = 1;
    return submit_with_body(connection, stream_id, fields, count, source);
}

int ceio_h2_stream_append(ceio_h2_session *connection, int32_t stream_id, const uint8_t *data, size_t length) {
    body_source *source = accepted_stream(connection->session, stream_id);
    if (!source || !source->streaming || source->ended) return -1;
    if (length == 0) return 0;
    if (source->queue_end + length > source->queue_capacity) {
        // Move what is left to the front first; grow only when that is not enough.
        size_t left = source->queue_end - source->queue_start;
        if (source->queue_start > 0) {
            memmove(source->queue, source->queue + source->queue_start, left);
            source->queue_start = 0;
            source->queue_end = left;
        }
        if (left + length > source->queue_capacity) {
            size_t capacity = source->queue_capacity ? source->queue_capacity : 4096;
            while (capacity < left + length) capacity *= 2;
            uint8_t *grown = realloc(source->queue, capacity);
            if (!grown) return -1;
            source->queue = grown;
            source->queue_capacity = capacity;
        }
    }
    memcpy(source->queue + source->queue_end, data, length);
    source->queue_end += length;
    nghttp2_session_resume_data(connection->session, stream_id);
    if (source->queue_end - source->queue_start > CEIO_H2_HIGH_WATER) {
        source->paused = 1;
        return 1;
    }
    return 0;
}

int ceio_h2_stream_end(ceio_h2_session *connection, int32_t stream_id) {
    body_source *source = accepted_stream(connection->session, stream_id);
    if (!source || !source->streaming) return -1;
    source->ended = 1;
    nghttp2_session_resume_data(connection->session, stream_id);
    return 0;
}

int ceio_h2_next_drained(ceio_h2_session *connection, uint64_t *owner) {
    for (body_source *source = connection->streams; source; source = source->next) {
        if (!source->paused || source->queue_end - source->queue_start > CEIO_H2_HIGH_WATER / 2) continue;
        source->paused = 0;
        *owner = source->owner;
        return 1;
    }
    return 0;
}

size_t ceio_h2_owners(ceio_h2_session *connection, uint64_t *owners, size_t capacity) {
    size_t count = 0;
    for (body_source *source = connection->streams; source && count < capacity; source = source->next) {
        if (source->owner) owners[count++] = source->owner;
    }
    return count;
}

size_t ceio_h2_open_streams(ceio_h2_session *connection) { return connection->open_streams; }

uint64_t ceio_h2_stream_owner(ceio_h2_session *connection, int32_t stream_id) {
    body_source *stream = accepted_stream(connection->session, stream_id);
    return stream ? stream->owner : 0;
}
