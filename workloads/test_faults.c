/* test_faults.c - test-only workloads `test-crash` and `test-hang` (see wl_test_faults.h).
 *
 * test-crash: each thread churns a few small blocks, then thread 0 raises SIGSEGV after `ops`
 * steps (the others wait for it), so the cell dies by a signal mid-run.
 * test-hang: does `ops` steps, then sleeps forever; only a timeout ends it.
 * Neither ever reaches the end-of-run invariant (live bytes 0): that is the point.
 */
#include <signal.h>
#include <time.h>
#include <unistd.h>

#include "wl_test_faults.h"

enum { P_OPS, P_N };

static const wl_param_def fault_params[P_N] = {
    [P_OPS] = {"ops", WL_P_INT, "1000", "steps before misbehaving", NULL, 0, 1e9},
};

/* A few malloc/free steps so the cell has done real work before it misbehaves. */
static void churn_some(wl_thread *t, int64_t n)
{
    for (int64_t i = 0; i < n; i++) {
        size_t size = 16 + wl_rand_below(t->rng, 240);
        void *p = wl_malloc(t, size);
        if (p) *(volatile char *)p = 1;
        wl_free(t, p, size);
        wl_count_ops(t, 1);
    }
}

static void sleep_forever(void)
{
    for (;;) {
        struct timespec d = {3600, 0};
        nanosleep(&d, NULL);
    }
}

static void crash_main(wl_thread *t)
{
    churn_some(t, t->run->p[P_OPS].i);
    if (t->id != 0) sleep_forever(); /* thread 0's signal ends the process */
    raise(SIGSEGV);
    sleep_forever(); /* not reached unless SIGSEGV is ignored */
}

static void hang_main(wl_thread *t)
{
    churn_some(t, t->run->p[P_OPS].i);
    sleep_forever();
}

const wl_workload wl_test_crash = {
    .name = "test-crash",
    .summary = "test only: raises SIGSEGV after some operations",
    .description = "Test-only. Each thread does `ops` malloc/free steps, then thread 0 raises "
                   "SIGSEGV. Lets the harness tests check that a crashing cell is recorded with "
                   "its signal while the rest of the matrix carries on.",
    .params = fault_params,
    .nparams = P_N,
    .flags = WL_F_TEST_ONLY,
    .thread_main = crash_main,
};

const wl_workload wl_test_hang = {
    .name = "test-hang",
    .summary = "test only: sleeps forever after some operations",
    .description = "Test-only. Each thread does `ops` malloc/free steps, then sleeps forever. "
                   "Lets the harness tests check that a hanging cell is killed at its timeout "
                   "and recorded as such while the rest of the matrix carries on.",
    .params = fault_params,
    .nparams = P_N,
    .flags = WL_F_TEST_ONLY,
    .thread_main = hang_main,
};
