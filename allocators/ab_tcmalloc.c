/* ab_tcmalloc.c - the tcmalloc backend (gperftools' libtcmalloc_minimal, which exports malloc).
 *
 * Owns ab_alloc_tcmalloc. Invariants:
 *  - linking this adapter makes the process malloc tcmalloc's; the members call tc_* directly
 *    (the same heap), and check_process_malloc() proves that tcmalloc owns a block from the
 *    process malloc (MallocExtension_GetOwnership).
 *  - requests above PTRDIFF_MAX and calloc overflow are answered here (NULL + ENOMEM) so
 *    tcmalloc's large-allocation reports stay quiet; any NULL it returns gets ENOMEM.
 *  - stats() from gperftools' numeric properties: allocated = generic.current_allocated_bytes;
 *    mapped = generic.heap_size - tcmalloc.pageheap_unmapped_bytes (tcmalloc's own "actual
 *    memory used"), also reported as `resident` since tcmalloc counts every mapped page as
 *    resident; active = mapped - tcmalloc.pageheap_free_bytes (pages handed to spans);
 *    retained = tcmalloc.pageheap_unmapped_bytes.
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <gperftools/malloc_extension_c.h>
#include <gperftools/tcmalloc.h>

#include "ab_allocator.h"
#include "ab_checked.h"

/* ---- Version ---- */

static char tc_version_buf[96];
static pthread_once_t tc_version_once = PTHREAD_ONCE_INIT;

static void tc_version_init(void)
{
    int major = 0, minor = 0;
    const char *patch = NULL;
    const char *v = tc_version(&major, &minor, &patch);
    snprintf(tc_version_buf, sizeof tc_version_buf, "tcmalloc (%s)", v ? v : "unknown");
}

static const char *tc_ab_version(void)
{
    pthread_once(&tc_version_once, tc_version_init);
    return tc_version_buf;
}

/* ---- Allocation ---- */

static void *tc_ab_malloc(size_t size)
{
    return ab_checked_malloc(tc_malloc, size);
}

static void *tc_ab_calloc(size_t n, size_t size)
{
    return ab_checked_calloc(tc_calloc, n, size);
}

static void *tc_ab_realloc(void *p, size_t size)
{
    return ab_checked_realloc(tc_realloc, p, size);
}

static void tc_ab_free(void *p)
{
    tc_free(p);
}

static void *tc_ab_aligned_alloc(size_t alignment, size_t size)
{
    if (ab_check_alignment(alignment, size) != 0) return NULL;
    if (alignment < sizeof(void *)) alignment = sizeof(void *);
    void *p = NULL;
    int rc = tc_posix_memalign(&p, alignment, size);
    if (rc != 0) {
        errno = rc;
        return NULL;
    }
    return p;
}

static size_t tc_ab_usable_size(const void *p)
{
    return tc_malloc_size((void *)p);
}

/* ---- Stats ---- */

static int tc_prop(const char *name, size_t *v)
{
    return MallocExtension_GetNumericProperty(name, v) ? 0 : -1;
}

static int tc_ab_stats(ab_stats *out)
{
    out->valid = 0;
    out->n_extra = 0;
    size_t allocated, heap, pfree, unmapped;
    if (tc_prop("generic.current_allocated_bytes", &allocated) == 0) {
        out->allocated = allocated;
        out->valid |= AB_STAT_allocated;
    }
    if (tc_prop("generic.heap_size", &heap) == 0 &&
        tc_prop("tcmalloc.pageheap_free_bytes", &pfree) == 0 &&
        tc_prop("tcmalloc.pageheap_unmapped_bytes", &unmapped) == 0) {
        out->mapped = heap - unmapped;
        out->resident = out->mapped;
        out->active = heap - unmapped - pfree;
        out->retained = unmapped;
        out->valid |= AB_STAT_mapped | AB_STAT_resident | AB_STAT_active | AB_STAT_retained;
    }
    static const char *extras[] = {
        "generic.current_allocated_bytes",
        "generic.heap_size",
        "generic.total_physical_bytes",
        "tcmalloc.pageheap_free_bytes",
        "tcmalloc.pageheap_unmapped_bytes",
        "tcmalloc.central_cache_free_bytes",
        "tcmalloc.transfer_cache_free_bytes",
        "tcmalloc.thread_cache_free_bytes",
        "tcmalloc.current_total_thread_cache_bytes",
        "tcmalloc.max_total_thread_cache_bytes",
    };
    for (size_t i = 0; i < sizeof extras / sizeof extras[0]; i++) {
        size_t v;
        if (tc_prop(extras[i], &v) == 0) ab_stats_put(out, extras[i], (double)v);
    }
    return out->valid ? 0 : -1;
}

static void tc_ab_collect(int level)
{
    (void)level; /* no GC: FULL is PURGE */
    MallocExtension_ReleaseFreeMemory();
}

/* ---- Proof of the process malloc ---- */

static int tc_ab_check_process_malloc(char *err, size_t errlen)
{
    void *p = malloc(64);
    if (!p) {
        snprintf(err, errlen, "tcmalloc: malloc(64) failed");
        return -1;
    }
    MallocExtension_Ownership own = MallocExtension_GetOwnership(p);
    free(p);
    if (own != MallocExtension_kOwned) {
        snprintf(err, errlen,
                 "tcmalloc: process malloc is not tcmalloc's: tcmalloc does not own a block "
                 "from malloc() (ownership %d)",
                 (int)own);
        return -1;
    }
    return 0;
}

const ab_allocator ab_alloc_tcmalloc = {
    .name = "tcmalloc",
    .caps = 0,
    .version = tc_ab_version,
    .init = NULL,
    .check_process_malloc = tc_ab_check_process_malloc,
    .malloc = tc_ab_malloc,
    .calloc = tc_ab_calloc,
    .realloc = tc_ab_realloc,
    .free = tc_ab_free,
    .aligned_alloc = tc_ab_aligned_alloc,
    .usable_size = tc_ab_usable_size,
    .thread_init = NULL,
    .thread_exit = NULL,
    .stats = tc_ab_stats,
    .collect = tc_ab_collect,
};
