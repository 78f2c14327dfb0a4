/* stats.c - goalloc's statistics: Go's MemStats, the /memory/classes/ tree and per-class
 * counts (spec 11). See malloc.c for the overview.
 *
 * Two kinds of counters. Heap page counters (GA_HEAP_COUNTERS: heap_inuse, heap_free,
 * heap_released) are atomics updated by mheap.c as pages change state. Object counters live
 * per thread in its mcache (per class nmalloc/nfreed, GA_THREAD_COUNTERS) with no atomics,
 * and are merged here, under the stats lock, when the thread flushes or exits. Hence the
 * identities of goalloc.h hold exactly once every allocating thread has flushed; figures read
 * while others run lag behind by those threads' unflushed counts (and heap/unused is clamped
 * at 0 when that makes HeapAlloc exceed HeapInuse).
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "ga_internal.h"

ga_heap_counters _ga_heapstat;

static pthread_mutex_t stats_lock = PTHREAD_MUTEX_INITIALIZER;
static uint64_t small_alloc[GA_NUM_SIZE_CLASSES]; /* objects, merged from the mcaches */
static uint64_t small_free[GA_NUM_SIZE_CLASSES];
static ga_thread_counters totals;

void _ga_stats_lock(void)
{
    pthread_mutex_lock(&stats_lock);
}

void _ga_stats_unlock(bool reinit)
{
    if (reinit)
        pthread_mutex_init(&stats_lock, NULL);
    else
        pthread_mutex_unlock(&stats_lock);
}

static unsigned class_of_ci(unsigned ci)
{
    return ci == GA_TINY_CENTRAL ? GA_TINY_SPAN_CLASS >> 1 : ci >> 1;
}

void _ga_stats_absorb(ga_mcache *c)
{
    pthread_mutex_lock(&stats_lock);
    for (unsigned ci = 2; ci < GA_NUM_CENTRALS; ci++) {
        ga_mcache_class *e = &c->cls[ci];
        small_alloc[class_of_ci(ci)] += e->nmalloc;
        small_free[class_of_ci(ci)] += e->nfreed;
        e->nmalloc = e->nfreed = 0;
    }
#define GA_X(name, desc) totals.name += c->ctr.name;
    GA_THREAD_COUNTERS(GA_X)
#undef GA_X
    memset(&c->ctr, 0, sizeof c->ctr);
    pthread_mutex_unlock(&stats_lock);
}

/* ---- MemStats ---- */

int ga_read_memstats(ga_memstats *ms)
{
    if (!ms) {
        errno = EINVAL;
        return -1;
    }
    _ga_mheap_init();
    if (_ga_tls_mcache) _ga_stats_absorb(_ga_tls_mcache);
    memset(ms, 0, sizeof *ms);
    size_t span_inuse, span_sys, other_inuse, other_sys, mc_inuse, mc_sys;
    _ga_mheap_meta_stats(&span_inuse, &span_sys, &other_inuse, &other_sys);
    _ga_mcache_meta_stats(&mc_inuse, &mc_sys);
    size_t meta = _ga_os_meta_bytes();
    _ga_mheap_lock();
    size_t summaries = _ga_pagealloc_summary_bytes(_ga_mheap_pages()); /* mapped, not meta */
    _ga_mheap_unlock();

    pthread_mutex_lock(&stats_lock);
    uint64_t nmalloc = 0, nfree = 0, balloc = 0, bfree = 0;
    for (unsigned c = 1; c < GA_NUM_SIZE_CLASSES; c++) {
        nmalloc += small_alloc[c];
        nfree += small_free[c];
        balloc += small_alloc[c] * _ga_class_to_size[c];
        bfree += small_free[c] * _ga_class_to_size[c];
        ms->BySize[c].Size = _ga_class_to_size[c];
        ms->BySize[c].Mallocs = small_alloc[c];
        ms->BySize[c].Frees = small_free[c];
    }
    ms->Mallocs = nmalloc + totals.large_alloc_count + totals.tiny_allocs;
    ms->Frees = nfree + totals.large_free_count + totals.tiny_allocs;
    ms->TotalAlloc = balloc + totals.large_alloc;
    /* Frees merged before the matching allocations (another thread has not flushed yet)
     * would make these negative for a moment: clamp rather than wrap. */
    uint64_t freed = bfree + totals.large_free;
    ms->HeapAlloc = ms->TotalAlloc > freed ? ms->TotalAlloc - freed : 0;
    ms->TinyAllocs = totals.tiny_allocs;
    ms->TinyFrees = totals.tiny_frees;
    pthread_mutex_unlock(&stats_lock);

    ms->Alloc = ms->HeapAlloc;
    ms->HeapObjects = ms->Mallocs > ms->Frees ? ms->Mallocs - ms->Frees : 0;
    ms->HeapInuse = atomic_load(&_ga_heapstat.heap_inuse);
    ms->HeapReleased = atomic_load(&_ga_heapstat.heap_released);
    ms->HeapIdle = atomic_load(&_ga_heapstat.heap_free) + ms->HeapReleased;
    ms->HeapSys = ms->HeapInuse + ms->HeapIdle;
    ms->MSpanInuse = span_inuse;
    ms->MSpanSys = span_sys;
    ms->MCacheInuse = mc_inuse;
    ms->MCacheSys = mc_sys;
    ms->OtherSys = other_sys;
    size_t counted = span_sys + mc_sys + other_sys;
    ms->GCSys = (meta > counted ? meta - counted : 0) + summaries;
    ms->Sys = ms->HeapSys + ms->StackSys + ms->MSpanSys + ms->MCacheSys + ms->BuckHashSys +
              ms->GCSys + ms->OtherSys;
    return 0;
}

void ga_memstats_classes(const ga_memstats *ms, ga_memclasses *out)
{
    memset(out, 0, sizeof *out);
    out->heap_objects = ms->HeapAlloc;
    out->heap_unused = ms->HeapInuse > ms->HeapAlloc ? ms->HeapInuse - ms->HeapAlloc : 0;
    out->heap_free = ms->HeapIdle - ms->HeapReleased;
    out->heap_released = ms->HeapReleased;
    out->heap_stacks = ms->StackInuse;
    out->os_stacks = ms->StackSys - ms->StackInuse;
    out->metadata_mspan_inuse = ms->MSpanInuse;
    out->metadata_mspan_free = ms->MSpanSys - ms->MSpanInuse;
    out->metadata_mcache_inuse = ms->MCacheInuse;
    out->metadata_mcache_free = ms->MCacheSys - ms->MCacheInuse;
    out->metadata_other = ms->GCSys;
    out->profiling_buckets = ms->BuckHashSys;
    out->other = ms->OtherSys;
    out->total = out->heap_objects + out->heap_unused + out->heap_free + out->heap_released +
                 out->heap_stacks + out->os_stacks + out->metadata_mspan_inuse +
                 out->metadata_mspan_free + out->metadata_mcache_inuse + out->metadata_mcache_free +
                 out->metadata_other + out->profiling_buckets + out->other;
}

void ga_memstats_foreach(const ga_memstats *ms,
                         void (*fn)(void *ctx, const char *name, double value), void *ctx)
{
#define GA_X(name, desc) fn(ctx, #name, (double)ms->name);
    GA_MEMSTATS_FIELDS(GA_X)
#undef GA_X
    fn(ctx, "GCCPUFraction", ms->GCCPUFraction);
    ga_memclasses mc;
    ga_memstats_classes(ms, &mc);
#define GA_X(field, metric) fn(ctx, metric, (double)mc.field);
    GA_MEMCLASSES_FIELDS(GA_X)
#undef GA_X
}

/* ---- Printer (no allocation: snprintf into a stack buffer, one write per line) ---- */

static void put_line(int fd, const char *name, const char *value)
{
    char buf[160];
    int n = snprintf(buf, sizeof buf, "%s %s\n", name, value);
    if (n > 0 && write(fd, buf, (size_t)n < sizeof buf ? (size_t)n : sizeof buf - 1) < 0) return;
}

static void put_u64(void *ctx, const char *name, double value)
{
    char v[32];
    snprintf(v, sizeof v, "%.17g", value);
    put_line(*(int *)ctx, name, v);
}

void ga_memstats_print(const ga_memstats *ms, int fd)
{
    ga_memstats_foreach(ms, put_u64, &fd);
    for (unsigned c = 1; c < GA_MEMSTATS_NCLASSES; c++) {
        const ga_memstats_class *b = &ms->BySize[c];
        if (!b->Mallocs) continue;
        char name[48], v[80];
        snprintf(name, sizeof name, "BySize[%u]", c);
        snprintf(v, sizeof v, "size=%u mallocs=%llu frees=%llu", b->Size,
                 (unsigned long long)b->Mallocs, (unsigned long long)b->Frees);
        put_line(fd, name, v);
    }
}
