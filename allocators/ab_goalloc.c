/* ab_goalloc.c - the goalloc backend: Go's runtime allocator rebuilt in C (allocators/goalloc).
 *
 * Owns ab_alloc_goalloc. Invariants:
 *  - every member calls goalloc's public ga_* API directly (goalloc.h), never the process
 *    malloc, so the adapter means the same thing in every build;
 *  - built with AB_GOALLOC_REPLACES_MALLOC (adapters.cmake, outside sanitizer builds) the
 *    adapter library also carries preload.c whole, so the process malloc is goalloc's too and
 *    check_process_malloc() proves it (a process malloc(64) block is owned by goalloc).
 *    Without it (sanitizer builds, the fuzzers) the process malloc is someone else's and the
 *    check proves that instead: a process block is NOT goalloc's;
 *  - stats() maps Go's MemStats (ga_read_memstats) onto the neutral figures, below, and adds
 *    every MemStats field as an extra under Go's field name;
 *  - caps: AB_CAP_GC | AB_CAP_MEMLIMIT | AB_CAP_GCPERCENT (goalloc_gc.h): the gc_* members
 *    call ga_gc_* directly, GC events are translated field by field (no goal or no limit
 *    becomes -1), and thread_exit also detaches the thread from the collector (a thread
 *    that has left must never stall a stop-the-world); AB_CAP_ARENAS: the arena_* members are
 *    goalloc's user arenas (goalloc_arena.h), their chunks counted in MemStats.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ab_allocator.h"
#include "goalloc.h"
#include "goalloc_arena.h"
#include "goalloc_gc.h"

#ifndef AB_GOALLOC_VERSION
#define AB_GOALLOC_VERSION "unknown"
#endif
#ifndef GOALLOC_DEBUG
#define GOALLOC_DEBUG -1 /* not told: the fuzz build compiles this file on its own */
#endif
#define GA_STR_(x) #x
#define GA_STR(x) GA_STR_(x)

static const char *ga_version(void)
{
    return "goalloc " AB_GOALLOC_VERSION " (go1.26 size classes, debug " GA_STR(GOALLOC_DEBUG) ")";
}

/* ---- Process malloc ---- */

static int ga_check_process_malloc(char *err, size_t errlen)
{
    char *p = malloc(64);
    if (!p) {
        snprintf(err, errlen, "process malloc(64) returned NULL");
        return -1;
    }
    memset(p, 0, 64);
    int owned = ga_owns(p);
    int rc = 0;
#ifdef AB_GOALLOC_REPLACES_MALLOC
    if (!owned) {
        snprintf(err, errlen,
                 "process malloc is not goalloc's: malloc(64) returned %p, which goalloc does "
                 "not own (goalloc_malloc not linked in whole?)",
                 (void *)p);
        rc = -1;
    }
#else
    if (owned) {
        snprintf(err, errlen,
                 "process malloc returned a goalloc block, but this build of the adapter does "
                 "not replace malloc");
        rc = -1;
    }
#endif
    free(p);
    return rc;
}

/* ---- Allocation: ga_* directly ---- */

static void *ga_aligned(size_t alignment, size_t size)
{
    if (alignment == 0 || (alignment & (alignment - 1)) != 0) {
        errno = EINVAL;
        return NULL;
    }
    return ga_aligned_alloc(alignment, size);
}

static void ga_thread_exit(void)
{
    ga_gc_thread_detach();
    ga_thread_flush();
}

/* ---- AB_CAP_GC: the collector (goalloc_gc.h) ---- */

static void *gc_alloc(size_t size, unsigned flags)
{
    return ga_gc_alloc(size, (flags & AB_GC_NOSCAN) ? GA_GC_NOSCAN : GA_GC_SCAN);
}

/* goalloc writes the pointer bits at allocation and keeps no pointer to the descriptor, so a
 * copy in goalloc's own type is enough. */
static void *gc_alloc_typed(const ab_gc_type *t, size_t count)
{
    if (!t) {
        errno = EINVAL;
        return NULL;
    }
    ga_gc_type gt = {.size = t->size, .ptrmask = t->ptrmask, .name = t->name};
    return ga_gc_alloc_typed(&gt, count);
}

static ab_gc_event_fn hook_fn;
static void *hook_ctx;

static int64_t as_i64(uint64_t v)
{
    return v > (uint64_t)INT64_MAX ? -1 : (int64_t)v;
}

static void gc_event(const ga_gc_event *ev, void *ctx)
{
    (void)ctx;
    ab_gc_event e = {.kind = ev->kind == GA_GC_EV_START ? AB_GC_EV_CYCLE_START : AB_GC_EV_CYCLE_END,
                     .cycle = ev->cycle,
                     .t_ns = ev->t_ns,
                     .pause_ns = ev->pause_ns,
                     .heap_before = as_i64(ev->heap_before),
                     .heap_after = ev->kind == GA_GC_EV_END ? as_i64(ev->heap_after) : -1,
                     .heap_marked = ev->kind == GA_GC_EV_END ? as_i64(ev->heap_marked) : -1,
                     .heap_goal = as_i64(ev->heap_goal),
                     .mem_limit = ev->mem_limit == INT64_MAX ? -1 : ev->mem_limit,
                     .forced = ev->forced};
    ab_gc_event_fn fn = hook_fn;
    if (fn) fn(&e, hook_ctx);
}

static void gc_set_event_hook(ab_gc_event_fn fn, void *ctx)
{
    ga_gc_set_event_hook(NULL, NULL);
    hook_fn = fn;
    hook_ctx = ctx;
    if (fn) ga_gc_set_event_hook(gc_event, NULL);
}

/* ---- Stats: Go's MemStats ---- */

static void put_extra(void *ctx, const char *name, double value)
{
    ab_stats_put(ctx, name, value);
}

/* Neutral figures from MemStats (goalloc has no stacks and no profiling buckets):
 *   allocated = HeapAlloc (class-rounded live bytes), active = HeapInuse (in-use spans),
 *   mapped    = Sys - HeapReleased (heap and metadata mapped and not returned),
 *   resident  = HeapInuse + (HeapIdle - HeapReleased) + metadata = mapped: an upper bound,
 *               since pages never touched since they were mapped are not yet resident,
 *   retained  = HeapReleased (address space kept, pages returned to the OS). */
static int ga_stats(ab_stats *out)
{
    ga_memstats ms;
    out->valid = 0;
    out->n_extra = 0;
    if (ga_read_memstats(&ms) != 0) return -1;
    uint64_t meta = ms.MSpanSys + ms.MCacheSys + ms.GCSys + ms.OtherSys;
    out->allocated = ms.HeapAlloc;
    out->active = ms.HeapInuse;
    out->resident = ms.HeapInuse + (ms.HeapIdle - ms.HeapReleased) + meta;
    out->mapped = ms.Sys - ms.HeapReleased;
    out->retained = ms.HeapReleased;
    out->valid =
        AB_STAT_allocated | AB_STAT_active | AB_STAT_resident | AB_STAT_mapped | AB_STAT_retained;
    /* Go's runtime/metrics name: the harness counts concurrent GC work with it. A cycle's
     * CPU time is added when it ends; before the first there is none (and reading the GC
     * statistics then would start the collector's machinery in a manual-only program). */
    ga_gc_stats gs = {.GCCPUNs = 0};
    if (ms.NumGC > 0) ga_gc_read_stats(&gs);
    ab_stats_put(out, "/cpu/classes/gc/total:cpu-seconds", (double)gs.GCCPUNs / 1e9);
    ga_memstats_foreach(&ms, put_extra, out);
    ga_arena_stats as;
    ga_arena_read_stats(&as);
    ab_stats_put(out, "Arena.ChunksInuse", (double)as.chunks_inuse);
    ab_stats_put(out, "Arena.ChunksQuarantined", (double)as.chunks_quarantined);
    ab_stats_put(out, "Arena.ChunksReusable", (double)as.chunks_reusable);
    ab_stats_put(out, "Arena.HeapFallbacks", (double)as.heap_fallbacks);
    return 0;
}

/* User arenas (goalloc_arena.h): ab_arena is goalloc's ga_arena. */
static ab_arena *arena_new(void)
{
    return (ab_arena *)ga_arena_new();
}

static void *arena_alloc(ab_arena *a, size_t size, size_t align, int scan)
{
    return ga_arena_alloc((ga_arena *)a, size, align, scan);
}

static void arena_free(ab_arena *a)
{
    ga_arena_free((ga_arena *)a);
}

/* FULL: a collection cycle first. Then (PURGE too) flush the calling thread's cache so its
 * empty spans go back to the heap, and return every free page to the OS (Go's
 * debug.FreeOSMemory). Pages cached by other threads stay until those threads flush. */
static void ga_collect(int level)
{
    if (level == AB_COLLECT_FULL) ga_gc();
    ga_thread_flush();
    ga_free_os_memory();
}

const ab_allocator ab_alloc_goalloc = {
    .name = "goalloc",
    .caps = AB_CAP_GC | AB_CAP_MEMLIMIT | AB_CAP_GCPERCENT | AB_CAP_ARENAS,
    .version = ga_version,
    .init = NULL,
    .check_process_malloc = ga_check_process_malloc,
    .malloc = ga_malloc,
    .calloc = ga_calloc,
    .realloc = ga_realloc,
    .free = ga_free,
    .aligned_alloc = ga_aligned,
    .usable_size = ga_usable_size,
    .thread_init = NULL,
    .thread_exit = ga_thread_exit,
    .config_error = ga_config_error,
    .stats = ga_stats,
    .collect = ga_collect,
    .gc_alloc = gc_alloc,
    .gc_alloc_typed = gc_alloc_typed,
    .gc_add_roots = ga_gc_add_roots,
    .gc_remove_roots = ga_gc_remove_roots,
    .gc_store_ptr = ga_store_ptr,
    .gc_collect = ga_gc,
    .gc_set_event_hook = gc_set_event_hook,
    .set_memory_limit = ga_set_memory_limit,
    .set_gc_percent = ga_set_gc_percent,
    .arena_new = arena_new,
    .arena_alloc = arena_alloc,
    .arena_free = arena_free,
};
