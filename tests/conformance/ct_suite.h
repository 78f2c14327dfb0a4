/* ct_suite.h - what the conformance suite's files share (conformance.c, conformance_mt.c,
 * conformance_gc.c): the backend under test A, the helpers, and the tests main() registers.
 * Every file is compiled with -DAB_CT_ALLOC=ab_alloc_<name>; see conformance.c for the suite.
 * Worker threads never call cmocka (its failure path is not thread-safe): they report through
 * ct_thread_error() and the main thread asserts ct_thread_errors.
 */
#ifndef CT_SUITE_H
#define CT_SUITE_H

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ab_allocator.h"
#include "ct_check.h"

#ifndef AB_CT_ALLOC
#error "build with -DAB_CT_ALLOC=ab_alloc_<name>"
#endif

static const ab_allocator *const A = &AB_CT_ALLOC;

/* Sanitizer builds run the heavy loops with fewer iterations (same coverage of cases). */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define CT_SCALE 4
#else
#define CT_SCALE 1
#endif

/* ---- Helpers ---- */

/* xorshift64*: deterministic per seed. */
static inline uint64_t ct_rand(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 0x2545F4914F6CDD1Dull;
}

static inline size_t ct_rand_size(uint64_t *s)
{
    uint64_t r = ct_rand(s) % 100;
    if (r < 80) return ct_rand(s) % 257;
    if (r < 95) return 257 + ct_rand(s) % 3840;
    return 4097 + ct_rand(s) % 61440;
}

static inline int ct_aligned(const void *p, size_t a)
{
    return ((uintptr_t)p & (a - 1)) == 0;
}

typedef struct ct_thread {
    pthread_t tid;
    void *(*fn)(void *);
    void *arg;
} ct_thread;

/* Every worker thread calls the backend's thread_init / thread_exit around its body. */
static inline void *ct_thread_main(void *arg)
{
    ct_thread *t = arg;
    if (A->thread_init) A->thread_init();
    void *r = t->fn(t->arg);
    if (A->thread_exit) A->thread_exit();
    return r;
}

static inline void ct_start(ct_thread *t, void *(*fn)(void *), void *arg)
{
    t->fn = fn;
    t->arg = arg;
    assert_int_equal(pthread_create(&t->tid, NULL, ct_thread_main, t), 0);
}

static inline void ct_join(ct_thread *t)
{
    assert_int_equal(pthread_join(t->tid, NULL), 0);
}

/* Errors seen by worker threads (conformance.c). */
extern atomic_long ct_thread_errors;
void ct_thread_error(const char *what, const void *p, size_t size);

static inline void expect_enomem(void *p, const char *what)
{
    if (p) print_message("%s returned %p, expected NULL\n", what, p);
    assert_null(p);
    if (errno != ENOMEM) print_message("%s: errno %d, expected ENOMEM\n", what, errno);
    assert_int_equal(errno, ENOMEM);
}

typedef struct ct_block {
    void *p;
    size_t size;
    uint32_t seed;
} ct_block;

/* Allocates with a mix of members; fills the block with its pattern. */
static inline ct_block ct_alloc_mixed(uint64_t *rng, uint32_t seed)
{
    ct_block b = {NULL, ct_rand_size(rng), seed};
    switch (ct_rand(rng) % 5) {
    case 0:
        b.p = A->malloc(b.size);
        break;
    case 1:
        b.p = A->calloc(1, b.size);
        break;
    case 2:
        b.p = A->realloc(NULL, b.size);
        break;
    case 3:
        b.p = A->aligned_alloc((size_t)1 << (ct_rand(rng) % 13), b.size);
        break;
    default: /* grown by realloc (a size of 0 would make realloc free the block) */
        b.p = A->malloc(b.size / 3);
        if (b.p && b.size) {
            void *q = A->realloc(b.p, b.size);
            if (!q) A->free(b.p);
            b.p = q;
        }
        break;
    }
    if (b.p) ct_fill(b.p, 0, b.size, seed);
    return b;
}

static inline void ct_assert_disjoint(const ct_block *blocks, size_t n)
{
    ct_interval *iv = malloc(n * sizeof *iv);
    assert_non_null(iv);
    for (size_t i = 0; i < n; i++)
        iv[i] = ct_interval_of(blocks[i].p, blocks[i].size);
    size_t first = 0, overlaps = ct_count_overlaps(iv, n, &first);
    if (overlaps)
        print_message("%zu overlapping live blocks, first at %#" PRIxPTR "..%#" PRIxPTR "\n",
                      overlaps, iv[first].lo, iv[first].hi);
    free(iv);
    assert_int_equal(overlaps, 0);
    size_t corrupt = 0;
    for (size_t i = 0; i < n; i++)
        if (ct_verify(blocks[i].p, blocks[i].size, blocks[i].seed) != SIZE_MAX) corrupt++;
    assert_int_equal(corrupt, 0);
}

/* ---- The tests of conformance_mt.c and conformance_gc.c ---- */

void test_mt_no_overlap(void **state);
void test_mt_cross_thread_free(void **state);
void test_mt_thread_exit_with_live_blocks(void **state);
void test_mt_churn_32_threads(void **state);
void test_mt_threads_without_thread_init(void **state);
void test_mt_stats_while_allocating(void **state);
void test_gc_reachable_survive(void **state);
void test_gc_roots_in_manual_blocks(void **state);
void test_gc_typed(void **state);
void test_gc_events(void **state);
void test_gc_alignment(void **state);

#endif /* CT_SUITE_H */
