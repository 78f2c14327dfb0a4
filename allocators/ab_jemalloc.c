/* ab_jemalloc.c - the jemalloc backend (Debian's libjemalloc, which exports malloc & co).
 *
 * Owns ab_alloc_jemalloc. Invariants:
 *  - linking this adapter makes the process malloc jemalloc's; the members call the process
 *    malloc family, and check_process_malloc() proves that it lands in jemalloc (the block is
 *    known to jemalloc's extent map, "arenas.lookup", and a 1 MiB block raises
 *    "stats.allocated" by at least 1 MiB after an epoch refresh).
 *  - stats() refreshes "epoch" first, then reads stats.allocated/active/resident/mapped/
 *    retained (jemalloc's own figures; all five measured). jemalloc documents no strict
 *    order between mapped and resident.
 *  - collect() flushes the calling thread's tcache, then purges every arena.
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jemalloc/jemalloc.h>

#include "ab_allocator.h"

#define JE_STR_(x) #x
#define JE_STR(x) JE_STR_(x)

/* ---- Version ---- */

static char je_version_buf[128];
static pthread_once_t je_version_once = PTHREAD_ONCE_INIT;

static void je_version_init(void)
{
    const char *v = NULL;
    size_t sz = sizeof v;
    if (mallctl("version", &v, &sz, NULL, 0) != 0 || !v) v = "unknown";
    snprintf(je_version_buf, sizeof je_version_buf, "jemalloc %s", v);
}

static const char *je_version(void)
{
    pthread_once(&je_version_once, je_version_init);
    return je_version_buf;
}

/* ---- Allocation: the process malloc family, which is jemalloc's ---- */

static void *je_malloc(size_t size)
{
    return malloc(size);
}

static void *je_calloc(size_t n, size_t size)
{
    return calloc(n, size);
}

/* jemalloc 5.3 returns NULL without setting errno for realloc(p, SIZE_MAX): the interface's
 * NULL + ENOMEM is set here. */
static void *je_realloc(void *p, size_t size)
{
    if (size > PTRDIFF_MAX) {
        errno = ENOMEM;
        return NULL;
    }
    void *q = realloc(p, size);
    if (!q && size) errno = ENOMEM;
    return q;
}

static void je_free(void *p)
{
    free(p);
}

static void *je_aligned_alloc(size_t alignment, size_t size)
{
    if (alignment == 0 || (alignment & (alignment - 1)) != 0) {
        errno = EINVAL;
        return NULL;
    }
    if (alignment < sizeof(void *)) alignment = sizeof(void *);
    void *p = NULL;
    int rc = posix_memalign(&p, alignment, size);
    if (rc != 0) {
        errno = rc;
        return NULL;
    }
    return p;
}

static size_t je_usable_size(const void *p)
{
    return malloc_usable_size((void *)p);
}

/* ---- Stats ---- */

static int je_refresh_epoch(void)
{
    uint64_t epoch = 1;
    size_t sz = sizeof epoch;
    return mallctl("epoch", &epoch, &sz, &epoch, sz);
}

static int je_read_size(const char *name, size_t *v)
{
    size_t sz = sizeof *v;
    return mallctl(name, v, &sz, NULL, 0);
}

static void je_put_extra(ab_stats *out, const char *name)
{
    size_t v;
    if (je_read_size(name, &v) == 0) ab_stats_put(out, name, (double)v);
}

static void je_put_extra_unsigned(ab_stats *out, const char *name)
{
    unsigned v;
    size_t sz = sizeof v;
    if (mallctl(name, &v, &sz, NULL, 0) == 0) ab_stats_put(out, name, (double)v);
}

static int je_stats(ab_stats *out)
{
    out->valid = 0;
    out->n_extra = 0;
    if (je_refresh_epoch() != 0) return -1;
    size_t v;
    if (je_read_size("stats.allocated", &v) == 0) {
        out->allocated = v;
        out->valid |= AB_STAT_allocated;
    }
    if (je_read_size("stats.active", &v) == 0) {
        out->active = v;
        out->valid |= AB_STAT_active;
    }
    if (je_read_size("stats.resident", &v) == 0) {
        out->resident = v;
        out->valid |= AB_STAT_resident;
    }
    if (je_read_size("stats.mapped", &v) == 0) {
        out->mapped = v;
        out->valid |= AB_STAT_mapped;
    }
    if (je_read_size("stats.retained", &v) == 0) {
        out->retained = v;
        out->valid |= AB_STAT_retained;
    }
    je_put_extra(out, "stats.metadata");
    je_put_extra(out, "stats.metadata_thp");
    je_put_extra(out, "stats.background_thread.num_threads");
    je_put_extra_unsigned(out, "arenas.narenas");
    je_put_extra(out, "arenas.page");
    je_put_extra(out, "arenas.tcache_max");
    return out->valid ? 0 : -1;
}

/* ---- Collect ---- */

static void je_collect(int level)
{
    (void)level; /* no GC: FULL is PURGE */
    mallctl("thread.tcache.flush", NULL, NULL, NULL, 0);
    mallctl("arena." JE_STR(MALLCTL_ARENAS_ALL) ".purge", NULL, NULL, NULL, 0);
}

/* ---- Proof of the process malloc ---- */

static int je_check_process_malloc(char *err, size_t errlen)
{
    const size_t n = 1024 * 1024;
    if (je_refresh_epoch() != 0) {
        snprintf(err, errlen, "jemalloc: mallctl(\"epoch\") failed (statistics disabled?)");
        return -1;
    }
    size_t before = 0, after = 0;
    if (je_read_size("stats.allocated", &before) != 0) {
        snprintf(err, errlen, "jemalloc: mallctl(\"stats.allocated\") failed");
        return -1;
    }
    void *p = malloc(n);
    if (!p) {
        snprintf(err, errlen, "jemalloc: malloc(%zu) failed", n);
        return -1;
    }
    memset(p, 1, 64);
    unsigned arena = 0;
    size_t asz = sizeof arena;
    const void *q = p;
    int lookup = mallctl("arenas.lookup", &arena, &asz, (void *)&q, sizeof q);
    je_refresh_epoch();
    je_read_size("stats.allocated", &after);
    free(p);
    if (lookup != 0) {
        snprintf(err, errlen,
                 "jemalloc: process malloc is not jemalloc's: a block from malloc() is unknown "
                 "to jemalloc (arenas.lookup: %s)",
                 strerror(lookup));
        return -1;
    }
    if (after < before + n) {
        snprintf(err, errlen,
                 "jemalloc: process malloc is not jemalloc's: malloc(%zu) raised "
                 "stats.allocated by only %zu",
                 n, after > before ? after - before : 0);
        return -1;
    }
    return 0;
}

const ab_allocator ab_alloc_jemalloc = {
    .name = "jemalloc",
    .caps = 0,
    .version = je_version,
    .init = NULL,
    .check_process_malloc = je_check_process_malloc,
    .malloc = je_malloc,
    .calloc = je_calloc,
    .realloc = je_realloc,
    .free = je_free,
    .aligned_alloc = je_aligned_alloc,
    .usable_size = je_usable_size,
    .thread_init = NULL,
    .thread_exit = NULL,
    .stats = je_stats,
    .collect = je_collect,
};
