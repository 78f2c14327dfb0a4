/* stats.c - goalloc's statistics: Go's MemStats, the /memory/classes/ tree and per-class
 * counts (spec 11). See malloc.c for the overview.
 *
 * Two kinds of counters. Heap page counters (GA_HEAP_COUNTERS: heap_inuse, heap_free,
 * heap_released) are atomics updated by mheap.c as pages change state. Object counters live
 * per thread in its mcache (per class nmalloc/nfreed, GA_THREAD_COUNTERS), added by their
 * owner without locked instructions (GA_COUNTER_ADD), and are merged into the totals here,
 * under the stats lock, when the thread flushes or exits. ga_read_memstats adds the totals
 * and every registered mcache's live counters, holding the registry lock and then the stats
 * lock, so a count is never missed or counted twice; while other threads run, figures are a
 * moment's snapshot (a malloc and its free may be seen apart; HeapAlloc and HeapObjects are
 * clamped at 0 and heap/unused too), and exact when they are quiescent.
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

/* Merged figures: the totals plus live mcache counters. */
typedef struct stats_acc {
    uint64_t small_alloc[GA_NUM_SIZE_CLASSES];
    uint64_t small_free[GA_NUM_SIZE_CLASSES];
    uint64_t ctr[sizeof(ga_thread_counters) / sizeof(uint64_t)];
} stats_acc;

/* Adds c's counters into acc; zeroes them when `take` (only their owner may take). */
static void add_mcache(ga_mcache *c, void *ctx, bool take)
{
    stats_acc *acc = ctx;
    for (unsigned ci = 2; ci < GA_NUM_CENTRALS; ci++) {
        ga_mcache_class *e = &c->cls[ci];
        acc->small_alloc[class_of_ci(ci)] += GA_COUNTER_GET(e->nmalloc);
        acc->small_free[class_of_ci(ci)] += GA_COUNTER_GET(e->nfreed);
        if (take) {
            atomic_store_explicit(&e->nmalloc, 0, memory_order_relaxed);
            atomic_store_explicit(&e->nfreed, 0, memory_order_relaxed);
        }
    }
    unsigned i = 0;
#define GA_X(name, desc)                                                                           \
    acc->ctr[i++] += GA_COUNTER_GET(c->ctr.name);                                                  \
    if (take) atomic_store_explicit(&c->ctr.name, 0, memory_order_relaxed);
    GA_THREAD_COUNTERS(GA_X)
#undef GA_X
}

static void peek_mcache(ga_mcache *c, void *ctx)
{
    add_mcache(c, ctx, false);
}

void _ga_stats_absorb(ga_mcache *c)
{
    pthread_mutex_lock(&stats_lock);
    stats_acc acc;
    memset(&acc, 0, sizeof acc);
    add_mcache(c, &acc, true);
    for (unsigned k = 0; k < GA_NUM_SIZE_CLASSES; k++) {
        small_alloc[k] += acc.small_alloc[k];
        small_free[k] += acc.small_free[k];
    }
    unsigned i = 0;
#define GA_X(name, desc) totals.name += acc.ctr[i++];
    GA_THREAD_COUNTERS(GA_X)
#undef GA_X
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

    stats_acc acc;
    memset(&acc, 0, sizeof acc);
    _ga_mcache_lock_registry(); /* lock order: registry -> stats */
    pthread_mutex_lock(&stats_lock);
    memcpy(acc.small_alloc, small_alloc, sizeof small_alloc);
    memcpy(acc.small_free, small_free, sizeof small_free);
    unsigned i = 0;
#define GA_X(name, desc) acc.ctr[i++] = GA_COUNTER_GET(totals.name);
    GA_THREAD_COUNTERS(GA_X)
#undef GA_X
    _ga_mcache_foreach(peek_mcache, &acc);
    pthread_mutex_unlock(&stats_lock);
    _ga_mcache_unlock_registry(false);

    ga_counter_values t;
    i = 0;
#define GA_X(name, desc) t.name = acc.ctr[i++];
    GA_THREAD_COUNTERS(GA_X)
#undef GA_X
    uint64_t nmalloc = 0, nfree = 0, balloc = 0, bfree = 0;
    for (unsigned c = 1; c < GA_NUM_SIZE_CLASSES; c++) {
        nmalloc += acc.small_alloc[c];
        nfree += acc.small_free[c];
        balloc += acc.small_alloc[c] * _ga_class_to_size[c];
        bfree += acc.small_free[c] * _ga_class_to_size[c];
        ms->BySize[c].Size = _ga_class_to_size[c];
        ms->BySize[c].Mallocs = acc.small_alloc[c];
        ms->BySize[c].Frees = acc.small_free[c];
    }
    ms->Mallocs = nmalloc + t.large_alloc_count + t.tiny_allocs;
    ms->Frees = nfree + t.large_free_count + t.tiny_allocs;
    ms->TotalAlloc = balloc + t.large_alloc;
    /* A free seen before its malloc (the two counted on different threads, read a moment
     * apart) would make these negative for a moment: clamp rather than wrap. */
    uint64_t freed = bfree + t.large_free;
    ms->HeapAlloc = ms->TotalAlloc > freed ? ms->TotalAlloc - freed : 0;
    ms->TinyAllocs = t.tiny_allocs;
    ms->TinyFrees = t.tiny_frees;
    _ga_gc_add_memstats(ms); /* collected objects and the GC fields (gc.c) */

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
    _ga_userarena_add_memstats(ms); /* user-arena chunks (userarena.c) */
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
    /* The scavenger's cumulative figures, read now (not part of the ms snapshot). */
    ga_scav_stats sc;
    _ga_scavenger_stats(&sc);
    fn(ctx, "scav_bg_cpu_ns", (double)sc.bg_cpu_ns);
    fn(ctx, "scav_eager_cpu_ns", (double)sc.eager_cpu_ns);
    fn(ctx, "scav_bg_released_bytes", (double)sc.released_bg);
    fn(ctx, "scav_eager_released_bytes", (double)sc.released_eager);
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
