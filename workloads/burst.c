/* burst.c - burst then steady: does memory come back after a spike?
 *
 * Each thread holds a steady live set of about `live` bytes (blocks from `dist` over
 * min..max) and churns it for `steady_ops` steps; then the live set grows to `factor` times
 * (event "spike") and is churned for `spike_ops` steps; then it shrinks back to steady (event
 * "steady", then wl_settle "after-spike" records resident memory after the settle delay) and is
 * churned again for steady_ops steps and, when the run is measured, for at least `hold_ms`
 * after the drop, so the timeline shows the allocator giving memory back (5 s by default:
 * goalloc's scavenger, like Go's, waits for one full 1 s generation without the spike before
 * its retention goal drops, then releases at ~1% of a CPU, ~40 MiB in 2-3 s); `cycles` times.
 * Invariant: blocks [0, n) of the table are live and tagged, n == nsteady outside a spike and
 * nspike inside; all freed at the end (after the event "end", so the runner's return-of-memory
 * window closes before those frees).
 * Metrics: each thread times its spike fills (allocations nsteady..nspike) and drops (the frees
 * back to nsteady) with CLOCK_MONOTONIC; teardown reports ns per op of those phases alone with
 * wl_metric, and that is the cell's ns_per_op: the hold is a fixed time, so wall time / ops
 * would say more about hold_ms than about the allocator.
 */
#include <stdio.h>
#include <time.h>

#include "wl_list.h"
#include "wl_sizes.h"
#include "wl_support.h"

enum {
    P_LIVE,
    P_FACTOR,
    P_STEADY_OPS,
    P_SPIKE_OPS,
    P_CYCLES,
    P_MIN,
    P_MAX,
    P_DIST,
    P_HOLD_MS,
    P_COUNT
};

static const wl_param_def params[P_COUNT] = {
    [P_LIVE] = {"live", WL_P_SIZE, "4M", "steady live set per thread (bytes, approximate)", NULL, 1,
                1ll << 40},
    [P_FACTOR] = {"factor", WL_P_DOUBLE, "10", "spike live set = factor x steady", NULL, 1, 1000},
    [P_STEADY_OPS] = {"steady_ops", WL_P_INT, "500000", "churn steps in each steady phase", NULL, 0,
                      1e12},
    [P_SPIKE_OPS] = {"spike_ops", WL_P_INT, "500000", "churn steps during the spike", NULL, 0,
                     1e12},
    [P_CYCLES] = {"cycles", WL_P_INT, "2", "spike-and-recover cycles", NULL, 1, 1e6},
    [P_MIN] = {"min", WL_P_SIZE, "16", "smallest block", NULL, 1, 4294967296.0},
    [P_MAX] = {"max", WL_P_SIZE, "512", "largest block", NULL, 1, 4294967296.0},
    [P_DIST] = {"dist", WL_P_ENUM, "uniform", "size distribution", WL_DIST_CHOICES, 0, -1},
    [P_HOLD_MS] = {"hold_ms", WL_P_INT, "5000",
                   "after each drop, churn the steady set at least this long (ms; measured runs "
                   "only)",
                   NULL, 0, 3600000},
};

typedef struct burst_state {
    wl_sizedist dist;
    size_t nsteady, nspike;
    uint64_t steady_ops, spike_ops, cycles;
    uint64_t hold_ns;
    wl_barrier bar;
    /* The spike's cost, summed over threads: ns spent in and operations of the spike's fills
     * (allocations from nsteady to nspike) and of its drops (the frees back to nsteady). */
    _Atomic uint64_t alloc_ns, alloc_ops, free_ns, free_ops;
} burst_state;

typedef struct burst_local {
    void **blk;
    uint32_t *size;
} burst_local;

static burst_state state_storage; /* setup fills it; runs in one process are sequential */

static int burst_setup(wl_run *run, char *err, size_t errlen)
{
    burst_state *st = &state_storage;
    if (wl_sizedist_init(&st->dist, run->p[P_DIST].i, run->p[P_MIN].i, run->p[P_MAX].i, "min",
                         "max", err, errlen) != 0)
        return -1;
    /* block count from the distribution's mean, estimated with a fixed-seed sample */
    uint64_t rng[4], sum = 0;
    wl_rng_seed(rng, 1, 0);
    for (int i = 0; i < 4096; i++)
        sum += wl_size_draw(&st->dist, rng);
    double mean = (double)sum / 4096;
    st->nsteady = (size_t)((double)run->p[P_LIVE].i / mean) + 1;
    double spike = (double)st->nsteady * run->p[P_FACTOR].d;
    if (spike > (double)(1 << 27)) {
        snprintf(err, errlen,
                 "parameter 'live': live x factor needs %.0f blocks of ~%.0f bytes (max 2^27)",
                 spike, mean);
        return -1;
    }
    st->nspike = (size_t)spike;
    st->steady_ops = (uint64_t)run->p[P_STEADY_OPS].i;
    st->spike_ops = (uint64_t)run->p[P_SPIKE_OPS].i;
    st->cycles = (uint64_t)run->p[P_CYCLES].i;
    st->hold_ns = (uint64_t)run->p[P_HOLD_MS].i * 1000000ull;
    atomic_init(&st->alloc_ns, 0);
    atomic_init(&st->alloc_ops, 0);
    atomic_init(&st->free_ns, 0);
    atomic_init(&st->free_ops, 0);
    wl_barrier_init(&st->bar, run->nthreads);
    run->state = st;
    return 0;
}

/* Reports the spike's cost (results/README.md): per-thread ns per operation of the fill and
 * drop phases, hold and churn excluded; this is the cell's ns_per_op. */
static void burst_teardown(wl_run *run)
{
    burst_state *st = run->state;
    wl_barrier_destroy(&st->bar);
    double ans = (double)atomic_load(&st->alloc_ns), aops = (double)atomic_load(&st->alloc_ops);
    double fns = (double)atomic_load(&st->free_ns), fops = (double)atomic_load(&st->free_ops);
    if (aops == 0 || fops == 0) return; /* factor 1: no spike, ns_per_op stays wall-based */
    wl_metric(run, "spike_alloc_ns_per_op", ans / aops);
    wl_metric(run, "spike_free_ns_per_op", fns / fops);
    wl_metric(run, "spike_ops", aops + fops);
    wl_metric(run, "ns_per_op", (ans + fns) / (aops + fops));
}

static void phase(wl_thread *t, burst_state *st, const char *event, const char *settle)
{
    wl_barrier_wait(&st->bar);
    if (t->id == 0) {
        if (event) wl_event(t->run, event);
        if (settle) wl_settle(t->run, settle);
    }
    wl_barrier_wait(&st->bar);
}

static void fill(wl_thread *t, const burst_state *st, burst_local *l, size_t from, size_t to)
{
    for (size_t i = from; i < to; i++) {
        size_t n = wl_size_draw(&st->dist, t->rng);
        void *p = wl_malloc(t, n);
        if (!p) wl_die("burst", "malloc(%zu) failed", n);
        wl_touch(p, n, wl_tag(n, i));
        l->blk[i] = p;
        l->size[i] = (uint32_t)n;
    }
}

static void empty(wl_thread *t, burst_local *l, size_t from, size_t to)
{
    for (size_t i = from; i < to; i++) {
        if (!wl_check(l->blk[i], l->size[i], wl_tag(l->size[i], i)))
            wl_die("burst", "block of %u bytes in slot %zu was overwritten", l->size[i], i);
        wl_free(t, l->blk[i], l->size[i]);
        l->blk[i] = NULL;
    }
}

static void churn(wl_thread *t, const burst_state *st, burst_local *l, size_t n, uint64_t ops)
{
    for (uint64_t k = 0; k < ops; k++) {
        size_t j = (size_t)wl_rand_below(t->rng, n);
        empty(t, l, j, j + 1);
        fill(t, st, l, j, j + 1);
        if ((k & 255) == 255) wl_count_ops(t, 256);
    }
    wl_count_ops(t, ops & 255);
}

static uint64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void burst_thread(wl_thread *t)
{
    burst_state *st = t->run->state;
    /* No hold when not measured (unit tests): there is no timeline to observe. run->m is set
     * after setup, so it is read here. */
    uint64_t hold_ns = t->run->m ? st->hold_ns : 0;
    burst_local l = {wl_meta_alloc("burst", st->nspike * sizeof(void *)),
                     wl_meta_alloc("burst", st->nspike * sizeof(uint32_t))};
    uint64_t alloc_ns = 0, free_ns = 0, spiked = (st->nspike - st->nsteady) * st->cycles;
    wl_rng_seed(t->rng, t->run->seed, t->id);
    fill(t, st, &l, 0, st->nsteady);
    wl_count_ops(t, st->nsteady);
    phase(t, st, "steady", NULL);
    churn(t, st, &l, st->nsteady, st->steady_ops);
    for (uint64_t c = 0; c < st->cycles; c++) {
        phase(t, st, "spike", NULL);
        uint64_t a0 = mono_ns();
        fill(t, st, &l, st->nsteady, st->nspike);
        alloc_ns += mono_ns() - a0;
        wl_count_ops(t, st->nspike - st->nsteady);
        churn(t, st, &l, st->nspike, st->spike_ops);
        phase(t, st, "steady", NULL);
        uint64_t f0 = mono_ns(), hold_until = f0 + hold_ns;
        empty(t, &l, st->nsteady, st->nspike);
        free_ns += mono_ns() - f0;
        phase(t, st, NULL, "after-spike");
        churn(t, st, &l, st->nsteady, st->steady_ops);
        while (hold_ns && mono_ns() < hold_until) /* the hold: more of the same churn */
            churn(t, st, &l, st->nsteady, 256);
    }
    atomic_fetch_add(&st->alloc_ns, alloc_ns);
    atomic_fetch_add(&st->alloc_ops, spiked);
    atomic_fetch_add(&st->free_ns, free_ns);
    atomic_fetch_add(&st->free_ops, spiked);
    phase(t, st, "end", NULL); /* ends the last return window before the steady set goes */
    empty(t, &l, 0, st->nsteady);
    wl_meta_free(l.blk, st->nspike * sizeof(void *));
    wl_meta_free(l.size, st->nspike * sizeof(uint32_t));
}

const wl_workload wl_burst = {
    .name = "burst",
    .summary = "steady live set, spike to factor x, back to steady: does memory come back?",
    .description =
        "Each thread holds a steady live set of about `live` bytes (blocks from `dist` over "
        "min..max) and churns it (free a random block, allocate a replacement). Then the live "
        "set spikes to `factor` times its size and is churned, then drops back to steady and is "
        "churned again, `cycles` times. The timeline marks \"spike\", \"steady\" and, before the "
        "final frees, \"end\"; "
        "resident memory is measured after a settle delay following each drop "
        "(\"after-spike\"): an allocator that keeps the spike's pages shows a resident/live "
        "ratio near `factor`. In measured runs each steady phase after a drop lasts at least "
        "`hold_ms` (the churn goes on), so that the runner can time the return of memory "
        "(rss_return_s, rss_after_1s_bytes in results/README.md); the hold is part of the "
        "measured wall time. One op is one allocation (fill or churn step); ns_per_op is the "
        "spike's cost: per-thread ns per allocation or free of the spike's fills and drops "
        "alone (spike_alloc_ns_per_op, spike_free_ns_per_op), hold and churn excluded.",
    .params = params,
    .nparams = P_COUNT,
    .setup = burst_setup,
    .thread_main = burst_thread,
    .teardown = burst_teardown,
};
