/* test_scavenge.c - the page-allocator side of goalloc's scavenger: highest addresses first,
 * free 2 MiB huge pages released whole, dense chunks skipped (now or in the previous
 * generation) unless forced, exact scavenged bits, and released bytes counted once when the
 * pages are allocated again. Expected runs were worked out by hand from the bitmaps.
 */
#include <errno.h>
#include <pthread.h>
#include <sys/mman.h>

#include "pa_testutil.h"

#define CH(...)                                                                                    \
    {                                                                                              \
        __VA_ARGS__, SIZE_MAX                                                                      \
    }

typedef struct rec {
    ga_pagealloc *pa;
    uintptr_t base[16];
    size_t pages[16];
    int n;
} rec;

/* Records each release and checks the run is marked allocated while the caller releases it. */
static void record(void *arg, uintptr_t base, size_t bytes)
{
    rec *r = arg;
    assert_true(r->n < 16);
    r->base[r->n] = base;
    r->pages[r->n++] = bytes / PG;
    for (uintptr_t a = base; a < base + bytes; a += PG) {
        ga_pchunk *c = _ga_pa_chunk(r->pa, a >> GA_PA_CHUNK_SHIFT);
        size_t i = (a >> GA_PAGE_SHIFT) & (GA_CHUNK_PAGES - 1);
        if (!pa_page_bit(c->alloc, i))
            fail_msg("page %#lx free during its release", (unsigned long)a);
    }
}

/* One scavenge call that must release exactly one run (ci, pi, pages). */
static void expect_one(rec *r, size_t nbytes, bool force, size_t ci, size_t pi, size_t pages)
{
    r->n = 0;
    size_t got = _ga_pagealloc_scavenge(r->pa, nbytes, force, record, r);
    if (r->n != 1 || r->base[0] != pg_addr(ci, pi) || r->pages[0] != pages || got != pages * PG)
        fail_msg("scavenge(%zu): %d runs, first %#lx x %zu, returned %zu; want %#lx x %zu", nbytes,
                 r->n, r->n ? (unsigned long)r->base[0] : 0ul, r->n ? r->pages[0] : 0, got,
                 (unsigned long)pg_addr(ci, pi), pages);
    assert_true(_ga_pagealloc_is_valid(r->pa));
}

static void test_highest_first_whole_huge_pages(void **state)
{
    (void)state;
    static const size_t chunks[] = CH(0, 1);
    rec r = {.pa = pa_build(chunks, NULL, NULL)};
    assert_int_equal(_ga_pagealloc_scavenged_bytes(r.pa), 0);
    /* 64 KiB asked; the run crosses into a free huge page, so the whole 2 MiB goes. */
    expect_one(&r, 64 << 10, true, 1, 256, 256);
    expect_one(&r, 64 << 10, true, 1, 0, 256);
    expect_one(&r, 64 << 10, true, 0, 256, 256);
    expect_one(&r, 64 << 10, true, 0, 0, 256);
    r.n = 0;
    assert_int_equal(_ga_pagealloc_scavenge(r.pa, 64 << 10, true, record, &r), 0);
    assert_int_equal(r.n, 0);
    assert_int_equal(_ga_pagealloc_scavenged_bytes(r.pa), 2 * GA_CHUNK_SIZE);
    /* Scavenged bits are set on every page, and a new allocation reports them. */
    for (int c = 0; c < 2; c++)
        for (int w = 0; w < GA_PA_CHUNK_WORDS; w++)
            assert_int_equal(_ga_pa_chunk(r.pa, BASE_CHUNK + (size_t)c)->scav[w], ~0ull);
    size_t scav;
    assert_int_equal(_ga_pagealloc_alloc(r.pa, 700, &scav), pg_addr(0, 0));
    assert_int_equal(scav, 700 * PG);
    _ga_pagealloc_destroy(r.pa);
}

static void test_partial_huge_pages_are_not_widened(void **state)
{
    (void)state;
    static const size_t chunks[] = CH(0);
    rec r = {.pa = pa_build(chunks, (prange[]){{0, 300, 1}, END_RANGES}, NULL)};
    /* Free runs [0,300) and [301,512): the upper huge page is not wholly free. */
    expect_one(&r, 8 * PG, true, 0, 504, 8);
    expect_one(&r, 203 * PG, true, 0, 301, 203); /* the rest of [301,504) */
    expect_one(&r, 8 * PG, true, 0, 292, 8);     /* does not cross a huge-page boundary */
    /* [252,292) crosses into the upper huge page and the lower one [0,256) is wholly free. */
    expect_one(&r, 40 * PG, true, 0, 0, 292);
    assert_int_equal(_ga_pagealloc_scavenged_bytes(r.pa), 511 * PG);
    ga_pagealloc *want = pa_build(chunks, (prange[]){{0, 300, 1}, END_RANGES},
                                  (prange[]){{0, 0, 300}, {0, 301, 211}, END_RANGES});
    pa_assert_same_bits(r.pa, want, chunks);
    _ga_pagealloc_destroy(want);
    _ga_pagealloc_destroy(r.pa);
}

static void test_runs_only_where_free_and_unscavenged(void **state)
{
    (void)state;
    static const size_t chunks[] = CH(0);
    /* Free and dirty: [10,20) and [40,45); everything else allocated or already released. */
    rec r = {.pa = pa_build(chunks, (prange[]){{0, 0, 10}, {0, 20, 10}, {0, 45, 467}, END_RANGES},
                            (prange[]){{0, 30, 10}, END_RANGES})};
    r.n = 0;
    size_t got = _ga_pagealloc_scavenge(r.pa, 100 * PG, true, record, &r);
    assert_int_equal(got, 15 * PG); /* less than asked: nothing else to release */
    assert_int_equal(r.n, 2);
    assert_int_equal(r.base[0], pg_addr(0, 40));
    assert_int_equal(r.pages[0], 5);
    assert_int_equal(r.base[1], pg_addr(0, 10));
    assert_int_equal(r.pages[1], 10);
    assert_int_equal(_ga_pagealloc_scavenged_bytes(r.pa), 25 * PG);
    assert_true(_ga_pagealloc_is_valid(r.pa));
    _ga_pagealloc_destroy(r.pa);
}

static void test_dense_chunks_skipped_unless_forced(void **state)
{
    (void)state;
    static const size_t chunks[] = CH(0, 1);
    rec r = {.pa = pa_build(chunks, (prange[]){{0, 0, 100}, {1, 0, 500}, END_RANGES}, NULL)};
    /* The background cursor only sees frees of a finished generation. */
    assert_int_equal(_ga_pagealloc_scavenge(r.pa, 8 * PG, false, record, &r), 0);
    _ga_pagealloc_next_gen(r.pa);
    /* Chunk 1 has 500 pages in use (>= 496): background goes to chunk 0. */
    expect_one(&r, 8 * PG, false, 0, 256, 256);
    /* Forced ignores density and starts at the top. */
    expect_one(&r, 8 * PG, true, 1, 504, 8);
    expect_one(&r, 4 * PG, true, 1, 500, 4);
    expect_one(&r, 4 * PG, true, 0, 252, 4); /* [100,256) is not a whole huge page */
    _ga_pagealloc_destroy(r.pa);
}

static void test_dense_in_previous_generation(void **state)
{
    (void)state;
    static const size_t chunks[] = CH(0);
    rec r = {.pa = pa_build(chunks, (prange[]){{0, 0, 500}, END_RANGES}, NULL)};
    _ga_pagealloc_next_gen(r.pa);
    _ga_pagealloc_free(r.pa, pg_addr(0, 0), 300); /* 200 in use now, 500 last generation */
    assert_int_equal(_ga_pagealloc_scavenge(r.pa, 8 * PG, false, record, &r), 0);
    _ga_pagealloc_next_gen(r.pa); /* a quiet generation later it is sparse */
    expect_one(&r, 8 * PG, false, 0, 504, 8);
    /* Background continues downward through the same chunk. */
    expect_one(&r, 4 * PG, false, 0, 500, 4);
    expect_one(&r, 8 * PG, false, 0, 292, 8);
    /* ... and on downward, one run per call when the run is long enough. */
    r.n = 0;
    assert_int_equal(_ga_pagealloc_scavenge(r.pa, 8 * PG, false, record, &r), 8 * PG);
    assert_int_equal(r.n, 1);
    assert_int_equal(r.base[0], pg_addr(0, 284));
    _ga_pagealloc_destroy(r.pa);
}

static void test_released_bytes_counted_once(void **state)
{
    (void)state;
    static const size_t chunks[] = CH(0);
    rec r = {.pa = pa_build(chunks, NULL, NULL)};
    size_t released = 0, reused = 0, scav;
    expect_one(&r, 8 * PG, true, 0, 256, 256);
    released += 256 * PG;
    /* Taking released pages back reports them exactly once. */
    assert_int_equal(_ga_pagealloc_alloc(r.pa, 300, &scav), pg_addr(0, 0));
    assert_int_equal(scav, 44 * PG);
    reused += scav;
    assert_int_equal(_ga_pagealloc_scavenged_bytes(r.pa), released - reused);
    /* In-use pages are never released again. */
    assert_int_equal(_ga_pagealloc_scavenge(r.pa, 8 * PG, true, record, &r), 0);
    /* Freed pages are dirty again and become candidates (the chunk was marked empty). */
    _ga_pagealloc_free(r.pa, pg_addr(0, 0), 300);
    expect_one(&r, 1 * PG, true, 0, 299, 1);
    released += PG;
    assert_int_equal(_ga_pagealloc_alloc(r.pa, 512, &scav), pg_addr(0, 0));
    reused += scav;
    assert_int_equal(reused, released);
    assert_int_equal(_ga_pagealloc_scavenged_bytes(r.pa), 0);
    assert_true(_ga_pagealloc_is_valid(r.pa));
    _ga_pagealloc_destroy(r.pa);
}

/* Resident 4 KiB pages in [p, p + size), from mincore. */
static size_t resident_pages(void *p, size_t size)
{
    static unsigned char vec[2 * GA_CHUNK_SIZE / 4096];
    assert_true(size / 4096 <= sizeof vec);
    assert_int_equal(mincore(p, size, vec), 0);
    size_t n = 0;
    for (size_t i = 0; i < size / 4096; i++)
        n += vec[i] & 1;
    return n;
}

/* Real memory: everything free is released with madvise, the caller's lock is held again
 * afterwards, and in-use pages stay resident. */
static void test_release_to_os(void **state)
{
    (void)state;
    size_t size = 2 * GA_CHUNK_SIZE, freed = 612 * PG;
    char *mem = _ga_os_reserve(size, GA_CHUNK_SIZE, NULL);
    assert_non_null(mem);
    assert_int_equal(_ga_os_commit(mem, size), 0);
    ga_pagealloc *pa = _ga_pagealloc_new();
    _ga_pagealloc_grow(pa, (uintptr_t)mem, size);
    size_t scav;
    assert_int_equal(_ga_pagealloc_alloc(pa, 1024, &scav), (uintptr_t)mem);
    assert_int_equal(scav, size);
    memset(mem, 1, size);
    assert_int_equal(resident_pages(mem, size), size / 4096);
    _ga_pagealloc_free(pa, (uintptr_t)mem, freed / PG);
    pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
    pthread_mutex_lock(&lock);
    size_t got = _ga_pagealloc_scavenge(pa, SIZE_MAX, true, _ga_scavenge_release_os, &lock);
    assert_int_equal(pthread_mutex_trylock(&lock), EBUSY);
    pthread_mutex_unlock(&lock);
    assert_int_equal(got, freed);
    assert_int_equal(_ga_pagealloc_scavenged_bytes(pa), freed);
    assert_int_equal(resident_pages(mem, freed), 0);
    assert_int_equal(resident_pages(mem + freed, size - freed), (size - freed) / 4096);
    if (_ga_os_released_pages_are_zero()) assert_int_equal(mem[0], 0);
    assert_int_equal(mem[freed], 1);
    assert_true(_ga_pagealloc_is_valid(pa));
    _ga_pagealloc_destroy(pa);
    _ga_os_release(mem, size);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_highest_first_whole_huge_pages),
        cmocka_unit_test(test_partial_huge_pages_are_not_widened),
        cmocka_unit_test(test_runs_only_where_free_and_unscavenged),
        cmocka_unit_test(test_dense_chunks_skipped_unless_forced),
        cmocka_unit_test(test_dense_in_previous_generation),
        cmocka_unit_test(test_released_bytes_counted_once),
        cmocka_unit_test(test_release_to_os),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
