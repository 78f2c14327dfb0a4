/* churn_gc.c - workload `churn-gc`: the churn ring with references dropped instead of freed.
 *
 * Per thread a ring of `slots` root slots; each step picks a random slot, allocates a
 * pointer-free object of a size drawn from [min, max] into it (touching it) and lets go of
 * the old one: dropped for the collector in GC mode, freed in manual mode. This is the
 * "same loop without frees" of BENCH_METHOD.md; one op = one allocation.
 */
#include <stdio.h>

#include "wl_gcmode.h"

enum { P_SLOTS, P_MIN, P_MAX, P_OPS, P_MODE, P_N };

static const wl_param_def cg_params[P_N] = {
    [P_SLOTS] = {"slots", WL_P_INT, "4096", "ring slots per thread (the live set)", NULL, 1,
                 1 << 24},
    [P_MIN] = {"min", WL_P_SIZE, "8", "smallest object", NULL, 1, 1 << 20},
    [P_MAX] = {"max", WL_P_SIZE, "255", "largest object", NULL, 1, 1 << 20},
    [P_OPS] = {"ops", WL_P_INT, "2000000", "allocations per thread", NULL, 1, 1e12},
    [P_MODE] = WL_GCMODE_PARAM,
};

typedef struct cg_state {
    int gc;
    void **roots; /* slots per thread, thread i at [i * slots] */
} cg_state;

static int cg_setup(wl_run *run, char *err, size_t errlen)
{
    if (run->p[P_MIN].i > run->p[P_MAX].i)
        return snprintf(err, errlen, "parameter min must not exceed max"), -1;
    int rc = wl_gcmode_resolve(run, P_MODE, err, errlen);
    if (rc) return rc;
    cg_state *st = run->a->calloc(1, sizeof *st);
    if (!st) return snprintf(err, errlen, "churn-gc: out of memory"), -1;
    st->gc = run->p[P_MODE].i == WL_GCMODE_GC;
    run->state = st;
    st->roots = wl_gcm_roots_new(run, st->gc, (size_t)run->p[P_SLOTS].i * run->nthreads);
    if (!st->roots) return snprintf(err, errlen, "churn-gc: cannot register roots"), -1;
    return 0;
}

static void cg_thread(wl_thread *t)
{
    cg_state *st = t->run->state;
    size_t slots = (size_t)t->run->p[P_SLOTS].i;
    size_t lo = (size_t)t->run->p[P_MIN].i, span = (size_t)t->run->p[P_MAX].i - lo + 1;
    void **ring = st->roots + t->id * slots;
    uint32_t *sizes = t->a->calloc(slots, sizeof *sizes);
    if (!sizes) return;
    int gc = st->gc;
    int64_t ops = t->run->p[P_OPS].i;
    for (int64_t i = 0; i < ops; i++) {
        size_t k = wl_rand_below(t->rng, slots);
        size_t size = lo + wl_rand_below(t->rng, span);
        unsigned char *p = wl_gcm_alloc(t, gc, size, 0);
        if (!p) break;
        p[0] = (unsigned char)i;
        p[size - 1] = (unsigned char)k;
        void *old = ring[k];
        wl_gcm_store(t, gc, &ring[k], p);
        wl_gcm_drop(t, gc, old, sizes[k]);
        sizes[k] = (uint32_t)size;
        if ((i & 1023) == 1023) wl_count_ops(t, 1024);
    }
    wl_count_ops(t, (uint64_t)ops & 1023);
    for (size_t k = 0; k < slots; k++) {
        void *old = ring[k];
        wl_gcm_store(t, gc, &ring[k], NULL);
        wl_gcm_drop(t, gc, old, sizes[k]);
    }
    t->a->free(sizes);
}

static void cg_teardown(wl_run *run)
{
    cg_state *st = run->state;
    if (!st) return;
    wl_gcm_roots_free(run, st->gc, st->roots, (size_t)run->p[P_SLOTS].i * run->nthreads);
    run->a->free(st);
    run->state = NULL;
}

const wl_workload wl_churn_gc = {
    .name = "churn-gc",
    .summary = "churn ring with dropped references: GC allocation rate (manual: malloc/free)",
    .description =
        "A ring of root slots per thread; each step replaces a random slot's pointer-free object "
        "with a new one of a size drawn from [min, max]. On GC backends the old object is only "
        "dropped and the collector reclaims it (allocation cost with GC amortised in); in "
        "manual mode it is freed, which makes the loop the plain churn ring. One op is one "
        "allocation.",
    .params = cg_params,
    .nparams = P_N,
    .setup = cg_setup,
    .thread_main = cg_thread,
    .teardown = cg_teardown,
};
