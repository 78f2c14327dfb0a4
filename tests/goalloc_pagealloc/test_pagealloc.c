/* test_pagealloc.c - goalloc's radix-tree page allocator: table-driven first-fit cases with
 * exact addresses and scavenged byte counts, exhaustion, frees, round trips, growth, chunk
 * bitmap search and summaries against brute force, and the tree against the bitmaps.
 *
 * The cases restate, in our own words and numbers, what Go's page-allocator tests check
 * (GO_ALLOCATOR_SPEC.md 6.5). Every expected address below was worked out by hand from the
 * initial bitmaps; the brute-force references are independent of the code under test.
 */
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pa_testutil.h"

#define CH(...)                                                                                    \
    {                                                                                              \
        __VA_ARGS__, SIZE_MAX                                                                      \
    }

/* ---- Alloc: exact first-fit addresses and scavenged bytes ---- */

typedef struct alloc_step {
    size_t npages;
    int ok;        /* 0: the allocation must fail (return 0) */
    size_t ci, pi; /* expected address */
    size_t scav;   /* expected scavenged pages */
} alloc_step;

typedef struct alloc_case {
    const char *name;
    size_t chunks[9];
    prange alloc[6], scav[6];
    alloc_step steps[6];
    prange want_alloc[6], want_scav[6];
} alloc_case;

static const alloc_case alloc_cases[] = {
    {"1 page at a time, some scavenged",
     CH(0),
     {END_RANGES},
     {{0, 0, 1}, {0, 2, 1}, END_RANGES},
     {{1, 1, 0, 0, 1}, {1, 1, 0, 1, 0}, {1, 1, 0, 2, 1}, {1, 1, 0, 3, 0}},
     {{0, 0, 4}, END_RANGES},
     {END_RANGES}},
    {"last free page of three chunks, then full",
     CH(0, 1, 2),
     {{0, 0, 512}, {1, 0, 512}, {2, 0, 511}, END_RANGES},
     {{2, 511, 1}, END_RANGES},
     {{1, 1, 2, 511, 1}, {1, 0, 0, 0, 0}},
     {{0, 0, 1536}, END_RANGES},
     {END_RANGES}},
    {"next chunk 0xff chunks away",
     CH(0, 0xff),
     {{0, 0, 512}, END_RANGES},
     {END_RANGES},
     {{1, 1, 0xff, 0, 0}, {1, 1, 0xff, 1, 0}},
     {{0, 0, 512}, {0xff, 0, 2}, END_RANGES},
     {END_RANGES}},
    {"2 pages from a scavenged chunk",
     CH(0),
     {END_RANGES},
     {{0, 0, 512}, END_RANGES},
     {{2, 1, 0, 0, 2}, {2, 1, 0, 2, 2}, {2, 1, 0, 4, 2}},
     {{0, 0, 6}, END_RANGES},
     {{0, 6, 506}, END_RANGES}},
    {"2 pages straddling two chunks",
     CH(0, 1),
     {{0, 0, 511}, {1, 1, 511}, END_RANGES},
     {{0, 511, 1}, {1, 0, 1}, END_RANGES},
     {{2, 1, 0, 511, 2}, {1, 0, 0, 0, 0}},
     {{0, 0, 1024}, END_RANGES},
     {END_RANGES}},
    {"5 pages, partly scavenged",
     CH(0),
     {END_RANGES},
     {{0, 0, 8}, END_RANGES},
     {{5, 1, 0, 0, 5}, {5, 1, 0, 5, 3}, {5, 1, 0, 10, 0}},
     {{0, 0, 15}, END_RANGES},
     {END_RANGES}},
    {"first fit skips holes too small",
     CH(0),
     {{0, 0, 100}, {0, 103, 97}, {0, 210, 302}, END_RANGES},
     {{0, 205, 2}, END_RANGES},
     {{5, 1, 0, 200, 0}, {3, 1, 0, 100, 0}, {5, 1, 0, 205, 2}, {1, 0, 0, 0, 0}},
     {{0, 0, 512}, END_RANGES},
     {END_RANGES}},
    {"64 pages",
     CH(0),
     {END_RANGES},
     {{0, 0, 512}, END_RANGES},
     {{64, 1, 0, 0, 64}, {64, 1, 0, 64, 64}, {64, 1, 0, 128, 64}},
     {{0, 0, 192}, END_RANGES},
     {{0, 192, 320}, END_RANGES}},
    {"64 pages straddling two chunks",
     CH(0, 1),
     {{0, 0, 480}, {1, 32, 480}, END_RANGES},
     {{0, 480, 32}, END_RANGES},
     {{64, 1, 0, 480, 32}, {1, 0, 0, 0, 0}},
     {{0, 0, 1024}, END_RANGES},
     {END_RANGES}},
    {"65 pages",
     CH(0),
     {END_RANGES},
     {{0, 0, 100}, END_RANGES},
     {{65, 1, 0, 0, 65}, {65, 1, 0, 65, 35}, {65, 1, 0, 130, 0}},
     {{0, 0, 195}, END_RANGES},
     {END_RANGES}},
    {"65 pages straddling two chunks",
     CH(0, 1),
     {{0, 0, 479}, {1, 32, 480}, END_RANGES},
     {END_RANGES},
     {{65, 1, 0, 479, 0}, {1, 0, 0, 0, 0}},
     {{0, 0, 1024}, END_RANGES},
     {END_RANGES}},
    {"512 pages, whole chunks",
     CH(0, 1),
     {END_RANGES},
     {{1, 0, 512}, END_RANGES},
     {{512, 1, 0, 0, 0}, {512, 1, 1, 0, 512}, {1, 0, 0, 0, 0}},
     {{0, 0, 1024}, END_RANGES},
     {END_RANGES}},
    {"512 pages straddling two chunks",
     CH(0, 1),
     {{0, 0, 256}, {1, 256, 256}, END_RANGES},
     {{0, 256, 512}, END_RANGES},
     {{512, 1, 0, 256, 512}, {1, 0, 0, 0, 0}},
     {{0, 0, 1024}, END_RANGES},
     {END_RANGES}},
    {"1024 pages straddling three chunks",
     CH(0, 1, 2),
     {{0, 0, 256}, {2, 256, 256}, END_RANGES},
     {{1, 0, 512}, END_RANGES},
     {{1024, 1, 0, 256, 512}, {1, 0, 0, 0, 0}},
     {{0, 0, 1536}, END_RANGES},
     {END_RANGES}},
    {"1024 pages skip a shorter run",
     CH(0, 1, 2, 3),
     {{1, 0, 1}, END_RANGES},
     {END_RANGES},
     {{1024, 1, 1, 1, 0}, {512, 1, 0, 0, 0}, {1, 1, 3, 1, 0}},
     {{0, 0, 1536}, {3, 0, 2}, END_RANGES},
     {END_RANGES}},
    {"7x512+5 pages",
     CH(0, 1, 2, 3, 4, 5, 6, 7),
     {END_RANGES},
     {{0, 0, 4096}, END_RANGES},
     {{3589, 1, 0, 0, 3589}, {3589, 0, 0, 0, 0}, {507, 1, 7, 5, 507}},
     {{0, 0, 4096}, END_RANGES},
     {END_RANGES}},
    {"exhausted heap fails cleanly",
     CH(0),
     {{0, 0, 512}, END_RANGES},
     {END_RANGES},
     {{1, 0, 0, 0, 0}, {2, 0, 0, 0, 0}, {513, 0, 0, 0, 0}},
     {{0, 0, 512}, END_RANGES},
     {END_RANGES}},
    {"more than a lone chunk holds",
     CH(0),
     {END_RANGES},
     {END_RANGES},
     {{513, 0, 0, 0, 0}, {512, 1, 0, 0, 0}, {1, 0, 0, 0, 0}},
     {{0, 0, 512}, END_RANGES},
     {END_RANGES}},
    {"chunks 2^20 apart do not join",
     CH(0, 1 << 20),
     {{0, 0, 512}, END_RANGES},
     {END_RANGES},
     {{513, 0, 0, 0, 0}, {512, 1, 1 << 20, 0, 0}, {1, 0, 0, 0, 0}},
     {{0, 0, 512}, {1 << 20, 0, 512}, END_RANGES},
     {END_RANGES}},
    {"run across a summary-page boundary",
     CH(511, 512),
     {{511, 0, 511}, {512, 1, 511}, END_RANGES},
     {END_RANGES},
     {{2, 1, 511, 511, 0}, {1, 0, 0, 0, 0}},
     {{511, 0, 1024}, END_RANGES},
     {END_RANGES}},
};

static void test_alloc_cases(void **state)
{
    (void)state;
    for (size_t k = 0; k < sizeof alloc_cases / sizeof alloc_cases[0]; k++) {
        const alloc_case *tc = &alloc_cases[k];
        ga_pagealloc *pa = pa_build(tc->chunks, tc->alloc, tc->scav);
        for (const alloc_step *s = tc->steps; s->npages; s++) {
            size_t scav = 12345;
            uintptr_t got = _ga_pagealloc_alloc(pa, s->npages, &scav);
            uintptr_t want = s->ok ? pg_addr(s->ci, s->pi) : 0;
            if (got != want || scav != s->scav * PG)
                fail_msg("%s: alloc(%zu) = %#lx scav %zu, want %#lx scav %zu", tc->name, s->npages,
                         (unsigned long)got, scav, (unsigned long)want, s->scav * PG);
            if (!_ga_pagealloc_is_valid(pa))
                fail_msg("%s: invalid after alloc(%zu)", tc->name, s->npages);
        }
        ga_pagealloc *want = pa_build(tc->chunks, tc->want_alloc, tc->want_scav);
        pa_assert_same_bits(pa, want, tc->chunks);
        _ga_pagealloc_destroy(want);
        _ga_pagealloc_destroy(pa);
    }
}

/* ---- Exhaust: sequential until the next one fails, leaving a filled prefix ---- */

static void test_exhaust(void **state)
{
    (void)state;
    static const size_t sizes[] = {1, 2, 3, 4, 5, 8, 16, 64, 1024, 1025, 2048, 2049};
    static const size_t chunks[] = CH(0, 1, 2, 3);
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
        size_t n = sizes[k], fits = 4 * GA_CHUNK_PAGES / n;
        ga_pagealloc *pa = pa_build(chunks, NULL, NULL);
        for (size_t i = 0; i <= fits; i++) {
            uintptr_t got = _ga_pagealloc_alloc(pa, n, NULL);
            uintptr_t want = i < fits ? pg_addr(0, i * n) : 0;
            if (got != want)
                fail_msg("exhaust n=%zu: allocation %zu = %#lx, want %#lx", n, i,
                         (unsigned long)got, (unsigned long)want);
        }
        assert_true(_ga_pagealloc_is_valid(pa));
        prange want_alloc[] = {{0, 0, fits * n}, END_RANGES};
        ga_pagealloc *want = pa_build(chunks, fits ? want_alloc : NULL, NULL);
        pa_assert_same_bits(pa, want, chunks);
        _ga_pagealloc_destroy(want);
        _ga_pagealloc_destroy(pa);
    }
}

/* ---- Free ---- */

typedef struct free_case {
    const char *name;
    size_t chunks[4];
    prange frees[4];
    prange want_alloc[4];
} free_case;

static const free_case free_cases[] = {
    {"1 page at the start", CH(0), {{0, 0, 1}, END_RANGES}, {{0, 1, 511}, END_RANGES}},
    {"1 page in the middle",
     CH(0),
     {{0, 255, 1}, END_RANGES},
     {{0, 0, 255}, {0, 256, 256}, END_RANGES}},
    {"2 pages", CH(0), {{0, 2, 2}, END_RANGES}, {{0, 0, 2}, {0, 4, 508}, END_RANGES}},
    {"5 pages", CH(0), {{0, 500, 5}, END_RANGES}, {{0, 0, 500}, {0, 505, 7}, END_RANGES}},
    {"64 pages", CH(0), {{0, 64, 64}, END_RANGES}, {{0, 0, 64}, {0, 128, 384}, END_RANGES}},
    {"65 pages across words",
     CH(0),
     {{0, 63, 65}, END_RANGES},
     {{0, 0, 63}, {0, 128, 384}, END_RANGES}},
    {"a whole chunk", CH(0, 1), {{0, 0, 512}, END_RANGES}, {{1, 0, 512}, END_RANGES}},
    {"2 pages straddling chunks",
     CH(0, 1),
     {{0, 511, 2}, END_RANGES},
     {{0, 0, 511}, {1, 1, 511}, END_RANGES}},
    {"1024 pages straddling three chunks",
     CH(0, 1, 2),
     {{0, 256, 1024}, END_RANGES},
     {{0, 0, 256}, {2, 256, 256}, END_RANGES}},
    {"several runs",
     CH(0),
     {{0, 100, 64}, {0, 10, 5}, {0, 0, 1}},
     {{0, 1, 9}, {0, 15, 85}, {0, 164, 348}, END_RANGES}},
};

static void test_free_cases(void **state)
{
    (void)state;
    for (size_t k = 0; k < sizeof free_cases / sizeof free_cases[0]; k++) {
        const free_case *tc = &free_cases[k];
        size_t nchunks = 0;
        while (tc->chunks[nchunks] != SIZE_MAX)
            nchunks++;
        prange all[] = {{tc->chunks[0], 0, nchunks * GA_CHUNK_PAGES}, END_RANGES};
        ga_pagealloc *pa = pa_build(tc->chunks, all, NULL); /* chunks are contiguous here */
        uintptr_t lowest = UINTPTR_MAX;
        for (const prange *f = tc->frees; f->n; f++) {
            _ga_pagealloc_free(pa, pg_addr(f->ci, f->pi), f->n);
            if (pg_addr(f->ci, f->pi) < lowest) lowest = pg_addr(f->ci, f->pi);
            if (!_ga_pagealloc_is_valid(pa)) fail_msg("%s: invalid after a free", tc->name);
        }
        assert_int_equal(pa->search_addr, lowest);
        ga_pagealloc *want = pa_build(tc->chunks, tc->want_alloc, NULL);
        pa_assert_same_bits(pa, want, tc->chunks);
        /* Freed pages come back dirty (not scavenged), and the first one is reused first. */
        assert_int_equal(_ga_pagealloc_scavenged_bytes(pa), 0);
        size_t scav;
        assert_int_equal(_ga_pagealloc_alloc(pa, tc->frees[0].n, &scav),
                         pg_addr(tc->frees[0].ci, tc->frees[0].pi));
        assert_int_equal(scav, 0);
        _ga_pagealloc_destroy(want);
        _ga_pagealloc_destroy(pa);
    }
}

/* Freeing pages that are not allocated, or not in the heap, aborts with one line naming the
 * address. Run in a child process; the parent reads its stderr. */
static void expect_fatal_free(const size_t *chunks, uintptr_t base, size_t npages, const char *what)
{
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        dup2(fds[1], 2);
        ga_pagealloc *pa = pa_build(chunks, (prange[]){{0, 0, 10}, END_RANGES}, NULL);
        _ga_pagealloc_free(pa, base, npages);
        _exit(0); /* not reached when the free is caught */
    }
    close(fds[1]);
    char buf[512] = {0};
    size_t len = 0;
    ssize_t r;
    while (len < sizeof buf - 1 && (r = read(fds[0], buf + len, sizeof buf - 1 - len)) > 0)
        len += (size_t)r;
    close(fds[0]);
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT);
    char addr[32];
    snprintf(addr, sizeof addr, "%#lx", (unsigned long)base);
    if (!strstr(buf, what) || !strstr(buf, addr) || strchr(buf, '\n') != buf + strlen(buf) - 1)
        fail_msg("stderr was \"%s\", want one line with \"%s\" and %s", buf, what, addr);
}

static void test_bad_frees_are_fatal(void **state)
{
    (void)state;
    static const size_t chunks[] = CH(0);
    expect_fatal_free(chunks, pg_addr(0, 8), 4, "2 of them are not allocated");
    expect_fatal_free(chunks, pg_addr(7, 0), 1, "outside the heap");
}

static void test_alloc_free_round_trip(void **state)
{
    (void)state;
    static const size_t chunks[] = CH(0, 1, 2, 3, 4, 5, 6, 7);
    ga_pagealloc *pa = pa_build(chunks, NULL, NULL);
    static const size_t sizes[] = {8 * GA_CHUNK_PAGES, 1, 3 * GA_CHUNK_PAGES + 7, 64};
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
        for (int rep = 0; rep < 4; rep++) {
            uintptr_t a = _ga_pagealloc_alloc(pa, sizes[k], NULL);
            assert_int_equal(a, pg_addr(0, 0));
            assert_true(_ga_pagealloc_is_valid(pa));
            _ga_pagealloc_free(pa, a, sizes[k]);
            assert_true(_ga_pagealloc_is_valid(pa));
        }
    }
    _ga_pagealloc_destroy(pa);
}

/* ---- Grow ---- */

static void assert_ranges(ga_pagealloc *pa, const prange *want)
{
    size_t n = 0;
    for (; want[n].n; n++) {
        assert_true(n < pa->n_in_use);
        assert_int_equal(pa->in_use[n].base, pg_addr(want[n].ci, 0));
        assert_int_equal(pa->in_use[n].limit, pg_addr(want[n].ci + want[n].n, 0));
    }
    assert_int_equal(pa->n_in_use, n);
}

static void test_grow_ranges(void **state)
{
    (void)state;
    ga_pagealloc *pa = _ga_pagealloc_new();
    assert_non_null(pa);
    assert_int_equal(_ga_pagealloc_alloc(pa, 1, NULL), 0); /* nothing grown yet */
    /* Out of order, coalescing with both neighbours. */
    static const size_t order[] = {5, 1, 3, 2, 4};
    for (size_t i = 0; i < 5; i++)
        _ga_pagealloc_grow(pa, pg_addr(order[i], 0), GA_CHUNK_SIZE);
    assert_ranges(pa, (prange[]){{1, 0, 5}, END_RANGES});
    assert_int_equal(pa->search_addr, pg_addr(1, 0));
    /* Forty discontiguous chunks: the range list (16 at first) must grow twice. */
    for (size_t i = 0; i < 40; i++)
        _ga_pagealloc_grow(pa, pg_addr(100 + 2 * i, 0), GA_CHUNK_SIZE);
    assert_int_equal(pa->n_in_use, 41);
    assert_int_equal(pa->cap_in_use, 64);
    for (size_t i = 0; i < 40; i++) {
        assert_int_equal(pa->in_use[1 + i].base, pg_addr(100 + 2 * i, 0));
        assert_int_equal(pa->in_use[1 + i].limit, pg_addr(101 + 2 * i, 0));
    }
    for (size_t i = 0; i < 39; i++)
        _ga_pagealloc_grow(pa, pg_addr(101 + 2 * i, 0), GA_CHUNK_SIZE);
    assert_ranges(pa, (prange[]){{1, 0, 5}, {100, 0, 79}, END_RANGES});
    /* A multi-chunk grow far away (2^20 chunks = 4 TiB). */
    _ga_pagealloc_grow(pa, pg_addr(1 << 20, 0), 3 * GA_CHUNK_SIZE);
    assert_ranges(pa, (prange[]){{1, 0, 5}, {100, 0, 79}, {1 << 20, 0, 3}, END_RANGES});
    assert_true(_ga_pagealloc_is_valid(pa));
    /* Fresh memory is free and scavenged. */
    assert_int_equal(_ga_pagealloc_scavenged_bytes(pa), (5 + 79 + 3) * GA_CHUNK_SIZE);
    _ga_pagealloc_destroy(pa);
}

static void test_grow_then_alloc(void **state)
{
    (void)state;
    ga_pagealloc *pa = _ga_pagealloc_new();
    _ga_pagealloc_grow(pa, pg_addr(0, 0), GA_CHUNK_SIZE);
    size_t scav;
    assert_int_equal(_ga_pagealloc_alloc(pa, 512, &scav), pg_addr(0, 0));
    assert_int_equal(scav, GA_CHUNK_SIZE);
    assert_int_equal(_ga_pagealloc_alloc(pa, 1, NULL), 0);
    assert_int_equal(pa->search_addr, GA_PA_END_ADDR); /* heap full */
    assert_true(_ga_pagealloc_is_valid(pa));
    /* Growing far above a full heap moves the search address to the new memory. */
    _ga_pagealloc_grow(pa, pg_addr(1 << 20, 0), 2 * GA_CHUNK_SIZE);
    assert_int_equal(pa->search_addr, pg_addr(1 << 20, 0));
    assert_int_equal(_ga_pagealloc_alloc(pa, 600, &scav), pg_addr(1 << 20, 0));
    assert_int_equal(scav, 600 * PG);
    /* Growing below lowers it; the lower chunk is used first. */
    _ga_pagealloc_grow(pa, pg_addr(-(size_t)8, 0), GA_CHUNK_SIZE);
    assert_int_equal(_ga_pagealloc_alloc(pa, 2, NULL), pg_addr(-(size_t)8, 0));
    assert_int_equal(_ga_pagealloc_alloc(pa, 600, NULL), 0); /* 510 + 424 free, not joined */
    assert_int_equal(_ga_pagealloc_alloc(pa, 424, NULL), pg_addr(-(size_t)8, 2));
    assert_int_equal(_ga_pagealloc_alloc(pa, 424, NULL), pg_addr((1 << 20) + 1, 88));
    assert_int_equal(_ga_pagealloc_alloc(pa, 87, NULL), 0);
    assert_int_equal(_ga_pagealloc_alloc(pa, 86, NULL), pg_addr(-(size_t)8, 426));
    assert_int_equal(_ga_pagealloc_alloc(pa, 1, NULL), 0);
    assert_int_equal(pa->search_addr, GA_PA_END_ADDR);
    assert_true(_ga_pagealloc_is_valid(pa));
    _ga_pagealloc_destroy(pa);
}

/* Regression (Go #40191): a new search address derived from a coarse summary entry that
 * starts in ungrown memory must be moved up to grown memory. Chunk 0x1005 sits 5 chunks into
 * a root entry whose start is not grown; its one free page is too small for 2 pages, so the
 * hint comes from that entry's base while the run is found far away. */
static void test_search_addr_never_in_a_gap(void **state)
{
    (void)state;
    static const size_t chunks[] = CH(0, 0x1005, (1 << 20) + 3);
    ga_pagealloc *pa =
        pa_build(chunks, (prange[]){{0, 0, 512}, {0x1005, 0, 511}, END_RANGES}, NULL);
    pa->search_addr = pg_addr(0, 0); /* stale but legal */
    assert_int_equal(_ga_pagealloc_alloc(pa, 2, NULL), pg_addr((1 << 20) + 3, 0));
    assert_int_equal(pa->search_addr, pg_addr(0x1005, 0));
    assert_true(_ga_pagealloc_is_valid(pa));
    assert_int_equal(_ga_pagealloc_alloc(pa, 1, NULL), pg_addr(0x1005, 511));
    assert_int_equal(_ga_pagealloc_alloc(pa, 1, NULL), pg_addr((1 << 20) + 3, 2));
    assert_true(_ga_pagealloc_is_valid(pa));
    _ga_pagealloc_destroy(pa);
}

/* Summary memory is committed page by page where the heap grows, and counted once. */
static void test_summary_bytes(void **state)
{
    (void)state;
    const size_t root = sizeof(ga_psum) << GA_PA_L0_BITS, page = GA_OS_PAGE_SIZE;
    ga_pagealloc *pa = _ga_pagealloc_new();
    assert_int_equal(_ga_pagealloc_summary_bytes(pa), root);
    _ga_pagealloc_grow(pa, pg_addr(0, 0), GA_CHUNK_SIZE); /* one page at each level 1-4 */
    assert_int_equal(_ga_pagealloc_summary_bytes(pa), root + 4 * page);
    _ga_pagealloc_grow(pa, pg_addr(1, 0), 2 * GA_CHUNK_SIZE); /* same pages */
    assert_int_equal(_ga_pagealloc_summary_bytes(pa), root + 4 * page);
    _ga_pagealloc_grow(pa, pg_addr(511, 0), 2 * GA_CHUNK_SIZE); /* a second leaf page */
    assert_int_equal(_ga_pagealloc_summary_bytes(pa), root + 5 * page);
    _ga_pagealloc_grow(pa, pg_addr(1 << 20, 0), GA_CHUNK_SIZE); /* far: new pages at 1-4 */
    assert_int_equal(_ga_pagealloc_summary_bytes(pa), root + 9 * page);
    assert_true(_ga_pagealloc_is_valid(pa));
    _ga_pagealloc_destroy(pa);
}

/* Many instances: destroy must give back everything (address space included). */
static void test_many_instances(void **state)
{
    (void)state;
    size_t meta = _ga_os_meta_bytes();
    for (int i = 0; i < 200; i++) {
        ga_pagealloc *pa = _ga_pagealloc_new();
        assert_non_null(pa);
        _ga_pagealloc_grow(pa, pg_addr((size_t)i * 4096, 0), GA_CHUNK_SIZE);
        assert_int_equal(_ga_pagealloc_alloc(pa, 3, NULL), pg_addr((size_t)i * 4096, 0));
        _ga_pagealloc_destroy(pa);
    }
    assert_int_equal(_ga_os_meta_bytes(), meta);
}

/* ---- One chunk's bitmap: summarize, find, findBitRange64 against brute force ---- */

static void brute_summary(const uint64_t *b, size_t *start, size_t *max, size_t *end)
{
    size_t run = 0;
    *start = *max = 0;
    int in_prefix = 1;
    for (size_t i = 0; i < GA_CHUNK_PAGES; i++) {
        if (pa_page_bit(b, i)) {
            run = 0;
            in_prefix = 0;
            continue;
        }
        run++;
        if (in_prefix) *start = run;
        if (run > *max) *max = run;
    }
    *end = run;
}

static void check_summarize(const uint64_t *b)
{
    size_t s, m, e;
    brute_summary(b, &s, &m, &e);
    ga_psum got = _ga_palloc_summarize(b);
    if (_ga_psum_start(got) != s || _ga_psum_max(got) != m || _ga_psum_end(got) != e)
        fail_msg("summarize: got (%zu,%zu,%zu), want (%zu,%zu,%zu); words %#llx %#llx %#llx ...",
                 _ga_psum_start(got), _ga_psum_max(got), _ga_psum_end(got), s, m, e,
                 (unsigned long long)b[0], (unsigned long long)b[1], (unsigned long long)b[2]);
}

/* Random bitmaps of varied texture: dense, sparse, long runs, single-word holes. */
static void random_bitmap(uint64_t *s, uint64_t *b)
{
    int kind = (int)(rng_next(s) % 5);
    for (int w = 0; w < GA_PA_CHUNK_WORDS; w++) {
        uint64_t x = rng_next(s);
        switch (kind) {
        case 0:
            b[w] = x;
            break;
        case 1:
            b[w] = x | rng_next(s) | rng_next(s);
            break; /* dense */
        case 2:
            b[w] = x & rng_next(s) & rng_next(s);
            break; /* sparse */
        case 3:
            b[w] = rng_next(s) % 3 == 0 ? 0 : ~0ull;
            break; /* whole words */
        default:
            b[w] = ~0ull ^ (((1ull << (x % 63)) - 1) << (rng_next(s) % 8));
            break;
        }
    }
}

static void test_summarize(void **state)
{
    (void)state;
    uint64_t b[GA_PA_CHUNK_WORDS];
    memset(b, 0, sizeof b);
    assert_int_equal(_ga_palloc_summarize(b), _ga_psum_pack(512, 512, 512));
    memset(b, 0xff, sizeof b);
    assert_int_equal(_ga_palloc_summarize(b), 0);
    memset(b, 0, sizeof b);
    b[0] = 1;
    assert_int_equal(_ga_palloc_summarize(b), _ga_psum_pack(0, 511, 511));
    b[0] = 0, b[7] = 1ull << 63;
    assert_int_equal(_ga_palloc_summarize(b), _ga_psum_pack(511, 511, 0));
    memset(b, 0xff, sizeof b);
    b[3] = ~(0xffull << 20); /* 8 free pages inside one word */
    assert_int_equal(_ga_palloc_summarize(b), _ga_psum_pack(0, 8, 0));
    b[3] = ~(((1ull << 62) - 1) << 1); /* 62: the longest run inside one word */
    assert_int_equal(_ga_palloc_summarize(b), _ga_psum_pack(0, 62, 0));
    b[3] = 0x8000000000000001ull, b[4] = 0x8001000100010000ull; /* runs crossing a boundary */
    check_summarize(b);
    uint64_t s = 42;
    for (int i = 0; i < 20000; i++) {
        random_bitmap(&s, b);
        check_summarize(b);
    }
}

static void test_psum_packing(void **state)
{
    (void)state;
    ga_psum all = _ga_psum_pack(GA_PSUM_MAX, GA_PSUM_MAX, GA_PSUM_MAX);
    assert_int_equal(all, GA_PSUM_ALL_FREE);
    assert_int_equal(_ga_psum_start(all), GA_PSUM_MAX);
    assert_int_equal(_ga_psum_max(all), GA_PSUM_MAX);
    assert_int_equal(_ga_psum_end(all), GA_PSUM_MAX);
    ga_psum p = _ga_psum_pack(3, GA_PSUM_MAX - 1, 7);
    assert_int_equal(_ga_psum_start(p), 3);
    assert_int_equal(_ga_psum_max(p), GA_PSUM_MAX - 1);
    assert_int_equal(_ga_psum_end(p), 7);
    assert_int_equal(p >> 63, 0);
}

static void test_find_bit_range64(void **state)
{
    (void)state;
    assert_int_equal(_ga_find_bit_range64(0, 1), 64);
    assert_int_equal(_ga_find_bit_range64(~0ull, 64), 0);
    assert_int_equal(_ga_find_bit_range64(~0ull >> 1, 64), 64);
    assert_int_equal(_ga_find_bit_range64(0xf0f0ull, 4), 4);
    assert_int_equal(_ga_find_bit_range64(0xf0f0ull, 5), 64);
    assert_int_equal(_ga_find_bit_range64(0x7ull << 61 | 0x3, 3), 61);
    uint64_t s = 7;
    for (int i = 0; i < 20000; i++) {
        uint64_t c = rng_next(&s) | rng_next(&s);
        if (i % 3 == 0) c |= c >> 1 | c >> 2;
        unsigned n = 1 + (unsigned)(rng_next(&s) % 64), want = 64;
        for (unsigned j = 0; j + n <= 64 && want == 64; j++) {
            uint64_t m = (n == 64 ? ~0ull : (1ull << n) - 1) << j;
            if ((c & m) == m) want = j;
        }
        if (_ga_find_bit_range64(c, n) != want)
            fail_msg("findBitRange64(%#llx, %u) = %u, want %u", (unsigned long long)c, n,
                     _ga_find_bit_range64(c, n), want);
    }
}

static void test_chunk_find(void **state)
{
    (void)state;
    uint64_t b[GA_PA_CHUNK_WORDS], s = 99;
    for (int i = 0; i < 20000; i++) {
        random_bitmap(&s, b);
        size_t n = 1 + (size_t)(rng_next(&s) % (i % 4 == 0 ? 520 : 70));
        size_t from = i % 2 ? (size_t)(rng_next(&s) % 512) : 0;
        size_t want = GA_PA_NOT_FOUND, want_first = 512, run = 0;
        for (size_t p = from; p < GA_CHUNK_PAGES; p++) {
            if (pa_page_bit(b, p)) {
                run = 0;
                continue;
            }
            if (want_first == 512) want_first = p;
            if (++run == n && want == GA_PA_NOT_FOUND) want = p + 1 - n;
        }
        size_t first = 777, got = _ga_palloc_find(b, n, from, &first);
        if (got != want || first != want_first)
            fail_msg("find(n=%zu, from=%zu) = %zu first %zu, want %zu first %zu", n, from, got,
                     first, want, want_first);
    }
}

/* ---- The tree against brute force over the bitmaps ---- */

/* (start, max, end) of free pages over `nchunks` chunks from chunk index ci (absolute);
 * chunks never grown count as allocated. */
static void brute_entry(ga_pagealloc *pa, size_t ci, size_t nchunks, size_t *st, size_t *mx,
                        size_t *en)
{
    size_t run = 0;
    int prefix = 1;
    *st = *mx = 0;
    for (size_t c = ci; c < ci + nchunks; c++) {
        ga_pchunk *ch = _ga_pa_chunk(pa, c);
        if (!ch || !(ch->flags & GA_PCHUNK_GROWN)) {
            run = 0;
            prefix = 0;
            continue;
        }
        for (size_t p = 0; p < GA_CHUNK_PAGES; p++) {
            if (pa_page_bit(ch->alloc, p)) {
                run = 0;
                prefix = 0;
                continue;
            }
            run++;
            if (prefix) *st = run;
            if (run > *mx) *mx = run;
        }
    }
    *en = run;
}

static void check_tree(ga_pagealloc *pa, const size_t *chunks)
{
    for (int l = 0; l < GA_PA_LEVELS; l++) {
        unsigned shift = _ga_pa_level_shift(l);
        size_t per = (size_t)1 << (shift - GA_PA_CHUNK_SHIFT);
        for (const size_t *c = chunks; *c != SIZE_MAX; c++) {
            size_t e = (BASE_CHUNK + *c) >> (shift - GA_PA_CHUNK_SHIFT), st, mx, en;
            brute_entry(pa, e * per, per, &st, &mx, &en);
            ga_psum got = pa->summary[l][e];
            if (_ga_psum_start(got) != st || _ga_psum_max(got) != mx || _ga_psum_end(got) != en)
                fail_msg("level %d entry %zu: (%zu,%zu,%zu), bitmaps say (%zu,%zu,%zu)", l, e,
                         _ga_psum_start(got), _ga_psum_max(got), _ga_psum_end(got), st, mx, en);
        }
    }
}

static void test_tree_vs_brute_force(void **state)
{
    (void)state;
    /* Chunks in one leaf block, across level-3/2 blocks, and 2^20 away. */
    static const size_t chunks[] = CH(0, 1, 2, 3, 7, 8, 9, 63, 64, 65, 511, 512, 1 << 20);
    uint64_t s = 5;
    ga_pagealloc *pa = pa_build(chunks, NULL, NULL);
    check_tree(pa, chunks);
    for (int i = 0; i < 300; i++) {
        size_t c = chunks[rng_next(&s) % 13];
        size_t pi = (size_t)(rng_next(&s) % 512), n = 1 + (size_t)(rng_next(&s) % 700);
        /* stay inside grown memory: clamp at the end of a run of grown chunks */
        size_t room = GA_CHUNK_PAGES - pi;
        for (size_t k = 1; k < 3 && _ga_pa_chunk(pa, BASE_CHUNK + c + k) &&
                           (_ga_pa_chunk(pa, BASE_CHUNK + c + k)->flags & GA_PCHUNK_GROWN);
             k++)
            room += GA_CHUNK_PAGES;
        if (n > room) n = room;
        _ga_pagealloc_set_range_for_test(pa, pg_addr(c, pi), n, rng_next(&s) % 3 != 0, false);
        check_tree(pa, chunks);
        assert_true(_ga_pagealloc_is_valid(pa));
    }
    /* The checker catches a corrupted summary. */
    pa->summary[2][(BASE_CHUNK + 64) >> 6] ^= 1;
    assert_false(_ga_pagealloc_is_valid(pa));
    _ga_pagealloc_destroy(pa);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_alloc_cases),
        cmocka_unit_test(test_exhaust),
        cmocka_unit_test(test_free_cases),
        cmocka_unit_test(test_bad_frees_are_fatal),
        cmocka_unit_test(test_alloc_free_round_trip),
        cmocka_unit_test(test_grow_ranges),
        cmocka_unit_test(test_grow_then_alloc),
        cmocka_unit_test(test_search_addr_never_in_a_gap),
        cmocka_unit_test(test_summary_bytes),
        cmocka_unit_test(test_many_instances),
        cmocka_unit_test(test_psum_packing),
        cmocka_unit_test(test_summarize),
        cmocka_unit_test(test_find_bit_range64),
        cmocka_unit_test(test_chunk_find),
        cmocka_unit_test(test_tree_vs_brute_force),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
