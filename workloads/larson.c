/* larson.c - server simulation after Larson & Krishnan: each worker slot holds `chunks`
 * blocks of 8..1000 B and replaces random ones; every `steps` replacements the worker thread
 * exits and a successor thread takes over its slot and inherits its blocks, so the successor
 * frees memory a dead thread allocated (remote frees, orphaned thread caches).
 *
 * Invariant: the slot's table (ptr[i], size[i]) is used by one thread at a time (the
 * supervisor joins a generation before starting the next); its live bytes == sum of size[i];
 * the last generation frees every block.
 */
#include "wl_list.h"
#include "wl_sizes.h"
#include "wl_support.h"

enum { P_CHUNKS, P_MIN, P_MAX, P_DIST, P_STEPS, P_ROUNDS, P_COUNT };

static const wl_param_def params[P_COUNT] = {
    [P_CHUNKS] = {"chunks", WL_P_INT, "5000", "blocks each worker slot holds", NULL, 1, 1 << 24},
    [P_MIN] = {"min", WL_P_SIZE, "8", "smallest block", NULL, 1, 4294967296.0},
    [P_MAX] = {"max", WL_P_SIZE, "1000", "largest block", NULL, 1, 4294967296.0},
    [P_DIST] = {"dist", WL_P_ENUM, "uniform", "size distribution", WL_DIST_CHOICES, 0, -1},
    [P_STEPS] = {"steps", WL_P_INT, "1000000", "replacements per generation (thread lifetime)",
                 NULL, 1, 1e12},
    [P_ROUNDS] = {"rounds", WL_P_INT, "8", "generations of threads per worker slot", NULL, 1, 1e6},
};

typedef struct larson_state {
    wl_sizedist dist;
    size_t chunks;
    uint64_t steps, rounds;
} larson_state;

typedef struct larson_slot {
    void **ptr;
    uint32_t *size;
    uint64_t gen;
} larson_slot;

static larson_state state_storage; /* setup fills it; runs in one process are sequential */

static int larson_setup(wl_run *run, char *err, size_t errlen)
{
    larson_state *st = &state_storage;
    if (wl_sizedist_init(&st->dist, run->p[P_DIST].i, run->p[P_MIN].i, run->p[P_MAX].i, "min",
                         "max", err, errlen) != 0)
        return -1;
    st->chunks = (size_t)run->p[P_CHUNKS].i;
    st->steps = (uint64_t)run->p[P_STEPS].i;
    st->rounds = (uint64_t)run->p[P_ROUNDS].i;
    run->state = st;
    return 0;
}

static void replace(wl_thread *t, larson_slot *s, size_t j, const larson_state *st)
{
    if (s->ptr[j]) {
        if (!wl_check(s->ptr[j], s->size[j], wl_tag(s->size[j], j)))
            wl_die("larson", "block of %u bytes in chunk %zu was overwritten", s->size[j], j);
        wl_free(t, s->ptr[j], s->size[j]);
    }
    size_t n = wl_size_draw(&st->dist, t->rng);
    void *p = wl_malloc(t, n);
    if (!p) wl_die("larson", "malloc(%zu) failed", n);
    wl_touch(p, n, wl_tag(n, j));
    s->ptr[j] = p;
    s->size[j] = (uint32_t)n;
}

/* One generation: a fresh thread working on the slot's inherited blocks. */
static void generation(wl_thread *t, void *arg)
{
    larson_slot *s = arg;
    const larson_state *st = t->run->state;
    if (s->gen == 0)
        for (size_t j = 0; j < st->chunks; j++)
            replace(t, s, j, st);
    for (uint64_t i = 0; i < st->steps; i++) {
        replace(t, s, (size_t)wl_rand_below(t->rng, st->chunks), st);
        if ((i & 255) == 255) wl_count_ops(t, 256);
    }
    wl_count_ops(t, st->steps & 255);
    if (++s->gen == st->rounds)
        for (size_t j = 0; j < st->chunks; j++) {
            wl_free(t, s->ptr[j], s->size[j]);
            s->ptr[j] = NULL;
        }
}

static void larson_thread(wl_thread *t)
{
    const larson_state *st = t->run->state;
    larson_slot s = {
        .ptr = wl_meta_alloc("larson", st->chunks * sizeof(void *)),
        .size = wl_meta_alloc("larson", st->chunks * sizeof(uint32_t)),
    };
    wl_rng_seed(t->rng, t->run->seed, t->id);
    /* This (runner) thread only supervises: each generation runs on its own thread. */
    for (uint64_t g = 0; g < st->rounds; g++)
        wl_subthread_run(t, generation, &s);
    wl_meta_free(s.ptr, st->chunks * sizeof(void *));
    wl_meta_free(s.size, st->chunks * sizeof(uint32_t));
}

const wl_workload wl_larson = {
    .name = "larson",
    .summary = "server simulation: threads replace random blocks, successors inherit and free them",
    .description =
        "After Larson & Krishnan's server benchmark. Each worker slot holds `chunks` blocks "
        "(sizes from `dist` over min..max, 8..1000 B by default) and repeatedly frees a random "
        "one and allocates a replacement. After `steps` replacements the worker thread exits "
        "and a new thread takes over the slot with all its blocks, `rounds` times, so most "
        "frees hit memory allocated by a thread that no longer exists. Stresses remote frees, "
        "thread-cache hand-over at thread exit and heap growth under thread churn. One op is "
        "one replacement (a free plus a malloc).",
    .params = params,
    .nparams = P_COUNT,
    .setup = larson_setup,
    .thread_main = larson_thread,
};
