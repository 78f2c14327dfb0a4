/* wl_driver.c - the in-test workload driver (see wl_driver.h).
 *
 * Invariant: every wl_thread is zeroed, seeded and hashing before its thread starts; results
 * are read only after every thread has been joined and teardown has run.
 */
#include "wl_driver.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wl_params.h"

extern const ab_allocator WL_TEST_BACKEND;

const ab_allocator *wl_test_backend(void)
{
    return &WL_TEST_BACKEND;
}

void wl_test_events_clear(void);

static void *worker(void *arg)
{
    wl_thread *t = arg;
    if (t->a->thread_init) t->a->thread_init();
    t->run->w->thread_main(t);
    if (t->a->thread_exit) t->a->thread_exit();
    return NULL;
}

int wl_drive(const wl_workload *w, unsigned nthreads, uint64_t seed, const char *const *kv, int n,
             wl_drive_result *res)
{
    return wl_drive_on(wl_test_backend(), w, nthreads, seed, kv, n, res);
}

int wl_drive_on(const ab_allocator *a, const wl_workload *w, unsigned nthreads, uint64_t seed,
                const char *const *kv, int n, wl_drive_result *res)
{
    memset(res, 0, sizeof *res);
    wl_run run = {.w = w, .a = a, .nthreads = nthreads, .seed = seed};
    wl_test_events_clear();
    if (wl_params_parse(&run, kv, n, res->err, sizeof res->err) != 0) return res->rc = -1;
    /* wl_thread is cache-line aligned: calloc's 16 bytes are not enough. */
    run.threads = aligned_alloc(_Alignof(wl_thread), nthreads * sizeof *run.threads);
    if (run.threads) memset(run.threads, 0, nthreads * sizeof *run.threads);
    pthread_t *th = calloc(nthreads, sizeof *th);
    if (!run.threads || !th) abort();
    for (unsigned i = 0; i < nthreads; i++) {
        wl_thread *t = &run.threads[i];
        t->run = &run;
        t->a = run.a;
        t->id = i;
        t->hash_ops = 1;
        t->op_hash = 0xcbf29ce484222325ull;
        t->sample_countdown = 97;
        wl_rng_seed(t->rng, seed, i);
    }
    if (w->setup && w->setup(&run, res->err, sizeof res->err) != 0) {
        free(run.threads);
        free(th);
        return res->rc = -1;
    }
    for (unsigned i = 0; i < nthreads; i++)
        if (pthread_create(&th[i], NULL, worker, &run.threads[i]) != 0) abort();
    for (unsigned i = 0; i < nthreads; i++)
        pthread_join(th[i], NULL);
    if (w->teardown) w->teardown(&run);
    res->hash = 0x84222325cbf29ce4ull;
    for (unsigned i = 0; i < nthreads; i++) {
        res->ops += atomic_load(&run.threads[i].ops);
        res->live_end += atomic_load(&run.threads[i].live_bytes);
        res->hash = (res->hash ^ run.threads[i].op_hash) * 0x100000001b3ull;
    }
    free(run.threads);
    free(th);
    return 0;
}
