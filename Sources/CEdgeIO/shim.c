#define _GNU_SOURCE
#include "CEdgeIO.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/un.h>
#include <sys/eventfd.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

int ceio_epoll_create(void) { return epoll_create1(EPOLL_CLOEXEC); }

static int ctl(int epfd, int op, int fd, uint32_t events, uint64_t data) {
    struct epoll_event ev;
    ev.events = events;
    ev.data.u64 = data;
    return epoll_ctl(epfd, op, fd, &ev);
}

int ceio_epoll_add(int epfd, int fd, uint32_t events, uint64_t data) {
    return ctl(epfd, EPOLL_CTL_ADD, fd, events, data);
}

int ceio_epoll_modify(int epfd, int fd, uint32_t events, uint64_t data) {
    return ctl(epfd, EPOLL_CTL_MOD, fd, events, data);
}

int ceio_epoll_remove(int epfd, int fd) {
    struct epoll_event ev;
    memset(&ev, 0, sizeof ev);
    return epoll_ctl(epfd, EPOLL_CTL_DEL, fd, &ev);
}

int ceio_epoll_wait(int epfd, ceio_event *out, int max, int timeout_ms) {
    struct epoll_event events[256];
    if (max > 256) max = 256;
    int n;
    do {
        n = epoll_wait(epfd, events, max, timeout_ms);
    } while (n < 0 && errno == EINTR);
    for (int i = 0; i < n; i++) {
        out[i].events = events[i].events;
        out[i].data = events[i].data.u64;
    }
    return n;
}

int ceio_eventfd(void) { return eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC); }

int ceio_eventfd_signal(int fd) {
    uint64_t one = 1;
    ssize_t n;
    do {
        n = write(fd, &one, sizeof one);
    } while (n < 0 && errno == EINTR);
    // EAGAIN means the counter is saturated: the loop is signalled already.
    return (n == sizeof one || (n < 0 && errno == EAGAIN)) ? 0 : -1;
}

uint64_t ceio_eventfd_drain(int fd) {
    uint64_t value = 0;
    ssize_t n;
    do {
        n = read(fd, &value, sizeof value);
    } while (n < 0 && errno == EINTR);
    return n == sizeof value ? value : 0;
}

static int fill_address(const char *host, uint16_t port, struct sockaddr_storage *ss, socklen_t *len) {
    memset(ss, 0, sizeof *ss);
    struct sockaddr_in *in4 = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
    if (inet_pton(AF_INET, host, &in4->sin_addr) == 1) {
        in4->sin_family = AF_INET;
        in4->sin_port = htons(port);
        *len = sizeof *in4;
        return 0;
    }
    if (inet_pton(AF_INET6, host, &in6->sin6_addr) == 1) {
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons(port);
        *len = sizeof *in6;
        return 0;
    }
    errno = EINVAL;
    return -1;
}

int ceio_listen_tcp(const char *host, uint16_t port, int backlog, int reuse_port) {
    struct sockaddr_storage ss;
    socklen_t len;
    if (fill_address(host, port, &ss, &len) != 0) return -1;
    int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    int one = 1;
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
        (reuse_port && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0) ||
        bind(fd, (struct sockaddr *)&ss, len) != 0 || listen(fd, backlog) != 0) {
        int saved = errno;
        close(fd);
        errno = saved;
        return -1;
    }
    return fd;
}

int ceio_listen_unix(const char *path, int backlog) {
    ceio_address address;
    if (ceio_address_unix(path, &address) != 0) return -1;
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    if (bind(fd, (const struct sockaddr *)address.storage, (socklen_t)address.length) != 0 || listen(fd, backlog) != 0) {
        int saved = errno;
        close(fd);
        errno = saved;
        return -1;
    }
    return fd;
}

int ceio_dup(int fd) { return fcntl(fd, F_DUPFD_CLOEXEC, 0); }

int ceio_local_port(int fd) {
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    if (getsockname(fd, (struct sockaddr *)&ss, &len) != 0) return -1;
    if (ss.ss_family == AF_INET) return ntohs(((struct sockaddr_in *)&ss)->sin_port);
    if (ss.ss_family == AF_INET6) return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
    return -1;
}

int ceio_accept(int fd) { return accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC); }

int ceio_connect_tcp(const char *host, uint16_t port, int *in_progress) {
    struct sockaddr_storage ss;
    socklen_t len;
    *in_progress = 0;
    if (fill_address(host, port, &ss, &len) != 0) return -1;
    int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    if (connect(fd, (struct sockaddr *)&ss, len) != 0) {
        if (errno == EINPROGRESS) {
            *in_progress = 1;
            return fd;
        }
        int saved = errno;
        close(fd);
        errno = saved;
        return -1;
    }
    return fd;
}

int ceio_address_tcp(const char *host, uint16_t port, ceio_address *out) {
    struct sockaddr_storage ss;
    socklen_t len;
    memset(out, 0, sizeof *out);
    if (fill_address(host, port, &ss, &len) != 0) return -1;
    memcpy(out->storage, &ss, len);
    out->length = (uint32_t)len;
    return 0;
}

int ceio_address_unix(const char *path, ceio_address *out) {
    struct sockaddr_un un;
    size_t n = strlen(path);
    memset(out, 0, sizeof *out);
    if (n == 0 || n >= sizeof un.sun_path || sizeof un > sizeof out->storage) {
        errno = ENAMETOOLONG;
        return -1;
    }
    memset(&un, 0, sizeof un);
    un.sun_family = AF_UNIX;
    memcpy(un.sun_path, path, n);
    memcpy(out->storage, &un, sizeof un);
    out->length = (uint32_t)(offsetof(struct sockaddr_un, sun_path) + n + 1);
    return 0;
}

int ceio_connect_address(const ceio_address *address, int *in_progress) {
    const struct sockaddr *sa = (const struct sockaddr *)address->storage;
    *in_progress = 0;
    int fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    if (sa->sa_family != AF_UNIX) {
        int on = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
    }
    if (connect(fd, sa, (socklen_t)address->length) != 0) {
        // A Unix socket whose backlog is full answers EAGAIN: like a refusal here.
        if (errno == EINPROGRESS) {
            *in_progress = 1;
            return fd;
        }
        int saved = errno;
        close(fd);
        errno = saved;
        return -1;
    }
    return fd;
}

int ceio_peer_text(int fd, char *out, int capacity) {
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    if (getpeername(fd, (struct sockaddr *)&ss, &len) != 0) return 0;
    const char *r = NULL;
    if (ss.ss_family == AF_INET) {
        r = inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, out, (socklen_t)capacity);
    } else if (ss.ss_family == AF_INET6) {
        r = inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr, out, (socklen_t)capacity);
    }
    return r ? (int)strlen(out) : 0;
}

int ceio_socket_error(int fd) {
    int err = 0;
    socklen_t len = sizeof err;
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) return errno;
    return err;
}

int ceio_set_nodelay(int fd, int on) {
    return setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
}

int ceio_set_linger_zero(int fd) {
    struct linger l = {1, 0};
    return setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
}

ssize_t ceio_writev(int fd, const struct iovec *iov, int n) {
    // write(2) for one buffer, writev(2) for more: sendmsg(2) with MSG_NOSIGNAL costs a
    // msghdr copy per call (~0.2 us a call on the bench machine, two calls a proxied
    // request); SIGPIPE is ignored for the process instead (ceio_ignore_sigpipe, called by
    // every LoopIO and EventLoopGroup).
    ssize_t r;
    do {
        r = n == 1 ? write(fd, iov[0].iov_base, iov[0].iov_len) : writev(fd, iov, n);
    } while (r < 0 && errno == EINTR);
    return r;
}

ssize_t ceio_sendfile(int out_fd, int in_fd, int64_t *offset, size_t count) {
    off_t off = (off_t)*offset;
    ssize_t r;
    do {
        r = sendfile(out_fd, in_fd, &off, count);
    } while (r < 0 && errno == EINTR);
    *offset = (int64_t)off;
    return r;
}

uint64_t ceio_monotonic_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

void ceio_ignore_sigpipe(void) { signal(SIGPIPE, SIG_IGN); }

int ceio_errno(void) { return errno; }

void ceio_set_thread_name(const char *name) {
    char buf[16];
    strncpy(buf, name, sizeof buf - 1);
    buf[sizeof buf - 1] = 0;
    pthread_setname_np(pthread_self(), buf);
}

int ceio_thread_start(uint64_t *handle, void *(*body)(void *), void *arg) {
    pthread_t t;
    int r = pthread_create(&t, NULL, body, arg);
    if (r == 0) *handle = (uint64_t)t;
    return r;
}

int ceio_thread_join(uint64_t handle) { return pthread_join((pthread_t)handle, NULL); }
