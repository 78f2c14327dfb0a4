/* large.c - large blocks: replace one of `buffers` buffers with a zeroed 5..25 MiB block.
 *
 * Each step frees a random buffer (checking its tags) and callocs a new one, checks that it
 * reads as zero at its first, middle and last byte, and writes one byte in every 4 KiB page so
 * it is really resident. Stresses the page heap, huge-block paths (mmap or not) and returning
 * memory to the OS. Invariant: buf[i] is NULL or a live block of size[i] bytes, tagged at both
 * ends; all freed at the end.
 */
#include <stdio.h>

#include "wl_list.h"
#include "wl_support.h"

enum { P_BUFFERS, P_MIN, P_MAX, P_STEPS, P_COUNT };

static const wl_param_def params[P_COUNT] = {
    [P_BUFFERS] = {"buffers", WL_P_INT, "20", "buffers each thread keeps", NULL, 1, 1 << 20},
    [P_MIN] = {"min", WL_P_SIZE, "5MiB", "smallest buffer", NULL, 1, 1ll << 40},
    [P_MAX] = {"max", WL_P_SIZE, "25MiB", "largest buffer", NULL, 1, 1ll << 40},
    [P_STEPS] = {"steps", WL_P_INT, "200", "replacements per thread", NULL, 1, 1e12},
};

typedef struct large_state {
    size_t buffers, min, span;
    uint64_t steps;
} large_state;

static large_state state_storage; /* setup fills it; runs in one process are sequential */

static int large_setup(wl_run *run, char *err, size_t errlen)
{
    large_state *st = &state_storage;
    if (run->p[P_MIN].i > run->p[P_MAX].i) {
        snprintf(err, errlen, "parameter 'max': %lld is below min=%lld", (long long)run->p[P_MAX].i,
                 (long long)run->p[P_MIN].i);
        return -1;
    }
    st->buffers = (size_t)run->p[P_BUFFERS].i;
    st->min = (size_t)run->p[P_MIN].i;
    st->span = (size_t)(run->p[P_MAX].i - run->p[P_MIN].i + 1);
    st->steps = (uint64_t)run->p[P_STEPS].i;
    run->state = st;
    return 0;
}

static void large_thread(wl_thread *t)
{
    const large_state *st = t->run->state;
    void **buf = wl_meta_alloc("large", st->buffers * sizeof *buf);
    size_t *size = wl_meta_alloc("large", st->buffers * sizeof *size);
    wl_rng_seed(t->rng, t->run->seed, t->id);
    for (uint64_t k = 0; k < st->steps; k++) {
        size_t j = (size_t)wl_rand_below(t->rng, st->buffers);
        if (buf[j]) {
            if (!wl_check(buf[j], size[j], wl_tag(size[j], j)))
                wl_die("large", "buffer of %zu bytes was overwritten", size[j]);
            wl_free(t, buf[j], size[j]);
        }
        size_t n = st->min + (size_t)wl_rand_below(t->rng, st->span);
        volatile uint8_t *p = wl_calloc(t, 1, n);
        if (!p) wl_die("large", "calloc(1, %zu) failed", n);
        if (p[0] || p[n / 2] || p[n - 1])
            wl_die("large", "calloc(1, %zu) returned memory that is not zero", n);
        for (size_t off = 4096; off < n; off += 4096)
            p[off] = 1;
        wl_touch((void *)p, n, wl_tag(n, j));
        buf[j] = (void *)p;
        size[j] = n;
        wl_count_ops(t, 1);
    }
    for (size_t j = 0; j < st->buffers; j++)
        wl_free(t, buf[j], size[j]);
    wl_meta_free(buf, st->buffers * sizeof *buf);
    wl_meta_free(size, st->buffers * sizeof *size);
}

const wl_workload wl_large = {
    .name = "large",
    .summary = "replace one of 20 buffers with a zeroed 5..25 MiB block, every page touched",
    .description =
        "Each thread keeps `buffers` large buffers (20 by default). Every step frees a random "
        "one and callocs a replacement of min..max bytes (5..25 MiB), checks that it reads as "
        "zero and writes one byte per 4 KiB page so it is really resident. Stresses the page "
        "heap and huge-block paths, zeroing (fresh pages need none, reused ones do) and how "
        "soon freed large blocks go back to the OS. One op is one replacement.",
    .params = params,
    .nparams = P_COUNT,
    .setup = large_setup,
    .thread_main = large_thread,
};
