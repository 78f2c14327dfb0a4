/* test_return_fields.c - the runner's memory-return figures (harness/runner/measure.c:
 * rss_steady_bytes, rss_spike_peak_bytes, rss_return_s, rss_after_1s_bytes, spikes) computed
 * from a measured run whose resident memory this test controls with mmap/munmap: one spike
 * that is given back at once and held for 1.2 s, then one that is never given back and ends
 * 100 ms after its drop (so it has neither a return time nor a 1 s figure).
 *
 * The figures come from the timeline sampler, a thread a loaded machine may starve for longer
 * than a state is held. So no assertion is about a duration: the run is repeated (for up to
 * 60 s) until its timeline holds a sample in every state the assertions look at, and the
 * figures are then checked against that timeline (e.g. the return is seen no later than the
 * first sample taken after the unmap). Event times are checked as orderings the workload's
 * sleeps guarantee (a sleep never ends early).
 */
#define _GNU_SOURCE /* open_memstream, mkdtemp */
#include <dirent.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
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
/* Resident under the steady state: rss_return_s counts RSS back within 1.1 x steady, and a
 * small process's steady RSS leaves too little room for a sanitizer's own growth (TSan on a
 * loaded machine: 13.0 MB steady, 14.6 MB after the unmap). 32 MiB more gives 3 MiB+. */
static void *ballast;

/* When the workload's state changes, relative to the event just before (seconds); taken just
 * before each event is recorded, so they are never earlier than the real offsets. */
static double touched_after[2], unmapped_after;

static double since_s(uint64_t ns0)
{
    return (double)(hn_now_ns() - ns0) / 1e9;
}

static void spikes_main(wl_thread *t)
{
    ballast = touch_new(32 * MiB);
    sleep_ms(60);
    uint64_t e = hn_now_ns();
    wl_event(t->run, "spike");
    void *p = touch_new(64 * MiB);
    touched_after[0] = since_s(e);
    sleep_ms(60);
    e = hn_now_ns();
    wl_event(t->run, "steady");
    munmap(p, 64 * MiB);
    unmapped_after = since_s(e);
    sleep_ms(1200);
    e = hn_now_ns();
    wl_event(t->run, "spike");
    kept = touch_new(32 * MiB);
    touched_after[1] = since_s(e);
    sleep_ms(60);
    wl_event(t->run, "steady-again"); /* burst-gc's name for the drop */
    sleep_ms(100);
}

/* The timeline of the last run (t_s, rss_bytes), read back from its timeline.csv. */
#define TL_MAX 65536
static double tl_t[TL_MAX];
static double tl_rss[TL_MAX];
static size_t tl_n;

static void read_timeline(const char *dir)
{
    char path[4096], line[1024];
    snprintf(path, sizeof path, "%s/timeline.csv", dir);
    FILE *f = fopen(path, "r");
    if (!f) fail_msg("%s: not written", path);
    tl_n = 0;
    if (!fgets(line, sizeof line, f)) fail_msg("%s: empty", path);
    while (tl_n < TL_MAX && fgets(line, sizeof line, f)) {
        unsigned long long rss;
        if (sscanf(line, "%lf,%llu", &tl_t[tl_n], &rss) != 2)
            fail_msg("%s: bad row %s", path, line);
        tl_rss[tl_n++] = (double)rss;
    }
    fclose(f);
}

/* Time of the first sample in [lo, hi), or -1. */
static double tl_first(double lo, double hi)
{
    for (size_t i = 0; i < tl_n; i++)
        if (tl_t[i] >= lo && tl_t[i] < hi) return tl_t[i];
    return -1;
}

static double num_field(json_t *o, const char *k)
{
    json_t *v = json_object_get(o, k);
    if (!json_is_number(v)) fail_msg("field %s missing or not a number", k);
    return json_number_value(v);
}

static const wl_workload spikes = {.name = "spikes", .thread_main = spikes_main};

static json_int_t int_field(json_t *o, const char *k)
{
    json_t *v = json_object_get(o, k);
    if (!json_is_integer(v)) fail_msg("field %s missing or not an integer", k);
    return json_integer_value(v);
}

/* One measured run of `spikes`: its JSON fragment parsed, its timeline in tl_*. */
static json_t *measure_spikes(wl_run *run, wl_thread *th, const hn_timer_cal *cal, const char *dir,
                              char **frag)
{
    memset(run, 0, sizeof *run);
    memset(th, 0, sizeof *th);
    run->w = &spikes;
    run->a = &ab_alloc_sys;
    run->nthreads = 1;
    run->threads = th;
    th->run = run;
    th->a = run->a;
    hn_measure_opts o = {.sample_mean_ops = 16, .sampler_ms = 2, .settle_ms = 1};
    assert_int_equal(hn_measure_init(run, &o, cal), 0);
    hn_measure_start(run);
    spikes_main(th);
    hn_measure_stop(run);
    size_t len = 0;
    FILE *f = open_memstream(frag, &len);
    fputs("{\"x\":0", f);
    assert_int_equal(hn_measure_write(run, dir, f), 0);
    fputs("}", f);
    fclose(f);
    json_error_t je;
    json_t *j = json_loads(*frag, 0, &je);
    if (!j) fail_msg("measurement JSON does not parse: %s\n%s", je.text, *frag);
    read_timeline(dir);
    DIR *d = opendir(dir); /* the run's files (timeline, events, histograms) */
    assert_non_null(d);
    for (struct dirent *e; (e = readdir(d));) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        if (e->d_name[0] != '.') unlink(path);
    }
    closedir(d);
    return j;
}

/* Whether the sampler sampled every state the assertions look at: the first spike held
 * (after its touch, before its drop), its memory back (after the unmap, before the next
 * spike), 1 s after its drop, the second spike held; and it took no sample 1 s after the
 * second drop (the main thread starved past its 100 ms would give that spike a 1 s figure). */
static bool timeline_covers(json_t *s0, json_t *s1, double *back)
{
    double t0 = num_field(s0, "t_spike_s"), d0 = num_field(s0, "t_drop_s");
    double t1 = num_field(s1, "t_spike_s"), d1 = num_field(s1, "t_drop_s");
    *back = tl_first(d0 + unmapped_after, t1);
    return tl_first(t0 + touched_after[0], d0) >= 0 && *back >= 0 && tl_first(d0 + 1.0, t1) >= 0 &&
           tl_first(t1 + touched_after[1], d1) >= 0 && tl_first(d1 + 1.0, 1e300) < 0;
}

static void test_return_fields(void **state)
{
    (void)state;
    static wl_run run;
    static wl_thread th[1];
    hn_timer_cal cal;
    hn_timer_calibrate(&cal);
    char dir[] = "/tmp/test_return_fields.XXXXXX";
    assert_non_null(mkdtemp(dir));
    char *frag = NULL;
    json_t *j = NULL, *sp = NULL, *s0 = NULL, *s1 = NULL;
    double back = -1;
    int runs = 0;
    for (uint64_t t_start = hn_now_ns();; runs++) {
        j = measure_spikes(&run, th, &cal, dir, &frag);
        sp = json_object_get(j, "spikes");
        if (json_array_size(sp) != 2) fail_msg("want 2 spikes: %s", frag);
        s0 = json_array_get(sp, 0);
        s1 = json_array_get(sp, 1);
        if (timeline_covers(s0, s1, &back)) break;
        if (hn_now_ns() - t_start > 60 * 1000000000ull)
            fail_msg("in 60 s, no run whose sampler saw every state (%d runs)", runs + 1);
        json_decref(j);
        free(frag);
        frag = NULL;
        munmap(kept, 32 * MiB);
        munmap(ballast, 32 * MiB);
        hn_measure_free(&run);
    }
    rmdir(dir);
    if (runs > 0) print_message("%d run(s) repeated: the sampler missed a state\n", runs);

    /* First spike, also the top-level figures: +64 MiB, back at once, 1 s later still back. */
    json_int_t steady = int_field(j, "rss_steady_bytes");
    json_int_t peak = int_field(j, "rss_spike_peak_bytes");
    assert_true(peak >= steady + (json_int_t)(60 * MiB));
    json_t *ret = json_object_get(j, "rss_return_s");
    if (!json_is_number(ret)) fail_msg("rss_return_s missing: %s", frag);
    double d0 = num_field(s0, "t_drop_s");
    /* Seen back no later than the first sample after the unmap (%.6f rounding aside). */
    assert_true(json_number_value(ret) >= 0 && d0 + json_number_value(ret) <= back + 2e-6);
    /* "Still back": within a tenth of the spike above steady (a bound on the 64 MiB given
     * back; steady itself moves by more than 10% of its size under TSan's own allocations). */
    assert_true(int_field(j, "rss_after_1s_bytes") <= steady + (peak - steady) / 10);
    json_t *ex = json_object_get(j, "rss_excess90_s");
    assert_true(json_is_number(ex) && json_number_value(ex) <= json_number_value(ret));

    assert_int_equal(int_field(s0, "rss_steady_bytes"), steady);
    double t0 = num_field(s0, "t_spike_s"), t1 = num_field(s1, "t_spike_s");
    /* Orderings the sleeps guarantee: 60 ms before the spike, 60 ms held, 1.2 s until the next. */
    assert_true(t0 >= 0.06 && d0 >= t0 + 0.06 && t1 >= d0 + 1.2);
    /* Second spike: 32 MiB never given back, the run ends 100 ms after the drop. */
    assert_true(int_field(s1, "rss_spike_peak_bytes") >=
                int_field(s1, "rss_steady_bytes") + (json_int_t)(30 * MiB));
    if (json_object_get(s1, "rss_return_s") || json_object_get(s1, "rss_after_1s_bytes") ||
        json_object_get(s1, "rss_excess90_s"))
        fail_msg("second spike: memory never came back, yet: %s", frag);
    json_decref(j);
    free(frag);
    munmap(kept, 32 * MiB);
    munmap(ballast, 32 * MiB);
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
