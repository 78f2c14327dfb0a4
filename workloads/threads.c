/* threads.c - threads the workloads create (larson successors, threadchurn generations) and
 * the worker barrier.
 *
 * Invariant: every sub-thread calls the allocator's thread_init before its body and
 * thread_exit after it, so backends with thread caches see threads come and go.
 */
#include "wl_support.h"

#include <stdio.h>
#include <string.h>

static void *subthread_main(void *arg)
{
    wl_subthread *st = arg;
    const ab_allocator *a = st->t->a;
    if (a->thread_init) a->thread_init();
    st->fn(st->t, st->arg);
    if (a->thread_exit) a->thread_exit();
    return NULL;
}

void wl_subthread_start(wl_subthread *st, wl_thread *t, wl_thread_fn fn, void *arg)
{
    st->t = t;
    st->fn = fn;
    st->arg = arg;
    int rc = pthread_create(&st->th, NULL, subthread_main, st);
    if (rc != 0)
        wl_die(t->run && t->run->w ? t->run->w->name : "?", "cannot create a thread: %s",
               strerror(rc));
}

void wl_subthread_join(wl_subthread *st)
{
    pthread_join(st->th, NULL);
}

void wl_subthread_run(wl_thread *t, wl_thread_fn fn, void *arg)
{
    wl_subthread st;
    wl_subthread_start(&st, t, fn, arg);
    wl_subthread_join(&st);
}

void wl_barrier_init(wl_barrier *b, unsigned n)
{
    pthread_barrier_init(&b->b, NULL, n ? n : 1);
}

void wl_barrier_wait(wl_barrier *b)
{
    pthread_barrier_wait(&b->b);
}

void wl_barrier_destroy(wl_barrier *b)
{
    pthread_barrier_destroy(&b->b);
}
