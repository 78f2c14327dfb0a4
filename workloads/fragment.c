/* fragment.c - fragmentation: long-lived survivors pin memory a size-segregated heap cannot
 * reuse for other sizes.
 *
 * pattern=shift (per round): fill `count` blocks of size_a, free all but a random 1 in `keep`,
 * then allocate `count` blocks of size_b; then free everything. pattern=robson: a live budget of
 * `budget` bytes is filled with blocks of size min, half of all live blocks (chosen at random)
 * are freed, the budget is refilled with blocks twice as large, and so on up to max (a
 * Robson-style adversary: every size class keeps scattered survivors).
 * Phase changes are timeline events (thread 0, between barriers of all workers); wl_settle
 * follows each mass free. Invariant: blk[0..n) are the thread's live blocks, size[i] their
 * sizes, each carrying its own tag[i] at both ends; n == 0 at the end of every round.
 */
#include <stdio.h>

#include "wl_list.h"
#include "wl_support.h"

enum { P_PATTERN, P_COUNT_, P_SIZE_A, P_SIZE_B, P_KEEP, P_ROUNDS, P_MIN, P_MAX, P_BUDGET, P_N };

static const wl_param_def params[P_N] = {
    [P_PATTERN] = {"pattern", WL_P_ENUM, "shift", "size shift or Robson-style doubling",
                   "shift|robson", 0, -1},
    [P_COUNT_] = {"count", WL_P_INT, "400000", "shift: blocks per phase and thread", NULL, 1,
                  1 << 26},
    [P_SIZE_A] = {"size_a", WL_P_SIZE, "64", "shift: size of the first blocks", NULL, 1, 1 << 30},
    [P_SIZE_B] = {"size_b", WL_P_SIZE, "160", "shift: size allocated after the free", NULL, 1,
                  1 << 30},
    [P_KEEP] = {"keep", WL_P_INT, "16", "shift: 1 in `keep` first blocks survives", NULL, 1,
                1 << 20},
    [P_ROUNDS] = {"rounds", WL_P_INT, "2", "rounds of the pattern", NULL, 1, 1e6},
    [P_MIN] = {"min", WL_P_SIZE, "16", "robson: first block size", NULL, 1, 1 << 30},
    [P_MAX] = {"max", WL_P_SIZE, "4K", "robson: last block size", NULL, 1, 1 << 30},
    [P_BUDGET] = {"budget", WL_P_SIZE, "16M", "robson: live bytes per thread", NULL, 1, 1ll << 40},
};

typedef struct frag_state {
    int robson;
    size_t count, size_a, size_b, keep, min, max, budget, cap;
    uint64_t rounds;
    wl_barrier bar;
} frag_state;

typedef struct frag_local {
    void **blk;
    size_t *size;
    uint8_t *tag; /* each block's own tag (from a serial number), kept through compaction */
    size_t n;
    uint64_t serial;
} frag_local;

static frag_state state_storage; /* setup fills it; runs in one process are sequential */

static int frag_setup(wl_run *run, char *err, size_t errlen)
{
    frag_state *st = &state_storage;
    st->robson = run->p[P_PATTERN].i == 1;
    st->count = (size_t)run->p[P_COUNT_].i;
    st->size_a = (size_t)run->p[P_SIZE_A].i;
    st->size_b = (size_t)run->p[P_SIZE_B].i;
    st->keep = (size_t)run->p[P_KEEP].i;
    st->rounds = (uint64_t)run->p[P_ROUNDS].i;
    st->min = (size_t)run->p[P_MIN].i;
    st->max = (size_t)run->p[P_MAX].i;
    st->budget = (size_t)run->p[P_BUDGET].i;
    if (st->robson && st->min > st->max) {
        snprintf(err, errlen, "parameter 'max': %zu is below min=%zu", st->max, st->min);
        return -1;
    }
    if (st->robson && st->budget / st->min > ((size_t)1 << 26)) {
        snprintf(err, errlen,
                 "parameter 'budget': %zu bytes of %zu-byte blocks is over 2^26 blocks", st->budget,
                 st->min);
        return -1;
    }
    /* robson: at most budget/min + 1 blocks of the current size, plus survivors < budget/min */
    st->cap = st->robson ? 2 * (st->budget / st->min) + 2 : 2 * st->count;
    wl_barrier_init(&st->bar, run->nthreads);
    run->state = st;
    return 0;
}

static void frag_teardown(wl_run *run)
{
    frag_state *st = run->state;
    wl_barrier_destroy(&st->bar);
}

/* All workers meet; thread 0 records the event (and settles when asked); all meet again. */
static void phase(wl_thread *t, frag_state *st, const char *event, const char *settle)
{
    wl_barrier_wait(&st->bar);
    if (t->id == 0) {
        if (event) wl_event(t->run, event);
        if (settle) wl_settle(t->run, settle);
    }
    wl_barrier_wait(&st->bar);
}

static void add(wl_thread *t, frag_local *l, size_t size)
{
    void *p = wl_malloc(t, size);
    if (!p) wl_die("fragment", "malloc(%zu) failed", size);
    l->tag[l->n] = wl_tag(size, l->serial++);
    wl_touch(p, size, l->tag[l->n]);
    l->blk[l->n] = p;
    l->size[l->n++] = size;
}

static void drop(wl_thread *t, frag_local *l, size_t i)
{
    if (!wl_check(l->blk[i], l->size[i], l->tag[i]))
        wl_die("fragment", "block of %zu bytes was overwritten", l->size[i]);
    wl_free(t, l->blk[i], l->size[i]);
}

/* Frees each live block unless a draw below 2^64 / keep_one_in keeps it; compacts the list. */
static void thin(wl_thread *t, frag_local *l, size_t keep_one_in)
{
    size_t kept = 0;
    for (size_t i = 0; i < l->n; i++) {
        if (wl_rand_below(t->rng, keep_one_in) == 0) {
            l->blk[kept] = l->blk[i];
            l->tag[kept] = l->tag[i];
            l->size[kept++] = l->size[i];
        } else {
            drop(t, l, i);
        }
    }
    l->n = kept;
}

static void free_all(wl_thread *t, frag_local *l)
{
    for (size_t i = 0; i < l->n; i++)
        drop(t, l, i);
    l->n = 0;
}

static void round_shift(wl_thread *t, frag_state *st, frag_local *l)
{
    phase(t, st, "fill", NULL);
    for (size_t i = 0; i < st->count; i++)
        add(t, l, st->size_a);
    thin(t, l, st->keep);
    phase(t, st, "sparse", "after-sparse-free");
    phase(t, st, "shift", NULL);
    for (size_t i = 0; i < st->count; i++)
        add(t, l, st->size_b);
    wl_count_ops(t, 2 * st->count);
    free_all(t, l);
    phase(t, st, "empty", "after-free-all");
}

static void round_robson(wl_thread *t, frag_state *st, frag_local *l)
{
    size_t live = 0;
    phase(t, st, "fill", NULL);
    for (size_t s = st->min; s <= st->max; s *= 2) {
        size_t added = 0;
        while (live < st->budget && l->n < st->cap) {
            add(t, l, s);
            live += s;
            added++;
        }
        wl_count_ops(t, added);
        thin(t, l, 2);
        live = 0;
        for (size_t i = 0; i < l->n; i++)
            live += l->size[i];
        phase(t, st, "size-doubled", NULL);
        if (s > st->max / 2) break; /* no overflow of s *= 2 */
    }
    free_all(t, l);
    phase(t, st, "empty", "after-free-all");
}

static void frag_thread(wl_thread *t)
{
    frag_state *st = t->run->state;
    frag_local l = {.blk = wl_meta_alloc("fragment", st->cap * sizeof(void *)),
                    .size = wl_meta_alloc("fragment", st->cap * sizeof(size_t)),
                    .tag = wl_meta_alloc("fragment", st->cap)};
    wl_rng_seed(t->rng, t->run->seed, t->id);
    for (uint64_t r = 0; r < st->rounds; r++) {
        if (st->robson)
            round_robson(t, st, &l);
        else
            round_shift(t, st, &l);
    }
    wl_meta_free(l.blk, st->cap * sizeof(void *));
    wl_meta_free(l.size, st->cap * sizeof(size_t));
    wl_meta_free(l.tag, st->cap);
}

const wl_workload wl_fragment = {
    .name = "fragment",
    .summary = "size shift and Robson-style patterns: survivors pin memory other sizes cannot use",
    .description =
        "pattern=shift: each thread allocates `count` blocks of size_a, frees all but a random "
        "1 in `keep`, then allocates `count` blocks of size_b and finally frees everything, "
        "`rounds` times; a heap that segregates sizes cannot reuse the sparse size_a pages for "
        "size_b, so resident memory stays far above live bytes. pattern=robson: a live budget "
        "is filled with blocks of size min, a random half of all live blocks is freed, and the "
        "budget refilled with blocks twice as large, up to max, after Robson's worst case for "
        "allocators (scattered survivors of every size). Phase changes are timeline events and "
        "resident memory is measured after a settle delay following each mass free. One op is "
        "one allocation.",
    .params = params,
    .nparams = P_N,
    .setup = frag_setup,
    .thread_main = frag_thread,
    .teardown = frag_teardown,
};
