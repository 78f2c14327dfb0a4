/* ga_internal.h - goalloc's cross-file declarations (the `_ga_` names), grouped by the file
 * that defines them. See malloc.c for the overview of the allocator.
 *
 * Rules (STYLE.md): `ga_` is public (include/goalloc.h), `_ga_` is cross-file and declared
 * only here, everything else is `static`. Each section below is owned by the file it names.
 */
#ifndef GA_INTERNAL_H
#define GA_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdatomic.h>
#include <stdint.h>

#include "goalloc.h"

/* ---- Build configuration ---- */

#ifndef GOALLOC_DEBUG
#define GOALLOC_DEBUG 0 /* 0 none, 1 caller mistakes, 2 O(1) internal checks, 3 expensive walks */
#endif

#define GA_LIKELY(x) __builtin_expect(!!(x), 1)
#define GA_UNLIKELY(x) __builtin_expect(!!(x), 0)
#define GA_NOINLINE __attribute__((noinline))
#define GA_COLD __attribute__((cold, noinline))

/* ---- Assertions (one knob, three levels; no side effects inside) ---- */

GA_COLD void _ga_assert_fail(const char *expr, const char *file, int line, const char *func);
GA_COLD __attribute__((format(printf, 1, 2), noreturn)) void _ga_fatal(const char *fmt, ...);
__attribute__((format(printf, 1, 2))) void _ga_warn(const char *fmt, ...);

#define GA_ASSERT_AT(level, expr)                                                                  \
    ((GOALLOC_DEBUG >= (level) && GA_UNLIKELY(!(expr)))                                            \
         ? _ga_assert_fail(#expr, __FILE__, __LINE__, __func__)                                    \
         : (void)0)
#define ga_assert(expr) GA_ASSERT_AT(1, expr)           /* caller mistakes */
#define ga_assert_internal(expr) GA_ASSERT_AT(2, expr)  /* O(1) consistency */
#define ga_assert_expensive(expr) GA_ASSERT_AT(3, expr) /* walks of lists and bitmaps */

/* ---- Geometry (GO_ALLOCATOR_SPEC.md 1.1, 5.1, 6.1) ---- */

#define GA_PAGE_SHIFT 13
#define GA_PAGE_SIZE ((size_t)1 << GA_PAGE_SHIFT) /* 8 KiB runtime page */
#define GA_OS_PAGE_SIZE ((size_t)4096)
#define GA_HUGE_PAGE_SIZE ((size_t)2 << 20)
#define GA_ARENA_SHIFT 26
#define GA_ARENA_SIZE ((size_t)1 << GA_ARENA_SHIFT) /* 64 MiB heap arena */
#define GA_PAGES_PER_ARENA (GA_ARENA_SIZE / GA_PAGE_SIZE)
#define GA_CHUNK_PAGES 512 /* page-allocator chunk: 4 MiB */
#define GA_CHUNK_SIZE ((size_t)GA_CHUNK_PAGES * GA_PAGE_SIZE)
#define GA_ADDR_BITS 48
#define GA_MAX_SMALL_SIZE 32768
#define GA_TINY_SIZE 16
/* Requests of 1..GA_TINY_MAX bytes (pointer-free) share tiny blocks: sub-objects start at
 * offset 0 or 8 (8-byte alignment, malloc.c departure 2), so only objects of up to 8 bytes
 * can share; 9..15 B take the 16-byte class, as they would take a block of their own. */
#define GA_TINY_MAX 8

/* The one tiny policy of manual and collected allocation: the offset of a 1..GA_TINY_MAX-byte
 * sub-object in a block with `used` bytes taken (0 or 8: 8-byte alignment), or GA_TINY_SIZE
 * when it does not fit. */
static inline size_t _ga_tiny_offset(size_t used, size_t size)
{
    size_t off = (used + 7) & ~(size_t)7;
    return off + size <= GA_TINY_SIZE ? off : GA_TINY_SIZE;
}

/* ---- os.c: the only file that calls mmap/madvise/mprotect ---- */

/* Reserve `size` bytes of address space aligned to `align` (power of two), PROT_NONE,
 * optionally near `hint`. NULL on failure. */
void *_ga_os_reserve(size_t size, size_t align, void *hint);
/* Reserved -> Ready: make [p, p+size) read/write. 0 or -1. */
int _ga_os_commit(void *p, size_t size);
/* Ready -> Prepared: give the pages back to the OS under the configured policy
 * (MADV_DONTNEED by default, MADV_FREE with GOALLOC_DEBUG=madvdontneed=0). */
void _ga_os_unused(void *p, size_t size);
/* Ready -> Reserved: PROT_NONE and drop the pages (user-arena quarantine). */
void _ga_os_fault(void *p, size_t size);
/* Release a reservation entirely (tests and metadata teardown only). */
void _ga_os_release(void *p, size_t size);
/* Off-heap metadata memory, zeroed, page aligned, counted in the metadata stat. */
void *_ga_os_alloc_meta(size_t size);
void _ga_os_free_meta(void *p, size_t size);
/* True when released pages read back as zero (MADV_DONTNEED in force). */
bool _ga_os_released_pages_are_zero(void);
/* Bytes currently mapped by _ga_os_alloc_meta (for GCSys/OtherSys). */
size_t _ga_os_meta_bytes(void);
/* Release policy: true = MADV_DONTNEED (default), false = MADV_FREE. Set by options.c. */
void _ga_os_set_madv_dontneed(bool dontneed);

/* ---- sizeclass.c (+ tables generated at build time by gen/mksizeclasses.c) ----
 *
 * Go's 68 size classes (class 0 = large). Span class = class << 1 | noscan.
 */
#define GA_NUM_SIZE_CLASSES 68
#define GA_NUM_SPAN_CLASSES (GA_NUM_SIZE_CLASSES * 2)
#define GA_SMALL_SIZE_MAX 1024 /* fine lookup bound (SmallSizeMax) */
#define GA_SMALL_SIZE_DIV 8
#define GA_LARGE_SIZE_DIV 128
#define GA_TINY_SPAN_CLASS 5 /* class 2 (16 B), noscan */

extern const uint16_t _ga_class_to_size[GA_NUM_SIZE_CLASSES];
extern const uint8_t _ga_class_to_npages[GA_NUM_SIZE_CLASSES];
extern const uint16_t _ga_class_to_nobjs[GA_NUM_SIZE_CLASSES];
extern const uint32_t _ga_class_to_divmagic[GA_NUM_SIZE_CLASSES];
extern const uint8_t _ga_size_to_class8[GA_SMALL_SIZE_MAX / GA_SMALL_SIZE_DIV + 1];
extern const uint8_t
    _ga_size_to_class128[(GA_MAX_SMALL_SIZE - GA_SMALL_SIZE_MAX) / GA_LARGE_SIZE_DIV + 1];

/* Smallest class whose size >= size, for 1 <= size <= GA_MAX_SMALL_SIZE. */
static inline unsigned _ga_size_to_class(size_t size)
{
    if (size <= GA_SMALL_SIZE_MAX - 8)
        return _ga_size_to_class8[(size + GA_SMALL_SIZE_DIV - 1) / GA_SMALL_SIZE_DIV];
    return _ga_size_to_class128[(size - GA_SMALL_SIZE_MAX + GA_LARGE_SIZE_DIV - 1) /
                                GA_LARGE_SIZE_DIV];
}

/* Slot index of byte offset `off` in a span of class c: (off * divmagic) >> 32 == off / size. */
static inline uint32_t _ga_slot_index(uint32_t divmagic, uintptr_t off)
{
    return (uint32_t)(((uint64_t)(uint32_t)off * divmagic) >> 32);
}

/* Derived figures (sizeclass.c), for tools and tests; 0 < c < GA_NUM_SIZE_CLASSES. */
size_t _ga_class_span_bytes(unsigned c); /* npages * 8 KiB */
size_t _ga_class_tail_waste(unsigned c); /* span bytes - objects * size */
double _ga_class_max_waste(unsigned c);  /* spec 1.2 "max waste", as a fraction of the span */

/* ---- options.c: every knob in one table (GOGC, GOMEMLIMIT, GOALLOC_DEBUG, GOALLOC_VERBOSE) ----
 *
 * Read once, lazily, by _ga_options_init() (idempotent, thread-safe, never calls malloc).
 * A malformed value prints one warning and keeps the default.
 */
typedef struct ga_options {
    int64_t gogc;         /* GOGC percent; -1 = off. Default 100 */
    int64_t memory_limit; /* GOMEMLIMIT bytes; INT64_MAX = no limit */
    int gctrace;          /* GOALLOC_DEBUG=gctrace=1 */
    int gcstoptheworld;   /* GOALLOC_DEBUG=gcstoptheworld=1: stop-the-world mark */
    int scavtrace;        /* GOALLOC_DEBUG=scavtrace=1 */
    int madvdontneed;     /* GOALLOC_DEBUG=madvdontneed=0|1, default 1 */
    int verbose;          /* GOALLOC_VERBOSE=1: print every option and the build configuration */
    int64_t arena_retain; /* GOALLOC_ARENA_RETAIN: bytes of freed arena chunks kept per list */
} ga_options;

extern ga_options _ga_opt;
void _ga_options_init(void);
/* Parsers shared with the CLI and the fuzzers (knobs.c; _ga_parse_debug in options.c):
 * 0 on success, -1 on a malformed value. */
/* Decimal digits only (no sign, no spaces), at most `max`; len bytes of s. */
int _ga_parse_uint(const char *s, size_t len, int64_t max, int64_t *out);
int _ga_parse_gogc(const char *s, int64_t *out);
/* GOMEMLIMIT in Go's syntax: off, bytes, B/KiB/MiB/GiB/TiB. */
int _ga_parse_memlimit(const char *s, int64_t *out);
int _ga_parse_debug(const char *s, ga_options *o);
/* As _ga_parse_debug; on -1 also points bad, badlen at the first malformed item. */
int _ga_parse_debug_item(const char *s, ga_options *o, const char **bad, size_t *badlen);
/* GOGC and GOMEMLIMIT as in force now (the setters may change them at any time). */
int64_t _ga_options_gogc(void);
int64_t _ga_options_memory_limit(void);

/* ---- debug.c: diagnostics (assertions, fatal errors, warnings), never allocating ----
 * _ga_assert_fail, _ga_fatal and _ga_warn are declared at the top of this file. */
/* One line on stderr exactly as formatted (plus a newline): gctrace/scavtrace lines. */
__attribute__((format(printf, 1, 2))) void _ga_trace(const char *fmt, ...);

/* ---- pagealloc.c / pagecache.c: the radix-tree page allocator (spec 6, 5.3) ----
 *
 * An instance manages pages of 8 KiB over the 48-bit address space: 4 MiB chunks with
 * an alloc bitmap and a scavenged bitmap each, under a 5-level radix tree of packed
 * (start, max, end) summaries. It never touches the pages it manages, only its own
 * metadata, so tests create instances over made-up address ranges. The caller
 * serialises every call on one instance (mheap holds its lock); the page cache
 * (ga_pagecache) is private to one thread and needs no lock.
 */
typedef struct ga_pagealloc ga_pagealloc; /* defined in ga_pagealloc.h (owned by pagealloc.c) */

typedef struct ga_pagecache {
    uintptr_t base; /* 64-page aligned base of the cached block, 0 when empty */
    uint64_t cache; /* 1 = free page in this cache */
    uint64_t scav;  /* 1 = that page is scavenged (released) */
} ga_pagecache;

ga_pagealloc *_ga_pagealloc_new(void);
void _ga_pagealloc_destroy(ga_pagealloc *pa);
/* Adds [base, base+size) (chunk aligned, size a multiple of GA_CHUNK_SIZE) as free and
 * scavenged pages. */
void _ga_pagealloc_grow(ga_pagealloc *pa, uintptr_t base, size_t size);
/* Address-ordered first fit. Returns the base address and sets *scav to the bytes of the
 * run that were scavenged (their bits are cleared). 0 when no run fits. */
uintptr_t _ga_pagealloc_alloc(ga_pagealloc *pa, size_t npages, size_t *scav);
void _ga_pagealloc_free(ga_pagealloc *pa, uintptr_t base, size_t npages);
/* Fills a page cache with the aligned 64-page block at or after the search address. */
ga_pagecache _ga_pagealloc_alloc_to_cache(ga_pagealloc *pa);
uintptr_t _ga_pagecache_alloc(ga_pagecache *c, size_t npages, size_t *scav);
void _ga_pagecache_flush(ga_pagecache *c, ga_pagealloc *pa);
/* Expensive check: every summary equals the one re-derived from the bitmaps, and the
 * search-address invariant holds. Returns true when valid. */
bool _ga_pagealloc_is_valid(ga_pagealloc *pa);
/* Bytes of summary pages committed (not counted by _ga_os_meta_bytes; for GCSys/OtherSys). */
size_t _ga_pagealloc_summary_bytes(ga_pagealloc *pa);
/* Test-only: sets the alloc bits of npages pages from base to `alloc` and their scavenged bits
 * to `scav && !alloc`, as allocations and frees would (tests build initial bitmaps with it). */
void _ga_pagealloc_set_range_for_test(ga_pagealloc *pa, uintptr_t base, size_t npages, bool alloc,
                                      bool scav);
/* The pieces pagecache.c and scavenge.c share (data structures in ga_pagealloc.h): */
uint64_t _ga_palloc_summarize(const uint64_t bits[GA_CHUNK_PAGES / 64]);
/* First run of npages free pages at or after page `from` of one chunk's bitmap, or
 * (size_t)-1; *first_free (may be NULL) gets the first free page at or after from (or 512). */
size_t _ga_palloc_find(const uint64_t bits[GA_CHUNK_PAGES / 64], size_t npages, size_t from,
                       size_t *first_free);
/* Radix-tree first fit from the search address; 0 when nothing fits. *hint gets a new
 * search address (every grown page below it is allocated once the run is taken). */
uintptr_t _ga_pagealloc_find(ga_pagealloc *pa, size_t npages, uintptr_t *hint);
/* Marks a free run allocated, clears its scavenged bits, returns the bytes that were scavenged. */
size_t _ga_pagealloc_alloc_range(ga_pagealloc *pa, uintptr_t base, size_t npages);
/* Frees an allocated run; `scavenged` also sets its scavenged bits (the scavenger's release). */
void _ga_pagealloc_free_range(ga_pagealloc *pa, uintptr_t base, size_t npages, bool scavenged);
/* Re-derives the summaries over a changed range (contig: every page changed the same way). */
void _ga_pagealloc_update(ga_pagealloc *pa, uintptr_t base, size_t npages, bool contig, bool alloc);

/* ---- scavenge.c: returning free pages to the OS (spec 7) ---- */

/* Called with the run [base, base + bytes) marked allocated, so the caller may drop its lock
 * around _ga_os_unused and retake it before returning. */
typedef void (*ga_release_fn)(void *arg, uintptr_t base, size_t bytes);
/* Releases at least nbytes (rounded up to pages) of free, not yet scavenged pages, highest
 * addresses first, skipping dense chunks unless `force`, never splitting a free huge page the
 * run covers. Sets their scavenged bits; returns the bytes released (less when none are left). */
size_t _ga_pagealloc_scavenge(ga_pagealloc *pa, size_t nbytes, bool force, ga_release_fn release,
                              void *arg);
/* The usual release: arg is the caller's pthread_mutex_t * (held on entry; may be NULL). It
 * is dropped around _ga_os_unused(base, bytes) and retaken, as Go releases outside the heap
 * lock. The caller then moves the returned bytes from heap_free to heap_released. */
void _ga_scavenge_release_os(void *arg, uintptr_t base, size_t bytes);
/* Starts a new scavenge generation (Go: each GC's mark termination). */
void _ga_pagealloc_next_gen(ga_pagealloc *pa);
/* Walks the bitmaps: bytes of free pages whose scavenged bit is set (tests and checks). */
size_t _ga_pagealloc_scavenged_bytes(ga_pagealloc *pa);
/* Goals (spec 7.1): 110% of the peak in-use bytes of the last generation, page-rounded; 95%
 * of the memory limit (UINT64_MAX when there is none). */
uint64_t _ga_scav_retain_goal(uint64_t peak_inuse);
uint64_t _ga_scav_limit_goal(int64_t limit);
/* The pacing controller (spec 7.2): output = the background work:sleep ratio; input = the
 * scavenger's CPU share, period in microseconds. */
typedef struct ga_scav_pi {
    double kp, ti, tt, min, max, integral;
} ga_scav_pi;
void _ga_scav_pi_init(ga_scav_pi *c);
double _ga_scav_pi_next(ga_scav_pi *c, double input, double setpoint, double period, bool *ok);
/* The heap's scavenger. start: the background thread, once (lazily; never in a forked child).
 * on_grow: call after the heap grew by `grown` bytes, without the heap lock: starts the thread,
 * samples the peak, scavenges eagerly past the retention goal and forced past the limit. */
void _ga_scavenger_start(void);
void _ga_scavenge_on_grow(size_t grown);
typedef struct ga_scav_stats {
    bool running;
    uint64_t released_bg, released_eager, generations, retain_goal;
    uint64_t bg_cpu_ns, eager_cpu_ns; /* background thread's CPU; callers' CPU in eager/forced */
} ga_scav_stats;
void _ga_scavenger_stats(ga_scav_stats *out);
void _ga_scavenger_set_generation_ns(uint64_t ns); /* tests: a faster generation clock */

/* ---- gcpacer.c: heap goal, trigger and GC CPU limiter (spec 8) ---- */
typedef struct ga_pacer_inputs {
    uint64_t heap_marked;  /* bytes marked by the cycle that just ended */
    uint64_t roots_scan;   /* bytes of registered roots scanned (Go's stacks + globals) */
    uint64_t mapped_ready; /* all memory goalloc has mapped and ready (memory-limit basis) */
    uint64_t heap_free;    /* free heap pages not released */
    uint64_t heap_alloc;   /* bytes in allocated objects (HeapAlloc) */
} ga_pacer_inputs;

/* Invariant after a commit: heap_marked <= trigger <= heap_goal when the goal is finite;
 * heap_goal == min(gcpercent_goal, limit_goal). UINT64_MAX means "no goal". */
typedef struct ga_pacer {
    int64_t gogc;      /* percent, -1 = off */
    int64_t mem_limit; /* bytes, INT64_MAX = none */
    uint64_t heap_marked, roots_scan;
    uint64_t gcpercent_goal, limit_goal, heap_goal, trigger;
    /* With a memory limit: the heap at which a cycle the CPU limiter delays starts anyway
     * (the overshoot accepted, see gcpacer.c); UINT64_MAX without a limit. */
    uint64_t limit_bound;
    /* limiter: bucket of GC-minus-mutator CPU ns, capacity 1 s per CPU */
    double limiter_fill_ns, limiter_capacity_ns;
    uint64_t limiter_last_ns, limiter_enabled_count;
    bool limiting;
    /* Bytes the mutator is expected to allocate while a concurrent mark runs (the collector
     * sets it from recent cycles; 0 with stop-the-world marking): the trigger sits this far
     * below the goal, within Go's band. */
    uint64_t runway;
} ga_pacer;

void _ga_pacer_init(ga_pacer *p, int64_t gogc, int64_t mem_limit);
void _ga_pacer_commit(ga_pacer *p, const ga_pacer_inputs *in);
void _ga_pacer_set_gogc(ga_pacer *p, int64_t gogc, const ga_pacer_inputs *in);
void _ga_pacer_set_limit(ga_pacer *p, int64_t mem_limit, const ga_pacer_inputs *in);
/* True when a paced cycle should start now: heap_live at the trigger, and the CPU limiter
 * not engaged or heap_live at limit_bound (the overshoot accepted under a memory limit). */
bool _ga_pacer_should_start(const ga_pacer *p, uint64_t heap_live);
/* Accounts gc_cpu_ns of GC CPU time (pause x threads stopped) up to now_ns. */
void _ga_limiter_update(ga_pacer *p, uint64_t now_ns, uint64_t gc_cpu_ns, unsigned nprocs);

/* ---- userarena.c ---- */
/* Manual-mode quarantine depth in chunks, on top of the arena_retain cap in bytes: a freed
 * chunk stays inaccessible until more than `nchunks` chunks (or arena_retain bytes) are
 * quarantined behind it. Default SIZE_MAX: the byte cap alone decides. For tests. */
void _ga_userarena_set_quarantine(size_t nchunks);
/* Adds the arena chunks to MemStats as Go counts them (called by ga_read_memstats). */
void _ga_userarena_add_memstats(ga_memstats *ms);
/* The collector's view, with the world stopped: root ranges of live arenas' pointerful
 * values; a word that is not a heap pointer (it keeps a quarantined chunk quarantined); the
 * end of a mark (quarantined chunks nothing points into leave quarantine). */
struct ga_gcwork;
void _ga_userarena_foreach_root(struct ga_gcwork *w,
                                void (*fn)(struct ga_gcwork *w, uintptr_t lo, uintptr_t hi));
void _ga_userarena_before_mark(void);
void _ga_userarena_note_pointer(uintptr_t p);
void _ga_userarena_after_mark(bool complete);

/* ---- fixalloc.c: off-heap fixed-size allocator for metadata (spec 5.6) ----
 *
 * Objects of one size carved from 16 KiB chunks of _ga_os_alloc_meta memory, recycled through
 * a free list, never returned to the OS. Not thread-safe: the owner of each instance holds
 * its lock (spans and tiny tables: the heap lock; mcaches: the mcache registry lock).
 * Invariant: inuse <= sys; sys is a multiple of the chunk size.
 */
typedef struct ga_fixalloc {
    size_t size;  /* object size, a multiple of 16 */
    void *free;   /* freed objects, linked through their first word */
    char *chunk;  /* bump pointer into the current chunk */
    size_t left;  /* bytes left at chunk */
    size_t inuse; /* bytes handed out and not freed */
    size_t sys;   /* bytes obtained from _ga_os_alloc_meta */
} ga_fixalloc;

void _ga_fixalloc_init(ga_fixalloc *f, size_t size);
void *_ga_fixalloc_alloc(ga_fixalloc *f); /* zeroed; NULL when the OS refuses */
void _ga_fixalloc_free(ga_fixalloc *f, void *p);

/* ---- mspan.c: spans, their alloc bits and the inverted alloc cache (spec 3.1-3.2) ---- */

#define GA_MAX_OBJS_PER_SPAN 1024
#define GA_TINY_CENTRAL GA_NUM_SPAN_CLASSES /* cache/central index of the tiny blocks */
#define GA_NUM_CENTRALS (GA_NUM_SPAN_CLASSES + 1)
#define GA_LARGE_SPAN_CLASS 1 /* class 0 (large), noscan: every manual-mode large object */
#define GA_REMOTE_UNOWNED ((uintptr_t)1)

enum { GA_SPAN_DEAD = 0, GA_SPAN_IN_USE = 1 };

struct ga_mcache;

/* Sub-object bookkeeping of a tiny span (one entry per 16-byte block), see mcache.c. */
typedef struct ga_tinymeta {
    _Atomic int8_t count[GA_MAX_OBJS_PER_SPAN / 2];    /* retired allocs - frees */
    _Atomic uint16_t bounds[GA_MAX_OBJS_PER_SPAN / 2]; /* bit k: a sub-object starts/ends at k */
} ga_tinymeta;

/* A run of pages holding nelems slots of elemsize bytes (one slot for a large object).
 *
 * Invariants (checked by _ga_span_is_valid() at debug level 3):
 *  - nalloc == number of allocated slots == popcount(allocbits) + allocated slots in
 *    [matindex, freeindex) that are not yet materialised; 0 <= nalloc <= nelems;
 *  - every slot below freeindex is allocated or was freed after matindex passed it: allocbits
 *    are exact below matindex and at or after freeindex, and [matindex, freeindex) is all
 *    allocated (the fast path moves freeindex without touching allocbits);
 *  - alloccache bit k == !allocbits[freeindex + k] for the rest of freeindex's 64-slot word;
 *  - owner != NULL (a thread's mcache holds it) <=> remote != GA_REMOTE_UNOWNED; only the owner
 *    touches allocbits/freeindex/alloccache of an owned span, mcentral's lock guards the rest;
 *  - state == GA_SPAN_IN_USE <=> the heap arena map points every page of it at this span.
 */
typedef struct ga_span {
    /* Fast path (one cache line). */
    uint64_t alloccache;
    uint16_t freeindex;
    uint16_t nelems;
    uint16_t nalloc;
    uint16_t matindex;
    uintptr_t base;
    uintptr_t elemsize;
    uint32_t divmagic;
    uint8_t spanclass; /* size class << 1 | noscan; 0/1 = large */
    uint8_t ci;        /* cache/central index: spanclass, or GA_TINY_CENTRAL */
    uint8_t needzero;  /* some slot may hold old data (spec 5.5) */
    _Atomic uint8_t state;
    _Atomic uintptr_t remote;        /* frees pushed by other threads, or GA_REMOTE_UNOWNED */
    struct ga_mcache *_Atomic owner; /* mcache that caches this span, NULL otherwise */
    /* Slow path and bookkeeping. */
    uintptr_t limit; /* base + nelems * elemsize */
    size_t npages;
    uint32_t sweepgen;    /* for the GC (issue 5); 0 in manual mode */
    uint64_t *gcmarkbits; /* for the GC (issue 5); NULL in manual mode */
    ga_tinymeta *tiny;    /* tiny spans only */
    struct ga_span *next, *prev;
    struct ga_spanlist *list; /* list holding the span (mcentral or gcsweep), NULL when none */
    uint64_t allocbits[GA_MAX_OBJS_PER_SPAN / 64];
} __attribute__((aligned(64))) ga_span; /* no false sharing between spans of two threads */

extern ga_span _ga_span_empty; /* the static dummy span with no free slot */

/* The one span list type, of mcentral's lists (manual spans) and gcsweep's (collected spans):
 * doubly linked through span.next/prev, span.list naming the list, n its length. The list's
 * owner serialises every call (its lock). */
typedef struct ga_spanlist {
    ga_span *first;
    size_t n;
} ga_spanlist;
void _ga_spanlist_push(ga_spanlist *l, ga_span *s); /* s is on no list */
void _ga_spanlist_remove(ga_span *s);               /* s is on a list */
/* Every span's prev/list links agree and the length is n; each span also passes ok(s, arg). */
bool _ga_spanlist_is_valid(const ga_spanlist *l, bool (*ok)(const ga_span *s, const void *arg),
                           const void *arg);

/* The next-free fast path of manual and collected allocation (spec 3.2 nextFreeFast): the
 * next slot from the alloc cache, or NULL when the cache is empty or the slot ends its
 * 64-slot word (then _ga_span_next_free refills it). The span's owner only. */
static inline __attribute__((always_inline)) void *_ga_span_next_fast(ga_span *s)
{
    uint64_t cache = s->alloccache;
    if (GA_LIKELY(cache != 0)) {
        unsigned bit = (unsigned)__builtin_ctzll(cache);
        unsigned idx = s->freeindex + bit, next = idx + 1;
        if (GA_LIKELY(idx < s->nelems && ((next & 63) != 0 || next == s->nelems))) {
            s->alloccache = (cache >> bit) >> 1;
            s->freeindex = (uint16_t)next;
            s->nalloc++;
            return (void *)(s->base + idx * s->elemsize);
        }
    }
    return NULL;
}

/* Sets up a fresh span over [base, base + npages pages) for cache index ci (0/1 = large). */
void _ga_span_init(ga_span *s, uintptr_t base, size_t npages, unsigned ci);
/* Next free slot index (allocating it: nalloc++), or -1 when the cursor reached the end. */
int _ga_span_next_free(ga_span *s);
/* Writes the allocations of [matindex, freeindex) into allocbits. */
void _ga_span_materialize(ga_span *s);
/* Restarts the cursor at slot 0 so freed slots are found again (owner or mcentral lock). */
void _ga_span_reset_cursor(ga_span *s);
/* Frees the run of blocks at the head of *list (linked through their link words) that lie in
 * s, and leaves *list at the first block past the run (NULL or a block of another span): one
 * materialisation and one count update for the run. Returns the slots freed. Double frees are
 * fatal at debug >= 1 and skipped at 0. The owner, or the mcentral lock for an unowned span. */
unsigned _ga_span_free_run(ga_span *s, void **list);
/* Applies the remote-free list, leaving `next` (0 or GA_REMOTE_UNOWNED) in its place. */
size_t _ga_span_drain_remote(ga_span *s, uintptr_t next);
/* Is slot allocated? (owner, lock holder, or a racy-but-atomic read for diagnostics) */
bool _ga_span_slot_allocated(const ga_span *s, unsigned idx);
bool _ga_span_is_valid(const ga_span *s);

/* ---- heaparena.c: 64 MiB heap arenas and the address -> arena -> span map (spec 5.1) ----
 *
 * The arena index covers the 48-bit address space (2^22 entries, reserved and committed
 * lazily by the kernel). An entry is set once, when its arena is reserved, and never cleared.
 */
typedef struct ga_heaparena {
    ga_span *spans[GA_PAGES_PER_ARENA]; /* page -> span for in-use spans; NULL on free pages */
    _Atomic uintptr_t zeroedbase;       /* offset of the first never-used byte (only grows) */
    uintptr_t base;
    struct ga_heaparena *next; /* every arena, newest first (heap lock) */
} ga_heaparena;

#define GA_ARENA_INDEX_SIZE ((size_t)1 << (GA_ADDR_BITS - GA_ARENA_SHIFT))
extern ga_heaparena **_ga_arenas;

/* The class map: one byte per page of the first 256 GiB above Go's first arena hint (where
 * the heap lives unless the kernel refuses the hints): the cache index of the small manual
 * span holding the page (2 .. GA_NUM_SPAN_CLASSES - 1), 0 for every other page (free, large,
 * tiny, collected, or not goalloc's). It lets free() find a block's list with one load (the
 * fast path in malloc.c); everything else goes through the arena map. Set with the arena
 * map (_ga_heaparena_set_span); reserved with the arena index, before any mcache exists, so
 * a thread with an mcache may read it unchecked. */
#define GA_CLASSMAP_FIRST (((uintptr_t)0x00c0 << 32) >> GA_PAGE_SHIFT) /* first page covered */
#define GA_CLASSMAP_PAGES ((size_t)1 << 25)                            /* 256 GiB of pages */
extern uint8_t *_ga_classmap __attribute__((visibility("hidden")));
/* The arena index and the class map; idempotent, false when their space cannot be mapped
 * (called by _ga_mheap_init). */
bool _ga_heaparena_init(void);

/* Reserves `size` bytes (a multiple of GA_ARENA_SIZE) of arenas near Go's hints, PROT_NONE,
 * with their metadata. 0 on failure. Heap lock held. */
uintptr_t _ga_heaparena_reserve(size_t size);
/* Points (clear: NULLs) every page of s in the arena map. */
void _ga_heaparena_set_span(ga_span *s, bool clear);
/* Spec 5.5 allocNeedsZero: does [base, base+size) start below a zeroedBase? Advances them. */
bool _ga_heaparena_needzero(uintptr_t base, size_t size);
size_t _ga_heaparena_count(void);
ga_heaparena *_ga_heaparena_all(void); /* newest first, linked by next */

/* The in-use span holding p (interior pointers too), or NULL when p is not heap memory. */
static inline ga_span *_ga_span_of(uintptr_t p)
{
    if (GA_UNLIKELY(p >> GA_ADDR_BITS) || GA_UNLIKELY(!_ga_arenas)) return NULL;
    ga_heaparena *ha = __atomic_load_n(&_ga_arenas[p >> GA_ARENA_SHIFT], __ATOMIC_ACQUIRE);
    if (GA_UNLIKELY(!ha)) return NULL;
    ga_span *s = __atomic_load_n(&ha->spans[(p >> GA_PAGE_SHIFT) & (GA_PAGES_PER_ARENA - 1)],
                                 __ATOMIC_ACQUIRE);
    if (GA_UNLIKELY(!s)) return NULL;
    if (GA_UNLIKELY(atomic_load_explicit(&s->state, memory_order_relaxed) != GA_SPAN_IN_USE ||
                    p < s->base || p >= s->limit))
        return NULL;
    return s;
}

/* ---- mheap.c: the heap (spec 5): page runs for spans, growth, heap statistics ---- */

/* A span of npages for cache index ci, initialised, mapped and counted; owned by c when it
 * is a small span (c may be NULL for large ones). NULL when out of memory. */
ga_span *_ga_mheap_alloc(struct ga_mcache *c, size_t npages, unsigned ci);
/* A large span of npages whose base is aligned to `align` (power of two > GA_PAGE_SIZE). */
ga_span *_ga_mheap_alloc_aligned(size_t npages, size_t align);
/* Returns the pages of a span (no slot still allocated) and its struct. */
void _ga_mheap_free_span(ga_span *s);
/* Gives back the page cache and the spare span structs of a thread. */
void _ga_mheap_flush_cache(struct ga_mcache *c);
void _ga_mheap_init(void); /* idempotent; calls _ga_options_init() first */
/* Expensive walker: arena map, span structs and page counts agree with the heap statistics;
 * page allocator summaries valid. Returns true when valid. */
bool _ga_mheap_is_valid(void);
/* Fixalloc figures for the statistics (heap lock taken inside). */
void _ga_mheap_meta_stats(size_t *span_inuse, size_t *span_sys, size_t *other_inuse,
                          size_t *other_sys);
/* For the scavenger (scavenge.c): the heap lock and the page allocator instance it guards
 * (call _ga_mheap_init() first). Release pages to the OS without the lock, as Go does. */
void _ga_mheap_lock(void);
void _ga_mheap_unlock(void);
ga_pagealloc *_ga_mheap_pages(void);
/* Accounting of a release: bytes of free pages became released (heap_free -> heap_released). */
void _ga_mheap_account_released(size_t bytes);
/* Fork safety (preload.c): take every goalloc lock / release them in parent and child. */
void _ga_heap_fork_prepare(void);
void _ga_heap_fork_parent(void);
void _ga_heap_fork_child(void);

/* ---- mcentral.c: one central span list per span class (spec 4) ---- */

/* A span with free slots, owned by c from now on; NULL when out of memory. */
ga_span *_ga_mcentral_cache_span(struct ga_mcache *c, unsigned ci);
/* Gives an owned span back: applies its remote frees, files it or frees its pages. */
void _ga_mcentral_uncache_span(ga_span *s);
/* Frees n blocks of cache index ci linked through their first word into their spans. */
void _ga_mcentral_free_list(struct ga_mcache *c, unsigned ci, void *list);
void _ga_mcentral_init(void);
bool _ga_mcentral_is_valid(unsigned ci);
size_t _ga_mcentral_count(unsigned ci, bool full); /* spans on the lists, for tests */
void _ga_mcentral_lock_all(void);
void _ga_mcentral_unlock_all(bool reinit);

/* ---- mcache.c: the per-thread cache (spec 3), tiny allocator (spec 2), explicit free ---- */

/* AddressSanitizer visibility (DESIGN.md "Fuzzing and sanitizers"): a freed block is poisoned
 * (whole tiny blocks only: ASan cannot poison a sub-object between live neighbours), an
 * allocated one unpoisoned, and a span's pages are unpoisoned when it is set up and poisoned
 * when it dies. goalloc's own links through freed blocks go through _ga_link_get/_set. */
#if defined(__SANITIZE_ADDRESS__)
#define GA_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define GA_ASAN 1
#endif
#endif
#ifdef GA_ASAN
#include <sanitizer/asan_interface.h>
#define GA_POISON(p, n) ASAN_POISON_MEMORY_REGION((const void *)(p), (n))
#define GA_UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION((const void *)(p), (n))
#else
#define GA_POISON(p, n) ((void)(p), (void)(n))
#define GA_UNPOISON(p, n) ((void)(p), (void)(n))
#endif

/* The link word of a freed (poisoned) block. */
static inline void *_ga_link_get(const void *block)
{
    GA_UNPOISON(block, sizeof(void *));
    void *next = *(void *const *)block;
    GA_POISON(block, sizeof(void *));
    return next;
}

static inline void _ga_link_set(void *block, void *next)
{
    GA_UNPOISON(block, sizeof(void *));
    *(void **)block = next;
    GA_POISON(block, sizeof(void *));
}

/* Per-thread counters, declared once; merged into the heap's totals by stats.c at flush and
 * thread exit. X(name, description). */
#define GA_THREAD_COUNTERS(X)                                                                      \
    X(large_alloc, "bytes of large objects allocated")                                             \
    X(large_alloc_count, "large objects allocated")                                                \
    X(large_free, "bytes of large objects freed")                                                  \
    X(large_free_count, "large objects freed")                                                     \
    X(tiny_allocs, "tiny sub-objects allocated")                                                   \
    X(tiny_frees, "tiny sub-objects freed")

/* Counters of one thread that other threads read (ga_read_memstats): only the owner writes,
 * with no locked instruction, and readers load relaxed. On x86-64 the owner's add is a plain
 * add through a non-atomic lvalue, which the compiler folds into the fast paths' addressing
 * (one `add` to memory; an aligned 8-byte store is single-copy atomic there, so a reader sees
 * the old or the new value, at worst a moment late). Elsewhere, and under ThreadSanitizer
 * (which must see every access as atomic), a relaxed load and store. */
#if defined(__SANITIZE_THREAD__)
#define GA_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define GA_TSAN 1
#endif
#endif
#if defined(__x86_64__) && !defined(GA_TSAN)
#define GA_COUNTER_ADD(ctr, n) (*(uint64_t *)&(ctr) += (n))
#else
#define GA_COUNTER_ADD(ctr, n)                                                                     \
    atomic_store_explicit(&(ctr), atomic_load_explicit(&(ctr), memory_order_relaxed) + (n),        \
                          memory_order_relaxed)
#endif
#define GA_COUNTER_GET(ctr) atomic_load_explicit(&(ctr), memory_order_relaxed)

typedef struct ga_thread_counters {
#define GA_X(name, desc) _Atomic uint64_t name;
    GA_THREAD_COUNTERS(GA_X)
#undef GA_X
} ga_thread_counters;

/* The same counters as plain values: totals under a lock, and the collector's per-mutator
 * counts (gc.c), which only their thread or the stopped world touch. */
typedef struct ga_counter_values {
#define GA_X(name, desc) uint64_t name;
    GA_THREAD_COUNTERS(GA_X)
#undef GA_X
} ga_counter_values;

/* One entry per cache index: the current span, the local free list, the counters. */
typedef struct ga_mcache_class {
    ga_span *span; /* current span, &_ga_span_empty when none */
    void *free;    /* LIFO of blocks freed on this thread, linked through their first word */
    uint32_t room; /* cap - length of free: pushes left before half of it goes back */
    uint32_t cap;  /* bound of free's length; 0 for the indexes with no list (0, 1) */
    _Atomic uint64_t nmalloc; /* blocks allocated since the last flush (GA_COUNTER_ADD) */
    _Atomic uint64_t nfreed;  /* blocks freed since the last flush (GA_COUNTER_ADD) */
} ga_mcache_class;

#define GA_SPANCACHE_MAX 16

static inline uint32_t _ga_mcache_nfree(const ga_mcache_class *e)
{
    return e->cap - e->room;
}

/* Invariants: every cls[ci].span is &_ga_span_empty or owned by this mcache; every block on
 * cls[ci].free is allocated in its span and counted in nfreed; the tiny block (if any) is an
 * allocated block of a tiny span whose count excludes the tinycount sub-objects handed out. */
typedef struct ga_mcache {
    uintptr_t tiny;                /* current 16-byte tiny block, 0 when none */
    size_t tinyoffset;             /* bytes used in it */
    uint32_t tinycount;            /* sub-objects handed out from it */
    uint16_t tinybounds;           /* its sub-object boundaries, mirrored in the span's tinymeta */
    _Atomic uint16_t *tinyboundsp; /* where they are mirrored */
    _Atomic int8_t *tinycountp;    /* its count in the span's tinymeta */
    ga_thread_counters ctr;
    ga_mcache_class cls[GA_NUM_CENTRALS];
    ga_pagecache pcache; /* pages for spans under 16 pages, no lock (spec 5.3) */
    ga_span *spancache[GA_SPANCACHE_MAX];
    unsigned nspancache;
    struct ga_mcache *next, *prev;        /* registry */
} __attribute__((aligned(64))) ga_mcache; /* no false sharing between threads */

extern __thread ga_mcache *_ga_tls_mcache __attribute__((tls_model("initial-exec")));

ga_mcache *_ga_mcache_create(void); /* the calling thread's mcache, created on first use */
void *_ga_mcache_alloc_slow(ga_mcache *c, unsigned ci); /* a block when the fast path fails */
void *_ga_mcache_tiny_alloc_slow(ga_mcache *c, size_t size);
void _ga_mcache_tiny_free(ga_mcache *c, ga_span *s, uintptr_t p);
size_t _ga_mcache_tiny_usable(const ga_span *s, uintptr_t p);
void _ga_mcache_release_half(ga_mcache *c, unsigned ci); /* free list over its cap */
void _ga_mcache_flush(ga_mcache *c);
/* Calls fn on every registered mcache; the caller holds the registry lock. */
void _ga_mcache_foreach(void (*fn)(ga_mcache *c, void *ctx), void *ctx);
void _ga_mcache_lock_registry(void);
void _ga_mcache_unlock_registry(bool reinit);
size_t _ga_mcache_count(void);
void _ga_mcache_meta_stats(size_t *inuse, size_t *sys);

/* ---- malloc.c: the fast paths of malloc and free ----
 *
 * Inline here so that the exported malloc and free (preload.c) are the fast paths themselves,
 * as ga_malloc and ga_free are. Budget, with no stack frame, no lock and no atomic (the
 * counts are GA_COUNTER_ADD's plain add): malloc of 9..1016 B with a block on the thread's
 * local list is the TLS load, one range check, one table load, one pop and the room and
 * count updates; free of a block on a small span's page with room on the list is the TLS
 * load, one range check, one class-map byte, one push and the room and count updates.
 * Everything else is a tail call to the slow functions below. */
/* Class by (size + 7) / 8 (24 B -> 32 B) and the same as a cache index (9..1016 B). */
extern uint8_t _ga_class16[GA_SMALL_SIZE_MAX / GA_SMALL_SIZE_DIV + 1]
    __attribute__((visibility("hidden")));
extern uint8_t _ga_ci8[GA_SMALL_SIZE_MAX / GA_SMALL_SIZE_DIV + 1]
    __attribute__((visibility("hidden")));
void _ga_class_tables_init(void); /* fills both (the heap's initialisation, once) */

/* The class of a request of 1..GA_MAX_SMALL_SIZE bytes, for manual and collected objects
 * alike: Go's classes, with 17..24 B in the 32-byte class (16-byte alignment from 16 B). */
static inline unsigned _ga_class_of(size_t size)
{
    if (size <= GA_SMALL_SIZE_MAX - 8) return _ga_class16[(size + 7) >> 3];
    return _ga_size_to_class(size);
}

void *_ga_malloc_slow(size_t size);              /* the thread's first, tiny, 1017 B and up */
void *_ga_span_alloc(ga_mcache *c, unsigned ci); /* the local list of ci is empty */
void _ga_free_slow(ga_mcache *c, void *p);       /* everything the fast path leaves */
void _ga_free_check(ga_mcache *c, unsigned ci, void *p); /* debug >= 1: p is a block of ci */
#ifdef GOALLOC_TEST_HOOKS
void _ga_test_slowdown(void); /* GOALLOC_TEST_SLOWDOWN: the perf gate's injected slowdown */
#endif

/* A block of span class ci for thread cache c. Budget: one pop from the local list, or one
 * ctz in the cached span (_ga_span_alloc); no locks, no atomics. */
static inline __attribute__((always_inline)) void *_ga_small_alloc(ga_mcache *c, unsigned ci)
{
    ga_mcache_class *e = &c->cls[ci];
    void *p = e->free;
    if (GA_LIKELY(p != NULL)) {
        GA_UNPOISON(p, _ga_class_to_size[ci >> 1]);
        e->free = *(void **)p;
        e->room++;
        GA_COUNTER_ADD(e->nmalloc, 1);
        return p;
    }
    return _ga_span_alloc(c, ci);
}

static inline __attribute__((always_inline)) void *_ga_malloc_fast(size_t size)
{
#ifdef GOALLOC_TEST_HOOKS
    _ga_test_slowdown();
#endif
    ga_mcache *c = _ga_tls_mcache;
    if (GA_LIKELY(c != NULL &&
                  size - (GA_TINY_MAX + 1) <= GA_SMALL_SIZE_MAX - 8 - (GA_TINY_MAX + 1))) {
        return _ga_small_alloc(c, _ga_ci8[(size + 7) >> 3]);
    }
    return _ga_malloc_slow(size);
}

/* At debug level 0 it trusts that p is a block goalloc handed out; from level 1 the block is
 * checked through the arena map first. */
static inline __attribute__((always_inline)) void _ga_free_fast(void *p)
{
    uintptr_t page = ((uintptr_t)p >> GA_PAGE_SHIFT) - GA_CLASSMAP_FIRST;
    ga_mcache *c = _ga_tls_mcache;
    if (GA_LIKELY(page < GA_CLASSMAP_PAGES && c != NULL)) {
        unsigned ci = __atomic_load_n(&_ga_classmap[page], __ATOMIC_RELAXED);
        ga_mcache_class *e = &c->cls[ci]; /* ci 0 (not a small block): room is always 0 */
        if (GA_LIKELY(e->room != 0)) {
            if (GOALLOC_DEBUG >= 1) _ga_free_check(c, ci, p);
            *(void **)p = e->free;
            GA_POISON(p, _ga_class_to_size[ci >> 1]);
            e->free = p;
            e->room--;
            GA_COUNTER_ADD(e->nfreed, 1);
            return;
        }
    }
    _ga_free_slow(c, p);
}

/* ---- stats.c: heap statistics, MemStats (spec 11) ----
 *
 * Heap page counters are atomics updated by mheap.c; object counters are per thread
 * (mcache) and merged here under the stats lock.
 */
#define GA_HEAP_COUNTERS(X)                                                                        \
    X(heap_inuse, "bytes in in-use spans")                                                         \
    X(heap_free, "bytes in free pages not released")                                               \
    X(heap_released, "bytes in free pages released to the OS")

typedef struct ga_heap_counters {
#define GA_X(name, desc) _Atomic uint64_t name;
    GA_HEAP_COUNTERS(GA_X)
#undef GA_X
} ga_heap_counters;

extern ga_heap_counters _ga_heapstat;

/* Adds the counters of c into the totals and zeroes them. */
void _ga_stats_absorb(ga_mcache *c);
void _ga_stats_lock(void);
void _ga_stats_unlock(bool reinit);

/* ---- gc.c / gcmark.c / gcsweep.c: the garbage collector (see gc.c for the overview) ---- */

#define GA_GC_CI GA_NUM_CENTRALS /* ci of every collected span: no mcache or mcentral index */

/* A collected span's gcmarkbits points at its GC metadata (gcsweep.c): (nelems + 63) / 64 mark
 * words, then, for scan spans, one pointer bit per 8-byte word of the span (1 = scan it). */
static inline uint64_t *_ga_gc_ptrbits(const ga_span *s)
{
    return s->gcmarkbits + (s->nelems + 63u) / 64u;
}

/* gc.c */
void _ga_gc_free(ga_span *s, void *p);     /* ga_free of a collected object (malloc.c) */
void _ga_gc_add_memstats(ga_memstats *ms); /* collected objects and the GC fields (stats.c) */

/* gcmark.c: the grey queue, shading and scanning. A marker's private buffer of grey objects
 * (Go's gcWork): the background worker, an assisting mutator and each mutator's write barrier
 * own one each; full buffers are shared through a global list. */
typedef struct ga_gc_root {
    uintptr_t lo, hi;
    bool fresh; /* added while a concurrent mark ran: rescanned at mark termination */
} ga_gc_root;
#define GA_WBUF_CAP 1022 /* grey objects per buffer (16 KiB) */
typedef struct ga_wbuf ga_wbuf;
typedef struct ga_gcwork {
    ga_wbuf *buf;             /* NULL or the buffer this marker pushes to and pops from */
    uint64_t marked, scanned; /* bytes, not yet added to the cycle's totals */
} ga_gcwork;
/* A cycle's mark begins (world stopped): counters cleared; world_runs = concurrent mark. */
void _ga_gc_mark_begin(bool world_runs);
/* The write barrier's work: shades old and value (each: marks its object if it points into
 * an allocated, unmarked collected slot, and queues it when it is a scan object). One call
 * for both halves of the hybrid barrier. */
void _ga_gc_shade(ga_gcwork *w, uintptr_t old, uintptr_t value);
void _ga_gc_scan_range(ga_gcwork *w, uintptr_t lo, uintptr_t hi); /* a root range */
/* Scans grey objects until about `budget` bytes were scanned or no work is left anywhere;
 * returns the bytes scanned. */
uint64_t _ga_gc_drain(ga_gcwork *w, uint64_t budget);
void _ga_gcwork_flush(ga_gcwork *w);        /* hands w's buffer and counts to the global queue */
void _ga_gc_mark_add_black(uint64_t bytes); /* objects allocated black during the mark */
bool _ga_gc_work_pending(void);             /* full buffers queued (a racy hint) */
uint64_t _ga_gc_scan_work(void);            /* bytes scanned this cycle (flushed counts) */
/* Every marker flushed and the world stopped: the marked bytes; false when work-buffer memory
 * ran out (the caller then keeps every allocated object). */
bool _ga_gc_mark_finish(uint64_t *marked);
/* Work buffers the last mark_finish set aside: their bytes (still mapped, about to go), and
 * their unmapping, which the collector does once the world runs again. */
uint64_t _ga_gc_mark_retiring(void);
void _ga_gc_mark_retire(void);
/* The whole mark with the world stopped and every collected span swept (STW mode). */
bool _ga_gc_mark(const ga_gc_root *roots, size_t nroots, uint64_t *marked);
void _ga_gc_mark_fork_child(void);

/* gcsweep.c: the collected spans (swept partial/full and unswept lists per span class, large
 * spans), their metadata, and sweeping: lazy (a mutator's refill sweeps spans of its class),
 * proportional (sweep credit on span acquisition) and in the background (one thread). */
typedef struct ga_gc_sweep_totals {
    uint64_t small_free[GA_NUM_SIZE_CLASSES]; /* objects freed by sweeps */
    uint64_t large_free, large_free_count;    /* bytes, objects */
    uint64_t spans_swept, spans_swept_bg, spans_freed;
} ga_gc_sweep_totals;
/* A fresh, swept span of spc (0/1: large) with zeroed GC metadata, on no list; NULL when out
 * of memory. Called by a mutator without locks held. */
ga_span *_ga_gc_span_new(size_t npages, unsigned spc);
/* Files a span a mutator stops using (partial or full; large: the large list). */
void _ga_gc_central_put(ga_span *s);
/* A swept partial span of spc with its cursor reset, taken off the lists (sweeping at most
 * 100 unswept spans of spc to find one); NULL when none. */
ga_span *_ga_gc_central_get(unsigned spc);
/* Explicit free of a large collected object: its pages go back now. */
void _ga_gc_large_free(ga_span *s);
/* Whether spans the last cycle left are still unswept (a racy hint; false once the sweep is
 * done, until the next cycle). */
bool _ga_gc_sweep_pending(void);
/* Sweeps every unswept span (the world is stopped, or the caller is ga_gc after its cycle).
 * mark_next: a mark begins next (the world is stopped), so the span checks stop demanding
 * clear mark bits until _ga_gc_begin_sweep or _ga_gc_clear_marks. */
void _ga_gc_finish_sweep(bool mark_next);
/* World stopped, mark done: every span becomes unswept (sweepgen += 2), the proportional
 * sweep is paced to finish before heap_live reaches trigger (then _ga_gc_sweep_wake). */
void _ga_gc_begin_sweep(uint64_t heap_live, uint64_t trigger);
/* Wakes (or starts) the background sweeper: after the world restarts, since a woken thread
 * may preempt the waker on its CPU, tens of microseconds a pause need not hold. */
void _ga_gc_sweep_wake(void);
/* Proportional sweep (spec 9): sweeps until the pages swept keep up with heap_live. */
void _ga_gc_sweep_credit(uint64_t heap_live);
void _ga_gc_sweep_totals(ga_gc_sweep_totals *out);
/* World stopped: marks every allocated slot (the fallback when marking cannot finish). */
void _ga_gc_mark_everything(void);
/* World stopped, every span swept: clears every mark bit (a mark abandoned in a forked child). */
void _ga_gc_clear_marks(void);
size_t _ga_gc_span_count(void);       /* collected spans in use (tests) */
bool _ga_gc_spans_valid(void);        /* every collected span valid and filed right (debug 3) */
void _ga_gc_sweep_fork_prepare(void); /* takes the lists' lock across fork() */
void _ga_gc_sweep_fork_parent(void);
void _ga_gc_sweep_fork_child(void);

#endif /* GA_INTERNAL_H */
