/* broken_detect.c - proves the conformance checks can fail: they must catch ab_alloc_broken.
 *
 * ab_alloc_broken (allocators/ab_broken.c) hands a live block out a second time after every
 * 16th allocation. The same checkers the suite uses (ct_check.h) run here against it and
 * must report the overlap and the corrupted patterns; run against ab_alloc_sys (the control)
 * they must report nothing. Both backends live in this one process: broken is sys underneath.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ab_allocator.h"
#include "ct_check.h"

enum { N = 512 };

typedef struct detect_result {
    size_t overlaps;  /* overlapping pairs among the live blocks */
    size_t corrupted; /* live blocks whose pattern changed */
} detect_result;

/* Allocates N small blocks, each filled with its own pattern, then checks them all. */
static detect_result run_checks(const ab_allocator *a)
{
    void *p[N];
    size_t size[N];
    ct_interval iv[N];
    for (size_t i = 0; i < N; i++) {
        size[i] = 8 + (i * 37) % 56;
        p[i] = (i % 3 == 2) ? a->calloc(1, size[i]) : a->malloc(size[i]);
        assert_non_null(p[i]);
        ct_fill(p[i], 0, size[i], (uint32_t)i);
    }
    detect_result r = {0, 0};
    for (size_t i = 0; i < N; i++) {
        iv[i] = ct_interval_of(p[i], size[i]);
        if (ct_verify(p[i], size[i], (uint32_t)i) != SIZE_MAX) r.corrupted++;
    }
    size_t first = 0;
    r.overlaps = ct_count_overlaps(iv, N, &first);
    for (size_t i = 0; i < N; i++)
        a->free(p[i]);
    return r;
}

static void test_broken_is_caught(void **state)
{
    (void)state;
    detect_result r = run_checks(&ab_alloc_broken);
    print_message("broken: %zu overlapping pairs, %zu corrupted blocks among %d live blocks\n",
                  r.overlaps, r.corrupted, N);
    assert_true(r.overlaps > 0);
    assert_true(r.corrupted > 0);
    /* after all the frees the backend is consistent again: every shared block released */
    ab_stats s;
    assert_int_equal(ab_alloc_broken.stats(&s), 0);
    double shared = -1;
    for (unsigned i = 0; i < s.n_extra; i++)
        if (strcmp(s.extra[i].key, "broken.shared_blocks") == 0) shared = s.extra[i].value;
    assert_true(shared == 0);
}

static void test_sys_is_clean(void **state)
{
    (void)state;
    detect_result r = run_checks(&ab_alloc_sys);
    assert_int_equal(r.overlaps, 0);
    assert_int_equal(r.corrupted, 0);
}

/* The checker itself, on hand-made intervals. */
static void test_overlap_checker(void **state)
{
    (void)state;
    ct_interval iv[4] = {{100, 110}, {0, 50}, {50, 100}, {200, 201}};
    size_t first = 99;
    assert_int_equal(ct_count_overlaps(iv, 4, &first), 0);
    ct_interval iv2[4] = {{100, 110}, {0, 50}, {49, 60}, {200, 300}};
    assert_int_equal(ct_count_overlaps(iv2, 4, &first), 1);
    assert_int_equal(first, 0); /* {0,50} sorted first, overlapped by {49,60} */
    ct_interval iv3[3] = {{0, 1000}, {10, 20}, {500, 600}}; /* both inside the first */
    assert_int_equal(ct_count_overlaps(iv3, 3, NULL), 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_overlap_checker),
        cmocka_unit_test(test_sys_is_clean),
        cmocka_unit_test(test_broken_is_caught),
    };
    return cmocka_run_group_tests_name("broken_detect", tests, NULL, NULL);
}
