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
#define GA_PAGE_SIZE ((size_t)1 << GA_PAGE_SHIFT)   /* 8 KiB runtime page */
#define GA_OS_PAGE_SIZE ((size_t)4096)
#define GA_HUGE_PAGE_SIZE ((size_t)2 << 20)
#define GA_ARENA_SHIFT 26
#define GA_ARENA_SIZE ((size_t)1 << GA_ARENA_SHIFT) /* 64 MiB heap arena */
#define GA_PAGES_PER_ARENA (GA_ARENA_SIZE / GA_PAGE_SIZE)
#define GA_CHUNK_PAGES 512                          /* page-allocator chunk: 4 MiB */
#define GA_CHUNK_SIZE ((size_t)GA_CHUNK_PAGES * GA_PAGE_SIZE)
#define GA_ADDR_BITS 48
#define GA_MAX_SMALL_SIZE 32768
#define GA_TINY_SIZE 16

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
extern const uint8_t _ga_size_to_class128[(GA_MAX_SMALL_SIZE - GA_SMALL_SIZE_MAX) / GA_LARGE_SIZE_DIV + 1];

/* Smallest class whose size >= size, for 1 <= size <= GA_MAX_SMALL_SIZE. */
static inline unsigned _ga_size_to_class(size_t size)
{
    if (size <= GA_SMALL_SIZE_MAX - 8)
        return _ga_size_to_class8[(size + GA_SMALL_SIZE_DIV - 1) / GA_SMALL_SIZE_DIV];
    return _ga_size_to_class128[(size - GA_SMALL_SIZE_MAX + GA_LARGE_SIZE_DIV - 1) / GA_LARGE_SIZE_DIV];
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

/* ---- options.c: every knob in one table (env GOGC, GOMEMLIMIT, GOALLOC_DEBUG, GOALLOC_VERBOSE) ----
 *
 * Read once, lazily, by _ga_options_init() (idempotent, thread-safe, never calls malloc).
 * A malformed value prints one warning and keeps the default.
 */
typedef struct ga_options {
    int64_t gogc;         /* GOGC percent; -1 = off. Default 100 */
    int64_t memory_limit; /* GOMEMLIMIT bytes; INT64_MAX = no limit */
    int gctrace;          /* GOALLOC_DEBUG=gctrace=1 */
    int scavtrace;        /* GOALLOC_DEBUG=scavtrace=1 */
    int madvdontneed;     /* GOALLOC_DEBUG=madvdontneed=0|1, default 1 */
    int verbose;          /* GOALLOC_VERBOSE=1: print every option and the build configuration */
} ga_options;

extern ga_options _ga_opt;
void _ga_options_init(void);
/* Parsers shared with the CLI and the fuzzers: 0 on success, -1 on a malformed value. */
int _ga_parse_gogc(const char *s, int64_t *out);
int _ga_parse_memlimit(const char *s, int64_t *out); /* Go's syntax: off, bytes, B/KiB/MiB/GiB/TiB */
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

/* ---- userarena.c ---- */
/* Manual-mode quarantine depth: a freed chunk stays inaccessible until more than `nchunks`
 * chunks are quarantined behind it (default 16). For tests and tuning. */
void _ga_userarena_set_quarantine(size_t nchunks);

#endif /* GA_INTERNAL_H */
