/* cachescratch.c - passive false sharing (cache-scratch style).
 *
 * Thread 0 allocates one small block per thread in a row, so they may share cache lines, and
 * hands block i to thread i. Each thread frees the block it was handed (a remote free for all
 * but thread 0), then `iterations` times allocates its own block of the same size, writes it
 * `writes` times and frees it. An allocator that gives a thread back the slot another thread
 * freed, next to blocks still written by other threads, makes the threads fight over cache
 * lines. Invariant: handed[i] is allocated before the first barrier and freed by thread i only.
 */
#include "wl_list.h"
#include "wl_support.h"

enum { P_SIZE, P_ITERATIONS, P_WRITES, P_COUNT };

static const wl_param_def params[P_COUNT] = {
    [P_SIZE] = {"size", WL_P_SIZE, "8", "block size", NULL, 1, 1 << 20},
    [P_ITERATIONS] = {"iterations", WL_P_INT, "100000", "malloc/write/free rounds per thread", NULL,
                      1, 1e12},
    [P_WRITES] = {"writes", WL_P_INT, "1000", "writes to the block per round", NULL, 1, 1e9},
};

typedef struct cs_state {
    size_t size;
    uint64_t iterations, writes;
    void **handed;
    wl_barrier bar;
} cs_state;

static cs_state state_storage; /* setup fills it; runs in one process are sequential */

static int cs_setup(wl_run *run, char *err, size_t errlen)
{
    cs_state *st = &state_storage;
    (void)err, (void)errlen;
    st->size = (size_t)run->p[P_SIZE].i;
    st->iterations = (uint64_t)run->p[P_ITERATIONS].i;
    st->writes = (uint64_t)run->p[P_WRITES].i;
    st->handed = wl_meta_alloc("cachescratch", run->nthreads * sizeof(void *));
    wl_barrier_init(&st->bar, run->nthreads);
    run->state = st;
    return 0;
}

static void cs_teardown(wl_run *run)
{
    cs_state *st = run->state;
    wl_meta_free(st->handed, run->nthreads * sizeof(void *));
    wl_barrier_destroy(&st->bar);
}

static void cs_thread(wl_thread *t)
{
    cs_state *st = t->run->state;
    size_t n = st->size;
    if (t->id == 0)
        for (unsigned i = 0; i < t->run->nthreads; i++) {
            void *p = wl_malloc(t, n);
            if (!p) wl_die("cachescratch", "malloc(%zu) failed", n);
            wl_touch(p, n, wl_tag(n, i));
            st->handed[i] = p;
        }
    wl_barrier_wait(&st->bar);
    if (!wl_check(st->handed[t->id], n, wl_tag(n, t->id)))
        wl_die("cachescratch", "handed block of thread %u was overwritten", t->id);
    wl_free(t, st->handed[t->id], n);
    for (uint64_t k = 0; k < st->iterations; k++) {
        volatile uint8_t *p = wl_malloc(t, n);
        if (!p) wl_die("cachescratch", "malloc(%zu) failed", n);
        for (uint64_t w = 0, at = 0; w < st->writes; w++) { /* no division in the loop */
            p[at] = (uint8_t)(p[at] + 1);
            if (++at == n) at = 0;
        }
        wl_touch((void *)p, n, (uint8_t)k);
        wl_free(t, (void *)p, n);
        if ((k & 63) == 63) wl_count_ops(t, 64);
    }
    wl_count_ops(t, st->iterations & 63);
}

const wl_workload wl_cachescratch = {
    .name = "cachescratch",
    .summary = "false sharing: small blocks handed between threads, then reused and written",
    .description =
        "cache-scratch style passive false sharing. Thread 0 allocates one `size`-byte block "
        "per thread back to back (so they may share a cache line) and hands block i to thread "
        "i, which frees it - a remote free for every thread but 0. Then each thread, "
        "`iterations` times, allocates a block of the same size, writes it `writes` times and "
        "frees it. An allocator that hands a thread memory in a cache line other threads are "
        "writing makes the threads fight over it; the effect grows with the thread count. One "
        "op is one malloc/write/free round.",
    .params = params,
    .nparams = P_COUNT,
    .setup = cs_setup,
    .thread_main = cs_thread,
    .teardown = cs_teardown,
};
