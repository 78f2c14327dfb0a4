/* goalloc_gc.h - goalloc's garbage collector: collected allocation (scan, noscan, typed),
 * root ranges, the pointer-store hook, full cycles, GC events and GC statistics.
 * See allocators/goalloc/gc.c for the design.
 *
 * The contract a program follows (the GC workloads do):
 *  - Roots are registered ranges only (ga_gc_add_roots). Thread stacks, registers and static
 *    data are NOT scanned. A thread stores each collected object it allocates into a rooted
 *    location (a root range, or an object reachable from one) before its next collected
 *    allocation; a value held only in locals or registers may be collected at that point.
 *  - A thread becomes a GC mutator at its first ga_gc_alloc* / ga_store_ptr call and stays
 *    one until it exits or calls ga_gc_thread_detach(). A collection stops every mutator at
 *    its next ga_gc_alloc* call (the safepoints; ga_store_ptr is not one, so a fresh object
 *    may be linked to its children before it is itself rooted) and waits for it: a mutator that
 *    blocks for long outside goalloc (a lock, a join, I/O, a barrier) must bracket that with
 *    ga_gc_blocking_enter() / ga_gc_blocking_exit(), or detach, and must not touch collected
 *    objects in between. Threads that never call the GC API are never stopped; they may use
 *    collected objects only while a mutator keeps them reachable.
 *  - Every store of a pointer into a collected object or a root range MUST go through
 *    ga_store_ptr, also a store of NULL or of a non-collected value over a collected
 *    pointer: while a concurrent mark runs it is the write barrier (Go's hybrid barrier:
 *    it shades the old and the new value), otherwise a plain store. A plain store during a
 *    mark can hide a live object from the marker, which then frees it. Memory of a user
 *    arena is exempt (arenas are rescanned at mark termination). Non-pointer data may be
 *    written directly.
 *  - Collected objects may be freed explicitly with ga_free (Go's freegc): a small object of
 *    the span the calling mutator allocates from goes on its reuse list for the size class
 *    (reused by its next allocation of that class), a large object's pages go back at once;
 *    an object is never freed twice (the sweeper frees only allocated, unmarked slots). Other
 *    small objects, tiny ones (noscan, under 16 bytes), frees from threads that are not
 *    mutators and every free while a concurrent mark runs are left to the collector. realloc of a
 * collected object returns a manual one.
 *
 * Memory returned by the allocation functions is zeroed, aligned to 16 bytes when size >= 16
 * (8 below), and NULL with errno = ENOMEM on failure. Every function is thread-safe.
 */
#ifndef GOALLOC_GC_H
#define GOALLOC_GC_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

enum { GA_GC_SCAN = 0, GA_GC_NOSCAN = 1 };

/* Precise type: word i of an object may hold a collected pointer iff bit i of ptrmask is set
 * (bit i = ptrmask[i / 8] >> (i % 8) & 1); size bytes, size / 8 words described. Must outlive
 * every object allocated with it. */
typedef struct ga_gc_type {
    size_t size;
    const uint8_t *ptrmask;
    const char *name; /* diagnostics only; may be NULL */
} ga_gc_type;

/* Collected allocation. flags: GA_GC_SCAN (scanned word by word, conservatively) or
 * GA_GC_NOSCAN (pointer-free: never scanned, kept in noscan span classes). */
void *ga_gc_alloc(size_t size, unsigned flags);
/* count consecutive objects of type *t, scanned precisely with its pointer mask. */
void *ga_gc_alloc_typed(const ga_gc_type *t, size_t count);

/* Registers / unregisters [lo, hi) as a root range: every aligned word in it is scanned as a
 * potential pointer. Ranges may not overlap; remove takes exactly a registered range. 0, or
 * -1 with errno = EINVAL (and one warning line naming the problem). */
int ga_gc_add_roots(void *lo, void *hi);
int ga_gc_remove_roots(void *lo, void *hi);

/* *slot = value. Not a safepoint (see the contract). */
void ga_store_ptr(void **slot, void *value);

/* Runs a full, blocking cycle now (Go's runtime.GC): counts as forced. */
void ga_gc(void);

/* Mutator life cycle (see the contract above). */
void ga_gc_thread_detach(void);
void ga_gc_blocking_enter(void);
void ga_gc_blocking_exit(void);

/* One GC event, delivered to the hook right after the world restarts, on the collecting
 * thread (a concurrent cycle's end: the mark worker's thread), with the collector's cycle
 * lock held: the hook must not allocate from goalloc's collected heap nor call ga_gc, and
 * must return quickly. Byte figures are collected-heap bytes (heap_live as the pacer counts
 * it). A cycle already running when the hook is installed delivers its END event only. */
typedef enum { GA_GC_EV_START = 1, GA_GC_EV_END = 2 } ga_gc_event_kind;

typedef struct ga_gc_event {
    ga_gc_event_kind kind;
    uint64_t cycle;       /* 1-based */
    uint64_t t_ns;        /* CLOCK_MONOTONIC */
    uint64_t pause_ns;    /* END: stop-the-world time of the cycle (both pauses) */
    uint64_t heap_before; /* heap_live when the cycle started */
    uint64_t heap_after;  /* END: heap_live at mark termination (a concurrent mark's
                             mutators allocate between start and end) */
    uint64_t heap_marked; /* END: bytes marked reachable */
    uint64_t heap_goal;   /* START: goal in force; END: the next goal (UINT64_MAX: none) */
    int64_t mem_limit;    /* INT64_MAX when none */
    int forced;           /* ga_gc() rather than the pacer or the periodic timer */
} ga_gc_event;

typedef void (*ga_gc_event_fn)(const ga_gc_event *ev, void *ctx);
/* Installs (fn != NULL) or removes the hook; one per process. Once it returns, no call to
 * the previous hook is running. */
void ga_gc_set_event_hook(ga_gc_event_fn fn, void *ctx);

/* GC statistics with Go's meanings (MemStats; the same figures appear in ga_read_memstats).
 * PauseNs/PauseEnd are rings: the most recent cycle at index (NumGC + 255) % 256. */
typedef struct ga_gc_stats {
    uint64_t NumGC, NumForcedGC, PauseTotalNs, LastGC, NextGC;
    uint64_t PauseNs[256], PauseEnd[256];
    double GCCPUFraction;
    uint64_t HeapLive, HeapMarked, Trigger; /* pacer inputs now (goalloc extras) */
    uint64_t LimiterEnabled;                /* times the CPU limiter engaged */
    /* GC CPU time so far (Go's /cpu/classes/gc/total): pauses x CPUs, plus the mark worker's
     * and the assists' thread CPU time of concurrent cycles; GCCPUFraction's numerator. */
    uint64_t GCCPUNs;
} ga_gc_stats;

void ga_gc_read_stats(ga_gc_stats *out);

/* The periodic cycle (Go: 2 minutes after the last one); 0 turns it off. Returns the old
 * period. For tests. */
uint64_t ga_gc_set_period_ns(uint64_t ns);

#ifdef __cplusplus
}
#endif
#endif /* GOALLOC_GC_H */
