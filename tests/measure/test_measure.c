/* test_measure.c - unit tests of ab_measure: histogram buckets and percentiles against a
 * sorted-array reference, the HdrHistogram text format parsed back, timer calibration sanity,
 * exponential sampling intervals, and one measured mini-run through the wl_* hooks.
 */
#define _GNU_SOURCE /* open_memstream, mkdtemp */
#include <dirent.h>
#include <math.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "hn_measure.h"

/* ---- Reference data ---- */

enum { N = 20000 };

static uint64_t rng_state[4];

static uint64_t draw(int dist)
{
    double u = wl_rand_unit(rng_state);
    switch (dist) {
    case 0: /* uniform 0..999: exact buckets and the first log buckets */
        return wl_rand_below(rng_state, 1000);
    case 1: /* exponential, mean 2000 */
        return (uint64_t)(-2000.0 * log1p(-u));
    case 2: /* Pareto tail, alpha 1.2, from 20: latency-like with huge outliers */
        return (uint64_t)(20.0 / pow(1.0 - u, 1.0 / 1.2));
    default: /* bimodal: fast path around 15 ns, slow path around 40 us */
        return wl_rand_below(rng_state, 100) < 97 ? 10 + wl_rand_below(rng_state, 10)
                                                  : 30000 + wl_rand_below(rng_state, 20000);
    }
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* ---- Bucket arithmetic ---- */

static void test_buckets(void **state)
{
    (void)state;
    wl_rng_seed(rng_state, 42, 0);
    for (int i = 0; i < 200000; i++) {
        uint64_t v = wl_rand(rng_state) >> (wl_rand_below(rng_state, 64));
        if (v >= (1ull << HN_HIST_MAX_EXP)) continue;
        unsigned idx = hn_hist_index(v);
        assert_true(idx < HN_HIST_NBUCKETS);
        if (idx == HN_HIST_NBUCKETS - 1) continue; /* the top bucket also takes overflow */
        uint64_t lo = hn_hist_bucket_lo(idx), hi = hn_hist_bucket_hi(idx);
        assert_true(lo <= v && v <= hi);
        assert_int_equal(hn_hist_index(lo), idx);
        assert_int_equal(hn_hist_index(hi), idx);
        /* relative width: exact below 256, at most 1/128 of the value above */
        if (v < HN_HIST_SUB)
            assert_true(lo == hi);
        else
            assert_true((hi - lo + 1) * 128 <= lo);
    }
    for (unsigned idx = 1; idx < HN_HIST_NBUCKETS - 1; idx++)
        assert_true(hn_hist_bucket_lo(idx) == hn_hist_bucket_hi(idx - 1) + 1);
}

/* ---- Percentiles against the sorted array ---- */

static void test_percentiles(void **state)
{
    (void)state;
    static const int ppm[] = {
        0,      10000,  100000, 250000, 500000, 750000,
        900000, 990000, 999000, 999900, 1000000}; /* percentiles in millionths */
    static uint64_t v[N];
    static hn_hist h;
    for (int dist = 0; dist < 4; dist++) {
        wl_rng_seed(rng_state, 7, (uint64_t)dist);
        hn_hist_init(&h);
        for (int i = 0; i < N; i++)
            hn_hist_record(&h, v[i] = draw(dist));
        qsort(v, N, sizeof v[0], cmp_u64);
        assert_int_equal(h.total, N);
        assert_int_equal(h.min, v[0]);
        assert_int_equal(h.max, v[N - 1]);
        for (size_t k = 0; k < sizeof ppm / sizeof ppm[0]; k++) {
            uint64_t rank = ((uint64_t)ppm[k] * N + 999999) / 1000000; /* ceil, exact */
            if (rank < 1) rank = 1;
            uint64_t ref = v[rank - 1], got = hn_hist_value_at(&h, ppm[k] / 10000.0);
            if (got < ref || got > ref + ref / 128 || got > h.max)
                fail_msg("dist %d p%.4f: histogram %llu, sorted reference %llu", dist,
                         ppm[k] / 10000.0, (unsigned long long)got, (unsigned long long)ref);
        }
    }
}

static void test_merge(void **state)
{
    (void)state;
    static hn_hist a, b, all;
    hn_hist_init(&a);
    hn_hist_init(&b);
    hn_hist_init(&all);
    wl_rng_seed(rng_state, 9, 0);
    for (int i = 0; i < N; i++) {
        uint64_t x = draw(i % 4);
        hn_hist_record(i % 2 ? &a : &b, x);
        hn_hist_record(&all, x);
    }
    hn_hist_merge(&a, &b);
    assert_int_equal(a.total, all.total);
    assert_int_equal(a.min, all.min);
    assert_int_equal(a.max, all.max);
    assert_memory_equal(a.counts, all.counts, sizeof a.counts);
    assert_int_equal(hn_hist_value_at(&a, 99), hn_hist_value_at(&all, 99));
}

/* ---- HdrHistogram text format, parsed back ---- */

static void test_hgrm_parse_back(void **state)
{
    (void)state;
    static hn_hist h;
    hn_hist_init(&h);
    wl_rng_seed(rng_state, 11, 0);
    for (int i = 0; i < N; i++)
        hn_hist_record(&h, draw(2));
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_int_equal(hn_hist_write_hgrm(&h, f, "op = test"), 0);
    fclose(f);

    char *save = NULL, *line = strtok_r(buf, "\n", &save);
    char c1[32], c2[32], c3[32], c4[32];
    assert_int_equal(sscanf(line, "%31s %31s %31s %31s", c1, c2, c3, c4), 4);
    assert_string_equal(c1, "Value");
    assert_string_equal(c2, "Percentile");
    assert_string_equal(c3, "TotalCount");
    assert_string_equal(c4, "1/(1-Percentile)");
    double last_v = -1, last_p = -1, mean = -1, maxv = -1;
    unsigned long long last_c = 0, total = 0;
    int rows = 0, final_seen = 0;
    while ((line = strtok_r(NULL, "\n", &save))) {
        double v, p, inv;
        unsigned long long c;
        if (line[0] == '#') {
            double sd;
            if (sscanf(line, "#[Mean = %lf, StdDeviation = %lf]", &mean, &sd) == 2) continue;
            sscanf(line, "#[Max = %lf, Total count = %llu]", &maxv, &total);
            continue;
        }
        int n = sscanf(line, "%lf %lf %llu %lf", &v, &p, &c, &inv);
        assert_false(final_seen); /* the 100% line is the last data line */
        if (n == 3) {
            assert_true(p == 1.0);
            assert_int_equal(c, h.total);
            assert_true(v == (double)h.max);
            final_seen = 1;
            continue;
        }
        assert_int_equal(n, 4);
        assert_true(v >= last_v && p > last_p && c >= last_c && p < 1.0);
        assert_true(fabs(inv - 1.0 / (1.0 - p)) <= 0.01 * inv);
        /* each row is the histogram's own answer at that percentile */
        assert_true(v == (double)hn_hist_value_at(&h, p * 100.0));
        assert_int_equal(c, hn_hist_count_upto(&h, (uint64_t)v));
        last_v = v, last_p = p, last_c = c;
        rows++;
    }
    assert_true(final_seen);
    assert_true(rows > 30); /* 5 ticks per halving reach past 99.9% */
    assert_true(last_p >= 0.999);
    assert_int_equal(total, h.total);
    assert_true(maxv == (double)h.max);
    assert_true(fabs(mean - hn_hist_mean(&h)) < 0.01);
    free(buf);
}

/* ---- Timer ---- */

static void test_timer_calibration(void **state)
{
    (void)state;
    hn_timer_cal c;
    hn_timer_calibrate(&c);
    /* clock_gettime's cost is a mean over 2000 calls, so a preemption inside that loop inflates
     * it: a calibration is repeated (up to 20 times) while it says more than 100 us; a broken
     * measurement says so every time. */
    for (int i = 0; i < 20 && !(c.clock_gettime_ns < 100000); i++)
        hn_timer_calibrate(&c);
    print_message("timer: %s, %.4f ticks/ns, overhead %llu ticks = %.2f ns, clock_gettime %.2f ns, "
                  "resolution %llu ticks\n",
                  c.source, c.ticks_per_ns, (unsigned long long)c.overhead_ticks, c.overhead_ns,
                  c.clock_gettime_ns, (unsigned long long)c.resolution_ticks);
    assert_true(c.ticks_per_ns > 0.1 && c.ticks_per_ns < 10.0); /* a 100 MHz .. 10 GHz counter */
    assert_true(c.overhead_ns >= 0 && c.overhead_ns < 5000);
    assert_true(c.clock_gettime_ns > 0 && c.clock_gettime_ns < 100000);
    assert_int_equal(hn_ticks_to_ns(&c, c.overhead_ticks), 0);
    assert_int_equal(hn_ticks_to_ns(&c, 0), 0);
    /* the counter's step is at least one tick and at most the empty-region cost */
    assert_true(c.resolution_ticks >= 1 && c.resolution_ticks <= c.overhead_ticks + 1);
    /* A 20 ms sleep measured in ticks agrees with CLOCK_MONOTONIC read around it: the tick
     * interval holds the inner clock interval (>= 20 ms: sleeps never end early) and lies
     * inside the outer one, orderings whatever the scheduler does, within 5% for the
     * calibration's error. A calibration whose windows were preempted can be off by more, so
     * up to 5 calibrations are tried; a wrong conversion is off every time. */
    uint64_t ns = 0, inner = 0, outer = 0;
    for (int attempt = 0; attempt < 5; attempt++) {
        if (attempt) hn_timer_calibrate(&c);
        uint64_t outer0 = hn_now_ns(), t0 = hn_ticks(), inner0 = hn_now_ns();
        struct timespec d = {0, 20000000};
        nanosleep(&d, NULL);
        inner = hn_now_ns() - inner0;
        uint64_t t1 = hn_ticks();
        outer = hn_now_ns() - outer0;
        ns = hn_ticks_to_ns(&c, t1 - t0);
        if ((double)ns >= 0.95 * (double)inner && (double)ns <= 1.05 * (double)outer) break;
    }
    assert_true(inner >= 20000000);
    if ((double)ns < 0.95 * (double)inner || (double)ns > 1.05 * (double)outer)
        fail_msg("20 ms sleep: %llu ns in ticks, clock %llu..%llu ns", (unsigned long long)ns,
                 (unsigned long long)inner, (unsigned long long)outer);
}

static void test_exp_countdown(void **state)
{
    (void)state;
    uint64_t rng[4];
    wl_rng_seed(rng, 3, 0);
    double sum = 0;
    uint32_t mx = 0;
    enum { DRAWS = 200000 };
    for (int i = 0; i < DRAWS; i++) {
        uint32_t k = hn_exp_countdown(rng, 64);
        assert_true(k >= 1);
        sum += k;
        if (k > mx) mx = k;
    }
    double mean = sum / DRAWS;
    assert_true(mean > 62.0 && mean < 66.0); /* standard error is about 0.14 */
    assert_true(mx > 64 * 5);                /* a long tail, as an exponential has */
    for (int i = 0; i < 100; i++)
        assert_int_equal(hn_exp_countdown(rng, 1), 1);
}

/* ---- The measured figures as JSON ---- */

/* hn_measure_write's fragment, written after one member of an object of its own and parsed
 * (a duplicate key fails the test; so does text that does not parse). dir as for
 * hn_measure_write. The caller json_decref()s it. */
static json_t *measured_json(wl_run *run, const char *dir)
{
    char *frag = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&frag, &len);
    assert_non_null(f);
    fputs("{\"x\":0", f);
    assert_int_equal(hn_measure_write(run, dir, f), 0);
    fputs("}", f);
    fclose(f);
    json_error_t je;
    json_t *j = json_loads(frag, JSON_REJECT_DUPLICATES, &je);
    if (!j) fail_msg("measurement JSON does not parse: %s\n%s", je.text, frag);
    free(frag);
    return j;
}

/* ---- A measured mini-run through the hooks ---- */

#ifdef HAVE_SYS_ADAPTER
/* Waits (up to 60 s) until the sampler thread, the process's other thread, has gone to sleep
 * once: it sleeps only after a sample, so the timeline then has one. A loaded machine may not
 * run it within a short workload; this waits for the state instead of hoping for it. */
static void wait_sampler_slept(void)
{
    pid_t self = getpid();
    for (uint64_t t0 = hn_now_ns(); hn_now_ns() - t0 < 60 * 1000000000ull;) {
        DIR *d = opendir("/proc/self/task");
        assert_non_null(d);
        long slept = 0;
        for (struct dirent *e; (e = readdir(d));) {
            if (e->d_name[0] == '.' || atol(e->d_name) == self) continue;
            char path[300], line[256];
            snprintf(path, sizeof path, "/proc/self/task/%s/status", e->d_name);
            FILE *f = fopen(path, "r");
            if (!f) continue;
            while (fgets(line, sizeof line, f))
                if (sscanf(line, "voluntary_ctxt_switches: %ld", &slept) == 1) break;
            fclose(f);
        }
        closedir(d);
        if (slept > 0) return;
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL);
    }
    fail_msg("the sampler thread never slept in 60 s");
}

static void mini_main(wl_thread *t)
{
    for (int i = 0; i < 20000; i++) {
        void *p = wl_malloc(t, 64);
        memset(p, 1, 64);
        wl_free(t, p, 64);
        wl_count_ops(t, 1);
    }
    wl_event(t->run, "half");
    wl_settle(t->run, "end");
}

static const wl_workload mini = {.name = "mini", .thread_main = mini_main};

static void test_mini_run(void **state)
{
    (void)state;
    static wl_run run;
    static wl_thread th[1];
    char dir[] = "/tmp/abench-measure-XXXXXX";
    assert_non_null(mkdtemp(dir));
    run.w = &mini;
    run.a = &ab_alloc_sys;
    run.nthreads = 1;
    run.seed = 5;
    run.threads = th;
    th[0].run = &run;
    th[0].a = run.a;
    hn_timer_cal cal;
    hn_timer_calibrate(&cal);
    hn_measure_opts o = {.sample_mean_ops = 16, .sampler_ms = 1, .settle_ms = 5};
    assert_int_equal(hn_measure_init(&run, &o, &cal), 0);
    uint64_t outside0 = hn_now_ns();
    hn_measure_start(&run);
    mini_main(&th[0]);
    wait_sampler_slept(); /* so the timeline has a sample before the final one */
    hn_measure_stop(&run);
    uint64_t outside = hn_now_ns() - outside0;
    /* the 5 ms settle delay is not part of the measured wall */
    assert_true(hn_measure_wall_ns(&run) + 5000000 <= outside);
    assert_true(hn_measure_wall_ns(&run) > 0);
    json_t *j = measured_json(&run, dir);
    json_t *m = json_object_get(json_object_get(j, "lat"), "malloc");
    json_int_t n = json_integer_value(json_object_get(m, "count"));
    /* 40000 wrapper calls at a mean interval of 16: about 2500 timed, shared by malloc/free */
    assert_true(n > 600 && n < 2000);
    assert_true(json_integer_value(json_object_get(json_object_get(j, "timer"), "samples")) ==
                n + json_integer_value(json_object_get(
                        json_object_get(json_object_get(j, "lat"), "free"), "count")));
    assert_non_null(json_object_get(json_object_get(j, "settle"), "end"));
    assert_true(json_integer_value(json_object_get(j, "timeline_samples")) >= 2);
    json_decref(j);
    char path[256], line[512];
    static const char *const files[] = {"timeline.csv", "events.csv", "lat_malloc.hgrm",
                                        "lat_free.hgrm"};
    for (int i = 0; i < 4; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, files[i]);
        FILE *g = fopen(path, "r");
        assert_non_null(g);
        assert_non_null(fgets(line, sizeof line, g));
        if (i == 0) assert_int_equal(strncmp(line, "t_s,rss_bytes,live_bytes,allocated", 34), 0);
        if (i == 1) {
            assert_int_equal(strncmp(line, "t_s,kind,name", 13), 0);
            assert_non_null(fgets(line, sizeof line, g));
            assert_non_null(strstr(line, ",phase,half,"));
        }
        fclose(g);
        unlink(path);
    }
    rmdir(dir);
    assert_int_equal(atomic_load(&th[0].live_bytes), 0);
    hn_measure_free(&run);
    assert_null(th[0].lat);
}
#endif

/* Without a sampler (lat NULL, as in workload unit tests) the hooks call straight through. */
static void *fake_malloc(size_t n)
{
    return malloc(n);
}
static void fake_free(void *p)
{
    free(p);
}

static void test_untimed_hooks(void **state)
{
    (void)state;
    ab_allocator a = {.name = "fake", .malloc = fake_malloc, .free = fake_free};
    wl_thread t = {.a = &a, .sample_countdown = 1};
    void *p = wl_malloc(&t, 10);
    assert_non_null(p);
    assert_true(t.sample_countdown > 1000000);
    assert_int_equal(wl_lat_should_sample(&t), 0);
    wl_free(&t, p, 10);
    assert_int_equal(atomic_load(&t.live_bytes), 0);
}

/* ---- GC events through the backend's hook ---- */

static ab_gc_event_fn hook_fn;
static void *hook_ctx;
static void fake_set_hook(ab_gc_event_fn fn, void *ctx)
{
    hook_fn = fn;
    hook_ctx = ctx;
}
/* The backend's GC CPU extra (NAN: not reported); the sampler thread reads it. */
static _Atomic double fake_gc_cpu_s = NAN;
static int fake_stats(ab_stats *st)
{
    st->valid = AB_STAT_allocated | AB_STAT_mapped;
    st->allocated = 100;
    st->mapped = UINT64_MAX - 5; /* a wrapped negative: must be left out */
    double gc_cpu_s = fake_gc_cpu_s;
    if (isfinite(gc_cpu_s)) ab_stats_put(st, "/cpu/classes/gc/total:cpu-seconds", gc_cpu_s);
    return 0;
}

/* A run of the fake GC backend on one thread, measured (hn_measure_init done) with a 1 ms
 * sampler, no settling and the given sampling mean; the backend's event hook is installed
 * because it has AB_CAP_GC. One such run at a time: the storage is static. */
static wl_run *fakegc_run(double sample_mean_ops)
{
    static const ab_allocator a = {.name = "fakegc",
                                   .caps = AB_CAP_GC,
                                   .malloc = fake_malloc,
                                   .free = fake_free,
                                   .stats = fake_stats,
                                   .gc_set_event_hook = fake_set_hook};
    static wl_run run;
    static wl_thread th[1];
    static const wl_workload w = {.name = "gcfake"};
    run = (wl_run){.w = &w, .a = &a, .nthreads = 1, .threads = th};
    th[0] = (wl_thread){.run = &run, .a = &a};
    hn_timer_cal cal;
    hn_timer_calibrate(&cal);
    hn_measure_opts o = {.sample_mean_ops = sample_mean_ops, .sampler_ms = 1, .settle_ms = 0};
    assert_int_equal(hn_measure_init(&run, &o, &cal), 0);
    assert_non_null(hook_fn);
    return &run;
}

static void test_gc_events(void **state)
{
    (void)state;
    char dir[] = "/tmp/abench-gcev-XXXXXX";
    assert_non_null(mkdtemp(dir));
    wl_run *run = fakegc_run(64);
    hn_measure_start(run);
    static const uint64_t pauses[] = {3000, 1000, 2000};
    for (uint64_t c = 1; c <= 3; c++) {
        ab_gc_event ev = {.kind = AB_GC_EV_CYCLE_START,
                          .cycle = c,
                          .t_ns = hn_now_ns(),
                          .heap_goal = 4 << 20,
                          .mem_limit = -1};
        hook_fn(&ev, hook_ctx);
        ev.kind = AB_GC_EV_CYCLE_END;
        ev.pause_ns = pauses[c - 1];
        ev.heap_marked = 1000 * (int64_t)c;
        hook_fn(&ev, hook_ctx);
    }
    struct timespec d = {0, 3000000};
    nanosleep(&d, NULL);
    hn_measure_stop(run);
    json_t *j = measured_json(run, dir);
    json_t *gc = json_object_get(j, "gc");
    assert_int_equal(json_integer_value(json_object_get(gc, "cycles")), 3);
    assert_int_equal(json_integer_value(json_object_get(gc, "pause_p50_ns")), 2000);
    assert_int_equal(json_integer_value(json_object_get(gc, "pause_max_ns")), 3000);
    assert_int_equal(json_integer_value(json_object_get(gc, "pause_total_ns")), 6000);
    assert_int_equal(json_integer_value(json_object_get(gc, "pause_p99_ns")), 3000);
    /* no GC CPU figure from the backend: the pauses' share of the wall time */
    assert_string_equal(json_string_value(json_object_get(gc, "cpu_source")), "pauses");
    json_decref(j);
    char path[256], line[512];
    int ends = 0, starts = 0;
    snprintf(path, sizeof path, "%s/events.csv", dir);
    FILE *g = fopen(path, "r");
    assert_non_null(g);
    while (fgets(line, sizeof line, g)) {
        starts += strstr(line, ",gc_start,gc") != NULL;
        if (strstr(line, ",gc_end,gc2,")) {
            ends++;
            assert_non_null(strstr(line, ",2,1000,")); /* cycle 2, pause 1000 ns */
        } else {
            ends += strstr(line, ",gc_end,") != NULL;
        }
    }
    fclose(g);
    assert_int_equal(starts, 3);
    assert_int_equal(ends, 3);
    unlink(path);
    snprintf(path, sizeof path, "%s/timeline.csv", dir);
    g = fopen(path, "r");
    assert_non_null(fgets(line, sizeof line, g));
    assert_non_null(fgets(line, sizeof line, g));
    /* allocated kept, the wrapped mapped figure left empty */
    assert_non_null(strstr(line, ",100,,,,"));
    fclose(g);
    unlink(path);
    rmdir(dir);
    hn_measure_free(run);
    assert_null(hook_fn); /* removed again */
}

/* ---- Workload metrics (wl_metric) ---- */

static void *metric_main(void *arg)
{
    wl_run *run = arg;
    for (int i = 0; i < 1000; i++)
        wl_metric(run, "shared", 0.5);
    return NULL;
}

/* A backend that reports its GC CPU time (the runtime/metrics extra) gets cpu_fraction from
 * it, so GC work outside the pauses counts: here 2 ms of GC CPU, no pause at all, over a
 * region of at least 3 ms. */
static void test_gc_cpu_from_backend(void **state)
{
    (void)state;
    wl_run *run = fakegc_run(0);
    fake_gc_cpu_s = 1.0;
    hn_measure_start(run);
    fake_gc_cpu_s = 1.002;
    struct timespec d = {0, 3000000};
    nanosleep(&d, NULL);
    hn_measure_stop(run);
    fake_gc_cpu_s = NAN;
    json_t *j = measured_json(run, NULL);
    json_t *gc = json_object_get(j, "gc");
    assert_int_equal(json_integer_value(json_object_get(gc, "cycles")), 0);
    assert_null(json_object_get(gc, "pause_p50_ns")); /* no pause: nothing to rank */
    assert_string_equal(json_string_value(json_object_get(gc, "cpu_source")), "backend");
    double cpu = json_number_value(json_object_get(gc, "cpu_fraction"));
    assert_true(cpu > 0 && cpu <= 2.0 / 3.0 + 1e-6);
    json_decref(j);
    hn_measure_free(run);
}

/* Same name from several threads: summed; ns_per_op kept for the runner, not written; bad
 * names, non-finite values and a 17th name left out; the rest top-level numbers. */
static void test_metrics(void **state)
{
    (void)state;
    ab_allocator a = {
        .name = "fake", .malloc = fake_malloc, .free = fake_free, .stats = fake_stats};
    static wl_run run;
    static wl_thread th[1];
    static const wl_workload w = {.name = "metrics"};
    run = (wl_run){.w = &w, .a = &a, .nthreads = 1, .threads = th};
    th[0] = (wl_thread){.run = &run, .a = &a};
    wl_metric(&run, "before_init", 1); /* not measured yet: a no-op */
    hn_timer_cal cal;
    hn_timer_calibrate(&cal);
    hn_measure_opts o = {.sample_mean_ops = 64, .sampler_ms = 1, .settle_ms = 0};
    assert_int_equal(hn_measure_init(&run, &o, &cal), 0);
    pthread_t t[4];
    for (int i = 0; i < 4; i++)
        assert_int_equal(pthread_create(&t[i], NULL, metric_main, &run), 0);
    for (int i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
    wl_metric(&run, "ns_per_op", 12.5);
    wl_metric(&run, "Bad-Name", 1);
    wl_metric(&run, "inf", INFINITY);
    char name[16];
    for (int i = 0; i < 15; i++) { /* 14 fit beside shared and ns_per_op */
        snprintf(name, sizeof name, "m%d", i);
        wl_metric(&run, name, i);
    }
    double v = 0;
    assert_true(hn_measure_metric(&run, "ns_per_op", &v) && v == 12.5);
    assert_true(hn_measure_metric(&run, "shared", &v) && v == 2000);
    assert_false(hn_measure_metric(&run, "before_init", &v));
    assert_false(hn_measure_metric(&run, "m14", &v));
    hn_measure_start(&run);
    hn_measure_stop(&run);
    json_t *j = measured_json(&run, NULL);
    assert_true(json_number_value(json_object_get(j, "shared")) == 2000);
    assert_true(json_number_value(json_object_get(j, "m13")) == 13);
    assert_null(json_object_get(j, "m14"));
    assert_null(json_object_get(j, "ns_per_op"));
    assert_null(json_object_get(j, "inf"));
    assert_null(json_object_get(j, "Bad-Name"));
    json_decref(j);
    hn_measure_free(&run);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_buckets),
        cmocka_unit_test(test_percentiles),
        cmocka_unit_test(test_merge),
        cmocka_unit_test(test_hgrm_parse_back),
        cmocka_unit_test(test_timer_calibration),
        cmocka_unit_test(test_exp_countdown),
        cmocka_unit_test(test_untimed_hooks),
        cmocka_unit_test(test_gc_events),
        cmocka_unit_test(test_gc_cpu_from_backend),
        cmocka_unit_test(test_metrics),
#ifdef HAVE_SYS_ADAPTER
        cmocka_unit_test(test_mini_run),
#endif
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
