// CEdgeH2: server-side HTTP/2 sessions on nghttp2, driven from memory (mem_recv/mem_send:
// no I/O inside). nghttp2's callbacks append compact events to a per-loop sink (events plus a
// byte arena for header names/values and DATA), which the loop reads after each receive:
// nothing is allocated per frame once the sink has grown to its working size.
#ifndef CEDGEH2_H
#define CEDGEH2_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/// One connection's session: the nghttp2 session plus what the edge tracks beside it (the
/// header block being received, the responses whose bodies are in flight).
typedef struct ceio_h2_connection ceio_h2_session;

enum {
    CEIO_H2_STREAM_OPENED = 1,    // a request's HEADERS began
    CEIO_H2_HEADER = 2,           // one field: name at a, value at b (arena offsets)
    CEIO_H2_HEADERS_COMPLETE = 3, // the request head is complete
    CEIO_H2_DATA = 4,             // request body bytes at a
    CEIO_H2_REQUEST_COMPLETE = 5, // END_STREAM from the client
    CEIO_H2_STREAM_CLOSED = 6,    // the stream closed (error_code: RST_STREAM code or 0)
};

typedef struct {
    uint32_t kind;
    int32_t stream_id;
    uint32_t error_code;
    uint32_t a_offset, a_length;
    uint32_t b_offset, b_length;
    /// What the owner called the stream (ceio_h2_stream_set_owner; 0 before): on DATA,
    /// REQUEST_COMPLETE and STREAM_CLOSED.
    uint64_t owner;
} ceio_h2_event;

typedef struct {
    ceio_h2_event *events;
    size_t count, capacity;
    uint8_t *arena;
    size_t arena_used, arena_capacity;
    int failed;  // out of memory while recording: the session must be dropped
} ceio_h2_sink;

typedef struct {
    uint32_t max_concurrent_streams;
    uint32_t initial_window_size;
    uint32_t max_header_list_size;
    uint32_t max_frame_size;
} ceio_h2_settings;

/// Bounds on what a peer can make a session hold or do (nghttp2 options; see h2.c).
typedef struct {
    /// PING/SETTINGS ACKs (and RST_STREAMs) queued before the peer counts as flooding.
    uint32_t max_outbound_ack;
    /// Entries accepted in one SETTINGS frame.
    uint32_t max_settings;
    /// CONTINUATION frames accepted after one HEADERS.
    uint32_t max_continuations;
    /// RST_STREAMs from the peer on streams still open: `reset_burst` of them within
    /// `reset_window_ms` (a token bucket of `reset_burst` refilled over the window); one more:
    /// GOAWAY ENHANCE_YOUR_CALM naming the last stream processed (rapid reset, CVE-2023-44487).
    uint32_t reset_burst, reset_window_ms;
} ceio_h2_limits;

ceio_h2_sink *ceio_h2_sink_new(void);
void ceio_h2_sink_free(ceio_h2_sink *sink);
/// Forgets the recorded events and arena bytes (capacity is kept).
void ceio_h2_sink_reset(ceio_h2_sink *sink);

/// A server session recording into `sink`, with our SETTINGS queued. NULL on failure.
/// A request whose header list exceeds `settings->max_header_list_size` is answered 431 by
/// the session itself (the handler sees the stream open and close, never its head).
ceio_h2_session *ceio_h2_server_new(ceio_h2_sink *sink, const ceio_h2_settings *settings,
                                    const ceio_h2_limits *limits);
void ceio_h2_session_free(ceio_h2_session *session);
/// Feeds received bytes (nghttp2_session_mem_recv): bytes consumed, or < 0 (a connection
/// error: a GOAWAY with its code is queued; send what ceio_h2_send yields, then close).
ssize_t ceio_h2_receive(ceio_h2_session *session, const uint8_t *data, size_t length);
/// Next bytes to write (nghttp2_session_mem_send): length (0: nothing), *data valid until the
/// next call; < 0 on failure.
ssize_t ceio_h2_send(ceio_h2_session *session, const uint8_t **data);
/// Whether the session still wants to read or write (0: close the connection).
int ceio_h2_wants_io(ceio_h2_session *session);
/// Submits a response: `count` header fields (names lower case; ":status" first), and a body
/// read from `body` (which must stay valid until the stream closes); `body` NULL: no body.
int ceio_h2_submit_response(ceio_h2_session *session, int32_t stream_id, const uint8_t *const *names,
                            const size_t *name_lengths, const uint8_t *const *values, const size_t *value_lengths,
                            size_t count, const uint8_t *body, size_t body_length);
/// Resets a stream (RST_STREAM with `error_code`).
int ceio_h2_reset_stream(ceio_h2_session *session, int32_t stream_id, uint32_t error_code);
/// Graceful shutdown: GOAWAY with the last stream id processed, no new streams accepted.
int ceio_h2_goaway(ceio_h2_session *session);
/// The send deadline's sweep: resets (RST_STREAM CANCEL) every stream whose response body
/// made no progress since the previous sweep (a peer holding its window at 0), and marks the
/// others (a response the previous sweep did not see yet is only marked: a stream is reset
/// after one to two sweep intervals without progress). Returns how many responses are still
/// in flight.
size_t ceio_h2_reset_stalled(ceio_h2_session *session);
/// Responses whose bodies are still in flight.
size_t ceio_h2_responses_in_flight(ceio_h2_session *session);

// MARK: - Streamed responses (a proxy's: the body arrives after the head)

/// Response fields at most in one ceio_h2_submit_head.
#define CEIO_H2_MAX_FIELDS 128
/// Body bytes a streamed response may hold before ceio_h2_stream_append says to pause its source.
#define CEIO_H2_HIGH_WATER (64 * 1024)

/// Names the stream for its later events (`owner` != 0; a proxy's upstream connection).
int ceio_h2_stream_set_owner(ceio_h2_session *session, int32_t stream_id, uint64_t owner);
/// Submits a response head: `count` fields, field i's name at `base + spans[4i]`
/// (`spans[4i+1]` bytes, lower case; ":status" first) and value at `base + spans[4i+2]`
/// (`spans[4i+3]` bytes), copied. `with_body`: the body follows through ceio_h2_stream_append
/// and ceio_h2_stream_end; else the head ends the stream.
int ceio_h2_submit_head(ceio_h2_session *session, int32_t stream_id, const uint8_t *base, const uint32_t *spans,
                        size_t count, int with_body);
/// Queues body bytes (copied) of a streamed response. Returns 1 when the stream now holds more
/// than CEIO_H2_HIGH_WATER bytes (pause the source; ceio_h2_next_drained names it once it has
/// taken half of that), 0 otherwise, < 0 when the stream is gone.
int ceio_h2_stream_append(ceio_h2_session *session, int32_t stream_id, const uint8_t *data, size_t length);
/// Ends a streamed response's body (END_STREAM once its queued bytes are sent).
int ceio_h2_stream_end(ceio_h2_session *session, int32_t stream_id);
/// A paused stream that has drained (its pause flag cleared): 1 and its owner, or 0.
int ceio_h2_next_drained(ceio_h2_session *session, uint64_t *owner);
/// The owners of the streams still open (up to `capacity`): what to release when the
/// connection goes.
size_t ceio_h2_owners(ceio_h2_session *session, uint64_t *owners, size_t capacity);
/// The owner of an open stream (0: none set, or not open).
uint64_t ceio_h2_stream_owner(ceio_h2_session *session, int32_t stream_id);
/// Streams open (accepted, not yet closed).
size_t ceio_h2_open_streams(ceio_h2_session *session);

#endif
