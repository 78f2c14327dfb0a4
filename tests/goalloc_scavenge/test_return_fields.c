/* test_return_fields.c - the runner's memory-return figures (harness/runner/measure.c:
 * rss_steady_bytes, rss_spike_peak_bytes, rss_return_s, rss_after_1s_bytes, spikes) computed
 * from a measured run whose resident memory this test controls with mmap/munmap: one spike
 * that is given back at once and held for 1.2 s, then one that is never given back and ends
 * 100 ms after its drop (so it has neither a return time nor a 1 s figure).
 */
#define _GNU_SOURCE /* open_memstream, mkdtemp */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "hn_measure.h"

#define MiB ((size_t)1 << 20)

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0) {
    }
}

static void *touch_new(size_t n)
{
    void *p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    assert_true(p != MAP_FAILED);
    memset(p, 1, n);
    return p;
}

static void *kept;

static void spikes_main(wl_thread *t)
{
    sleep_ms(60);
    wl_event(t->run, "spike");
    void *p = touch_new(64 * MiB);
    sleep_ms(60);
    wl_event(t->run, "steady");
    munmap(p, 64 * MiB);
    sleep_ms(1200);
    wl_event(t->run, "spike");
    kept = touch_new(32 * MiB);
    sleep_ms(60);
    wl_event(t->run, "steady-again"); /* burst-gc's name for the drop */
    sleep_ms(100);
}

static const wl_workload spikes = {.name = "spikes", .thread_main = spikes_main};

static json_int_t int_field(json_t *o, const char *k)
{
    json_t *v = json_object_get(o, k);
    if (!json_is_integer(v)) fail_msg("field %s missing or not an integer", k);
    return json_integer_value(v);
}

static void test_return_fields(void **state)
{
    (void)state;
    static wl_run run;
    static wl_thread th[1];
    run.w = &spikes;
    run.a = &ab_alloc_sys;
    run.nthreads = 1;
    run.threads = th;
    th[0].run = &run;
    th[0].a = run.a;
    hn_timer_cal cal;
    hn_timer_calibrate(&cal);
    hn_measure_opts o = {.sample_mean_ops = 16, .sampler_ms = 2, .settle_ms = 1};
    assert_int_equal(hn_measure_init(&run, &o, &cal), 0);
    hn_measure_start(&run);
    spikes_main(&th[0]);
    hn_measure_stop(&run);
    char *frag = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&frag, &len);
    fputs("{\"x\":0", f);
    assert_int_equal(hn_measure_write(&run, NULL, f), 0);
    fputs("}", f);
    fclose(f);
    json_error_t je;
    json_t *j = json_loads(frag, 0, &je);
    if (!j) fail_msg("measurement JSON does not parse: %s\n%s", je.text, frag);

    /* First spike, also the top-level figures: +64 MiB, back at once, 1 s later still back. */
    json_int_t steady = int_field(j, "rss_steady_bytes");
    json_int_t peak = int_field(j, "rss_spike_peak_bytes");
    assert_true(peak >= steady + (json_int_t)(60 * MiB));
    json_t *ret = json_object_get(j, "rss_return_s");
    if (!json_is_number(ret)) fail_msg("rss_return_s missing: %s", frag);
    assert_true(json_number_value(ret) >= 0 && json_number_value(ret) < 1.0);
    assert_true(int_field(j, "rss_after_1s_bytes") <= steady + steady / 10);
    json_t *ex = json_object_get(j, "rss_excess90_s");
    assert_true(json_is_number(ex) && json_number_value(ex) <= json_number_value(ret));

    json_t *sp = json_object_get(j, "spikes");
    assert_int_equal(json_array_size(sp), 2);
    json_t *s0 = json_array_get(sp, 0), *s1 = json_array_get(sp, 1);
    assert_int_equal(int_field(s0, "rss_steady_bytes"), steady);
    double t0 = json_number_value(json_object_get(s0, "t_spike_s"));
    double d0 = json_number_value(json_object_get(s0, "t_drop_s"));
    double t1 = json_number_value(json_object_get(s1, "t_spike_s"));
    assert_true(t0 > 0.03 && d0 > t0 + 0.03 && t1 > d0 + 1.0);
    /* Second spike: 32 MiB never given back, the run ends 100 ms after the drop. */
    assert_true(int_field(s1, "rss_spike_peak_bytes") >=
                int_field(s1, "rss_steady_bytes") + (json_int_t)(30 * MiB));
    if (json_object_get(s1, "rss_return_s") || json_object_get(s1, "rss_after_1s_bytes") ||
        json_object_get(s1, "rss_excess90_s"))
        fail_msg("second spike: memory never came back, yet: %s", frag);
    json_decref(j);
    free(frag);
    munmap(kept, 32 * MiB);
    hn_measure_free(&run);
}

/* No spike event: no return figures at all. */
static void quiet_main(wl_thread *t)
{
    wl_event(t->run, "steady");
    sleep_ms(20);
}

static const wl_workload quiet = {.name = "quiet", .thread_main = quiet_main};

static void test_no_spike_no_fields(void **state)
{
    (void)state;
    static wl_run run;
    static wl_thread th[1];
    run.w = &quiet;
    run.a = &ab_alloc_sys;
    run.nthreads = 1;
    run.threads = th;
    th[0].run = &run;
    th[0].a = run.a;
    hn_timer_cal cal;
    hn_timer_calibrate(&cal);
    hn_measure_opts o = {.sample_mean_ops = 16, .sampler_ms = 2, .settle_ms = 1};
    assert_int_equal(hn_measure_init(&run, &o, &cal), 0);
    hn_measure_start(&run);
    quiet_main(&th[0]);
    hn_measure_stop(&run);
    char *frag = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&frag, &len);
    fputs("{\"x\":0", f);
    assert_int_equal(hn_measure_write(&run, NULL, f), 0);
    fputs("}", f);
    fclose(f);
    json_t *j = json_loads(frag, 0, NULL);
    assert_non_null(j);
    assert_null(json_object_get(j, "rss_steady_bytes"));
    assert_null(json_object_get(j, "spikes"));
    json_decref(j);
    free(frag);
    hn_measure_free(&run);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_return_fields),
        cmocka_unit_test(test_no_spike_no_fields),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
