/* scavenge.c - returning free pages to the OS (spec 7). See malloc.c for the overview.
 *
 * The page-allocator side: find free pages whose scavenged bit is clear, highest address
 * first, hand them to a release callback, and set their scavenged bits. Invariants:
 *   - a run being released is marked allocated for the duration of the callback, so the
 *     caller may drop the heap lock around the madvise (as Go does) without the run being
 *     handed out; afterwards it is free again with its scavenged bits set;
 *   - background scavenging skips dense chunks (>= 496 of 512 pages in use now or at the end
 *     of the previous generation); forced scavenging ignores density;
 *   - a run that crosses into a 2 MiB huge page is widened down to the huge page's start when
 *     the whole huge page is free and unscavenged, so a free huge page is released whole;
 *   - cursors only move down while searching; frees raise the forced cursor at once and the
 *     background cursor at the next generation (free_hwm), as Go's two search addresses do.
 */
#include <pthread.h>

#include "ga_pagealloc.h"

/* ---- Scavenge index ---- */

void _ga_pagealloc_next_gen(ga_pagealloc *pa)
{
    pa->gen++;
    if (pa->free_hwm > pa->scav_cursor_bg) pa->scav_cursor_bg = pa->free_hwm;
    pa->free_hwm = 0;
}

static bool chunk_is_dense(const ga_pagealloc *pa, const ga_pchunk *c)
{
    if (c->in_use >= GA_PA_DENSE_PAGES) return true;
    return c->gen == pa->gen && c->last_in_use >= GA_PA_DENSE_PAGES;
}

/* Highest grown chunk index below `limit` (a chunk index + 1), or GA_PA_NOT_FOUND. */
static size_t prev_grown_chunk(const ga_pagealloc *pa, size_t limit)
{
    for (size_t r = pa->n_in_use; r-- > 0;) {
        size_t lo = pa->in_use[r].base >> GA_PA_CHUNK_SHIFT,
               hi = pa->in_use[r].limit >> GA_PA_CHUNK_SHIFT;
        if (lo < limit) return (limit < hi ? limit : hi) - 1;
    }
    return GA_PA_NOT_FOUND;
}

/* ---- Candidates inside one chunk ---- */

/* Lowest lo such that every bit of [lo, end) is set in b (bit end - 1 is set). */
static size_t run_down(const uint64_t *b, size_t end)
{
    size_t lo = end;
    while (lo > 0) {
        size_t w = (lo - 1) / 64, bit = (lo - 1) % 64;
        uint64_t x = b[w] << (63 - bit); /* bit lo-1 moved to the top, the bits above dropped */
        size_t ones = ~x ? (size_t)__builtin_clzll(~x) : 64;
        lo -= ones;
        if (ones < bit + 1) break;
    }
    return lo;
}

/* The highest run of free, unscavenged pages, at most max_pages long (plus huge-page
 * widening). Returns its length and sets *lo; 0 when the chunk has none. */
static size_t find_candidate(const ga_pchunk *c, size_t max_pages, size_t *lo)
{
    uint64_t cand[GA_PA_CHUNK_WORDS];
    int w;
    for (w = 0; w < GA_PA_CHUNK_WORDS; w++)
        cand[w] = ~(c->alloc[w] | c->scav[w]);
    for (w = GA_PA_CHUNK_WORDS - 1; w >= 0 && cand[w] == 0; w--) {
    }
    if (w < 0) return 0;
    size_t end = (size_t)w * 64 + 64 - (size_t)__builtin_clzll(cand[w]);
    size_t run_lo = run_down(cand, end);
    size_t start = end - run_lo > max_pages ? end - max_pages : run_lo;
    size_t hp = start & ~(GA_PA_HUGE_PAGES - 1);
    if (start != hp && hp + GA_PA_HUGE_PAGES <= end && hp >= run_lo) start = hp;
    *lo = start;
    return end - start;
}

/* ---- Scavenging ---- */

size_t _ga_pagealloc_scavenge(ga_pagealloc *pa, size_t nbytes, bool force, ga_release_fn release,
                              void *arg)
{
    size_t released = 0;
    size_t *cursor = force ? &pa->scav_cursor_force : &pa->scav_cursor_bg;
    while (released<nbytes && * cursor> 0) {
        size_t ci = prev_grown_chunk(pa, *cursor);
        if (ci == GA_PA_NOT_FOUND) {
            *cursor = 0;
            break;
        }
        ga_pchunk *c = _ga_pa_chunk(pa, ci);
        size_t lo, n = 0;
        if (!(c->flags & GA_PCHUNK_SCAV_EMPTY) && (force || !chunk_is_dense(pa, c))) {
            size_t left = nbytes - released; /* nbytes may be SIZE_MAX: round up safely */
            size_t want = left / GA_PAGE_SIZE + (left % GA_PAGE_SIZE != 0);
            n = find_candidate(c, want, &lo);
            if (n == 0) c->flags |= GA_PCHUNK_SCAV_EMPTY;
        }
        if (n == 0) {
            *cursor = ci; /* nothing (more) here: continue below */
            continue;
        }
        uintptr_t base = _ga_pa_chunk_base(ci) + lo * GA_PAGE_SIZE;
        size_t was = _ga_pagealloc_alloc_range(pa, base, n);
        ga_assert_internal(was == 0);
        (void)was;
        if (release) release(arg, base, n * GA_PAGE_SIZE);
        _ga_pagealloc_free_range(pa, base, n, true);
        released += n * GA_PAGE_SIZE;
    }
    return released;
}

void _ga_scavenge_release_os(void *arg, uintptr_t base, size_t bytes)
{
    pthread_mutex_t *lock = arg;
    if (lock) pthread_mutex_unlock(lock);
    _ga_os_unused((void *)base, bytes);
    if (lock) pthread_mutex_lock(lock);
}

size_t _ga_pagealloc_scavenged_bytes(ga_pagealloc *pa)
{
    size_t pages = 0;
    for (size_t r = 0; r < pa->n_in_use; r++)
        for (size_t ci = pa->in_use[r].base >> GA_PA_CHUNK_SHIFT;
             ci < pa->in_use[r].limit >> GA_PA_CHUNK_SHIFT; ci++)
            for (int w = 0; w < GA_PA_CHUNK_WORDS; w++)
                pages += (size_t)__builtin_popcountll(_ga_pa_chunk(pa, ci)->scav[w]);
    return pages * GA_PAGE_SIZE;
}
