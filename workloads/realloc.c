/* realloc.c - buffers growing by realloc, their prefix verified after every move.
 *
 * Each thread keeps `buffers` buffers. A step picks one and grows it by realloc, either
 * geometrically (x1.5, with probability `geometric`) or by a small step of 1..`step` bytes
 * (string building), writes the pattern into the new bytes (every 64th byte, "stations", and the
 * last byte) and verifies the old prefix at its last byte and 4 random stations. A buffer that
 * would exceed `max` is freed and starts again empty. Invariant: in buf[i], the byte at every
 * multiple of 64 below len[i] and the byte at len[i]-1 hold pattern(i, offset); all freed at
 * the end.
 */
#include <stdio.h>

#include "wl_list.h"
#include "wl_support.h"

enum { P_BUFFERS, P_STEPS, P_STEP, P_GEOMETRIC, P_MAX, P_COUNT };

static const wl_param_def params[P_COUNT] = {
    [P_BUFFERS] = {"buffers", WL_P_INT, "64", "growing buffers per thread", NULL, 1, 1 << 20},
    [P_STEPS] = {"steps", WL_P_INT, "300000", "reallocs per thread", NULL, 1, 1e12},
    [P_STEP] = {"step", WL_P_SIZE, "64", "largest small growth step (bytes)", NULL, 1, 1 << 30},
    [P_GEOMETRIC] = {"geometric", WL_P_DOUBLE, "0.05", "probability of growing by x1.5", NULL, 0,
                     1},
    [P_MAX] = {"max", WL_P_SIZE, "256KiB", "a buffer past this restarts from empty", NULL, 2,
               1ll << 40},
};

typedef struct realloc_state {
    size_t buffers, step, max;
    uint64_t steps, geo_cut; /* geometric when a 32-bit draw < geo_cut */
} realloc_state;

static realloc_state state_storage; /* setup fills it; runs in one process are sequential */

static int realloc_setup(wl_run *run, char *err, size_t errlen)
{
    realloc_state *st = &state_storage;
    (void)err, (void)errlen;
    st->buffers = (size_t)run->p[P_BUFFERS].i;
    st->steps = (uint64_t)run->p[P_STEPS].i;
    st->step = (size_t)run->p[P_STEP].i;
    st->max = (size_t)run->p[P_MAX].i;
    st->geo_cut = (uint64_t)(run->p[P_GEOMETRIC].d * 4294967296.0);
    run->state = st;
    return 0;
}

static inline uint8_t pattern(size_t buf, size_t off)
{
    return (uint8_t)(off * 7 + buf * 13 + (off >> 8) + 1);
}

/* Checks the last byte and 4 random pattern stations (every 64th byte) of the prefix. */
static void verify(const uint8_t *p, size_t len, size_t i, uint64_t rng[4])
{
    size_t at[5] = {len - 1, 0, 0, 0, 0};
    for (int k = 1; k < 5; k++)
        at[k] = (size_t)wl_rand_below(rng, (len + 63) / 64) * 64;
    for (int k = 0; k < 5; k++)
        if (p[at[k]] != pattern(i, at[k]))
            wl_die("realloc", "buffer %zu lost its prefix at offset %zu of %zu after realloc", i,
                   at[k], len);
}

/* Writes the pattern into [from, to): every 64th byte (the stations) and the last byte. */
static void extend(uint8_t *p, size_t from, size_t to, size_t i)
{
    for (size_t o = (from + 63) & ~(size_t)63; o < to; o += 64)
        p[o] = pattern(i, o);
    p[to - 1] = pattern(i, to - 1);
}

static void realloc_thread(wl_thread *t)
{
    const realloc_state *st = t->run->state;
    uint8_t **buf = wl_meta_alloc("realloc", st->buffers * sizeof *buf);
    size_t *len = wl_meta_alloc("realloc", st->buffers * sizeof *len);
    wl_rng_seed(t->rng, t->run->seed, t->id);
    for (uint64_t k = 0; k < st->steps; k++) {
        size_t i = (size_t)wl_rand_below(t->rng, st->buffers);
        size_t old = len[i];
        size_t grow = (wl_rand(t->rng) >> 32) < st->geo_cut
                          ? old / 2 + 1
                          : 1 + (size_t)wl_rand_below(t->rng, st->step);
        if (old + grow > st->max) {
            wl_free(t, buf[i], old);
            buf[i] = NULL;
            len[i] = old = 0;
        }
        size_t n = old + grow;
        uint8_t *p = wl_realloc(t, buf[i], old, n);
        if (!p) wl_die("realloc", "realloc to %zu bytes failed", n);
        if (old) verify(p, old, i, t->rng);
        extend(p, old, n, i);
        buf[i] = p;
        len[i] = n;
        if ((k & 255) == 255) wl_count_ops(t, 256);
    }
    wl_count_ops(t, st->steps & 255);
    for (size_t i = 0; i < st->buffers; i++)
        wl_free(t, buf[i], len[i]);
    wl_meta_free(buf, st->buffers * sizeof *buf);
    wl_meta_free(len, st->buffers * sizeof *len);
}

const wl_workload wl_realloc_workload = {
    .name = "realloc",
    .summary = "buffers growing by realloc (x1.5 or small steps), prefix verified after each",
    .description =
        "Each thread keeps `buffers` buffers and grows a random one per step with realloc: by "
        "x1.5 with probability `geometric` (vector doubling), otherwise by 1..`step` bytes "
        "(string building). New bytes get a pattern (every 64th byte and the last); after each "
        "realloc the old prefix is checked at its last byte and 4 random pattern bytes, so a "
        "realloc that loses data is caught. A buffer that would pass "
        "`max` is freed and restarts empty. Stresses in-place growth, size-class transitions "
        "and the copy path. One op is one realloc.",
    .params = params,
    .nparams = P_COUNT,
    .setup = realloc_setup,
    .thread_main = realloc_thread,
};
