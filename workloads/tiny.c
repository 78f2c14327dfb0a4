/* tiny.c - many tiny pointer-free objects (1..15 B): the territory of Go's tiny allocator.
 *
 * Each thread keeps a ring of `slots` tiny blocks; each step frees a random one (checking its
 * tag) and allocates a new one of 1..15 B (`min`..`max`). Invariant: ring[i] is NULL or a live
 * block of size[i] bytes tagged wl_tag(size[i], i); all freed at the end.
 */
#include <stdio.h>

#include "wl_list.h"
#include "wl_support.h"

enum { P_SLOTS, P_MIN, P_MAX, P_OPS, P_COUNT };

static const wl_param_def params[P_COUNT] = {
    [P_SLOTS] = {"slots", WL_P_INT, "65536", "tiny blocks each thread holds", NULL, 1, 1 << 26},
    [P_MIN] = {"min", WL_P_SIZE, "1", "smallest request", NULL, 1, 15},
    [P_MAX] = {"max", WL_P_SIZE, "15", "largest request (below 16 B)", NULL, 1, 15},
    [P_OPS] = {"ops", WL_P_INT, "10000000", "malloc+free pairs per thread", NULL, 1, 1e12},
};

typedef struct tiny_state {
    size_t slots, min, span;
    uint64_t ops;
} tiny_state;

static tiny_state state_storage; /* setup fills it; runs in one process are sequential */

static int tiny_setup(wl_run *run, char *err, size_t errlen)
{
    tiny_state *st = &state_storage;
    if (run->p[P_MIN].i > run->p[P_MAX].i) {
        snprintf(err, errlen, "parameter 'max': %lld is below min=%lld", (long long)run->p[P_MAX].i,
                 (long long)run->p[P_MIN].i);
        return -1;
    }
    st->slots = (size_t)run->p[P_SLOTS].i;
    st->min = (size_t)run->p[P_MIN].i;
    st->span = (size_t)(run->p[P_MAX].i - run->p[P_MIN].i + 1);
    st->ops = (uint64_t)run->p[P_OPS].i;
    run->state = st;
    return 0;
}

static void tiny_thread(wl_thread *t)
{
    const tiny_state *st = t->run->state;
    size_t n = st->slots;
    void **ring = wl_meta_alloc("tiny", n * sizeof *ring);
    uint8_t *size = wl_meta_alloc("tiny", n);
    wl_rng_seed(t->rng, t->run->seed, t->id);
    for (uint64_t i = 0; i < st->ops; i++) {
        size_t j = (size_t)wl_rand_below(t->rng, n);
        if (ring[j]) {
            if (!wl_check(ring[j], size[j], wl_tag(size[j], j)))
                wl_die("tiny", "block of %u bytes in slot %zu was overwritten", size[j], j);
            wl_free(t, ring[j], size[j]);
        }
        size_t s = st->min + (size_t)wl_rand_below(t->rng, st->span);
        void *p = wl_malloc(t, s);
        if (!p) wl_die("tiny", "malloc(%zu) failed", s);
        wl_touch(p, s, wl_tag(s, j));
        ring[j] = p;
        size[j] = (uint8_t)s;
        if ((i & 255) == 255) wl_count_ops(t, 256);
    }
    wl_count_ops(t, st->ops & 255);
    for (size_t j = 0; j < n; j++)
        wl_free(t, ring[j], size[j]);
    wl_meta_free(ring, n * sizeof *ring);
    wl_meta_free(size, n);
}

const wl_workload wl_tiny = {
    .name = "tiny",
    .summary = "many pointer-free objects under 16 B (1..15 B) churned through a large ring",
    .description =
        "Each thread keeps `slots` tiny blocks (65536 by default) of 1..15 bytes and repeatedly "
        "frees a random one and allocates a new one, touching its first and last byte. Nothing "
        "in them is a pointer, which is what Go's tiny allocator packs into shared 16-byte "
        "blocks; general-purpose allocators pay their minimum block size for each. Stresses the "
        "smallest size class and per-object overhead (resident/live). One op is one "
        "malloc+free pair.",
    .params = params,
    .nparams = P_COUNT,
    .setup = tiny_setup,
    .thread_main = tiny_thread,
};
