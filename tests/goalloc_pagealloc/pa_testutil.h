/* pa_testutil.h - helpers shared by the page-allocator tests: building an instance from a
 * description of chunks and page ranges, comparing bitmaps, and a tiny deterministic RNG.
 *
 * Addresses are made up: the page allocator never touches the pages it manages. Chunk
 * offsets are relative to BASE_CHUNK (address 0xc000000000, where Go's heap starts).
 */
#ifndef PA_TESTUTIL_H
#define PA_TESTUTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "ga_pagealloc.h"

#define BASE_CHUNK ((size_t)0x30000)
#define PG ((size_t)GA_PAGE_SIZE)

/* Address of page `pi` of chunk `ci` (relative to BASE_CHUNK). */
static inline uintptr_t pg_addr(size_t ci, size_t pi)
{
    return _ga_pa_chunk_base(BASE_CHUNK + ci) + pi * PG;
}

typedef struct prange {
    size_t ci, pi, n; /* n pages from page pi of chunk ci; n == 0 ends a list */
} prange;

#define END_RANGES                                                                                 \
    {                                                                                              \
        0, 0, 0                                                                                    \
    }

/* A page allocator over the listed chunks (each grown on its own; a list ends with SIZE_MAX),
 * every page free and not scavenged, then `scav` ranges marked scavenged, then `alloc` ranges
 * allocated. search_addr ends at the lowest grown address. Either list may be NULL. */
static inline ga_pagealloc *pa_build(const size_t *chunks, const prange *alloc, const prange *scav)
{
    ga_pagealloc *pa = _ga_pagealloc_new();
    assert_non_null(pa);
    for (const size_t *c = chunks; *c != SIZE_MAX; c++) {
        _ga_pagealloc_grow(pa, pg_addr(*c, 0), GA_CHUNK_SIZE);
        _ga_pagealloc_set_range_for_test(pa, pg_addr(*c, 0), GA_CHUNK_PAGES, false, false);
    }
    for (const prange *r = scav; r && r->n; r++)
        _ga_pagealloc_set_range_for_test(pa, pg_addr(r->ci, r->pi), r->n, false, true);
    for (const prange *r = alloc; r && r->n; r++)
        _ga_pagealloc_set_range_for_test(pa, pg_addr(r->ci, r->pi), r->n, true, false);
    /* Start searching at the first free page, as a live allocator would. */
    pa->search_addr = GA_PA_END_ADDR;
    for (const size_t *c = chunks; *c != SIZE_MAX; c++) {
        ga_pchunk *ch = _ga_pa_chunk(pa, BASE_CHUNK + *c);
        for (size_t p = 0; p < GA_CHUNK_PAGES; p++)
            if (!(ch->alloc[p / 64] >> (p % 64) & 1) && pg_addr(*c, p) < pa->search_addr)
                pa->search_addr = pg_addr(*c, p);
    }
    assert_true(_ga_pagealloc_is_valid(pa));
    return pa;
}

/* Both bitmaps of every listed chunk are equal in got and want. */
static inline void pa_assert_same_bits(ga_pagealloc *got, ga_pagealloc *want, const size_t *chunks)
{
    for (const size_t *c = chunks; *c != SIZE_MAX; c++) {
        ga_pchunk *g = _ga_pa_chunk(got, BASE_CHUNK + *c), *w = _ga_pa_chunk(want, BASE_CHUNK + *c);
        for (int i = 0; i < GA_PA_CHUNK_WORDS; i++) {
            if (g->alloc[i] != w->alloc[i] || g->scav[i] != w->scav[i])
                fail_msg("chunk %zu word %d: alloc %#llx scav %#llx, want alloc %#llx scav %#llx",
                         *c, i, (unsigned long long)g->alloc[i], (unsigned long long)g->scav[i],
                         (unsigned long long)w->alloc[i], (unsigned long long)w->scav[i]);
        }
    }
}

static inline int pa_page_bit(const uint64_t *b, size_t i)
{
    return (int)((b[i / 64] >> (i % 64)) & 1);
}

/* splitmix64: deterministic for a seed. */
static inline uint64_t rng_next(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

#endif /* PA_TESTUTIL_H */
