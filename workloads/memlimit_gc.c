/* memlimit_gc.c - workload `memlimit-gc`: a pointerful live heap held under a memory limit.
 *
 * Per thread: `live` bytes of parent/child node pairs (each node `node` bytes, the parent
 * holding the child's address), reachable from root slots; then `ops` random slot
 * replacements (a new pair replaces the pair of a random slot, which becomes garbage). The
 * GOGC setting (`gogc`, -1 = off) and the soft memory limit (`memlimit`) are applied where
 * the backend has AB_CAP_GCPERCENT / AB_CAP_MEMLIMIT; without them the timeline says
 * "gcpercent-unsupported" / "memlimit-unsupported" and the run goes on unlimited. With
 * GOGC off and a limit above the live set, every cycle is started by the limit: the heap
 * goal, the heap and the limit are what the GC events carry. In manual mode the replaced
 * pair is freed. One op = one pair (two allocations).
 */
#include <stdio.h>

#include "wl_gcmode.h"

enum { P_LIVE, P_NODE, P_OPS, P_LIMIT, P_GOGC, P_MODE, P_N };

static const wl_param_def ml_params[P_N] = {
    [P_LIVE] = {"live", WL_P_SIZE, "64MiB", "live bytes per thread (node pairs)", NULL, 4096,
                1ll << 34},
    [P_NODE] = {"node", WL_P_SIZE, "64", "bytes per node (parent and child)", NULL, 16, 4096},
    [P_OPS] = {"ops", WL_P_INT, "4000000", "slot replacements per thread", NULL, 0, 1e12},
    [P_LIMIT] = {"memlimit", WL_P_SIZE, "100MiB", "soft memory limit (0: none)", NULL, 0,
                 1ll << 50},
    [P_GOGC] = {"gogc", WL_P_INT, "-1", "GOGC for the run (-1: off)", NULL, -1, 100000},
    [P_MODE] = WL_GCMODE_PARAM,
};

typedef struct ml_state {
    int gc;
    size_t per_thread; /* root slots per thread: one pair each */
    void **roots;
} ml_state;

typedef struct ml_node {
    void *child; /* first word: the parent's pointer to its child; NULL in a child */
} ml_node;

static int ml_setup(wl_run *run, char *err, size_t errlen)
{
    int rc = wl_gcmode_resolve(run, P_MODE, err, errlen);
    if (rc) return rc;
    ml_state *st = run->a->calloc(1, sizeof *st);
    if (!st) return snprintf(err, errlen, "memlimit-gc: out of memory"), -1;
    run->state = st;
    st->gc = run->p[P_MODE].i == WL_GCMODE_GC;
    st->per_thread = (size_t)run->p[P_LIVE].i / (2 * (size_t)run->p[P_NODE].i);
    if (st->per_thread == 0) st->per_thread = 1;
    st->roots = wl_gcm_roots_new(run, st->gc, st->per_thread * run->nthreads);
    if (!st->roots) return snprintf(err, errlen, "memlimit-gc: cannot register roots"), -1;
    if (run->a->set_gc_percent)
        run->a->set_gc_percent((int)run->p[P_GOGC].i);
    else
        wl_event(run, "gcpercent-unsupported");
    if (run->p[P_LIMIT].i > 0) {
        if (run->a->set_memory_limit)
            run->a->set_memory_limit(run->p[P_LIMIT].i);
        else
            wl_event(run, "memlimit-unsupported");
    }
    return 0;
}

/* Slot k gets a new parent/child pair; the old pair becomes garbage (manual: is freed). */
static void ml_put(wl_thread *t, int gc, void **slot, size_t node)
{
    ml_node *parent = wl_gcm_alloc(t, gc, node, 1);
    if (!parent) return;
    ml_node *child = wl_gcm_alloc(t, gc, node, 1);
    if (!child) {
        if (!gc) wl_free(t, parent, node);
        return;
    }
    wl_gcm_store(t, gc, &parent->child, child);
    ml_node *old = *slot;
    wl_gcm_store(t, gc, slot, parent);
    if (old) {
        wl_gcm_drop(t, gc, old->child, node);
        wl_gcm_drop(t, gc, old, node);
    }
    wl_count_ops(t, 1);
}

static void ml_thread(wl_thread *t)
{
    ml_state *st = t->run->state;
    int gc = st->gc, lead = t->id == 0;
    size_t node = (size_t)t->run->p[P_NODE].i, n = st->per_thread;
    void **slots = st->roots + t->id * n;
    if (lead) wl_event(t->run, "build");
    for (size_t k = 0; k < n; k++)
        ml_put(t, gc, &slots[k], node);
    if (lead) wl_event(t->run, "churn");
    for (int64_t i = 0, ops = t->run->p[P_OPS].i; i < ops; i++)
        ml_put(t, gc, &slots[wl_rand_below(t->rng, n)], node);
    if (lead) wl_event(t->run, "drop");
    for (size_t k = 0; k < n; k++) {
        ml_node *old = slots[k];
        wl_gcm_store(t, gc, &slots[k], NULL);
        if (old) {
            wl_gcm_drop(t, gc, old->child, node);
            wl_gcm_drop(t, gc, old, node);
        }
    }
}

static void ml_teardown(wl_run *run)
{
    ml_state *st = run->state;
    if (!st) return;
    wl_gcm_roots_free(run, st->gc, st->roots, st->per_thread * run->nthreads);
    run->a->free(st);
    run->state = NULL;
}

const wl_workload wl_memlimit_gc = {
    .name = "memlimit-gc",
    .summary = "pointerful live heap under GOGC=off and a memory limit",
    .description =
        "Builds `live` bytes of parent/child node pairs reachable from root slots, then "
        "replaces random slots' pairs `ops` times, with GOGC set to `gogc` (default off) and a "
        "soft memory limit (default 100 MiB) on backends that have them. Every collection is "
        "then started by the limit: shows how close the heap and resident memory stay to the "
        "limit, the heap goal the pacer derives from it, the number of cycles and their "
        "pauses. In manual mode the replaced pair is freed.",
    .params = ml_params,
    .nparams = P_N,
    .setup = ml_setup,
    .thread_main = ml_thread,
    .teardown = ml_teardown,
};
