/* conformance_mt.c - the conformance suite's multi-threaded tests (see conformance.c): no
 * overlap among blocks allocated concurrently, blocks freed by another thread, threads exiting
 * while their blocks live, 32 threads of churn, threads that never call thread_init, stats()
 * and collect() while other threads allocate.
 * Named test_mt_* so a build can skip them as a group (AB_CT_SKIP='test_mt_*').
 */
#include "ct_suite.h"

enum { CT_OVL_THREADS = 4, CT_OVL_PER_THREAD = 1500 };

typedef struct ct_ovl_arg {
    ct_block *blocks;
    uint32_t index;
} ct_ovl_arg;

static void *ct_ovl_worker(void *arg)
{
    ct_ovl_arg *a = arg;
    uint64_t rng = 0x9E3779B97F4A7C15ull * (a->index + 1);
    for (size_t i = 0; i < CT_OVL_PER_THREAD; i++) {
        ct_block *b = &a->blocks[a->index * CT_OVL_PER_THREAD + i];
        *b = ct_alloc_mixed(&rng, a->index << 20 | (uint32_t)i);
        if (!b->p) ct_thread_error("allocation failed", NULL, b->size);
    }
    return NULL;
}

void test_mt_no_overlap(void **state)
{
    (void)state;
    const size_t n = CT_OVL_THREADS * CT_OVL_PER_THREAD;
    ct_block *blocks = calloc(n, sizeof *blocks);
    assert_non_null(blocks);
    ct_thread t[CT_OVL_THREADS];
    ct_ovl_arg args[CT_OVL_THREADS];
    atomic_store(&ct_thread_errors, 0);
    for (uint32_t i = 0; i < CT_OVL_THREADS; i++) {
        args[i] = (ct_ovl_arg){blocks, i};
        ct_start(&t[i], ct_ovl_worker, &args[i]);
    }
    for (int i = 0; i < CT_OVL_THREADS; i++)
        ct_join(&t[i]);
    assert_int_equal(atomic_load(&ct_thread_errors), 0);
    ct_assert_disjoint(blocks, n);
    for (size_t i = 0; i < n; i++)
        A->free(blocks[i].p);
    free(blocks);
}

/* ---- Blocks freed by another thread ---- */

enum { CT_Q_CAP = 256, CT_XFREE_BLOCKS = 20000 / CT_SCALE, CT_XFREE_PAIRS = 2 };

typedef struct ct_queue {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    ct_block items[CT_Q_CAP];
    size_t head, count; /* invariant: count <= CT_Q_CAP */
    int producers_left;
} ct_queue;

static void ct_queue_push(ct_queue *q, ct_block b)
{
    pthread_mutex_lock(&q->lock);
    while (q->count == CT_Q_CAP)
        pthread_cond_wait(&q->cond, &q->lock);
    q->items[(q->head + q->count++) % CT_Q_CAP] = b;
    pthread_cond_broadcast(&q->cond);
    pthread_mutex_unlock(&q->lock);
}

/* Returns 0 when every producer is done and the queue is empty. */
static int ct_queue_pop(ct_queue *q, ct_block *b)
{
    pthread_mutex_lock(&q->lock);
    while (q->count == 0 && q->producers_left > 0)
        pthread_cond_wait(&q->cond, &q->lock);
    int got = q->count > 0;
    if (got) {
        *b = q->items[q->head];
        q->head = (q->head + 1) % CT_Q_CAP;
        q->count--;
        pthread_cond_broadcast(&q->cond);
    }
    pthread_mutex_unlock(&q->lock);
    return got;
}

static ct_queue ct_xq;

static void *ct_producer(void *arg)
{
    uint64_t rng = (uintptr_t)arg * 7919 + 1;
    for (uint32_t i = 0; i < CT_XFREE_BLOCKS / CT_XFREE_PAIRS; i++) {
        ct_block b = ct_alloc_mixed(&rng, (uint32_t)(uintptr_t)arg << 24 | i);
        if (!b.p) {
            ct_thread_error("allocation failed", NULL, b.size);
            continue;
        }
        ct_queue_push(&ct_xq, b);
    }
    pthread_mutex_lock(&ct_xq.lock);
    ct_xq.producers_left--;
    pthread_cond_broadcast(&ct_xq.cond);
    pthread_mutex_unlock(&ct_xq.lock);
    return NULL;
}

static atomic_long ct_consumed;

static void *ct_consumer(void *arg)
{
    (void)arg;
    ct_block b;
    while (ct_queue_pop(&ct_xq, &b)) {
        if (ct_verify(b.p, b.size, b.seed) != SIZE_MAX)
            ct_thread_error("block changed between threads", b.p, b.size);
        A->free(b.p);
        atomic_fetch_add(&ct_consumed, 1);
    }
    return NULL;
}

void test_mt_cross_thread_free(void **state)
{
    (void)state;
    memset(&ct_xq, 0, sizeof ct_xq);
    pthread_mutex_init(&ct_xq.lock, NULL);
    pthread_cond_init(&ct_xq.cond, NULL);
    ct_xq.producers_left = CT_XFREE_PAIRS;
    atomic_store(&ct_thread_errors, 0);
    atomic_store(&ct_consumed, 0);
    ct_thread t[2 * CT_XFREE_PAIRS];
    for (int i = 0; i < CT_XFREE_PAIRS; i++) {
        ct_start(&t[2 * i], ct_producer, (void *)(uintptr_t)(i + 1));
        ct_start(&t[2 * i + 1], ct_consumer, NULL);
    }
    for (int i = 0; i < 2 * CT_XFREE_PAIRS; i++)
        ct_join(&t[i]);
    assert_int_equal(atomic_load(&ct_thread_errors), 0);
    assert_int_equal(atomic_load(&ct_consumed), CT_XFREE_BLOCKS);
    pthread_mutex_destroy(&ct_xq.lock);
    pthread_cond_destroy(&ct_xq.cond);
}

/* ---- A thread exits while its blocks live ---- */

enum { CT_EXIT_THREADS = 4, CT_EXIT_BLOCKS = 500 };

static void *ct_exit_worker(void *arg)
{
    ct_block *blocks = arg;
    uint64_t rng = (uintptr_t)arg | 1;
    for (uint32_t i = 0; i < CT_EXIT_BLOCKS; i++) {
        blocks[i] = ct_alloc_mixed(&rng, (uint32_t)((uintptr_t)arg >> 4) + i);
        if (!blocks[i].p) ct_thread_error("allocation failed", NULL, blocks[i].size);
    }
    return NULL; /* exits with every block live */
}

static void *ct_free_half_worker(void *arg)
{
    ct_block *blocks = arg;
    for (size_t i = 1; i < (size_t)CT_EXIT_THREADS * CT_EXIT_BLOCKS; i += 2) {
        if (ct_verify(blocks[i].p, blocks[i].size, blocks[i].seed) != SIZE_MAX)
            ct_thread_error("survivor changed", blocks[i].p, blocks[i].size);
        A->free(blocks[i].p);
        blocks[i].p = NULL;
    }
    return NULL;
}

void test_mt_thread_exit_with_live_blocks(void **state)
{
    (void)state;
    const size_t n = (size_t)CT_EXIT_THREADS * CT_EXIT_BLOCKS;
    ct_block *blocks = calloc(n, sizeof *blocks);
    assert_non_null(blocks);
    atomic_store(&ct_thread_errors, 0);
    ct_thread t[CT_EXIT_THREADS];
    for (int i = 0; i < CT_EXIT_THREADS; i++)
        ct_start(&t[i], ct_exit_worker, blocks + (size_t)i * CT_EXIT_BLOCKS);
    for (int i = 0; i < CT_EXIT_THREADS; i++)
        ct_join(&t[i]);
    assert_int_equal(atomic_load(&ct_thread_errors), 0);
    ct_assert_disjoint(blocks, n);

    /* the main thread keeps allocating: nothing new may land on a survivor */
    uint64_t rng = 42;
    ct_block *more = calloc(n + 1, sizeof *more);
    assert_non_null(more);
    memcpy(more, blocks, n * sizeof *blocks);
    more[n] = ct_alloc_mixed(&rng, 0xABCDEF);
    assert_non_null(more[n].p);
    ct_assert_disjoint(more, n + 1);
    A->free(more[n].p);
    free(more);

    /* another thread frees half, the main thread the rest */
    ct_thread f;
    ct_start(&f, ct_free_half_worker, blocks);
    ct_join(&f);
    assert_int_equal(atomic_load(&ct_thread_errors), 0);
    for (size_t i = 0; i < n; i += 2) {
        assert_int_equal(ct_verify(blocks[i].p, blocks[i].size, blocks[i].seed), SIZE_MAX);
        A->free(blocks[i].p);
    }
    free(blocks);
}

/* ---- 32 threads of churn, every block verified before it is freed ---- */

enum { CT_CHURN_THREADS = 32, CT_CHURN_SLOTS = 64, CT_CHURN_OPS = 2000 / CT_SCALE };

static void *ct_churn_worker(void *arg)
{
    uint32_t id = (uint32_t)(uintptr_t)arg;
    uint64_t rng = 0xC0FFEEull * (id + 1);
    ct_block slot[CT_CHURN_SLOTS];
    memset(slot, 0, sizeof slot);
    for (uint32_t op = 0; op < CT_CHURN_OPS; op++) {
        ct_block *b = &slot[ct_rand(&rng) % CT_CHURN_SLOTS];
        uint32_t seed = id << 20 | op;
        if (b->p && ct_rand(&rng) % 8 == 0) { /* realloc keeps the prefix */
            size_t n = ct_rand_size(&rng);
            void *q = A->realloc(b->p, n);
            if (!q && n) {
                ct_thread_error("realloc failed", b->p, n);
                continue;
            }
            size_t keep = b->size < n ? b->size : n;
            if (q && ct_verify(q, keep, b->seed) != SIZE_MAX)
                ct_thread_error("realloc lost the prefix", q, n);
            if (q) ct_fill(q, keep, n, b->seed);
            b->p = q;
            b->size = n;
            continue;
        }
        if (b->p) {
            if (ct_verify(b->p, b->size, b->seed) != SIZE_MAX)
                ct_thread_error("block changed while live", b->p, b->size);
            A->free(b->p);
        }
        *b = ct_alloc_mixed(&rng, seed);
        if (!b->p) ct_thread_error("allocation failed", NULL, b->size);
    }
    for (int i = 0; i < CT_CHURN_SLOTS; i++) {
        if (!slot[i].p) continue;
        if (ct_verify(slot[i].p, slot[i].size, slot[i].seed) != SIZE_MAX)
            ct_thread_error("block changed while live", slot[i].p, slot[i].size);
        A->free(slot[i].p);
    }
    return NULL;
}

void test_mt_churn_32_threads(void **state)
{
    (void)state;
    atomic_store(&ct_thread_errors, 0);
    ct_thread t[CT_CHURN_THREADS];
    for (uint32_t i = 0; i < CT_CHURN_THREADS; i++)
        ct_start(&t[i], ct_churn_worker, (void *)(uintptr_t)i);
    for (int i = 0; i < CT_CHURN_THREADS; i++)
        ct_join(&t[i]);
    assert_int_equal(atomic_load(&ct_thread_errors), 0);
}

/* ---- Threads that never call thread_init / thread_exit ---- */

static void *ct_raw_worker(void *arg)
{
    uint32_t id = (uint32_t)(uintptr_t)arg;
    uint64_t rng = 0xFEEDull * (id + 1);
    ct_block slot[32];
    memset(slot, 0, sizeof slot);
    for (uint32_t op = 0; op < 2000; op++) {
        ct_block *b = &slot[ct_rand(&rng) % 32];
        if (b->p) {
            if (ct_verify(b->p, b->size, b->seed) != SIZE_MAX)
                ct_thread_error("block changed while live", b->p, b->size);
            A->free(b->p);
        }
        *b = ct_alloc_mixed(&rng, id << 20 | op);
        if (!b->p) ct_thread_error("allocation failed", NULL, b->size);
        if (id == 0 && op % 500 == 0) A->collect(AB_COLLECT_FULL); /* from this thread */
    }
    for (int i = 0; i < 32; i++)
        A->free(slot[i].p);
    return NULL;
}

/* The header: thread_init/thread_exit "must tolerate threads that never call them". */
void test_mt_threads_without_thread_init(void **state)
{
    (void)state;
    atomic_store(&ct_thread_errors, 0);
    pthread_t t[4];
    for (uintptr_t i = 0; i < 4; i++)
        assert_int_equal(pthread_create(&t[i], NULL, ct_raw_worker, (void *)i), 0);
    for (int i = 0; i < 4; i++)
        assert_int_equal(pthread_join(t[i], NULL), 0);
    assert_int_equal(atomic_load(&ct_thread_errors), 0);
    A->collect(AB_COLLECT_FULL);
}

/* ---- stats() and collect() while other threads allocate ---- */

static atomic_int ct_stop_churn;

static void *ct_bg_churn(void *arg)
{
    uint64_t rng = 0xB0B0ull + (uintptr_t)arg;
    ct_block slot[16];
    memset(slot, 0, sizeof slot);
    for (uint32_t op = 0; !atomic_load(&ct_stop_churn); op++) {
        ct_block *b = &slot[ct_rand(&rng) % 16];
        if (b->p) {
            if (ct_verify(b->p, b->size, b->seed) != SIZE_MAX)
                ct_thread_error("block changed while live", b->p, b->size);
            A->free(b->p);
        }
        *b = ct_alloc_mixed(&rng, op);
        if (!b->p) ct_thread_error("allocation failed", NULL, b->size);
    }
    for (int i = 0; i < 16; i++)
        A->free(slot[i].p);
    return NULL;
}

/* The header: stats() "may be called from any thread while others allocate". */
void test_mt_stats_while_allocating(void **state)
{
    (void)state;
    atomic_store(&ct_thread_errors, 0);
    atomic_store(&ct_stop_churn, 0);
    ct_thread t[3];
    for (uintptr_t i = 0; i < 3; i++)
        ct_start(&t[i], ct_bg_churn, (void *)i);
    for (int i = 0; i < 200 / CT_SCALE; i++) {
        ab_stats s;
        assert_int_equal(A->stats(&s), 0);
        assert_true(s.valid != 0);
        assert_true(s.n_extra <= AB_STATS_MAX_EXTRA);
        if (i % 50 == 0) A->collect(AB_COLLECT_PURGE);
    }
    atomic_store(&ct_stop_churn, 1);
    for (int i = 0; i < 3; i++)
        ct_join(&t[i]);
    assert_int_equal(atomic_load(&ct_thread_errors), 0);
}
