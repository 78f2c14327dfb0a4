/* null_counts.c - the recording "null" backend counts every call and can be told to fail its
 * process-malloc check (AB_NULL_CHECK_FAIL), which the harness tests rely on.
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

static double calls(const char *member)
{
    ab_stats s;
    assert_int_equal(ab_alloc_null.stats(&s), 0);
    char key[AB_STATS_KEY_MAX];
    snprintf(key, sizeof key, "calls.%s", member);
    for (unsigned i = 0; i < s.n_extra; i++)
        if (strcmp(s.extra[i].key, key) == 0) return s.extra[i].value;
    fail_msg("stats() has no extra %s", key);
    return -1;
}

static void test_counts_each_member(void **state)
{
    (void)state;
    const ab_allocator *a = &ab_alloc_null;
    static const char *members[] = {"malloc",      "calloc",        "realloc",
                                    "free",        "aligned_alloc", "usable_size",
                                    "thread_init", "thread_exit",   "collect"};
    double before[sizeof members / sizeof members[0]];
    for (size_t i = 0; i < sizeof members / sizeof members[0]; i++)
        before[i] = calls(members[i]);
    double stats_before = calls("stats");

    void *p = a->malloc(10), *q = a->calloc(2, 8), *r = a->aligned_alloc(64, 100);
    p = a->realloc(p, 1000);
    assert_non_null(p);
    assert_non_null(q);
    assert_non_null(r);
    assert_true(a->usable_size(p) >= 1000);
    a->free(p);
    a->free(q);
    a->free(r);
    a->free(NULL);
    a->thread_init();
    a->thread_exit();
    a->collect(AB_COLLECT_PURGE);

    const double want[] = {1, 1, 1, 4, 1, 1, 1, 1, 1};
    for (size_t i = 0; i < sizeof members / sizeof members[0]; i++) {
        double got = calls(members[i]) - before[i];
        if (got != want[i])
            fail_msg("calls.%s grew by %.0f, expected %.0f", members[i], got, want[i]);
    }
    /* every calls() is one stats() call, counted after it has read the counters: the one
     * that read stats_before, then one per member above */
    assert_true(calls("stats") - stats_before == 1 + sizeof members / sizeof members[0]);
}

static void test_check_fail_switch(void **state)
{
    (void)state;
    char err[256] = "";
    unsetenv("AB_NULL_CHECK_FAIL");
    assert_int_equal(ab_alloc_null.check_process_malloc(err, sizeof err), 0);
    setenv("AB_NULL_CHECK_FAIL", "1", 1);
    assert_int_equal(ab_alloc_null.check_process_malloc(err, sizeof err), -1);
    assert_non_null(strstr(err, "AB_NULL_CHECK_FAIL"));
    unsetenv("AB_NULL_CHECK_FAIL");
    assert_non_null(strstr(ab_alloc_null.version(), "null"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_counts_each_member),
        cmocka_unit_test(test_check_fail_switch),
    };
    return cmocka_run_group_tests_name("null_counts", tests, NULL, NULL);
}
