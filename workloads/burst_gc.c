/* burst_gc.c - workload `burst-gc`: a live-set spike under a memory limit, collected or manual.
 *
 * Per thread: build a steady live set of pointer-free objects in root slots, churn it,
 * grow it to `factor` times (the spike), churn, drop back to steady, churn again. With
 * `memlimit` set, the backend's soft memory limit is applied where it has AB_CAP_MEMLIMIT;
 * a backend without one runs unlimited and the timeline says "memlimit-unsupported".
 * Thread 0 marks the phases on the timeline and measures resident memory after a settle
 * delay once the spike is gone. One op = one allocation.
 */
#include <stdio.h>

#include "wl_gcmode.h"

enum { P_STEADY, P_FACTOR, P_MIN, P_MAX, P_PHASE, P_LIMIT, P_MODE, P_N };

static const wl_param_def bg_params[P_N] = {
    [P_STEADY] = {"steady", WL_P_SIZE, "8MiB", "steady live bytes per thread", NULL, 4096,
                  1ll << 34},
    [P_FACTOR] = {"factor", WL_P_INT, "10", "spike size as a multiple of steady", NULL, 1, 1000},
    [P_MIN] = {"min", WL_P_SIZE, "16", "smallest object", NULL, 1, 1 << 20},
    [P_MAX] = {"max", WL_P_SIZE, "512", "largest object", NULL, 1, 1 << 20},
    [P_PHASE] = {"phase_ops", WL_P_INT, "300000", "churn steps per phase", NULL, 0, 1e12},
    [P_LIMIT] = {"memlimit", WL_P_SIZE, "0", "soft memory limit (0: none)", NULL, 0, 1ll << 50},
    [P_MODE] = WL_GCMODE_PARAM,
};

typedef struct bg_state {
    int gc;
    size_t per_thread; /* root slots per thread: the spike's object count */
    void **roots;
} bg_state;

typedef struct bg_local {
    void **slot;
    uint32_t *size;
    size_t n; /* objects live now */
} bg_local;

static int bg_setup(wl_run *run, char *err, size_t errlen)
{
    if (run->p[P_MIN].i > run->p[P_MAX].i)
        return snprintf(err, errlen, "parameter min must not exceed max"), -1;
    int rc = wl_gcmode_resolve(run, P_MODE, err, errlen);
    if (rc) return rc;
    bg_state *st = run->a->calloc(1, sizeof *st);
    if (!st) return snprintf(err, errlen, "burst-gc: out of memory"), -1;
    run->state = st;
    st->gc = run->p[P_MODE].i == WL_GCMODE_GC;
    size_t mean = (size_t)(run->p[P_MIN].i + run->p[P_MAX].i) / 2;
    st->per_thread = (size_t)run->p[P_STEADY].i / mean * (size_t)run->p[P_FACTOR].i + 1;
    st->roots = wl_gcm_roots_new(run, st->gc, st->per_thread * run->nthreads);
    if (!st->roots) return snprintf(err, errlen, "burst-gc: cannot register roots"), -1;
    if (run->p[P_LIMIT].i > 0) {
        if (run->a->set_memory_limit)
            run->a->set_memory_limit(run->p[P_LIMIT].i);
        else
            wl_event(run, "memlimit-unsupported");
    }
    return 0;
}

static void bg_put(wl_thread *t, int gc, bg_local *l, size_t k)
{
    size_t lo = (size_t)t->run->p[P_MIN].i;
    size_t size = lo + wl_rand_below(t->rng, (uint64_t)t->run->p[P_MAX].i - lo + 1);
    unsigned char *p = wl_gcm_alloc(t, gc, size, 0);
    if (!p) return;
    p[0] = p[size - 1] = (unsigned char)k;
    void *old = l->slot[k];
    wl_gcm_store(t, gc, &l->slot[k], p);
    wl_gcm_drop(t, gc, old, l->size[k]);
    l->size[k] = (uint32_t)size;
    wl_count_ops(t, 1);
}

static void bg_drop_from(wl_thread *t, int gc, bg_local *l, size_t from)
{
    for (size_t k = from; k < l->n; k++) {
        void *old = l->slot[k];
        wl_gcm_store(t, gc, &l->slot[k], NULL);
        wl_gcm_drop(t, gc, old, l->size[k]);
        l->size[k] = 0;
    }
    if (from < l->n) l->n = from;
}

static void bg_churn(wl_thread *t, int gc, bg_local *l)
{
    for (int64_t i = 0, n = t->run->p[P_PHASE].i; i < n && l->n; i++)
        bg_put(t, gc, l, wl_rand_below(t->rng, l->n));
}

static void bg_grow(wl_thread *t, int gc, bg_local *l, size_t target)
{
    while (l->n < target)
        bg_put(t, gc, l, l->n++);
}

static void bg_thread(wl_thread *t)
{
    bg_state *st = t->run->state;
    int gc = st->gc, lead = t->id == 0;
    bg_local l = {.slot = st->roots + t->id * st->per_thread};
    l.size = t->a->calloc(st->per_thread, sizeof *l.size);
    if (!l.size) return;
    size_t steady = st->per_thread / (size_t)t->run->p[P_FACTOR].i;
    if (lead) wl_event(t->run, "steady");
    bg_grow(t, gc, &l, steady);
    bg_churn(t, gc, &l);
    if (lead) wl_event(t->run, "spike");
    bg_grow(t, gc, &l, st->per_thread);
    bg_churn(t, gc, &l);
    bg_drop_from(t, gc, &l, steady);
    if (lead) wl_event(t->run, "steady-again");
    if (lead && gc) t->a->gc_collect();
    if (lead) wl_settle(t->run, "after-spike");
    bg_churn(t, gc, &l);
    bg_drop_from(t, gc, &l, 0);
    t->a->free(l.size);
}

static void bg_teardown(wl_run *run)
{
    bg_state *st = run->state;
    if (!st) return;
    wl_gcm_roots_free(run, st->gc, st->roots, st->per_thread * run->nthreads);
    run->a->free(st);
    run->state = NULL;
}

const wl_workload wl_burst_gc = {
    .name = "burst-gc",
    .summary = "live-set spike under a memory limit, collected (manual: freed)",
    .description =
        "Builds a steady live set of pointer-free objects, churns it, spikes it to factor "
        "times its size, churns, drops back to steady and churns again, optionally under a "
        "soft memory limit (memlimit, applied on backends that have one). On GC backends "
        "dropped objects are left to the collector; in manual mode they are freed. Shows peak "
        "resident memory against the limit, GC pauses, and whether memory comes back after "
        "the spike (settle measurement).",
    .params = bg_params,
    .nparams = P_N,
    .setup = bg_setup,
    .thread_main = bg_thread,
    .teardown = bg_teardown,
};
