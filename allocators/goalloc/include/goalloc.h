/* goalloc.h - goalloc's public API: Go's runtime allocator rebuilt in C.
 *
 * Every function is thread-safe unless it says otherwise. Allocation functions return NULL
 * with errno = ENOMEM on failure and never abort (unless a debug level >= 1 catches a caller
 * mistake such as freeing a pointer goalloc does not own). Knobs read like Go's: GOGC,
 * GOMEMLIMIT, GOALLOC_DEBUG=gctrace=1,scavtrace=1,madvdontneed=0|1, GOALLOC_VERBOSE=1.
 * See allocators/goalloc/README.md for the map from each file to Go's runtime.
 */
#ifndef GOALLOC_H
#define GOALLOC_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- The malloc family (manual mode) ---- */
void *ga_malloc(size_t size);
void *ga_calloc(size_t n, size_t size);
void *ga_realloc(void *p, size_t size);
void ga_free(void *p);
void *ga_aligned_alloc(size_t alignment, size_t size);
int ga_posix_memalign(void **out, size_t alignment, size_t size);
void *ga_memalign(size_t alignment, size_t size);
void *ga_valloc(size_t size);
void *ga_pvalloc(size_t size);
size_t ga_usable_size(const void *p);

/* 1 when p points into a live goalloc block (interior pointers included), 0 otherwise. */
int ga_owns(const void *p);

/* Flushes the calling thread's cache (called automatically when a thread exits). */
void ga_thread_flush(void);

/* ---- Knobs (options.c; the same settings as GOGC / GOMEMLIMIT, like Go's runtime/debug) ---- */
/* Soft memory limit in bytes (INT64_MAX = none). Returns the previous limit; a negative
 * argument only queries. */
int64_t ga_set_memory_limit(int64_t bytes);
/* GOGC percent; a negative value turns the GC off (stored as -1). Returns the previous value. */
int ga_set_gc_percent(int percent);

#ifdef __cplusplus
}
#endif
#endif /* GOALLOC_H */
