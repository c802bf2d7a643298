// LD_PRELOAD allocation counter for bench/iocore-mallocs: counts malloc, calloc, realloc,
// posix_memalign and aligned_alloc calls (and frees), and writes "MALLOCS FREES" to
// $MALLOC_COUNT_FILE every 100 ms from its own thread (which allocates nothing itself).
#define _GNU_SOURCE
#include <dlfcn.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <pthread.h>
#include <fcntl.h>
static const char *count_file;
static atomic_long mallocs, frees;
static void *(*real_malloc)(size_t);
static void *(*real_calloc)(size_t, size_t);
static void *(*real_realloc)(void *, size_t);
static void (*real_free)(void *);
static int (*real_posix_memalign)(void **, size_t, size_t);
static void *(*real_aligned_alloc)(size_t, size_t);
static char bootstrap[65536]; static size_t boot_used;
static void init(void) {
    real_malloc = dlsym(RTLD_NEXT, "malloc"); real_calloc = dlsym(RTLD_NEXT, "calloc");
    real_realloc = dlsym(RTLD_NEXT, "realloc"); real_free = dlsym(RTLD_NEXT, "free");
    real_posix_memalign = dlsym(RTLD_NEXT, "posix_memalign"); real_aligned_alloc = dlsym(RTLD_NEXT, "aligned_alloc");
}
void *malloc(size_t n) { if (!real_malloc) init(); atomic_fetch_add(&mallocs, 1); return real_malloc(n); }
void *calloc(size_t a, size_t b) {
    if (!real_calloc) { void *p = bootstrap + boot_used; boot_used += (a*b + 15) & ~15; return p; }
    atomic_fetch_add(&mallocs, 1); return real_calloc(a, b); }
void *realloc(void *p, size_t n) { if (!real_realloc) init(); atomic_fetch_add(&mallocs, 1); return real_realloc(p, n); }
int posix_memalign(void **p, size_t a, size_t n) { if (!real_posix_memalign) init(); atomic_fetch_add(&mallocs, 1); return real_posix_memalign(p, a, n); }
void *aligned_alloc(size_t a, size_t n) { if (!real_aligned_alloc) init(); atomic_fetch_add(&mallocs, 1); return real_aligned_alloc(a, n); }
void free(void *p) { if ((char *)p >= bootstrap && (char *)p < bootstrap + sizeof bootstrap) return; if (!real_free) init(); if (p) atomic_fetch_add(&frees, 1); real_free(p); }
static void *ticker(void *arg) { (void)arg; for (;;) { usleep(100000); char b[128]; int n = snprintf(b, sizeof b, "%ld %ld\n", atomic_load(&mallocs), atomic_load(&frees)); int fd = open(count_file, O_WRONLY|O_CREAT|O_TRUNC, 0644); if (fd >= 0) { write(fd, b, n); close(fd); } } return NULL; }
__attribute__((constructor)) static void setup(void) { init(); count_file = getenv("MALLOC_COUNT_FILE"); if (!count_file) return; pthread_t t; pthread_create(&t, NULL, ticker, NULL); }
