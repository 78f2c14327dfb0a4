/* test_xfree.c - goalloc's cross-thread frees under stress: blocks of small classes, of the
 * classes next to 32 KiB and large objects allocated on producer threads and freed on
 * consumer threads, while the producers keep live blocks of their own in the same spans and
 * check that nothing overwrites them; exact MemStats once every thread has gone; and thread
 * churn, allocating threads exiting while other threads free their blocks.
 *
 * What it drives (mcentral.c, mspan.c): a freeing thread's local lists go back in runs of
 * blocks of one span, each run cleared in one step in a span the freeing thread owns or nobody
 * owns, or pushed onto the remote list of a span another thread owns (drained by that owner
 * while it allocates, or when it gives the span up at exit). The producers hand blocks over
 * in chunks of 1..32 consecutive allocations, so runs are long, short and interleaved.
 *
 * Every block holds a pattern derived from its address over the bytes asked for, written
 * after malloc and checked before every free and by the producers while they run: a slot
 * freed or handed out twice shows as another block's pattern. Threads never call cmocka
 * (its asserts are not thread-safe): they count what they saw and the main thread asserts.
 * Bounded by operation counts; no time limit anywhere.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "ga_internal.h"

/* ---- Blocks: sizes, patterns, tallies ---- */

/* Request sizes and their weights: small classes (16-byte to 1536-byte spans of many slots,
 * 8192 one slot a page), the three largest classes (27264, 28672, 32768: three, two and one
 * slot a span) and large objects just past the small limit and beyond. Requests are drawn up
 * to 7 bytes below a size (above it for large ones), in the same class either way. */
static const struct {
    size_t size;
    unsigned weight;
} menu[] = {
    {16, 18},  {48, 18},   {112, 18},  {256, 18},  {1024, 18},     {1536, 6},  {3072, 6},
    {8192, 6}, {27264, 4}, {28672, 4}, {32760, 4}, {32768 + 1, 3}, {65536, 3}, {200000, 2},
};
#define MENU_N (sizeof menu / sizeof menu[0])

static uint64_t rnd(uint64_t *s)
{
    uint64_t x = *s;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return *s = x;
}

static size_t draw_size(uint64_t *s)
{
    unsigned total = 0;
    for (size_t i = 0; i < MENU_N; i++)
        total += menu[i].weight;
    unsigned w = (unsigned)(rnd(s) % total);
    size_t i = 0;
    while (w >= menu[i].weight) {
        w -= menu[i].weight;
        i++;
    }
    unsigned jitter = (unsigned)(rnd(s) % 8);
    return menu[i].size > GA_MAX_SMALL_SIZE - 8 ? menu[i].size + jitter : menu[i].size - jitter;
}

static uint64_t pattern(const void *p, size_t word)
{
    return ((uint64_t)(uintptr_t)p + word * 8) * 0x9e3779b97f4a7c15ull;
}

static void fill(void *p, size_t n)
{
    uint64_t *w = p;
    for (size_t i = 0; i < n / 8; i++)
        w[i] = pattern(p, i);
    uint64_t tail = pattern(p, n / 8);
    memcpy((char *)p + n / 8 * 8, &tail, n % 8);
}

static bool intact(const void *p, size_t n)
{
    const uint64_t *w = p;
    for (size_t i = 0; i < n / 8; i++)
        if (w[i] != pattern(p, i)) return false;
    uint64_t tail = pattern(p, n / 8);
    return memcmp((const char *)p + n / 8 * 8, &tail, n % 8) == 0;
}

/* What a thread allocated: the figures MemStats must move by. */
typedef struct tally {
    uint64_t by_class[GA_NUM_SIZE_CLASSES]; /* objects per size class, [0] = large */
    uint64_t n, bytes;                      /* objects, class- or page-rounded bytes */
} tally;

static atomic_uint corrupt; /* blocks found not holding their pattern */
static atomic_uint failed;  /* mallocs that returned NULL */

static void *alloc_block(tally *t, size_t n)
{
    void *p = ga_malloc(n);
    if (!p) {
        atomic_fetch_add(&failed, 1);
        return NULL;
    }
    t->by_class[_ga_span_of((uintptr_t)p)->spanclass >> 1]++;
    t->n++;
    t->bytes += ga_usable_size(p);
    fill(p, n);
    return p;
}

static void check_block(const void *p, size_t n)
{
    if (!intact(p, n)) atomic_fetch_add(&corrupt, 1);
}

static void tally_add(tally *sum, const tally *t)
{
    for (unsigned c = 0; c < GA_NUM_SIZE_CLASSES; c++)
        sum->by_class[c] += t->by_class[c];
    sum->n += t->n;
    sum->bytes += t->bytes;
}

/* ---- The hand-off queue: bounded FIFO of blocks, mutex and condition variables ---- */

typedef struct item {
    void *p;
    size_t n;
} item;

enum { QCAP = 256 };

/* Invariant (under lock): 0 <= count <= QCAP; items [head, head + count) mod QCAP are blocks
 * handed over and not yet taken, each live and holding its pattern; closed once no more come. */
typedef struct queue {
    pthread_mutex_t lock;
    pthread_cond_t not_empty, not_full;
    item it[QCAP];
    unsigned head, count;
    bool closed;
} queue;

static void queue_init(queue *q)
{
    memset(q, 0, sizeof *q);
    pthread_mutex_init(&q->lock, NULL);
    pthread_cond_init(&q->not_empty, NULL);
    pthread_cond_init(&q->not_full, NULL);
}

static void queue_destroy(queue *q)
{
    pthread_mutex_destroy(&q->lock);
    pthread_cond_destroy(&q->not_empty);
    pthread_cond_destroy(&q->not_full);
}

/* Appends n items in order (waiting for room as needed). */
static void queue_put(queue *q, const item *v, unsigned n)
{
    pthread_mutex_lock(&q->lock);
    for (unsigned i = 0; i < n; i++) {
        while (q->count == QCAP)
            pthread_cond_wait(&q->not_full, &q->lock);
        q->it[(q->head + q->count++) % QCAP] = v[i];
        pthread_cond_signal(&q->not_empty);
    }
    pthread_mutex_unlock(&q->lock);
}

/* Takes up to max items in order; 0 once the queue is closed and empty. */
static unsigned queue_take(queue *q, item *out, unsigned max)
{
    pthread_mutex_lock(&q->lock);
    while (q->count == 0 && !q->closed)
        pthread_cond_wait(&q->not_empty, &q->lock);
    unsigned n = q->count < max ? q->count : max;
    for (unsigned i = 0; i < n; i++)
        out[i] = q->it[(q->head + i) % QCAP];
    q->head = (q->head + n) % QCAP;
    q->count -= n;
    pthread_cond_broadcast(&q->not_full);
    pthread_mutex_unlock(&q->lock);
    return n;
}

static void queue_close(queue *q)
{
    pthread_mutex_lock(&q->lock);
    q->closed = true;
    pthread_cond_broadcast(&q->not_empty);
    pthread_mutex_unlock(&q->lock);
}

/* Checks and frees every block handed over until the queue closes. */
static void *consumer(void *arg)
{
    queue *q = arg;
    item v[64];
    unsigned n;
    while ((n = queue_take(q, v, 64)) != 0)
        for (unsigned i = 0; i < n; i++) {
            check_block(v[i].p, v[i].n);
            ga_free(v[i].p);
        }
    return NULL;
}

/* ---- MemStats against the tallies ---- */

static ga_memstats read_flushed(void)
{
    ga_thread_flush();
    ga_memstats ms;
    assert_int_equal(ga_read_memstats(&ms), 0);
    return ms;
}

/* Spans on every mcentral list: a span with no live block is never on one. */
static size_t central_spans(void)
{
    size_t n = 0;
    for (unsigned ci = 2; ci < GA_NUM_CENTRALS; ci++)
        n += _ga_mcentral_count(ci, false) + _ga_mcentral_count(ci, true);
    return n;
}

typedef struct baseline {
    ga_memstats ms;
    size_t mcaches, spans;
} baseline;

/* Taken after the calling thread has a cache of its own (it frees blocks later). */
static baseline take_baseline(void)
{
    ga_free(ga_malloc(64));
    baseline b = {.ms = read_flushed(), .mcaches = _ga_mcache_count(), .spans = central_spans()};
    return b;
}

/* With every thread but the caller gone and nothing of `all` left live: each count moved by
 * exactly what the tally says, and the heap is back where it was, spans and caches included. */
static void assert_all_returned(const baseline *b, const tally *all)
{
    ga_memstats ms = read_flushed();
    const ga_memstats *m0 = &b->ms;
    assert_int_equal(ms.Mallocs - m0->Mallocs, all->n);
    assert_int_equal(ms.Frees - m0->Frees, all->n);
    assert_int_equal(ms.TotalAlloc - m0->TotalAlloc, all->bytes);
    assert_int_equal(ms.HeapAlloc, m0->HeapAlloc);
    assert_int_equal(ms.HeapObjects, m0->HeapObjects);
    assert_int_equal(ms.HeapInuse, m0->HeapInuse);
    assert_int_equal(ms.HeapSys, ms.HeapInuse + ms.HeapIdle);
    for (unsigned c = 1; c < GA_NUM_SIZE_CLASSES; c++) {
        assert_int_equal(ms.BySize[c].Mallocs - m0->BySize[c].Mallocs, all->by_class[c]);
        assert_int_equal(ms.BySize[c].Frees - m0->BySize[c].Frees, all->by_class[c]);
    }
    assert_int_equal(_ga_mcache_count(), b->mcaches);
    assert_int_equal(central_spans(), b->spans);
    for (unsigned ci = 2; ci < GA_NUM_CENTRALS; ci++)
        assert_true(_ga_mcentral_is_valid(ci));
    assert_true(_ga_mheap_is_valid());
}

/* ---- (a, b) Producers and consumers ---- */

enum { PRODUCERS = 3, CONSUMERS = 2, PROD_STEPS = 40000, KEEP = 48 };

/* A producer's own blocks: kept[k] live with its pattern over keep_n[k] bytes, or NULL. */
typedef struct producer_arg {
    queue *q;
    uint64_t seed;
    void *kept[KEEP];
    size_t keep_n[KEEP];
    tally t;
} producer_arg;

/* Each step either replaces one of its own blocks (checked, freed here, a new one in its
 * place) or allocates a block for the consumers, handed over with the chunk it belongs to;
 * every 16 steps it checks one of its own blocks. Its own blocks outlive it: the main thread
 * checks and frees them after the join. */
static void *producer(void *arg)
{
    producer_arg *a = arg;
    item chunk[32];
    unsigned nchunk = 0, want = 1;
    for (unsigned i = 0; i < PROD_STEPS; i++) {
        uint64_t r = rnd(&a->seed);
        if (r % 4 == 0) {
            unsigned k = (unsigned)(r >> 8) % KEEP;
            if (a->kept[k]) {
                check_block(a->kept[k], a->keep_n[k]);
                ga_free(a->kept[k]);
            }
            a->keep_n[k] = draw_size(&a->seed);
            a->kept[k] = alloc_block(&a->t, a->keep_n[k]);
        } else {
            size_t n = draw_size(&a->seed);
            void *p = alloc_block(&a->t, n);
            if (p) chunk[nchunk++] = (item){p, n};
            if (nchunk == want) {
                queue_put(a->q, chunk, nchunk);
                nchunk = 0;
                want = 1 + (unsigned)(rnd(&a->seed) % 32);
            }
        }
        if (i % 16 == 0) {
            unsigned k = (unsigned)(rnd(&a->seed) % KEEP);
            if (a->kept[k]) check_block(a->kept[k], a->keep_n[k]);
        }
    }
    queue_put(a->q, chunk, nchunk);
    for (unsigned k = 0; k < KEEP; k++)
        if (a->kept[k]) check_block(a->kept[k], a->keep_n[k]);
    return NULL;
}

static void test_producers_consumers(void **state)
{
    (void)state;
    baseline b = take_baseline();
    atomic_store(&corrupt, 0);
    atomic_store(&failed, 0);
    static queue q;
    static producer_arg pa[PRODUCERS];
    queue_init(&q);
    pthread_t prod[PRODUCERS], cons[CONSUMERS];
    for (unsigned i = 0; i < CONSUMERS; i++)
        assert_int_equal(pthread_create(&cons[i], NULL, consumer, &q), 0);
    for (unsigned i = 0; i < PRODUCERS; i++) {
        memset(&pa[i], 0, sizeof pa[i]);
        pa[i].q = &q;
        pa[i].seed = 0x2545f4914f6cdd1dull * (i + 1);
        assert_int_equal(pthread_create(&prod[i], NULL, producer, &pa[i]), 0);
    }
    for (unsigned i = 0; i < PRODUCERS; i++)
        pthread_join(prod[i], NULL);
    queue_close(&q);
    for (unsigned i = 0; i < CONSUMERS; i++)
        pthread_join(cons[i], NULL);
    queue_destroy(&q);
    assert_int_equal(atomic_load(&failed), 0);
    assert_int_equal(atomic_load(&corrupt), 0);

    /* Only the producers' own blocks are live now: MemStats count exactly those. */
    tally all = {0};
    uint64_t live_n = 0, live_bytes = 0;
    for (unsigned i = 0; i < PRODUCERS; i++) {
        tally_add(&all, &pa[i].t);
        for (unsigned k = 0; k < KEEP; k++)
            if (pa[i].kept[k]) {
                live_n++;
                live_bytes += ga_usable_size(pa[i].kept[k]);
            }
    }
    ga_memstats mid = read_flushed();
    assert_int_equal(mid.Mallocs - b.ms.Mallocs, all.n);
    assert_int_equal(mid.Frees - b.ms.Frees, all.n - live_n);
    assert_int_equal(mid.HeapObjects - b.ms.HeapObjects, live_n);
    assert_int_equal(mid.HeapAlloc - b.ms.HeapAlloc, live_bytes);
    assert_int_equal(mid.TotalAlloc - b.ms.TotalAlloc, all.bytes);

    /* Their owners are gone: freed here, into spans nobody owns. */
    for (unsigned i = 0; i < PRODUCERS; i++)
        for (unsigned k = 0; k < KEEP; k++)
            if (pa[i].kept[k]) {
                assert_true(intact(pa[i].kept[k], pa[i].keep_n[k]));
                ga_free(pa[i].kept[k]);
            }
    assert_all_returned(&b, &all);
}

/* ---- (c) Thread churn: allocating threads exit while others free their blocks ---- */

enum { GENERATIONS = 100, GEN_BLOCKS = 300, GEN_HELD = 60 };

/* One short-lived allocating thread: GEN_BLOCKS blocks, the first ones handed to the
 * long-lived freer as they are made, the last GEN_HELD left in held[] for after its exit. */
typedef struct gen_arg {
    queue *q;
    uint64_t seed;
    item held[GEN_HELD];
    unsigned nheld;
    tally t;
} gen_arg;

static void *generation(void *arg)
{
    gen_arg *g = arg;
    for (unsigned i = 0; i < GEN_BLOCKS; i++) {
        size_t n = draw_size(&g->seed);
        void *p = alloc_block(&g->t, n);
        if (!p) continue;
        item it = {p, n};
        if (i < GEN_BLOCKS - GEN_HELD)
            queue_put(g->q, &it, 1);
        else
            g->held[g->nheld++] = it;
    }
    return NULL;
}

/* A thread that frees a generation's held blocks and exits with them on its local lists. */
static void *free_held(void *arg)
{
    gen_arg *g = arg;
    for (unsigned i = 0; i < g->nheld; i++) {
        check_block(g->held[i].p, g->held[i].n);
        ga_free(g->held[i].p);
    }
    return NULL;
}

/* Two generations overlap: generation k starts before k - 1 is joined, and the freer takes
 * their blocks meanwhile (frees before and after the owner's exit). Once k - 1 is joined its
 * held blocks go, in turn, to the freer or to a thread of their own that frees them and exits
 * with them still on its local lists (the flush at exit takes them back). */
static void test_thread_churn(void **state)
{
    (void)state;
    baseline b = take_baseline();
    atomic_store(&corrupt, 0);
    atomic_store(&failed, 0);
    static queue q;
    static gen_arg g[GENERATIONS];
    queue_init(&q);
    pthread_t freer, t[GENERATIONS];
    assert_int_equal(pthread_create(&freer, NULL, consumer, &q), 0);
    for (unsigned k = 0; k <= GENERATIONS; k++) {
        if (k < GENERATIONS) {
            memset(&g[k], 0, sizeof g[k]);
            g[k].q = &q;
            g[k].seed = 0x9e3779b97f4a7c15ull * (k + 1);
            assert_int_equal(pthread_create(&t[k], NULL, generation, &g[k]), 0);
        }
        if (k == 0) continue;
        gen_arg *prev = &g[k - 1];
        pthread_join(t[k - 1], NULL);
        if (k % 2) {
            queue_put(&q, prev->held, prev->nheld);
        } else {
            pthread_t f;
            assert_int_equal(pthread_create(&f, NULL, free_held, prev), 0);
            pthread_join(f, NULL);
        }
    }
    queue_close(&q);
    pthread_join(freer, NULL);
    queue_destroy(&q);
    assert_int_equal(atomic_load(&failed), 0);
    assert_int_equal(atomic_load(&corrupt), 0);
    tally all = {0};
    for (unsigned k = 0; k < GENERATIONS; k++)
        tally_add(&all, &g[k].t);
    assert_int_equal(all.n, (uint64_t)GENERATIONS * GEN_BLOCKS);
    assert_all_returned(&b, &all);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_producers_consumers),
        cmocka_unit_test(test_thread_churn),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
