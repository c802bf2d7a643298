// CEdgeIO: the few Linux system interfaces EdgeIO calls that Swift cannot call well on its own:
// epoll (its event struct is packed on x86_64), accept4/eventfd/sendfile flags, socket options,
// and sockaddr handling for loopback/IPv4/IPv6 listeners. Plain C, no state, no allocation.
#ifndef CEDGEIO_H
#define CEDGEIO_H

#include <stdint.h>
#include <stddef.h>
#include <sys/types.h>
#include <sys/uio.h>

/// One epoll event, unpacked (the kernel's `struct epoll_event` is packed on x86_64).
typedef struct {
    uint32_t events;
    uint64_t data;
} ceio_event;

static const uint32_t CEIO_EPOLLIN = 0x001;
static const uint32_t CEIO_EPOLLOUT = 0x004;
static const uint32_t CEIO_EPOLLERR = 0x008;
static const uint32_t CEIO_EPOLLHUP = 0x010;
static const uint32_t CEIO_EPOLLRDHUP = 0x2000;
static const uint32_t CEIO_EPOLLET = 0x80000000u;

/// `epoll_create1(EPOLL_CLOEXEC)`; -1 and errno on failure.
int ceio_epoll_create(void);
/// `epoll_ctl(EPOLL_CTL_ADD)`; 0 or -1 and errno.
int ceio_epoll_add(int epfd, int fd, uint32_t events, uint64_t data);
/// `epoll_ctl(EPOLL_CTL_MOD)`; 0 or -1 and errno.
int ceio_epoll_modify(int epfd, int fd, uint32_t events, uint64_t data);
/// `epoll_ctl(EPOLL_CTL_DEL)`; 0 or -1 and errno.
int ceio_epoll_remove(int epfd, int fd);
/// `epoll_wait` into `out` (at most 256 events per call); count, or -1 and errno.
int ceio_epoll_wait(int epfd, ceio_event *out, int max, int timeout_ms);

/// A non-blocking, close-on-exec eventfd; -1 and errno on failure.
int ceio_eventfd(void);
/// Adds 1 to the eventfd counter; 0 or -1 and errno.
int ceio_eventfd_signal(int fd);
/// Reads (and resets) the eventfd counter; 0 when it was already zero.
uint64_t ceio_eventfd_drain(int fd);

/// A listening TCP socket (non-blocking, close-on-exec, SO_REUSEADDR, and SO_REUSEPORT when
/// `reuse_port` is non-zero) bound to `host` (numeric IPv4 or IPv6) and `port` (0: any).
/// Returns the fd, or -1 with errno set (EINVAL for a host that is not a numeric address).
int ceio_listen_tcp(const char *host, uint16_t port, int backlog, int reuse_port);
/// A non-blocking listening Unix-domain socket at `path` (which must not exist yet); -1 and
/// errno on failure.
int ceio_listen_unix(const char *path, int backlog);
/// Another descriptor for the same open socket (close-on-exec); -1 and errno on failure.
int ceio_dup(int fd);
/// The local port of a bound socket, or -1.
int ceio_local_port(int fd);
/// `accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)`.
int ceio_accept(int fd);
/// Starts a non-blocking TCP connection to `host`:`port` (numeric address). Returns the fd
/// (connection in progress or done) or -1 with errno. `*in_progress` is set to 1 when the
/// caller must wait for writability and read the result with `ceio_socket_error`.
int ceio_connect_tcp(const char *host, uint16_t port, int *in_progress);
/// A socket address kept by value (IPv4, IPv6 or a Unix-domain path), made once and used for
/// every connect to that upstream: no string handling per connection.
typedef struct {
    uint8_t storage[112];  // room for a sockaddr_un (110 bytes) or a sockaddr_in6 (28)
    uint32_t length;
} ceio_address;

/// Fills `out` with a numeric IPv4/IPv6 `host` and `port`; 0, or -1 with errno (EINVAL).
int ceio_address_tcp(const char *host, uint16_t port, ceio_address *out);
/// Fills `out` with a Unix-domain socket path; 0, or -1 with errno (ENAMETOOLONG).
int ceio_address_unix(const char *path, ceio_address *out);
/// Starts a non-blocking connection to `address` (TCP or Unix). Returns the fd or -1 with
/// errno; `*in_progress` is 1 when the result comes later (`ceio_socket_error`). TCP sockets
/// get TCP_NODELAY.
int ceio_connect_address(const ceio_address *address, int *in_progress);
/// The peer's numeric address as text (no port) into `out` (at least 46 bytes); its length,
/// or 0 (a Unix-domain peer, or an error).
int ceio_peer_text(int fd, char *out, int capacity);

/// `SO_ERROR` of a socket (0 when connected), or errno of getsockopt itself.
int ceio_socket_error(int fd);
/// TCP_NODELAY on or off; 0 or -1.
int ceio_set_nodelay(int fd, int on);
/// `SO_LINGER` with timeout 0 (close sends RST); 0 or -1.
int ceio_set_linger_zero(int fd);

/// `write` (one buffer) or `writev`: SIGPIPE must be ignored (``ceio_ignore_sigpipe``), as
/// every `LoopIO` makes it; EPIPE then comes back as an error.
ssize_t ceio_writev(int fd, const struct iovec *iov, int n);
/// `sendfile(out_fd, in_fd, offset, count)`; *offset advances.
ssize_t ceio_sendfile(int out_fd, int in_fd, int64_t *offset, size_t count);

/// CLOCK_MONOTONIC in nanoseconds.
uint64_t ceio_monotonic_ns(void);
/// Ignores SIGPIPE for the process (idempotent).
void ceio_ignore_sigpipe(void);
/// The calling thread's errno.
int ceio_errno(void);
/// Names the calling thread (at most 15 bytes are kept).
void ceio_set_thread_name(const char *name);

/// Starts a joinable thread running `body(arg)`; 0 or an error number.
int ceio_thread_start(uint64_t *handle, void *(*body)(void *), void *arg);
/// Joins a thread started by `ceio_thread_start`; 0 or an error number.
int ceio_thread_join(uint64_t handle);

#endif
