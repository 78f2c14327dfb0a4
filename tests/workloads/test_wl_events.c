/* test_wl_events.c - the phase workloads (burst, fragment) put their timeline events in order,
 * each once per phase. Linked with the measurement TEST DOUBLE (measure_double.c), which records
 * event names; everything else goes to the sys backend as in test_workloads. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "wl_driver.h"
#include "wl_list.h"

/* The phase workloads put their events on the timeline in order (checked when the tests link
 * the measurement double, which records them). */
static void expect_events(const wl_workload *w, const char *const *kv, int n,
                          const char *const *want)
{
    wl_drive_result r;
    assert_int_equal(wl_drive(w, 2, 1, kv, n, &r), 0);
    const char *const *ev = wl_test_events();
    if (!ev) skip();
    size_t k = 0;
    for (size_t i = 0; ev[i] && want[k]; i++)
        if (strcmp(ev[i], want[k]) == 0) k++;
    if (want[k]) fail_msg("%s: event '%s' missing or out of order", w->name, want[k]);
    /* thread 0 alone records: each event once per phase (robson: once per size step) */
    for (size_t i = 0; ev[i]; i++)
        if (i > 0 && strcmp(ev[i], ev[i - 1]) == 0 && strcmp(ev[i], "size-doubled") != 0)
            fail_msg("%s: '%s' twice", w->name, ev[i]);
}

static void test_events(void **state)
{
    (void)state;
    expect_events(&wl_burst,
                  (const char *[]){"live=16K", "steady_ops=100", "spike_ops=100", "cycles=2"}, 4,
                  (const char *[]){"steady", "spike", "steady", "after-spike", "spike", "steady",
                                   "after-spike", NULL});
    expect_events(&wl_fragment, (const char *[]){"count=100", "rounds=1"}, 2,
                  (const char *[]){"fill", "sparse", "after-sparse-free", "shift", "empty",
                                   "after-free-all", NULL});
    expect_events(&wl_fragment, (const char *[]){"pattern=robson", "budget=4K", "rounds=1"}, 3,
                  (const char *[]){"fill", "size-doubled", "empty", "after-free-all", NULL});
}

/* burst reports the spike's cost: ns per op of its fills and drops, counted over exactly those
 * operations (every thread's, every cycle's), and makes it the cell's ns_per_op. */
static void test_burst_metrics(void **state)
{
    (void)state;
    const char *kv[] = {"live=16K", "steady_ops=100", "spike_ops=100", "cycles=3",
                        "min=64",   "max=64",         "dist=fixed",    "factor=4"};
    wl_drive_result r;
    assert_int_equal(wl_drive(&wl_burst, 2, 1, kv, 8, &r), 0);
    double ops, a, f, nsop;
    if (!wl_test_metric("spike_ops", &ops)) skip();
    /* 16 KiB / 64 B: 257 steady blocks; x4 = 1028: 771 allocations and 771 frees per cycle */
    assert_true(ops == 2.0 * 3 * 2 * 771);
    assert_true(wl_test_metric("spike_alloc_ns_per_op", &a) && a > 0);
    assert_true(wl_test_metric("spike_free_ns_per_op", &f) && f > 0);
    assert_true(wl_test_metric("ns_per_op", &nsop));
    assert_true(nsop >= (a < f ? a : f) && nsop <= (a > f ? a : f)); /* their op-weighted mean */
    /* no spike (factor 1): nothing reported, ns_per_op stays the runner's */
    const char *kv1[] = {"live=16K", "steady_ops=10", "spike_ops=10", "factor=1"};
    assert_int_equal(wl_drive(&wl_burst, 1, 1, kv1, 4, &r), 0);
    assert_false(wl_test_metric("ns_per_op", &nsop));
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_events),
                                       cmocka_unit_test(test_burst_metrics)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
