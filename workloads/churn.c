/* churn.c - the reference loop of BENCH_METHOD.md: small short-lived churn.
 *
 * Each thread owns a ring of `slots` blocks; each step frees a random slot (checking the tag
 * it wrote) and allocates a new block of a size drawn from `dist` into it. One op = one
 * malloc+free pair, so ns_per_op is the figure of BENCH_METHOD.md's reference table.
 * Invariant: ring[i] == NULL or holds a live block of size[i] bytes whose first byte is tag[i]
 * (wl_tag(size[i], i));
 * the thread's live bytes == sum of size[i] over non-NULL slots; all slots are freed at the end.
 */
#include "wl_list.h"
#include "wl_sizes.h"
#include "wl_support.h"

enum { P_SLOTS, P_MIN, P_MAX, P_OPS, P_DIST, P_COUNT };

static const wl_param_def params[P_COUNT] = {
    [P_SLOTS] = {"slots", WL_P_INT, "4096", "blocks in each thread's ring", NULL, 1, 1 << 24},
    [P_MIN] = {"min", WL_P_SIZE, "8", "smallest request (fixed: the size)", NULL, 1, 4294967296.0},
    [P_MAX] = {"max", WL_P_SIZE, "255", "largest request", NULL, 1, 4294967296.0},
    [P_OPS] = {"ops", WL_P_INT, "20000000", "malloc+free pairs per thread", NULL, 1, 1e12},
    [P_DIST] = {"dist", WL_P_ENUM, "uniform", "size distribution", WL_DIST_CHOICES, 0, -1},
};

typedef struct churn_state {
    wl_sizedist dist;
    size_t slots;
    uint64_t ops;
} churn_state;

static churn_state state_storage; /* setup fills it; runs in one process are sequential */

static int churn_setup(wl_run *run, char *err, size_t errlen)
{
    churn_state *st = &state_storage;
    if (wl_sizedist_init(&st->dist, run->p[P_DIST].i, run->p[P_MIN].i, run->p[P_MAX].i, "min",
                         "max", err, errlen) != 0)
        return -1;
    st->slots = (size_t)run->p[P_SLOTS].i;
    st->ops = (uint64_t)run->p[P_OPS].i;
    run->state = st;
    return 0;
}

/* The measured loop. Its budget beyond the allocator's own calls: one RNG step (two for a
 * non-uniform dist), a tag check before the free and a tag write after the malloc, both on the
 * block's first byte (the line the reference loop and most allocators' free touch anyway; a
 * last-byte tag would add a cache line per op), the live-byte account and the op counter
 * every 256 steps; no call but malloc and free. What this costs is measured by the
 * `overhead` backend (results/README.md). Whole-block overlap checks are the conformance
 * suite's and the fuzzers' job. */
static void churn_thread(wl_thread *t)
{
    const churn_state *st = t->run->state;
    size_t n = st->slots;
    void **ring = wl_meta_alloc("churn", n * sizeof *ring);
    uint32_t *size = wl_meta_alloc("churn", n * sizeof *size);
    uint8_t *tag = wl_meta_alloc("churn", n);
    wl_rng_seed(t->rng, t->run->seed, t->id);
    const uint64_t ops = st->ops;
    const int uniform = st->dist.kind == WL_DIST_UNIFORM;
    const uint64_t lo = st->dist.min, span = st->dist.max - st->dist.min + 1;
    for (uint64_t i = 0; i < ops; i++) {
        /* Uniform sizes (the reference loop) take slot and size from one RNG step: the slot
         * from the high 32 bits, the size from the low 32 (n and span are below 2^32). */
        uint64_t r = wl_rand(t->rng);
        size_t j = (size_t)(((r >> 32) * n) >> 32);
        void *old = ring[j];
        if (old) {
            if (*(volatile uint8_t *)old != tag[j])
                wl_die("churn", "block of %u bytes in slot %zu was overwritten", size[j], j);
            wl_free(t, old, size[j]);
        }
        size_t s = uniform ? (size_t)(lo + (((r & 0xffffffffu) * span) >> 32))
                           : wl_size_draw(&st->dist, t->rng);
        void *p = wl_malloc(t, s);
        if (!p) wl_die("churn", "malloc(%zu) failed", s);
        uint8_t g = wl_tag(s, j);
        *(volatile uint8_t *)p = g;
        ring[j] = p;
        size[j] = (uint32_t)s;
        tag[j] = g;
        if ((i & 255) == 255) wl_count_ops(t, 256);
    }
    wl_count_ops(t, ops & 255);
    for (size_t j = 0; j < n; j++)
        wl_free(t, ring[j], size[j]);
    wl_meta_free(ring, n * sizeof *ring);
    wl_meta_free(size, n * sizeof *size);
    wl_meta_free(tag, n);
}

const wl_workload wl_churn = {
    .name = "churn",
    .summary = "small short-lived churn: a ring of slots, free a random one, malloc a new size",
    .description =
        "Each thread keeps a ring of `slots` blocks. Every step frees a randomly chosen slot and "
        "allocates a block whose size is drawn from `dist` over min..max into it, writing a tag to "
        "its first byte (and checking it before the free). One op is one malloc+free "
        "pair, so ns/op is directly the figure of the reference table in BENCH_METHOD.md. "
        "Stresses the small-object fast path and same-thread reuse.",
    .params = params,
    .nparams = P_COUNT,
    .setup = churn_setup,
    .thread_main = churn_thread,
};
