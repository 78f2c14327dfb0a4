/* test_pagecache.c - goalloc's 64-page page cache (fill, alloc, flush) and random sequences of
 * page-allocator, page-cache and scavenger operations checked page by page against a model.
 *
 * The model is a plain array of pages (allocated?, scavenged?). It predicts every result
 * independently: first fit over the whole heap (valid because every page below the search
 * address is allocated), the cache block at the first free page, scavenged byte counts, and
 * the highest free unscavenged page for the scavenger.
 */
#include "pa_testutil.h"

#define CH(...)                                                                                    \
    {                                                                                              \
        __VA_ARGS__, SIZE_MAX                                                                      \
    }

static void test_fill_fresh_chunk(void **state)
{
    (void)state;
    static const size_t chunks[] = CH(0);
    ga_pagealloc *pa = pa_build(chunks, NULL, (prange[]){{0, 0, 512}, END_RANGES});
    ga_pagecache c = _ga_pagealloc_alloc_to_cache(pa);
    assert_int_equal(c.base, pg_addr(0, 0));
    assert_int_equal(c.cache, ~0ull);
    assert_int_equal(c.scav, ~0ull);
    assert_int_equal(pa->search_addr, pg_addr(0, 63));
    ga_pchunk *ch = _ga_pa_chunk(pa, BASE_CHUNK);
    assert_int_equal(ch->alloc[0], ~0ull);
    assert_int_equal(ch->scav[0], 0);
    assert_true(_ga_pagealloc_is_valid(pa));
    /* Direct allocations skip the cached block. */
    assert_int_equal(_ga_pagealloc_alloc(pa, 1, NULL), pg_addr(0, 64));
    size_t scav;
    assert_int_equal(_ga_pagecache_alloc(&c, 1, &scav), pg_addr(0, 0));
    assert_int_equal(scav, PG);
    assert_int_equal(_ga_pagecache_alloc(&c, 3, &scav), pg_addr(0, 1));
    assert_int_equal(scav, 3 * PG);
    _ga_pagecache_flush(&c, pa);
    assert_int_equal(c.base, 0);
    assert_int_equal(c.cache, 0);
    assert_int_equal(ch->alloc[0], 0xfull);
    assert_int_equal(ch->scav[0], ~0xfull);
    assert_int_equal(ch->alloc[1], 1);
    assert_true(_ga_pagealloc_is_valid(pa));
    assert_int_equal(_ga_pagealloc_alloc(pa, 2, &scav), pg_addr(0, 4));
    assert_int_equal(scav, 2 * PG);
    _ga_pagealloc_destroy(pa);
}

static void test_fill_partial_block(void **state)
{
    (void)state;
    static const size_t chunks[] = CH(0);
    ga_pagealloc *pa = pa_build(chunks, (prange[]){{0, 0, 70}, {0, 100, 1}, END_RANGES},
                                (prange[]){{0, 64, 32}, END_RANGES});
    ga_pagecache c = _ga_pagealloc_alloc_to_cache(pa);
    uint64_t want_cache = ~0x3full & ~(1ull << 36); /* pages 70..127 except 100 */
    assert_int_equal(c.base, pg_addr(0, 64));
    assert_int_equal(c.cache, want_cache);
    assert_int_equal(c.scav, 0xffffffffull & ~0x3full); /* pages 70..95 */
    assert_int_equal(pa->search_addr, pg_addr(0, 127));
    /* findBitRange64 over the cache: runs are 70..99 (30) and 101..127 (27). */
    size_t scav;
    assert_int_equal(_ga_pagecache_alloc(&c, 30, &scav), pg_addr(0, 70));
    assert_int_equal(scav, 26 * PG);
    assert_int_equal(_ga_pagecache_alloc(&c, 28, &scav), 0);
    assert_int_equal(scav, 0);
    assert_int_equal(_ga_pagecache_alloc(&c, 27, &scav), pg_addr(0, 101));
    assert_int_equal(scav, 0);
    assert_int_equal(c.cache, 0);
    assert_int_equal(_ga_pagecache_alloc(&c, 1, &scav), 0);
    _ga_pagecache_flush(&c, pa); /* nothing left to give back */
    assert_true(_ga_pagealloc_is_valid(pa));
    assert_int_equal(_ga_pagealloc_alloc(pa, 1, NULL), pg_addr(0, 128));
    _ga_pagealloc_destroy(pa);
}

/* Filling and flushing without allocating restores both bitmaps exactly. */
static void test_flush_restores(void **state)
{
    (void)state;
    static const size_t chunks[] = CH(0, 1);
    const prange alloc[] = {{0, 0, 200}, {0, 203, 5}, {0, 250, 262}, {1, 3, 9}, END_RANGES};
    const prange scav[] = {{0, 200, 2}, {0, 240, 5}, {1, 0, 2}, END_RANGES};
    ga_pagealloc *pa = pa_build(chunks, alloc, scav), *want = pa_build(chunks, alloc, scav);
    for (int i = 0; i < 4; i++) {
        ga_pagecache c = _ga_pagealloc_alloc_to_cache(pa);
        assert_int_not_equal(c.base, 0);
        assert_true(_ga_pagealloc_is_valid(pa));
        _ga_pagecache_flush(&c, pa);
        assert_true(_ga_pagealloc_is_valid(pa));
        pa_assert_same_bits(pa, want, chunks);
    }
    _ga_pagealloc_destroy(want);
    _ga_pagealloc_destroy(pa);
}

static void test_fill_when_search_chunk_is_full(void **state)
{
    (void)state;
    static const size_t chunks[] = CH(0, 1);
    ga_pagealloc *pa = pa_build(chunks, (prange[]){{0, 0, 512}, {1, 0, 5}, END_RANGES}, NULL);
    pa->search_addr = pg_addr(0, 0); /* legal (everything below is allocated), just stale */
    ga_pagecache c = _ga_pagealloc_alloc_to_cache(pa);
    assert_int_equal(c.base, pg_addr(1, 0));
    assert_int_equal(c.cache, ~0x1full);
    assert_int_equal(c.scav, 0);
    assert_int_equal(pa->search_addr, pg_addr(1, 63));
    assert_true(_ga_pagealloc_is_valid(pa));
    size_t scav;
    assert_int_equal(_ga_pagecache_alloc(&c, 64, &scav), 0); /* only 59 cached */
    assert_int_equal(_ga_pagecache_alloc(&c, 59, &scav), pg_addr(1, 5));
    _ga_pagealloc_destroy(pa);
}

static void test_fill_empty_and_full(void **state)
{
    (void)state;
    ga_pagealloc *pa = _ga_pagealloc_new();
    ga_pagecache c = _ga_pagealloc_alloc_to_cache(pa); /* nothing grown */
    assert_int_equal(c.base, 0);
    assert_int_equal(c.cache, 0);
    assert_int_equal(_ga_pagecache_alloc(&c, 1, NULL), 0);
    _ga_pagecache_flush(&c, pa);
    _ga_pagealloc_destroy(pa);

    static const size_t chunks[] = CH(0);
    pa = pa_build(chunks, (prange[]){{0, 0, 512}, END_RANGES}, NULL);
    pa->search_addr = pg_addr(0, 0);
    c = _ga_pagealloc_alloc_to_cache(pa);
    assert_int_equal(c.base, 0);
    assert_int_equal(pa->search_addr, GA_PA_END_ADDR);
    assert_true(_ga_pagealloc_is_valid(pa));
    /* A whole 64-page word taken from a cache at once. */
    _ga_pagealloc_free(pa, pg_addr(0, 448), 64);
    c = _ga_pagealloc_alloc_to_cache(pa);
    size_t scav = 1;
    assert_int_equal(_ga_pagecache_alloc(&c, 64, &scav), pg_addr(0, 448));
    assert_int_equal(scav, 0);
    assert_int_equal(c.cache, 0);
    _ga_pagealloc_destroy(pa);
}

/* ---- Random operation sequences against a page model ---- */

#define M_CHUNKS 7 /* chunk 4 is never grown: the model keeps it allocated */
#define M_PAGES (M_CHUNKS * GA_CHUNK_PAGES)

typedef struct model {
    unsigned char alloc[M_PAGES], scav[M_PAGES];
    uintptr_t live_base[4096];
    size_t live_n[4096], nlive;
    size_t released_pages; /* filled by the release callback */
    int calls;
} model;

static uintptr_t m_addr(size_t p)
{
    return pg_addr(p / GA_CHUNK_PAGES, p % GA_CHUNK_PAGES);
}
static size_t m_page(uintptr_t a)
{
    return (a - pg_addr(0, 0)) / PG;
}

static size_t m_first_fit(const model *m, size_t n)
{
    size_t run = 0;
    for (size_t p = 0; p < M_PAGES; p++) {
        run = m->alloc[p] ? 0 : run + 1;
        if (run == n) return p + 1 - n;
    }
    return SIZE_MAX;
}

static void m_release(void *arg, uintptr_t base, size_t bytes)
{
    model *m = arg;
    size_t p0 = m_page(base), n = bytes / PG, top = SIZE_MAX;
    for (size_t p = M_PAGES; p-- > 0;)
        if (!m->alloc[p] && !m->scav[p]) {
            top = p;
            break;
        }
    if (top != p0 + n - 1)
        fail_msg("scavenger released pages %zu..%zu, but the highest candidate is %zu", p0,
                 p0 + n - 1, top);
    for (size_t p = p0; p < p0 + n; p++) {
        if (m->alloc[p] || m->scav[p]) fail_msg("scavenger released page %zu: in use or done", p);
        m->scav[p] = 1;
    }
    m->released_pages += n;
    m->calls++;
}

static void m_compare(ga_pagealloc *pa, const model *m)
{
    for (size_t p = 0; p < M_PAGES; p++) {
        if (p / GA_CHUNK_PAGES == 4) continue;
        ga_pchunk *c = _ga_pa_chunk(pa, BASE_CHUNK + p / GA_CHUNK_PAGES);
        size_t i = p % GA_CHUNK_PAGES;
        if (pa_page_bit(c->alloc, i) != m->alloc[p] || pa_page_bit(c->scav, i) != m->scav[p])
            fail_msg("page %zu: alloc %d scav %d, model %d %d", p, pa_page_bit(c->alloc, i),
                     pa_page_bit(c->scav, i), m->alloc[p], m->scav[p]);
    }
    if (!_ga_pagealloc_is_valid(pa)) fail_msg("page allocator invalid");
}

static void m_take(model *m, size_t p, size_t n, size_t got_scav)
{
    size_t want_scav = 0;
    for (size_t q = p; q < p + n; q++) {
        want_scav += m->scav[q];
        m->alloc[q] = 1;
        m->scav[q] = 0;
    }
    if (got_scav != want_scav * PG)
        fail_msg("alloc of %zu pages at %zu: scav %zu, want %zu", n, p, got_scav, want_scav * PG);
    m->live_base[m->nlive] = m_addr(p);
    m->live_n[m->nlive++] = n;
}

static void run_random(uint64_t seed, int ops)
{
    static const size_t chunks[] = CH(0, 1, 2, 3, 5, 6);
    static const size_t sizes[] = {1, 1, 1, 2, 3, 5, 8, 13, 64, 65, 100, 511, 512, 513, 1024, 1600};
    static model mm;
    model *m = &mm;
    memset(m, 0, sizeof *m);
    ga_pagealloc *pa = pa_build(chunks, NULL, (prange[]){{0, 0, 1024}, {5, 100, 300}, END_RANGES});
    for (size_t p = 0; p < M_PAGES; p++) {
        m->alloc[p] = p / GA_CHUNK_PAGES == 4;
        m->scav[p] = p < 1024 || (p >= 5 * 512 + 100 && p < 5 * 512 + 400);
    }
    ga_pagecache c = {0, 0, 0};
    uint64_t c_cache = 0, c_scav = 0; /* the model's copy of the cache */
    uint64_t s = seed;
    for (int op = 0; op < ops; op++) {
        unsigned r = (unsigned)(rng_next(&s) % 100);
        if (r < 35 && m->nlive < 4000) { /* direct allocation */
            size_t n = sizes[rng_next(&s) % (sizeof sizes / sizeof sizes[0])], scav;
            size_t want = m_first_fit(m, n);
            uintptr_t got = _ga_pagealloc_alloc(pa, n, &scav);
            if (got != (want == SIZE_MAX ? 0 : m_addr(want)))
                fail_msg("seed %llu op %d: alloc(%zu) = %#lx, model first fit %zu",
                         (unsigned long long)seed, op, n, (unsigned long)got, want);
            if (got) m_take(m, want, n, scav);
        } else if (r < 60 && m->nlive) { /* free a live run */
            size_t k = (size_t)(rng_next(&s) % m->nlive), p = m_page(m->live_base[k]);
            _ga_pagealloc_free(pa, m->live_base[k], m->live_n[k]);
            for (size_t q = p; q < p + m->live_n[k]; q++)
                m->alloc[q] = 0;
            m->live_base[k] = m->live_base[--m->nlive];
            m->live_n[k] = m->live_n[m->nlive];
        } else if (r < 70 && c.cache == 0) { /* fill the cache */
            size_t first = m_first_fit(m, 1);
            c = _ga_pagealloc_alloc_to_cache(pa);
            if (first == SIZE_MAX) {
                assert_int_equal(c.base, 0);
                continue;
            }
            size_t b = first & ~(size_t)63;
            c_cache = c_scav = 0;
            for (size_t q = 0; q < 64; q++) {
                if (m->alloc[b + q]) continue;
                c_cache |= 1ull << q;
                c_scav |= (uint64_t)m->scav[b + q] << q;
                m->alloc[b + q] = 1;
                m->scav[b + q] = 0;
            }
            if (c.base != m_addr(b) || c.cache != c_cache || c.scav != c_scav)
                fail_msg("seed %llu op %d: cache fill base %#lx cache %#llx scav %#llx, model "
                         "page %zu %#llx %#llx",
                         (unsigned long long)seed, op, (unsigned long)c.base,
                         (unsigned long long)c.cache, (unsigned long long)c.scav, b,
                         (unsigned long long)c_cache, (unsigned long long)c_scav);
        } else if (r < 85 && c.cache != 0 && m->nlive < 4000) { /* allocate from the cache */
            unsigned n = 1 + (unsigned)(rng_next(&s) % 16);
            unsigned i = _ga_find_bit_range64(c_cache, n);
            size_t scav;
            uintptr_t got = _ga_pagecache_alloc(&c, n, &scav);
            if (got != (i == 64 ? 0 : c.base + i * PG))
                fail_msg("cache alloc(%u) = %#lx, model index %u", n, (unsigned long)got, i);
            if (!got) continue;
            uint64_t mask = (n == 64 ? ~0ull : (1ull << n) - 1) << i;
            assert_int_equal(scav, (size_t)__builtin_popcountll(c_scav & mask) * PG);
            c_cache &= ~mask;
            c_scav &= ~mask;
            m->live_base[m->nlive] = got;
            m->live_n[m->nlive++] = n;
        } else if (r < 90) { /* flush the cache */
            size_t b = c.base ? m_page(c.base) : 0;
            for (size_t q = 0; q < 64 && c.base; q++)
                if (c_cache >> q & 1) {
                    m->alloc[b + q] = 0;
                    m->scav[b + q] = (unsigned char)(c_scav >> q & 1);
                }
            _ga_pagecache_flush(&c, pa);
            c_cache = c_scav = 0;
        } else { /* forced scavenge */
            size_t want = (1 + (size_t)(rng_next(&s) % 64)) * PG, avail = 0;
            for (size_t p = 0; p < M_PAGES; p++)
                avail += !m->alloc[p] && !m->scav[p];
            m->released_pages = 0;
            size_t got = _ga_pagealloc_scavenge(pa, want, true, m_release, m);
            assert_int_equal(got, m->released_pages * PG);
            if (got < want && got != avail * PG)
                fail_msg("scavenge(%zu) released %zu with %zu pages available", want, got, avail);
        }
        m_compare(pa, m);
    }
    _ga_pagecache_flush(&c, pa);
    _ga_pagealloc_destroy(pa);
}

static void test_random_sequences(void **state)
{
    (void)state;
    for (uint64_t seed = 1; seed <= 12; seed++)
        run_random(seed, 400);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fill_fresh_chunk),
        cmocka_unit_test(test_fill_partial_block),
        cmocka_unit_test(test_flush_restores),
        cmocka_unit_test(test_fill_when_search_chunk_is_full),
        cmocka_unit_test(test_fill_empty_and_full),
        cmocka_unit_test(test_random_sequences),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
