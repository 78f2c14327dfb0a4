/* pagecache.c - the per-thread 64-page cache in front of the page allocator (spec 5.3).
 * See malloc.c for the overview.
 *
 * A ga_pagecache holds one 64-page aligned block (512 KiB, inside one chunk). Its free pages
 * (cache bits) are marked allocated in the page allocator while cached, with their scavenged
 * bits moved into `scav`, so the allocator's invariants hold while pages sit in a cache.
 * Invariants: scav & ~cache == 0; base == 0 implies cache == 0. The cache is private to one
 * thread: _ga_pagecache_alloc needs no lock; filling and flushing need the heap lock.
 */
#include "ga_pagealloc.h"

ga_pagecache _ga_pagealloc_alloc_to_cache(ga_pagealloc *pa)
{
    ga_pagecache pc = {0, 0, 0};
    size_t ci = pa->search_addr >> GA_PA_CHUNK_SHIFT;
    if (ci >= pa->end) return pc;
    uintptr_t first = 0, hint;
    if (pa->summary[GA_PA_LEVELS - 1][ci] != 0) {
        /* Every page below search_addr is allocated, so a non-full chunk has a free page at
         * or after it. */
        size_t from = (pa->search_addr >> GA_PAGE_SHIFT) & (GA_CHUNK_PAGES - 1);
        size_t i = _ga_palloc_find(_ga_pa_chunk(pa, ci)->alloc, 1, from, NULL);
        ga_assert_internal(i != GA_PA_NOT_FOUND);
        if (i != GA_PA_NOT_FOUND) first = _ga_pa_chunk_base(ci) + i * GA_PAGE_SIZE;
    }
    if (!first && !(first = _ga_pagealloc_find(pa, 1, &hint))) {
        pa->search_addr = GA_PA_END_ADDR; /* no free page anywhere */
        return pc;
    }
    ci = first >> GA_PA_CHUNK_SHIFT;
    ga_pchunk *c = _ga_pa_chunk(pa, ci);
    size_t w = ((first >> GA_PAGE_SHIFT) & (GA_CHUNK_PAGES - 1)) / 64;
    pc.base = _ga_pa_chunk_base(ci) + w * 64 * GA_PAGE_SIZE;
    pc.cache = ~c->alloc[w];
    pc.scav = c->scav[w] & pc.cache;
    c->alloc[w] = ~0ull;
    c->scav[w] = 0;
    _ga_pchunk_account(pa, c, __builtin_popcountll(pc.cache));
    _ga_pagealloc_update(pa, pc.base, 64, false, true);
    /* Every page up to the block's end is now allocated or cached. */
    pa->search_addr = pc.base + 63 * GA_PAGE_SIZE;
    return pc;
}

uintptr_t _ga_pagecache_alloc(ga_pagecache *c, size_t npages, size_t *scav)
{
    if (scav) *scav = 0;
    ga_assert(npages > 0);
    if (c->cache == 0 || npages == 0 || npages > 64) return 0;
    unsigned i;
    uint64_t mask;
    if (npages == 1) {
        i = (unsigned)__builtin_ctzll(c->cache);
        mask = 1ull << i;
    } else {
        i = _ga_find_bit_range64(c->cache, (unsigned)npages);
        if (i == 64) return 0;
        mask = (npages == 64 ? ~0ull : (1ull << npages) - 1) << i;
    }
    if (scav) *scav = (size_t)__builtin_popcountll(c->scav & mask) * GA_PAGE_SIZE;
    c->cache &= ~mask;
    c->scav &= ~mask;
    return c->base + i * GA_PAGE_SIZE;
}

void _ga_pagecache_flush(ga_pagecache *c, ga_pagealloc *pa)
{
    if (c->cache != 0) {
        size_t ci = c->base >> GA_PA_CHUNK_SHIFT;
        ga_pchunk *ch = _ga_pa_chunk(pa, ci);
        size_t w = ((c->base >> GA_PAGE_SHIFT) & (GA_CHUNK_PAGES - 1)) / 64;
        ga_assert_internal((ch->alloc[w] & c->cache) == c->cache);
        ch->alloc[w] &= ~c->cache;
        ch->scav[w] |= c->scav & c->cache;
        _ga_pchunk_account(pa, ch, -__builtin_popcountll(c->cache));
        if (c->cache & ~c->scav) _ga_pchunk_note_free(pa, ch, ci);
        if (c->base < pa->search_addr) pa->search_addr = c->base;
        _ga_pagealloc_update(pa, c->base, 64, false, false);
    }
    *c = (ga_pagecache){0, 0, 0};
}
