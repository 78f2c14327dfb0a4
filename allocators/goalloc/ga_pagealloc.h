/* ga_pagealloc.h - the page allocator's data structures, shared by pagealloc.c, pagecache.c,
 * scavenge.c and goalloc's unit tests. See malloc.c for the overview; pagealloc.c owns them.
 *
 * Addresses index the tables directly (no base offset: see pagealloc.c). A chunk is 512 pages
 * of 8 KiB (4 MiB); chunk index = addr >> 22. The radix tree has 5 levels of packed summaries;
 * an entry at level l covers 2^levelLogPages[l] pages and is indexed by addr >> levelShift[l].
 */
#ifndef GA_PAGEALLOC_H
#define GA_PAGEALLOC_H

#include "ga_internal.h"

/* ---- Geometry (spec 6.1) ---- */

#define GA_PA_LEVELS 5
#define GA_PA_LEVEL_BITS 3 /* fan-out 8 below the root: one 64-byte block of children */
#define GA_PA_L0_BITS 14   /* 48 - 22 - 4 * 3 */
#define GA_PA_CHUNK_SHIFT 22
#define GA_PA_CHUNK_WORDS (GA_CHUNK_PAGES / 64)
#define GA_PA_NUM_CHUNKS ((size_t)1 << (GA_ADDR_BITS - GA_PA_CHUNK_SHIFT)) /* 2^26 */
#define GA_PA_L2_BITS 13 /* chunk map: L1 of 2^13 pointers, each to 2^13 chunks */
#define GA_PA_L1_ENTRIES ((size_t)1 << (GA_ADDR_BITS - GA_PA_CHUNK_SHIFT - GA_PA_L2_BITS))
#define GA_PA_L2_ENTRIES ((size_t)1 << GA_PA_L2_BITS)
#define GA_PA_END_ADDR ((uintptr_t)1 << GA_ADDR_BITS) /* searchAddr's "heap full" sentinel */
#define GA_PA_NOT_FOUND ((size_t)-1)
#define GA_PA_HUGE_PAGES (GA_HUGE_PAGE_SIZE / GA_PAGE_SIZE) /* 256 pages per 2 MiB huge page */
#define GA_PA_DENSE_PAGES 496 /* 0.96875 * 512: chunks this full are not background-scavenged */

static inline unsigned _ga_pa_level_bits(int l)
{
    return l == 0 ? GA_PA_L0_BITS : GA_PA_LEVEL_BITS;
}
static inline unsigned _ga_pa_level_shift(int l) /* 34, 31, 28, 25, 22 */
{
    return GA_PA_CHUNK_SHIFT + GA_PA_LEVEL_BITS * (GA_PA_LEVELS - 1 - l);
}
static inline unsigned _ga_pa_level_log_pages(int l) /* 21, 18, 15, 12, 9 */
{
    return _ga_pa_level_shift(l) - GA_PAGE_SHIFT;
}

/* ---- Packed summaries (spec 6.2) ----
 *
 * start (bits 0-20), max (21-41), end (42-62): free pages at the low end, longest free run,
 * free pages at the high end. Each is < 2^21 except in one case, a completely free root entry
 * (2^21 pages), which is encoded as bit 63 alone. 0 = nothing free.
 */
typedef uint64_t ga_psum;
#define GA_PSUM_LOG_MAX 21
#define GA_PSUM_MAX ((uint64_t)1 << GA_PSUM_LOG_MAX)
#define GA_PSUM_ALL_FREE ((uint64_t)1 << 63)

static inline ga_psum _ga_psum_pack(uint64_t start, uint64_t max, uint64_t end)
{
    if (max == GA_PSUM_MAX) {
        ga_assert_internal(start == GA_PSUM_MAX && end == GA_PSUM_MAX);
        return GA_PSUM_ALL_FREE;
    }
    ga_assert_internal(start <= max && end <= max && max < GA_PSUM_MAX);
    return start | max << GA_PSUM_LOG_MAX | end << (2 * GA_PSUM_LOG_MAX);
}
static inline size_t _ga_psum_start(ga_psum s)
{
    return s & GA_PSUM_ALL_FREE ? GA_PSUM_MAX : s & (GA_PSUM_MAX - 1);
}
static inline size_t _ga_psum_max(ga_psum s)
{
    return s & GA_PSUM_ALL_FREE ? GA_PSUM_MAX : (s >> GA_PSUM_LOG_MAX) & (GA_PSUM_MAX - 1);
}
static inline size_t _ga_psum_end(ga_psum s)
{
    return s & GA_PSUM_ALL_FREE ? GA_PSUM_MAX : (s >> (2 * GA_PSUM_LOG_MAX)) & (GA_PSUM_MAX - 1);
}

/* ---- 64-bit run search (spec 6.3: findBitRange64) ---- */

/* Keeps bit i of c only where bits i..i+n-1 are all set (1 <= n <= 64): AND with shifted
 * copies, doubling the covered length each step. */
static inline uint64_t _ga_bits_runs_of(uint64_t c, unsigned n)
{
    unsigned covered = 1;
    while (covered < n && c) {
        unsigned s = covered < n - covered ? covered : n - covered;
        c &= c >> s;
        covered += s;
    }
    return c;
}
/* Index of the first bit of the lowest run of n set bits in c, or 64 when there is none. */
static inline unsigned _ga_find_bit_range64(uint64_t c, unsigned n)
{
    uint64_t r = _ga_bits_runs_of(c, n);
    return r ? (unsigned)__builtin_ctzll(r) : 64;
}

/* ---- Chunks ----
 *
 * Invariants (checked by _ga_pagealloc_is_valid):
 *   alloc[w] & scav[w] == 0 (no in-use page is marked released)
 *   in_use == popcount(alloc)
 *   summary[4][chunk index] == _ga_palloc_summarize(alloc)
 */
enum { GA_PCHUNK_GROWN = 1, GA_PCHUNK_SCAV_EMPTY = 2 };

typedef struct ga_pchunk {
    uint64_t alloc[GA_PA_CHUNK_WORDS]; /* 1 = page in use (or held by a page cache) */
    uint64_t scav[GA_PA_CHUNK_WORDS];  /* 1 = free page whose memory was released to the OS */
    /* Scavenge index (spec 7.3): pages in use now, and when the generation last changed. */
    uint16_t in_use;
    uint16_t last_in_use; /* in_use as it was at the end of generation gen - 1 */
    uint32_t gen;         /* generation in which in_use last changed */
    uint8_t flags;        /* GA_PCHUNK_*; SCAV_EMPTY: nothing to scavenge until a free */
} ga_pchunk;

typedef struct ga_addr_range {
    uintptr_t base, limit; /* [base, limit), chunk aligned */
} ga_addr_range;

/* Invariants:
 *   searchAddr: every grown page below search_addr is allocated, and search_addr lies in a
 *   grown range (in_use) or equals GA_PA_END_ADDR (checked by _ga_pagealloc_is_valid).
 *   in_use[] is sorted, disjoint and coalesced; start/end bound every grown chunk.
 *   Each summary at level l < 4 is the merge of its 8 children (is_valid re-derives them).
 */
struct ga_pagealloc {
    ga_psum *summary[GA_PA_LEVELS]; /* level arrays inside one PROT_NONE reservation */
    void *summary_va;
    size_t summary_va_size;
    ga_pchunk *chunks[GA_PA_L1_ENTRIES]; /* L2 arrays, mapped when first needed */
    uintptr_t search_addr;
    size_t start, end; /* lowest grown chunk index, one past the highest (0, 0 when empty) */
    ga_addr_range *in_use;
    size_t n_in_use, cap_in_use;
    /* Scavenger state (scavenge.c): chunk index + 1 below which each search continues. */
    uint32_t gen;
    size_t scav_cursor_bg;    /* raised once per generation to free_hwm */
    size_t scav_cursor_force; /* raised on every free */
    size_t free_hwm;          /* highest chunk index + 1 freed into during this generation */
};

static inline ga_pchunk *_ga_pa_chunk(const ga_pagealloc *pa, size_t ci)
{
    ga_pchunk *l2 = pa->chunks[ci >> GA_PA_L2_BITS];
    return l2 ? &l2[ci & (GA_PA_L2_ENTRIES - 1)] : NULL;
}
static inline uintptr_t _ga_pa_chunk_base(size_t ci)
{
    return (uintptr_t)ci << GA_PA_CHUNK_SHIFT;
}

/* Scavenge-index accounting for a change of `delta` in-use pages of chunk c. */
static inline void _ga_pchunk_account(const ga_pagealloc *pa, ga_pchunk *c, int delta)
{
    if (c->gen != pa->gen) {
        c->last_in_use = c->in_use;
        c->gen = pa->gen;
    }
    c->in_use = (uint16_t)(c->in_use + delta);
}
/* Pages were freed into chunk ci: it may have something to scavenge again. */
static inline void _ga_pchunk_note_free(ga_pagealloc *pa, ga_pchunk *c, size_t ci)
{
    c->flags &= (uint8_t)~GA_PCHUNK_SCAV_EMPTY;
    if (ci + 1 > pa->scav_cursor_force) pa->scav_cursor_force = ci + 1;
    if (ci + 1 > pa->free_hwm) pa->free_hwm = ci + 1;
}

#endif /* GA_PAGEALLOC_H */
