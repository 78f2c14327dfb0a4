/* ab_null.c - the recording "null" backend: ab_alloc_sys underneath, every call counted.
 *
 * Owns ab_alloc_null (test-only, never in AB_BACKENDS). It lets harness and workload tests run
 * the whole pipeline without timing a real allocator. Invariants:
 *  - every member forwards to the same member of ab_alloc_sys (so blocks are glibc's, or the
 *    sanitizer's in a sanitizer build) after bumping its relaxed atomic call counter; the
 *    counters only grow.
 *  - stats() is sys's record plus one extra per member, "calls.<member>", counted before the
 *    stats call itself is counted.
 *  - check_process_malloc() is sys's check, except that a non-empty AB_NULL_CHECK_FAIL in the
 *    environment makes it fail (a test switch: the runner must refuse to run then).
 *  - AB_NULL_SPIN=N (read by init) adds an empty loop of N iterations, 3 instructions each, to
 *    every malloc: a known instruction-count slowdown for the tests of --instructions and of
 *    the comparison gate.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

#include "ab_allocator.h"

/* The counted members: X(name). */
#define NULL_MEMBERS(X)                                                                            \
    X(version)                                                                                     \
    X(init)                                                                                        \
    X(check_process_malloc)                                                                        \
    X(malloc)                                                                                      \
    X(calloc)                                                                                      \
    X(realloc)                                                                                     \
    X(free)                                                                                        \
    X(aligned_alloc)                                                                               \
    X(usable_size)                                                                                 \
    X(thread_init)                                                                                 \
    X(thread_exit)                                                                                 \
    X(stats)                                                                                       \
    X(collect)

enum null_member {
#define NULL_X(m) NULL_##m,
    NULL_MEMBERS(NULL_X)
#undef NULL_X
        NULL_NMEMBERS
};

static const char *const null_member_names[NULL_NMEMBERS] = {
#define NULL_X(m) #m,
    NULL_MEMBERS(NULL_X)
#undef NULL_X
};

static atomic_ullong null_calls[NULL_NMEMBERS];

static void null_count(enum null_member m)
{
    atomic_fetch_add_explicit(&null_calls[m], 1, memory_order_relaxed);
}

/* ---- Members ---- */

static char null_version_buf[160];
static pthread_once_t null_version_once = PTHREAD_ONCE_INIT;

static void null_version_init(void)
{
    snprintf(null_version_buf, sizeof null_version_buf, "null (recording, over %s)",
             ab_alloc_sys.version());
}

static const char *null_version(void)
{
    null_count(NULL_version);
    pthread_once(&null_version_once, null_version_init);
    return null_version_buf;
}

static unsigned null_spin; /* AB_NULL_SPIN, set once by init */

static int null_init(char *err, size_t errlen)
{
    null_count(NULL_init);
    const char *spin = getenv("AB_NULL_SPIN");
    if (spin) null_spin = (unsigned)strtoul(spin, NULL, 10);
    return ab_alloc_sys.init ? ab_alloc_sys.init(err, errlen) : 0;
}

static int null_check_process_malloc(char *err, size_t errlen)
{
    null_count(NULL_check_process_malloc);
    const char *fail = getenv("AB_NULL_CHECK_FAIL");
    if (fail && *fail) {
        snprintf(err, errlen, "null: AB_NULL_CHECK_FAIL is set: refusing on purpose (test switch)");
        return -1;
    }
    return ab_alloc_sys.check_process_malloc(err, errlen);
}

static void *null_malloc(size_t size)
{
    null_count(NULL_malloc);
    for (unsigned i = 0; i < null_spin; i++)
        __asm__ volatile(""); /* kept by the compiler: add, cmp, branch per iteration */
    return ab_alloc_sys.malloc(size);
}

static void *null_calloc(size_t n, size_t size)
{
    null_count(NULL_calloc);
    return ab_alloc_sys.calloc(n, size);
}

static void *null_realloc(void *p, size_t size)
{
    null_count(NULL_realloc);
    return ab_alloc_sys.realloc(p, size);
}

static void null_free(void *p)
{
    null_count(NULL_free);
    ab_alloc_sys.free(p);
}

static void *null_aligned_alloc(size_t alignment, size_t size)
{
    null_count(NULL_aligned_alloc);
    return ab_alloc_sys.aligned_alloc(alignment, size);
}

static size_t null_usable_size(const void *p)
{
    null_count(NULL_usable_size);
    return ab_alloc_sys.usable_size(p);
}

static void null_thread_init(void)
{
    null_count(NULL_thread_init);
    if (ab_alloc_sys.thread_init) ab_alloc_sys.thread_init();
}

static void null_thread_exit(void)
{
    null_count(NULL_thread_exit);
    if (ab_alloc_sys.thread_exit) ab_alloc_sys.thread_exit();
}

static int null_stats(ab_stats *out)
{
    unsigned long long calls[NULL_NMEMBERS];
    for (int i = 0; i < NULL_NMEMBERS; i++)
        calls[i] = atomic_load_explicit(&null_calls[i], memory_order_relaxed);
    null_count(NULL_stats);
    if (ab_alloc_sys.stats(out) != 0) return -1;
    for (int i = 0; i < NULL_NMEMBERS; i++) {
        char key[AB_STATS_KEY_MAX];
        snprintf(key, sizeof key, "calls.%s", null_member_names[i]);
        ab_stats_put(out, key, (double)calls[i]);
    }
    return 0;
}

static void null_collect(int level)
{
    null_count(NULL_collect);
    ab_alloc_sys.collect(level);
}

const ab_allocator ab_alloc_null = {
    .name = "null",
    .caps = 0,
    .version = null_version,
    .init = null_init,
    .check_process_malloc = null_check_process_malloc,
    .malloc = null_malloc,
    .calloc = null_calloc,
    .realloc = null_realloc,
    .free = null_free,
    .aligned_alloc = null_aligned_alloc,
    .usable_size = null_usable_size,
    .thread_init = null_thread_init,
    .thread_exit = null_thread_exit,
    .stats = null_stats,
    .collect = null_collect,
};
