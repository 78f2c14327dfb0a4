/* wl_support.h - helpers every workload file shares: touching and checking blocks, fatal
 * errors, an untimed aligned allocation wrapper, and the thread helpers of threads.c.
 *
 * Touching: every block a workload allocates gets at least its first and last byte written
 * (so no compiler or lazy allocator can skip the work); wl_touch() writes a tag there and
 * wl_check() verifies it before the block is freed, catching overlapping or corrupted blocks.
 */
#ifndef WL_SUPPORT_H
#define WL_SUPPORT_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "wl_workload.h"

/* Prints "abench workload <name>: <message>" on stderr and aborts. For broken allocator
 * contracts (a corrupted block, NULL from a request that must succeed): the runner records the
 * crash. */
__attribute__((noreturn, format(printf, 2, 3))) void wl_die(const char *workload, const char *fmt,
                                                            ...);

/* Zeroed bookkeeping memory from mmap (not from the allocator under test); dies on failure.
 * Freed with the same size. */
void *wl_meta_alloc(const char *workload, size_t size);
void wl_meta_free(void *p, size_t size);

static inline void wl_touch(void *p, size_t size, uint8_t tag)
{
    if (size == 0) return;
    volatile uint8_t *b = (volatile uint8_t *)p;
    b[0] = tag;
    b[size - 1] = tag;
}

/* 1 when the bytes wl_touch() wrote are intact. */
static inline int wl_check(const void *p, size_t size, uint8_t tag)
{
    if (size == 0) return 1;
    const volatile uint8_t *b = (const volatile uint8_t *)p;
    return b[0] == tag && b[size - 1] == tag;
}

/* A tag derived from a block's size and slot, so a block swapped with another is noticed. */
static inline uint8_t wl_tag(size_t size, uint64_t slot)
{
    return (uint8_t)((size * 0x9e3779b1u + slot * 0x85ebca6bu) >> 24 | 1);
}

/* Untimed aligned allocation through the interface, with the live-byte account and op hash. */
static inline void *wl_aligned_alloc(wl_thread *t, size_t align, size_t size)
{
    void *p = t->a->aligned_alloc(align, size);
    if (p) wl_live_add(t, (int64_t)size);
    wl_hash_op(t, 6, size);
    return p;
}

/* ---- threads.c: threads the workloads create themselves ----
 * A sub-thread works in an existing wl_thread slot (its live bytes, RNG, ops and latency
 * sampler) and brackets its body with the allocator's thread_init/thread_exit. A slot is used
 * by one thread at a time: start a successor only after joining its predecessor. */

typedef void (*wl_thread_fn)(wl_thread *t, void *arg);

typedef struct wl_subthread {
    pthread_t th;
    wl_thread *t;
    wl_thread_fn fn;
    void *arg;
} wl_subthread;

/* Starts fn(t, arg) on a new thread. Dies (wl_die) if the thread cannot be created. */
void wl_subthread_start(wl_subthread *st, wl_thread *t, wl_thread_fn fn, void *arg);
void wl_subthread_join(wl_subthread *st);
/* Start and join: fn runs on a fresh thread in slot t. */
void wl_subthread_run(wl_thread *t, wl_thread_fn fn, void *arg);

/* A barrier across the run's nthreads worker threads (pthread_barrier_t wrapper). */
typedef struct wl_barrier {
    pthread_barrier_t b;
} wl_barrier;
void wl_barrier_init(wl_barrier *b, unsigned n);
void wl_barrier_wait(wl_barrier *b);
void wl_barrier_destroy(wl_barrier *b);

#endif /* WL_SUPPORT_H */
