/* test_fresh.c - fresh heap memory is not zeroed again (spec 5.5): a 64 MiB calloc on a fresh
 * heap leaves its pages untouched (mincore), and reused memory is zeroed (needzero). Runs in
 * its own process so that the heap is fresh when the first test starts. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>

#include "ga_internal.h"

/* Sanitizer runtimes own parts of the address space and limit tracked locks. */
#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
#define UNDER_SANITIZER 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer) || __has_feature(address_sanitizer)
#define UNDER_SANITIZER 1
#endif
#endif
#ifndef UNDER_SANITIZER
#define UNDER_SANITIZER 0
#endif

#define BIG ((size_t)64 << 20)

static size_t resident_pages(void *p, size_t size)
{
    size_t ps = (size_t)sysconf(_SC_PAGESIZE);
    size_t n = (size + ps - 1) / ps;
    unsigned char *vec = calloc(n, 1); /* libc's: goalloc is not the process malloc here */
    assert_non_null(vec);
    assert_int_equal(mincore(p, size, vec), 0);
    size_t r = 0;
    for (size_t i = 0; i < n; i++)
        r += vec[i] & 1;
    free(vec);
    return r;
}

static void test_calloc_fresh_untouched(void **state)
{
    (void)state;
    unsigned char *p = ga_calloc(1, BIG);
    assert_non_null(p);
    assert_int_equal((uintptr_t)p % GA_PAGE_SIZE, 0);
    /* The heap starts at Go's first hint, 0xc000000000, when the kernel grants it. */
    if (!UNDER_SANITIZER) /* their shadow memory may cover the hints */
        assert_true((uintptr_t)p >= 0xc000000000 &&
                    (uintptr_t)p < 0xc000000000 + ((uintptr_t)64 << 40));
    assert_true(ga_usable_size(p) >= BIG);
    assert_int_equal(resident_pages(p, BIG), 0);
    ga_memstats ms;
    assert_int_equal(ga_read_memstats(&ms), 0);
    /* The heap grew by exactly the request (whole chunks) and the span took every page, all
     * of them fresh (released): nothing idle, nothing released left. */
    assert_true(ms.HeapInuse == BIG);
    assert_true(ms.HeapSys == BIG);
    assert_true(ms.HeapReleased == 0 && ms.HeapIdle == 0);
    assert_true(ms.HeapAlloc == BIG);
    /* Now write a pattern and give it back: the next calloc over these pages must zero them. */
    memset(p, 0xa5, BIG);
    ga_free(p);
    unsigned char *q = ga_calloc(BIG, 1);
    assert_non_null(q);
    for (size_t i = 0; i < BIG; i += 4093)
        assert_int_equal(q[i], 0);
    assert_int_equal(q[BIG - 1], 0);
    ga_free(q);
    assert_true(_ga_mheap_is_valid());
}

static void test_small_calloc_reuse_zeroed(void **state)
{
    (void)state;
    enum { N = 3000 };
    static unsigned char *v[N];
    for (int i = 0; i < N; i++) {
        v[i] = ga_calloc(1, 200);
        assert_non_null(v[i]);
        for (int k = 0; k < 200; k++)
            assert_int_equal(v[i][k], 0);
        memset(v[i], 0xff, 200);
    }
    for (int i = 0; i < N; i++)
        ga_free(v[i]);
    ga_thread_flush();
    for (int i = 0; i < N; i++) {
        v[i] = ga_calloc(200, 1);
        for (int k = 0; k < 200; k++)
            assert_int_equal(v[i][k], 0);
    }
    for (int i = 0; i < N; i++)
        ga_free(v[i]);
    ga_thread_flush();
}

/* Arenas that cannot be reserved contiguously: the kernel refuses the hint (something else is
 * mapped there), goalloc moves to the next hint (+1 TiB) and hands what was left of the old
 * space to the page allocator first. */
static void block_at(uintptr_t addr)
{
    void *p = mmap((void *)addr, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE,
                   -1, 0);
    assert_ptr_equal(p, (void *)addr);
}

static void test_discontiguous_arenas(void **state)
{
    (void)state;
    if (UNDER_SANITIZER) skip(); /* the hints fall in sanitizer-owned address space */
    const uintptr_t hint0 = 0xc000000000, tib = (uintptr_t)1 << 40, mib = (uintptr_t)1 << 20;
    ga_memstats ms;
    assert_int_equal(ga_read_memstats(&ms), 0);
    assert_true(ms.HeapSys == 64 * mib); /* the first test's arena, fully handed over */
    block_at(hint0 + 64 * mib);
    char *a = ga_malloc(100 * mib); /* 100 MiB committed of a 128 MiB reservation */
    assert_non_null(a);
    assert_true((uintptr_t)a == hint0 + tib);
    assert_int_equal(ga_read_memstats(&ms), 0);
    assert_true(ms.HeapSys == 164 * mib);
    block_at(hint0 + tib + 128 * mib);
    char *b = ga_malloc(200 * mib); /* the 28 MiB left over go to the page allocator first */
    assert_non_null(b);
    assert_true((uintptr_t)b == hint0 + 2 * tib);
    assert_int_equal(ga_read_memstats(&ms), 0);
    assert_true(ms.HeapSys == 392 * mib);
    assert_true(ms.HeapInuse >= 300 * mib);
    assert_true(ms.HeapIdle >= 92 * mib);
    assert_true(_ga_mheap_is_valid());
    char *c = ga_malloc(27 * mib); /* the heap keeps serving from the older spaces */
    assert_non_null(c);
    assert_true(ga_owns(c) && ga_owns(a + 100 * mib - 1) && ga_owns(b + 200 * mib - 1));
    ga_free(a);
    ga_free(b);
    ga_free(c);
    assert_int_equal(ga_read_memstats(&ms), 0);
    assert_true(ms.HeapSys == ms.HeapInuse + ms.HeapIdle);
    assert_true(_ga_mheap_is_valid());
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_calloc_fresh_untouched),
        cmocka_unit_test(test_small_calloc_reuse_zeroed),
        cmocka_unit_test(test_discontiguous_arenas),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
