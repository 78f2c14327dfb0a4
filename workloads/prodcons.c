/* prodcons.c - producer/consumer hand-off (xmalloc-test style): producers allocate batches of
 * blocks, consumers on other threads free them, through a bounded queue per pair.
 *
 * Threads pair up: even id = producer, id + 1 = its consumer; with an odd thread count the last
 * thread produces and consumes its own batches. Each pair shares a ring of `depth` batch slots.
 * Invariant (per queue, under its mutex): 0 <= count <= depth; slots [head, head+count) hold
 * published batches owned by the consumer, the others belong to the producer; a slot's blocks
 * are all live and tagged until the consumer frees them.
 */
#include <pthread.h>
#include <stdio.h>

#include "wl_list.h"
#include "wl_sizes.h"
#include "wl_support.h"

enum { P_BATCH, P_BATCHES, P_DEPTH, P_MIN, P_MAX, P_DIST, P_COUNT };

static const wl_param_def params[P_COUNT] = {
    [P_BATCH] = {"batch", WL_P_INT, "4096", "blocks per batch", NULL, 1, 1 << 20},
    [P_BATCHES] = {"batches", WL_P_INT, "4000", "batches each producer makes", NULL, 1, 1e9},
    [P_DEPTH] = {"depth", WL_P_INT, "4", "queue capacity in batches", NULL, 1, 1024},
    [P_MIN] = {"min", WL_P_SIZE, "64", "block size (fixed), or smallest", NULL, 1, 4294967296.0},
    [P_MAX] = {"max", WL_P_SIZE, "64", "largest block (not for fixed)", NULL, 1, 4294967296.0},
    [P_DIST] = {"dist", WL_P_ENUM, "fixed", "size distribution", WL_DIST_CHOICES, 0, -1},
};

typedef struct pc_batch {
    void **ptr;
    uint32_t *size;
} pc_batch;

typedef struct pc_queue {
    pthread_mutex_t lock;
    pthread_cond_t not_full, not_empty;
    unsigned head, count;
    pc_batch *slot; /* depth slots */
} pc_queue;

typedef struct pc_state {
    wl_sizedist dist;
    size_t batch;
    uint64_t batches;
    unsigned depth, nqueues;
    pc_queue *q;
} pc_state;

static pc_state state_storage; /* setup fills it; runs in one process are sequential */

static int pc_setup(wl_run *run, char *err, size_t errlen)
{
    pc_state *st = &state_storage;
    if (wl_sizedist_init(&st->dist, run->p[P_DIST].i, run->p[P_MIN].i, run->p[P_MAX].i, "min",
                         "max", err, errlen) != 0)
        return -1;
    st->batch = (size_t)run->p[P_BATCH].i;
    st->batches = (uint64_t)run->p[P_BATCHES].i;
    st->depth = (unsigned)run->p[P_DEPTH].i;
    st->nqueues = (run->nthreads + 1) / 2;
    st->q = wl_meta_alloc("prodcons", st->nqueues * sizeof *st->q);
    for (unsigned i = 0; i < st->nqueues; i++) {
        pc_queue *q = &st->q[i];
        pthread_mutex_init(&q->lock, NULL);
        pthread_cond_init(&q->not_full, NULL);
        pthread_cond_init(&q->not_empty, NULL);
        q->slot = wl_meta_alloc("prodcons", st->depth * sizeof *q->slot);
        for (unsigned k = 0; k < st->depth; k++) {
            q->slot[k].ptr = wl_meta_alloc("prodcons", st->batch * sizeof(void *));
            q->slot[k].size = wl_meta_alloc("prodcons", st->batch * sizeof(uint32_t));
        }
    }
    run->state = st;
    return 0;
}

static void pc_teardown(wl_run *run)
{
    pc_state *st = run->state;
    for (unsigned i = 0; i < st->nqueues; i++) {
        pc_queue *q = &st->q[i];
        for (unsigned k = 0; k < st->depth; k++) {
            wl_meta_free(q->slot[k].ptr, st->batch * sizeof(void *));
            wl_meta_free(q->slot[k].size, st->batch * sizeof(uint32_t));
        }
        wl_meta_free(q->slot, st->depth * sizeof *q->slot);
        pthread_mutex_destroy(&q->lock);
        pthread_cond_destroy(&q->not_full);
        pthread_cond_destroy(&q->not_empty);
    }
    wl_meta_free(st->q, st->nqueues * sizeof *st->q);
}

/* Producer side: fills the slot after the published ones, then publishes it. */
static void produce(wl_thread *t, const pc_state *st, pc_queue *q)
{
    pthread_mutex_lock(&q->lock);
    while (q->count == st->depth)
        pthread_cond_wait(&q->not_full, &q->lock);
    pc_batch *b = &q->slot[(q->head + q->count) % st->depth];
    pthread_mutex_unlock(&q->lock);
    for (size_t i = 0; i < st->batch; i++) {
        size_t n = wl_size_draw(&st->dist, t->rng);
        void *p = wl_malloc(t, n);
        if (!p) wl_die("prodcons", "malloc(%zu) failed", n);
        wl_touch(p, n, wl_tag(n, i));
        b->ptr[i] = p;
        b->size[i] = (uint32_t)n;
    }
    pthread_mutex_lock(&q->lock);
    q->count++;
    pthread_cond_signal(&q->not_empty);
    pthread_mutex_unlock(&q->lock);
}

/* Consumer side: frees the oldest published batch, then hands its slot back. */
static void consume(wl_thread *t, const pc_state *st, pc_queue *q)
{
    pthread_mutex_lock(&q->lock);
    while (q->count == 0)
        pthread_cond_wait(&q->not_empty, &q->lock);
    pc_batch *b = &q->slot[q->head];
    pthread_mutex_unlock(&q->lock);
    for (size_t i = 0; i < st->batch; i++) {
        if (!wl_check(b->ptr[i], b->size[i], wl_tag(b->size[i], i)))
            wl_die("prodcons", "block %zu of a batch (%u bytes) was overwritten", i, b->size[i]);
        wl_free(t, b->ptr[i], b->size[i]);
    }
    wl_count_ops(t, st->batch);
    pthread_mutex_lock(&q->lock);
    q->head = (q->head + 1) % st->depth;
    q->count--;
    pthread_cond_signal(&q->not_full);
    pthread_mutex_unlock(&q->lock);
}

static void pc_thread(wl_thread *t)
{
    const pc_state *st = t->run->state;
    pc_queue *q = &st->q[t->id / 2];
    int alone = (t->id % 2 == 0) && t->id + 1 == t->run->nthreads;
    wl_rng_seed(t->rng, t->run->seed, t->id);
    for (uint64_t k = 0; k < st->batches; k++) {
        if (alone) {
            produce(t, st, q);
            consume(t, st, q);
        } else if (t->id % 2 == 0) {
            produce(t, st, q);
        } else {
            consume(t, st, q);
        }
    }
}

const wl_workload wl_prodcons = {
    .name = "prodcons",
    .summary = "producer/consumer: batches allocated on one thread, freed on another",
    .description =
        "Threads pair up as producer and consumer (xmalloc-test style). The producer allocates "
        "batches of `batch` blocks (4096 x 64 B by default; `dist` over min..max) and hands "
        "them through a bounded queue of `depth` batches to its consumer, which checks and "
        "frees every block. Every free is a remote free of memory the freeing thread never "
        "allocated, which punishes thread caches that hoard or return memory slowly. With an "
        "odd thread count the last thread consumes its own batches. One op is one block "
        "allocated and freed.",
    .params = params,
    .nparams = P_COUNT,
    .setup = pc_setup,
    .thread_main = pc_thread,
    .teardown = pc_teardown,
};
