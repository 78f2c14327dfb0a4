/* test_workloads.c - every workload, run small through the in-test driver on the sys backend:
 * the same seed gives the same operation sequence (op hash), another seed another one, the live
 * bytes return to zero, ops > 0; setup rejects bad parameter combinations naming the parameter.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "wl_driver.h"
#include "wl_list.h"

typedef struct wl_case {
    const wl_workload *w;
    const char *kv[8];   /* small parameters (NULL-terminated) */
    int seeded;          /* the op sequence depends on the seed */
    unsigned mt_threads; /* >1: also deterministic with this many threads (schedule-independent) */
    unsigned live_threads; /* >1: also run with this many threads, checking live bytes and ops */
} wl_case;

static const wl_case cases[] = {
    {&wl_churn, {"slots=64", "ops=20000", NULL}, 1, 3, 0},
    {&wl_churn, {"slots=16", "ops=5000", "dist=golike", "max=32K", NULL}, 1, 2, 0},
    {&wl_churn, {"slots=16", "ops=5000", "dist=invsq", "min=4", "max=32K", NULL}, 1, 1, 0},
    {&wl_churn, {"slots=16", "ops=5000", "dist=fixed", "min=24", NULL}, 0, 2, 0},
    {&wl_larson, {"chunks=64", "steps=2000", "rounds=3", NULL}, 1, 2, 0},
    {&wl_prodcons,
     {"batch=64", "batches=20", "depth=2", "dist=uniform", "min=8", "max=200", NULL},
     1,
     2,
     3},
    {&wl_prodcons, {"batch=16", "batches=10", NULL}, 0, 3, 0},
    {&wl_threadchurn, {"objects=64", "rounds=5", "transfer=16", NULL}, 1, 1, 2},
    {&wl_fragment, {"count=2000", "keep=4", NULL}, 1, 2, 0},
    {&wl_fragment, {"pattern=robson", "budget=64K", "min=16", "max=1K", NULL}, 1, 2, 0},
    {&wl_burst, {"live=64K", "factor=4", "steady_ops=2000", "spike_ops=2000", NULL}, 1, 2, 0},
    {&wl_large, {"buffers=3", "min=64K", "max=1M", "steps=12", NULL}, 1, 2, 0},
    {&wl_realloc_workload, {"buffers=8", "steps=5000", "max=64K", NULL}, 1, 2, 0},
    {&wl_realloc_workload, {"buffers=2", "steps=300", "geometric=1", "max=1M", NULL}, 1, 1, 0},
    {&wl_tiny, {"slots=256", "ops=20000", NULL}, 1, 2, 0},
    {&wl_cachescratch, {"iterations=500", "writes=50", NULL}, 0, 3, 0},
};

static int nkv(const wl_case *c)
{
    int n = 0;
    while (c->kv[n])
        n++;
    return n;
}

static void run_ok(const wl_case *c, unsigned threads, uint64_t seed, wl_drive_result *r)
{
    if (wl_drive(c->w, threads, seed, c->kv, nkv(c), r) != 0)
        fail_msg("%s: rejected its test parameters: %s", c->w->name, r->err);
    if (r->live_end != 0)
        fail_msg("%s (%u threads): %lld live bytes at the end", c->w->name, threads,
                 (long long)r->live_end);
    if (r->ops == 0) fail_msg("%s: no ops counted", c->w->name);
}

static void test_case(void **state)
{
    const wl_case *c = *state;
    wl_drive_result a, b, d;

    run_ok(c, 1, 1, &a);
    run_ok(c, 1, 1, &b);
    if (a.hash != b.hash) fail_msg("%s: same seed, different op sequences", c->w->name);
    assert_int_equal(a.ops, b.ops);
    run_ok(c, 1, 2, &d);
    if (c->seeded && d.hash == a.hash) fail_msg("%s: seed does not change the ops", c->w->name);
    if (c->live_threads > 1) run_ok(c, c->live_threads, 3, &a);
    if (c->mt_threads > 1) {
        run_ok(c, c->mt_threads, 7, &a);
        run_ok(c, c->mt_threads, 7, &b);
        if (a.hash != b.hash)
            fail_msg("%s: %u threads, same seed, different op sequences", c->w->name,
                     c->mt_threads);
    }
}

static void expect_setup_error(const wl_workload *w, const char *const *kv, int n,
                               const char *needle)
{
    wl_drive_result r;
    assert_int_equal(wl_drive(w, 1, 1, kv, n, &r), -1);
    if (!strstr(r.err, needle)) fail_msg("%s: error '%s' does not name %s", w->name, r.err, needle);
}

static void test_setup_errors(void **state)
{
    (void)state;
    expect_setup_error(&wl_churn, (const char *[]){"min=300", "max=200"}, 2, "'max'");
    expect_setup_error(&wl_churn, (const char *[]){"dist=zipf"}, 1, "'dist'");
    expect_setup_error(&wl_churn, (const char *[]){"slots=0"}, 1, "'slots'");
    expect_setup_error(&wl_churn, (const char *[]){"max=1X"}, 1, "'max'");
    expect_setup_error(&wl_churn, (const char *[]){"sloths=3"}, 1, "'sloths'");
    expect_setup_error(&wl_larson, (const char *[]){"min=2000"}, 1, "'max'");
    expect_setup_error(&wl_prodcons, (const char *[]){"dist=uniform", "max=8"}, 2, "'max'");
    expect_setup_error(&wl_threadchurn, (const char *[]){"min=4"}, 1, "'min'");
    expect_setup_error(&wl_threadchurn, (const char *[]){"survive=1.5"}, 1, "'survive'");
    expect_setup_error(&wl_fragment, (const char *[]){"pattern=robson", "min=8K"}, 2, "'max'");
    expect_setup_error(&wl_fragment, (const char *[]){"pattern=knuth"}, 1, "'pattern'");
    expect_setup_error(&wl_burst, (const char *[]){"live=1G", "factor=1000"}, 2, "'live'");
    expect_setup_error(&wl_burst, (const char *[]){"factor=0.5"}, 1, "'factor'");
    expect_setup_error(&wl_large, (const char *[]){"min=2M", "max=1M"}, 2, "'max'");
    expect_setup_error(&wl_realloc_workload, (const char *[]){"geometric=-1"}, 1, "'geometric'");
    expect_setup_error(&wl_tiny, (const char *[]){"max=16"}, 1, "'max'");
    expect_setup_error(&wl_tiny, (const char *[]){"min=9", "max=3"}, 2, "'max'");
    expect_setup_error(&wl_cachescratch, (const char *[]){"size=0"}, 1, "'size'");
    expect_setup_error(&wl_replay, NULL, 0, "'trace'");
    expect_setup_error(&wl_replay, (const char *[]){"trace=/nonexistent/x.trace"}, 1,
                       "/nonexistent/x.trace");
}

int main(void)
{
    struct CMUnitTest tests[sizeof cases / sizeof cases[0] + 1];
    size_t n = 0;
    static char names[sizeof cases / sizeof cases[0]][96];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++, n++) {
        snprintf(names[i], sizeof names[i], "%s#%zu", cases[i].w->name, i);
        tests[n] = (struct CMUnitTest){names[i], test_case, NULL, NULL, (void *)&cases[i]};
    }
    tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_setup_errors);
    return _cmocka_run_group_tests("workloads", tests, n, NULL, NULL);
}
