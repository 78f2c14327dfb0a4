/* threadchurn.c - threads that die while some of their blocks survive (mstress-like).
 *
 * Each worker slot runs `rounds` short-lived generation threads. A generation allocates
 * `objects` blocks, churns them, then frees most and hands a `survive` share to a shared
 * transfer table, swapping out (and freeing) whatever block was there - usually one allocated
 * by another, often dead, thread. Teardown frees what is left in the table.
 * Invariant: each transfer entry is NULL or a live block whose first 8 bytes hold its size and
 * whose last byte is its tag; an entry is owned by whoever swapped it out (atomic exchange).
 * A block's size header is zeroed just before its free, so a second owner of it (an allocator
 * handing one block out twice) finds an impossible size.
 */
#include <stdio.h>
#include <string.h>

#include "wl_list.h"
#include "wl_sizes.h"
#include "wl_support.h"

enum { P_OBJECTS, P_ROUNDS, P_TRANSFER, P_SURVIVE, P_MIN, P_MAX, P_DIST, P_COUNT };

static const wl_param_def params[P_COUNT] = {
    [P_OBJECTS] = {"objects", WL_P_INT, "2000", "blocks each generation allocates", NULL, 1,
                   1 << 24},
    [P_ROUNDS] = {"rounds", WL_P_INT, "1000", "generations of threads per worker slot", NULL, 1,
                  1e7},
    [P_TRANSFER] = {"transfer", WL_P_INT, "1024", "entries in the shared transfer table", NULL, 1,
                    1 << 24},
    [P_SURVIVE] = {"survive", WL_P_DOUBLE, "0.25", "share of a generation's blocks that outlive it",
                   NULL, 0, 1},
    [P_MIN] = {"min", WL_P_SIZE, "8", "smallest block (at least 8: it stores its size)", NULL, 8,
               4294967296.0},
    [P_MAX] = {"max", WL_P_SIZE, "1024", "largest block", NULL, 8, 4294967296.0},
    [P_DIST] = {"dist", WL_P_ENUM, "uniform", "size distribution", WL_DIST_CHOICES, 0, -1},
};

typedef struct tc_state {
    wl_sizedist dist;
    size_t objects, ntransfer;
    uint64_t rounds, survive_cut; /* a block survives when a draw < survive_cut (of 2^32) */
    void *_Atomic *transfer;
} tc_state;

typedef struct tc_gen {
    void **ptr; /* this generation's blocks */
} tc_gen;

static tc_state state_storage; /* setup fills it; runs in one process are sequential */

static int tc_setup(wl_run *run, char *err, size_t errlen)
{
    tc_state *st = &state_storage;
    if (wl_sizedist_init(&st->dist, run->p[P_DIST].i, run->p[P_MIN].i, run->p[P_MAX].i, "min",
                         "max", err, errlen) != 0)
        return -1;
    st->objects = (size_t)run->p[P_OBJECTS].i;
    st->rounds = (uint64_t)run->p[P_ROUNDS].i;
    st->ntransfer = (size_t)run->p[P_TRANSFER].i;
    st->survive_cut = (uint64_t)(run->p[P_SURVIVE].d * 4294967296.0);
    st->transfer = wl_meta_alloc("threadchurn", st->ntransfer * sizeof *st->transfer);
    run->state = st;
    return 0;
}

static void *new_block(wl_thread *t, const tc_state *st, size_t *size_out)
{
    size_t n = wl_size_draw(&st->dist, t->rng);
    void *p = wl_malloc(t, n);
    if (!p) wl_die("threadchurn", "malloc(%zu) failed", n);
    memcpy(p, &n, sizeof n);
    wl_touch((char *)p + sizeof n, n - sizeof n, wl_tag(n, 0));
    *size_out = n;
    return p;
}

/* Checks a block's header and tag, poisons its header (so a block handed out twice is noticed
 * by its second owner) and frees it. */
static void drop_block(wl_thread *t, const tc_state *st, void *p)
{
    size_t n;
    memcpy(&n, p, sizeof n);
    if (n < st->dist.min || n > st->dist.max ||
        !wl_check((char *)p + sizeof n, n - sizeof n, wl_tag(n, 0)))
        wl_die("threadchurn", "block of %zu bytes was overwritten (or handed out twice)", n);
    memset(p, 0, sizeof n);
    wl_free(t, p, n);
}

/* One short-lived thread: allocate, churn, free most, hand the survivors on. */
static void generation(wl_thread *t, void *arg)
{
    tc_gen *g = arg;
    const tc_state *st = t->run->state;
    size_t n = st->objects, sz;
    for (size_t i = 0; i < n; i++)
        g->ptr[i] = new_block(t, st, &sz);
    for (size_t k = 0; k < n; k++) {
        size_t j = (size_t)wl_rand_below(t->rng, n);
        drop_block(t, st, g->ptr[j]);
        g->ptr[j] = new_block(t, st, &sz);
    }
    for (size_t i = 0; i < n; i++) {
        if ((wl_rand(t->rng) >> 32) < st->survive_cut) {
            size_t slot = (size_t)wl_rand_below(t->rng, st->ntransfer);
            void *old = atomic_exchange(&st->transfer[slot], g->ptr[i]);
            if (old) drop_block(t, st, old);
        } else {
            drop_block(t, st, g->ptr[i]);
        }
    }
    wl_count_ops(t, 2 * n);
}

static void tc_thread(wl_thread *t)
{
    const tc_state *st = t->run->state;
    tc_gen g = {wl_meta_alloc("threadchurn", st->objects * sizeof(void *))};
    wl_rng_seed(t->rng, t->run->seed, t->id);
    for (uint64_t r = 0; r < st->rounds; r++)
        wl_subthread_run(t, generation, &g);
    wl_meta_free(g.ptr, st->objects * sizeof(void *));
}

static void tc_teardown(wl_run *run)
{
    tc_state *st = run->state;
    wl_thread *t = &run->threads[0]; /* every worker has returned: slot 0 does the accounting */
    for (size_t i = 0; i < st->ntransfer; i++) {
        void *p = atomic_exchange(&st->transfer[i], NULL);
        if (p) drop_block(t, st, p);
    }
    wl_meta_free((void *)st->transfer, st->ntransfer * sizeof *st->transfer);
}

const wl_workload wl_threadchurn = {
    .name = "threadchurn",
    .summary = "short-lived threads whose surviving blocks are freed by other threads later",
    .description =
        "mstress-like thread churn. Each worker slot starts `rounds` short-lived threads in "
        "turn. A thread allocates `objects` blocks (sizes from `dist` over min..max), replaces "
        "as many at random, then frees most of them and puts a `survive` share into a shared "
        "transfer table, freeing whichever block it displaces - typically one allocated by "
        "another thread that has since exited. Stresses thread creation and exit with live "
        "memory (orphaned thread caches and pages), remote frees and heap reuse across "
        "threads. One op is one allocation.",
    .params = params,
    .nparams = P_COUNT,
    .setup = tc_setup,
    .thread_main = tc_thread,
    .teardown = tc_teardown,
};
