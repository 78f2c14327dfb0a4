/* ab_broken.c - a deliberately broken backend: glibc underneath, but it hands out live blocks.
 *
 * Owns ab_alloc_broken (test-only, never in AB_BACKENDS). It exists to prove that the
 * conformance suite can fail. The contract violation: every BROKEN_EVERY-th allocation marks
 * its block, and the next malloc/calloc/realloc-from-NULL that fits in that block (while it is
 * still live) returns the SAME block again, so two live blocks overlap (calloc even zeroes the
 * other owner's data). Everything else behaves like ab_alloc_sys.
 * Memory safety is kept so the suite fails by its checks, not by a crash: a block handed out
 * k extra times is really freed only by the last of its k + 1 frees (a reference count in
 * broken_dups). Invariants: `pending` is a live block or NULL; every broken_dups entry names a
 * live block with refs >= 1; all of this state is under broken_lock.
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>

#include "ab_allocator.h"

#define BROKEN_EVERY 16
#define BROKEN_MAX_DUPS 1024

typedef struct broken_dup {
    void *p;       /* the block handed out more than once */
    unsigned refs; /* extra handouts not yet freed */
} broken_dup;

static pthread_mutex_t broken_lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned long broken_nallocs;
static void *broken_pending;
static size_t broken_pending_usable;
static broken_dup broken_dups[BROKEN_MAX_DUPS];
static unsigned broken_ndups;

/* ---- The violation ---- */

/* Under broken_lock. Returns the entry of p or NULL. */
static broken_dup *broken_find(void *p)
{
    for (unsigned i = 0; i < broken_ndups; i++)
        if (broken_dups[i].p == p) return &broken_dups[i];
    return NULL;
}

/* Returns a live block of at least `size` bytes to hand out again, or NULL for "allocate". */
static void *broken_take_dup(size_t size)
{
    void *p = NULL;
    pthread_mutex_lock(&broken_lock);
    broken_nallocs++;
    if (broken_pending && size <= broken_pending_usable) {
        broken_dup *d = broken_find(broken_pending);
        if (!d && broken_ndups < BROKEN_MAX_DUPS) {
            d = &broken_dups[broken_ndups++];
            d->p = broken_pending;
            d->refs = 0;
        }
        if (d) {
            d->refs++;
            p = broken_pending;
            broken_pending = NULL;
        }
    }
    pthread_mutex_unlock(&broken_lock);
    return p;
}

/* Every BROKEN_EVERY-th fresh block becomes the pending one. */
static void *broken_note_fresh(void *p)
{
    if (!p) return p;
    pthread_mutex_lock(&broken_lock);
    if (broken_nallocs % BROKEN_EVERY == 0 && !broken_pending) {
        broken_pending = p;
        broken_pending_usable = ab_alloc_sys.usable_size(p);
    }
    pthread_mutex_unlock(&broken_lock);
    return p;
}

/* Returns 1 when p is still held by another owner (so it must not really be freed / moved). */
static int broken_release(void *p)
{
    int held = 0;
    pthread_mutex_lock(&broken_lock);
    if (broken_pending == p) broken_pending = NULL;
    broken_dup *d = broken_find(p);
    if (d) {
        held = 1;
        if (--d->refs == 0) *d = broken_dups[--broken_ndups];
    }
    pthread_mutex_unlock(&broken_lock);
    return held;
}

/* ---- Members ---- */

static const char *broken_version(void)
{
    return "broken (test backend: hands out live blocks again; over glibc)";
}

static int broken_check_process_malloc(char *err, size_t errlen)
{
    return ab_alloc_sys.check_process_malloc(err, errlen);
}

static void *broken_malloc(size_t size)
{
    void *p = broken_take_dup(size);
    return p ? p : broken_note_fresh(ab_alloc_sys.malloc(size));
}

static void *broken_calloc(size_t n, size_t size)
{
    size_t total;
    if (__builtin_mul_overflow(n, size, &total)) {
        errno = ENOMEM;
        return NULL;
    }
    void *p = broken_take_dup(total);
    if (p) return memset(p, 0, total);
    return broken_note_fresh(ab_alloc_sys.calloc(n, size));
}

static void broken_free(void *p)
{
    if (p && !broken_release(p)) ab_alloc_sys.free(p);
}

static size_t broken_usable_size(const void *p)
{
    return ab_alloc_sys.usable_size(p);
}

static void *broken_realloc(void *p, size_t size)
{
    if (!p) return broken_malloc(size);
    pthread_mutex_lock(&broken_lock);
    int shared = broken_find(p) != NULL;
    if (!shared && broken_pending == p) broken_pending = NULL;
    pthread_mutex_unlock(&broken_lock);
    if (!shared) return ab_alloc_sys.realloc(p, size);
    /* another owner holds p: move this owner's copy out */
    void *q = ab_alloc_sys.malloc(size);
    if (!q) return NULL;
    size_t old = ab_alloc_sys.usable_size(p);
    memcpy(q, p, old < size ? old : size);
    broken_free(p);
    return q;
}

static void *broken_aligned_alloc(size_t alignment, size_t size)
{
    return ab_alloc_sys.aligned_alloc(alignment, size);
}

static int broken_stats(ab_stats *out)
{
    if (ab_alloc_sys.stats(out) != 0) return -1;
    pthread_mutex_lock(&broken_lock);
    ab_stats_put(out, "broken.shared_blocks", (double)broken_ndups);
    pthread_mutex_unlock(&broken_lock);
    return 0;
}

static void broken_collect(int level)
{
    ab_alloc_sys.collect(level);
}

const ab_allocator ab_alloc_broken = {
    .name = "broken",
    .caps = 0,
    .version = broken_version,
    .init = NULL,
    .check_process_malloc = broken_check_process_malloc,
    .malloc = broken_malloc,
    .calloc = broken_calloc,
    .realloc = broken_realloc,
    .free = broken_free,
    .aligned_alloc = broken_aligned_alloc,
    .usable_size = broken_usable_size,
    .thread_init = NULL,
    .thread_exit = NULL,
    .stats = broken_stats,
    .collect = broken_collect,
};
