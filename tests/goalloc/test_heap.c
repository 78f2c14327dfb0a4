/* test_heap.c - goalloc in manual mode: every class, interior and foreign pointers, tiny
 * packing and reclamation, large objects, realloc in place, every power-of-two alignment,
 * remote frees and frees after the allocating thread exited, full spans becoming allocatable,
 * random multi-threaded workloads with MemStats identities and exact HeapAlloc, invariant
 * walkers, and the debug-level diagnostics for bad frees (death tests in a forked child). */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "ga_internal.h"

/* Sanitizer runtimes own parts of the address space and limit tracked locks. */
#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
#define UNDER_SANITIZER 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer) || __has_feature(address_sanitizer)
#define UNDER_SANITIZER 1
#endif
#endif
#ifndef UNDER_SANITIZER
#define UNDER_SANITIZER 0
#endif

/* ---- Helpers ---- */

static ga_memstats read_flushed(void)
{
    ga_thread_flush();
    ga_memstats ms;
    assert_int_equal(ga_read_memstats(&ms), 0);
    return ms;
}

static void check_identities(const ga_memstats *ms)
{
    assert_true(ms->HeapSys == ms->HeapInuse + ms->HeapIdle);
    assert_true(ms->HeapReleased <= ms->HeapIdle);
    assert_true(ms->Sys == ms->HeapSys + ms->StackSys + ms->MSpanSys + ms->MCacheSys +
                               ms->BuckHashSys + ms->GCSys + ms->OtherSys);
    assert_true(ms->HeapObjects == ms->Mallocs - ms->Frees);
    assert_true(ms->Alloc == ms->HeapAlloc);
    assert_true(ms->HeapAlloc <= ms->HeapInuse);
    assert_true(ms->HeapAlloc <= ms->TotalAlloc);
    assert_true(ms->MSpanInuse <= ms->MSpanSys && ms->MCacheInuse <= ms->MCacheSys);
    ga_memclasses mc;
    ga_memstats_classes(ms, &mc);
    assert_true(mc.total == ms->Sys);
    assert_true(mc.heap_objects + mc.heap_unused == ms->HeapInuse);
    uint64_t bysize = 0;
    for (unsigned c = 1; c < GA_MEMSTATS_NCLASSES; c++)
        bysize += (ms->BySize[c].Mallocs - ms->BySize[c].Frees) * ms->BySize[c].Size;
    assert_true(bysize <= ms->HeapAlloc);
}

/* With every page cache flushed, the released bytes the heap counts are exactly the pages the
 * page allocator marks scavenged. Only valid when no other thread is alive. */
static void check_released_matches_pages(const ga_memstats *ms)
{
    _ga_mheap_lock();
    size_t scav = _ga_pagealloc_scavenged_bytes(_ga_mheap_pages());
    _ga_mheap_unlock();
    assert_true(scav == ms->HeapReleased);
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
static uint64_t rnd(uint64_t *s)
{
    uint64_t x = *s;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return *s = x;
}

/* ---- Every class ---- */

static void test_every_class(void **state)
{
    (void)state;
    ga_memstats base = read_flushed();
    for (unsigned c = 1; c < GA_NUM_SIZE_CLASSES; c++) {
        size_t size = _ga_class_to_size[c];
        unsigned n = 2u * _ga_class_to_nobjs[c] + 3;
        void **v = calloc(n, sizeof *v);
        for (unsigned i = 0; i < n; i++) {
            v[i] = ga_malloc(size);
            assert_non_null(v[i]);
            assert_true(ga_owns(v[i]));
            assert_true(ga_usable_size(v[i]) >= size);
            if (size >= 16)
                assert_int_equal((uintptr_t)v[i] % 16, 0);
            else
                assert_int_equal((uintptr_t)v[i] % 8, 0);
            memset(v[i], (int)i, size);
        }
        for (unsigned i = 0; i < n; i++) {
            unsigned char *b = v[i];
            assert_int_equal(b[0], (unsigned char)i);
            assert_int_equal(b[size - 1], (unsigned char)i);
        }
        for (unsigned i = 0; i < n; i++)
            ga_free(v[i]);
        free(v);
    }
    ga_memstats after = read_flushed();
    check_identities(&after);
    assert_true(after.HeapAlloc == base.HeapAlloc);
    assert_true(after.HeapInuse == base.HeapInuse);
    assert_true(after.Mallocs > base.Mallocs);
    assert_true(_ga_mheap_is_valid());
}

/* ---- Pointers: interior, foreign ---- */

static int global_var;

static void test_interior_and_foreign(void **state)
{
    (void)state;
    char *p = ga_malloc(100); /* 112-byte class */
    assert_non_null(p);
    assert_int_equal(ga_usable_size(p), 112);
    for (int off = 0; off < 112; off += 7) {
        assert_true(ga_owns(p + off));
        assert_int_equal(ga_usable_size(p + off), 112 - off);
    }
    char *big = ga_malloc(100000); /* 13 pages */
    assert_non_null(big);
    assert_int_equal(ga_usable_size(big), 13 * GA_PAGE_SIZE);
    assert_true(ga_owns(big + 99999));
    assert_int_equal(ga_usable_size(big + 5000), 13 * GA_PAGE_SIZE - 5000);
    int local = 0;
    void *libc = malloc(64);
    const void *foreign[] = {&local,
                             &global_var,
                             libc,
                             (void *)1,
                             (void *)(uintptr_t)-1,
                             (void *)((uintptr_t)1 << 50),
                             (void *)&rng_state};
    for (size_t i = 0; i < sizeof foreign / sizeof foreign[0]; i++) {
        assert_false(ga_owns(foreign[i]));
        assert_int_equal(ga_usable_size(foreign[i]), 0);
    }
    assert_false(ga_owns(NULL));
    free(libc);
    ga_free(big);
    assert_false(ga_owns(big)); /* large spans go back at once */
    ga_free(p);
}

/* ---- malloc(0), absurd sizes ---- */

static void test_zero_and_absurd(void **state)
{
    (void)state;
    void *a = ga_malloc(0), *b = ga_malloc(0);
    assert_non_null(a);
    assert_non_null(b);
    assert_ptr_not_equal(a, b);
    assert_true(ga_owns(a) && ga_usable_size(a) >= 1);
    ga_free(a);
    ga_free(b);
    size_t absurd[] = {SIZE_MAX, SIZE_MAX / 2, (size_t)1 << 50, ((size_t)1 << 47) + 1};
    for (size_t i = 0; i < sizeof absurd / sizeof absurd[0]; i++) {
        errno = 0;
        assert_null(ga_malloc(absurd[i]));
        assert_int_equal(errno, ENOMEM);
        errno = 0;
        assert_null(ga_calloc(1, absurd[i]));
        assert_int_equal(errno, ENOMEM);
        errno = 0;
        assert_null(ga_aligned_alloc(4096, absurd[i]));
        assert_int_equal(errno, ENOMEM);
    }
    errno = 0;
    assert_null(ga_calloc(SIZE_MAX / 2, 3));
    assert_int_equal(errno, ENOMEM);
    void *p = ga_malloc(10);
    errno = 0;
    assert_null(ga_realloc(p, SIZE_MAX));
    assert_int_equal(errno, ENOMEM);
    assert_true(ga_owns(p)); /* failed realloc leaves the block alone */
    ga_free(p);
}

/* ---- Tiny allocator ---- */

static void test_tiny_packing(void **state)
{
    (void)state;
    ga_thread_flush(); /* no current tiny block */
    char *a = ga_malloc(8), *b = ga_malloc(8);
    assert_ptr_equal(b, a + 8); /* two 8-byte objects share one 16-byte block */
    assert_int_equal((uintptr_t)a % 16, 0);
    assert_int_equal(ga_usable_size(a), 8);
    assert_int_equal(ga_usable_size(b), 8);
    char *c = ga_malloc(3), *d = ga_malloc(1); /* a new block (a's is full): offsets 0 and 8 */
    assert_int_equal((uintptr_t)c % 16, 0);
    assert_ptr_equal(d, c + 8);
    assert_int_equal(ga_usable_size(c), 3);
    assert_int_equal(ga_usable_size(d), 1);
    char *e = ga_malloc(4), *f = ga_malloc(2); /* c's block is full: a new one */
    assert_int_equal((uintptr_t)e % 16, 0);
    assert_ptr_equal(f, e + 8);
    /* 9..15 B could share a block with nothing: a 16-byte small object; e's block (10 used)
     * stays current */
    ga_memstats before_g;
    ga_read_memstats(&before_g);
    char *g = ga_malloc(12);
    assert_int_equal((uintptr_t)g % 16, 0);
    assert_int_equal(ga_usable_size(g), 16);
    ga_memstats after_g;
    ga_read_memstats(&after_g);
    assert_int_equal(after_g.TinyAllocs, before_g.TinyAllocs);
    assert_int_equal(after_g.BySize[2].Mallocs, before_g.BySize[2].Mallocs + 1);
    char *h = ga_malloc(4); /* offset 16 does not fit: a new block, which replaces e's */
    assert_int_equal((uintptr_t)h % 16, 0);
    char *i = ga_malloc(5);
    assert_ptr_equal(i, h + 8);
    assert_int_equal(ga_usable_size(h), 4);
    assert_int_equal(ga_usable_size(i), 5);
    char *z = ga_malloc(0); /* malloc(0) is a 1-byte tiny request: 8-aligned like every block */
    assert_int_equal((uintptr_t)z % 8, 0);
    void *all[] = {a, b, c, d, e, f, g, h, i, z};
    for (size_t k = 0; k < sizeof all / sizeof all[0]; k++) {
        assert_int_equal((uintptr_t)all[k] % 8, 0);
        ga_free(all[k]);
    }
}

static void test_tiny_reclaimed(void **state)
{
    (void)state;
    ga_memstats base = read_flushed();
    enum { N = 20000 };
    static void *v[N];
    uint64_t s = 42;
    for (int i = 0; i < N; i++) {
        size_t size = 1 + rnd(&s) % GA_TINY_MAX; /* 1..8 B: tiny */
        v[i] = ga_malloc(size);
        assert_non_null(v[i]);
        assert_true(ga_usable_size(v[i]) >= size);
        assert_int_equal((uintptr_t)v[i] % 8, 0);
        memset(v[i], 0x5a, size);
    }
    ga_memstats mid = read_flushed();
    assert_true(mid.TinyAllocs - base.TinyAllocs == N);
    assert_true(mid.HeapAlloc > base.HeapAlloc);
    assert_true(mid.HeapAlloc - base.HeapAlloc <= (uint64_t)N * 16);
    /* Blocks hold several objects: far fewer 16-byte blocks than objects. */
    assert_true(mid.BySize[2].Mallocs - base.BySize[2].Mallocs < N);
    for (int i = N - 1; i >= 0; i--)
        ga_free(v[i]);
    ga_memstats after = read_flushed();
    check_identities(&after);
    assert_true(after.HeapAlloc == base.HeapAlloc);
    assert_true(after.HeapInuse == base.HeapInuse); /* every tiny span went back */
    assert_true(after.TinyFrees - base.TinyFrees == N);
    assert_true(_ga_mheap_is_valid());
}

/* ---- Large objects ---- */

static void test_large_pages_returned(void **state)
{
    (void)state;
    ga_memstats base = read_flushed();
    size_t sizes[] = {32761, 40000, 1 << 20, (size_t)5 << 20, 123457};
    void *v[5];
    size_t pages = 0;
    for (int i = 0; i < 5; i++) {
        v[i] = ga_malloc(sizes[i]);
        assert_non_null(v[i]);
        assert_int_equal((uintptr_t)v[i] % GA_PAGE_SIZE, 0);
        memset(v[i], 1, sizes[i]);
        pages += (sizes[i] + GA_PAGE_SIZE - 1) / GA_PAGE_SIZE;
    }
    ga_memstats mid = read_flushed();
    assert_true(mid.HeapInuse == base.HeapInuse + pages * GA_PAGE_SIZE);
    assert_true(mid.HeapAlloc == base.HeapAlloc + pages * GA_PAGE_SIZE);
    /* Address-ordered first fit: the same request right after its free gets the same run. */
    ga_free(v[3]);
    void *again = ga_malloc(sizes[3]);
    assert_ptr_equal(again, v[3]);
    for (int i = 0; i < 5; i++)
        ga_free(v[i]);
    ga_memstats after = read_flushed();
    check_identities(&after);
    assert_true(after.HeapInuse == base.HeapInuse);
    assert_true(after.HeapAlloc == base.HeapAlloc);
    assert_true(after.HeapIdle >= pages * GA_PAGE_SIZE);
}

/* ---- realloc ---- */

static void test_realloc_in_place(void **state)
{
    (void)state;
    char *p = ga_malloc(100);
    memcpy(p, "hello", 6);
    assert_ptr_equal(ga_realloc(p, 112), p); /* same class */
    assert_ptr_equal(ga_realloc(p, 97), p);
    char *q = ga_realloc(p, 200);
    assert_ptr_not_equal(q, p);
    assert_string_equal(q, "hello");
    char *r = ga_realloc(q, 20); /* much smaller class: moves */
    assert_string_equal(r, "hello");
    char *t = ga_realloc(r, 5000);
    assert_string_equal(t, "hello");
    char *big = ga_realloc(t, 100000);
    assert_string_equal(big, "hello");
    assert_ptr_equal(ga_realloc(big, 106000), big); /* same 13 pages */
    char *bigger = ga_realloc(big, 300000);
    assert_string_equal(bigger, "hello");
    char *tiny = ga_realloc(bigger, 6);
    assert_string_equal(tiny, "hello");
    assert_ptr_equal(ga_realloc(tiny, 6), tiny);
    char *n = ga_realloc(NULL, 50);
    assert_non_null(n);
    assert_null(ga_realloc(n, 0)); /* frees */
    ga_free(tiny);
}

/* ---- Alignment ---- */

static void test_every_alignment(void **state)
{
    (void)state;
    size_t sizes[] = {1, 7, 16, 24, 100, 1000, 5000, 32760, 40000, 300000};
    for (size_t a = 1; a <= ((size_t)16 << 20); a <<= 1) {
        for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
            if (a >= ((size_t)1 << 20) && sizes[i] > 1000) continue; /* keep it quick */
            char *p = ga_aligned_alloc(a, sizes[i]);
            assert_non_null(p);
            assert_int_equal((uintptr_t)p % a, 0);
            assert_true(ga_usable_size(p) >= sizes[i]);
            memset(p, 3, sizes[i]);
            void *q = NULL;
            if (a >= sizeof(void *)) {
                assert_int_equal(ga_posix_memalign(&q, a, sizes[i]), 0);
                assert_int_equal((uintptr_t)q % a, 0);
            }
            void *m = ga_memalign(a, sizes[i]);
            assert_int_equal((uintptr_t)m % a, 0);
            ga_free(m);
            ga_free(q);
            ga_free(p);
        }
    }
    /* Alignments above a page: slots of the 16 KiB class are only page aligned, so blocks
     * interleaved with one-page objects must still come out aligned. */
    for (size_t a = 16384; a <= ((size_t)1 << 20); a <<= 1) {
        void *x[4], *y[4];
        ga_thread_flush(); /* fresh spans, not blocks parked on the local lists */
        for (int k = 0; k < 4; k++) {
            x[k] = ga_aligned_alloc(a, 100);
            y[k] = ga_malloc(8192);
            assert_int_equal((uintptr_t)x[k] % a, 0);
        }
        for (int k = 0; k < 4; k++) {
            ga_free(x[k]);
            ga_free(y[k]);
        }
    }
    void *q = NULL;
    assert_int_equal(ga_posix_memalign(&q, 24, 10), EINVAL);
    assert_int_equal(ga_posix_memalign(&q, 4, 10), EINVAL);
    errno = 0;
    assert_null(ga_aligned_alloc(48, 10));
    assert_int_equal(errno, EINVAL);
    void *m = ga_memalign(48, 100); /* rounded up to 64, as glibc does */
    assert_int_equal((uintptr_t)m % 64, 0);
    ga_free(m);
    char *v = ga_valloc(10);
    assert_int_equal((uintptr_t)v % 4096, 0);
    char *pv = ga_pvalloc(5000);
    assert_int_equal((uintptr_t)pv % 4096, 0);
    assert_true(ga_usable_size(pv) >= 8192);
    ga_free(v);
    ga_free(pv);
    ga_memstats ms = read_flushed();
    check_identities(&ms);
    check_released_matches_pages(&ms);
    assert_true(_ga_mheap_is_valid());
}

/* ---- Threads: remote frees, frees after exit ---- */

typedef struct handoff {
    void **blocks;
    size_t n;
    size_t size;
} handoff;

static void *alloc_thread(void *arg)
{
    handoff *h = arg;
    for (size_t i = 0; i < h->n; i++) {
        h->blocks[i] = ga_malloc(h->size + i % 3);
        memset(h->blocks[i], 0x11, h->size);
    }
    return NULL;
}

static void *free_thread(void *arg)
{
    handoff *h = arg;
    for (size_t i = 0; i < h->n; i++)
        ga_free(h->blocks[i]);
    return NULL;
}

static void test_free_after_exit_and_remote(void **state)
{
    (void)state;
    ga_memstats base = read_flushed();
    enum { N = 5000 };
    handoff h[3] = {{calloc(N, sizeof(void *)), N, 48},
                    {calloc(N, sizeof(void *)), N, 3},
                    {calloc(64, sizeof(void *)), 64, 50000}};
    for (int k = 0; k < 3; k++) {
        pthread_t t;
        pthread_create(&t, NULL, alloc_thread, &h[k]);
        pthread_join(t, NULL); /* the allocating thread has exited */
        for (size_t i = 0; i < h[k].n; i++) {
            assert_true(ga_owns(h[k].blocks[i]));
            assert_int_equal(*(unsigned char *)h[k].blocks[i], 0x11);
        }
    }
    /* Half freed here (the owner is gone), half from yet another thread. */
    for (size_t i = 0; i < N / 2; i++)
        ga_free(h[0].blocks[i]);
    handoff rest = {h[0].blocks + N / 2, N - N / 2, 0};
    pthread_t t;
    pthread_create(&t, NULL, free_thread, &rest);
    pthread_join(t, NULL);
    pthread_create(&t, NULL, free_thread, &h[1]);
    pthread_join(t, NULL);
    for (size_t i = 0; i < h[2].n; i++)
        ga_free(h[2].blocks[i]);
    ga_memstats after = read_flushed();
    check_identities(&after);
    assert_true(after.HeapAlloc == base.HeapAlloc);
    assert_true(after.HeapInuse == base.HeapInuse);
    assert_true(_ga_mheap_is_valid());
    for (int k = 0; k < 3; k++)
        free(h[k].blocks);
}

/* Remote frees while the owner keeps allocating from the same spans. */
typedef struct pingpong {
    pthread_mutex_t mu;
    void *box[256];
    int n;
    int done;
} pingpong;

static void *producer(void *arg)
{
    pingpong *pp = arg;
    uint64_t s = 7;
    for (int i = 0; i < 30000; i++) {
        void *p = ga_malloc(16 + rnd(&s) % 200);
        memset(p, 0x22, 16);
        for (;;) {
            pthread_mutex_lock(&pp->mu);
            if (pp->n < 256) {
                pp->box[pp->n++] = p;
                pthread_mutex_unlock(&pp->mu);
                break;
            }
            pthread_mutex_unlock(&pp->mu);
            sched_yield();
        }
    }
    pthread_mutex_lock(&pp->mu);
    pp->done = 1;
    pthread_mutex_unlock(&pp->mu);
    return NULL;
}

static void *consumer(void *arg)
{
    pingpong *pp = arg;
    for (;;) {
        pthread_mutex_lock(&pp->mu);
        int n = pp->n, done = pp->done;
        void *take[256];
        memcpy(take, pp->box, (size_t)n * sizeof(void *));
        pp->n = 0;
        pthread_mutex_unlock(&pp->mu);
        for (int i = 0; i < n; i++) {
            assert_int_equal(*(unsigned char *)take[i], 0x22);
            ga_free(take[i]);
        }
        if (done && n == 0) return NULL;
        if (n == 0) sched_yield();
    }
}

static void test_remote_free_while_owner_runs(void **state)
{
    (void)state;
    ga_memstats base = read_flushed();
    pingpong pp = {.mu = PTHREAD_MUTEX_INITIALIZER};
    pthread_t a, b;
    pthread_create(&a, NULL, producer, &pp);
    pthread_create(&b, NULL, consumer, &pp);
    pthread_join(a, NULL);
    pthread_join(b, NULL);
    ga_memstats after = read_flushed();
    check_identities(&after);
    assert_true(after.HeapAlloc == base.HeapAlloc);
    assert_true(after.HeapInuse == base.HeapInuse);
    assert_true(after.Mallocs - base.Mallocs == 30000);
    assert_true(after.Frees - base.Frees == 30000);
    assert_true(_ga_mheap_is_valid());
}

/* ---- A full span becomes allocatable again ---- */

static void *fill_span(void *arg)
{
    handoff *h = arg;
    for (size_t i = 0; i < h->n; i++)
        h->blocks[i] = ga_malloc(h->size);
    return NULL;
}

static void *alloc_one(void *arg)
{
    void **out = arg;
    *out = ga_malloc(1536);
    return NULL;
}

static void test_full_span_reusable(void **state)
{
    (void)state;
    const unsigned cls = 36; /* 1536 B, 5 per one-page span */
    const unsigned ci = cls << 1 | 1;
    assert_int_equal(_ga_class_to_size[cls], 1536);
    ga_thread_flush();
    size_t full0 = _ga_mcentral_count(ci, true), part0 = _ga_mcentral_count(ci, false);
    void *blocks[5];
    handoff h = {blocks, 5, 1536};
    pthread_t t;
    pthread_create(&t, NULL, fill_span, &h);
    pthread_join(t, NULL); /* the span went back full at thread exit */
    ga_span *s = _ga_span_of((uintptr_t)blocks[0]);
    for (int i = 1; i < 5; i++)
        assert_ptr_equal(_ga_span_of((uintptr_t)blocks[i]), s);
    assert_int_equal(s->nalloc, 5);
    assert_int_equal(_ga_mcentral_count(ci, true), full0 + 1);
    ga_free(blocks[2]);
    ga_thread_flush(); /* the free reaches the span */
    assert_int_equal(_ga_mcentral_count(ci, true), full0);
    assert_int_equal(_ga_mcentral_count(ci, false), part0 + 1);
    assert_int_equal(s->nalloc, 4);
    void *again = NULL;
    pthread_create(&t, NULL, alloc_one, &again);
    pthread_join(t, NULL);
    if (part0 == 0) assert_ptr_equal(again, blocks[2]); /* the only partial span: its free slot */
    assert_true(_ga_mcentral_is_valid(ci));
    ga_free(again);
    for (int i = 0; i < 5; i++)
        if (i != 2) ga_free(blocks[i]);
    ga_thread_flush();
    assert_true(_ga_mheap_is_valid());
}

/* ---- Random workloads on several threads ---- */

enum { RW_THREADS = 4, RW_OPS = 20000, RW_SLOTS = 512, RW_KEEP = 200 };

typedef struct rw_arg {
    uint64_t seed;
    void *kept[RW_KEEP]; /* survivors handed to the main thread */
    size_t kept_bytes;   /* their class-rounded sizes */
} rw_arg;

static pthread_mutex_t shared_mu = PTHREAD_MUTEX_INITIALIZER;
static void *shared[64];
static int nshared;

static size_t rw_size(uint64_t *s)
{
    uint64_t r = rnd(s) % 100;
    if (r < 60) return 16 + rnd(s) % 240;
    if (r < 90) return 256 + rnd(s) % 4000;
    if (r < 98) return 4096 + rnd(s) % 28000;
    return 32761 + rnd(s) % 200000;
}

static void *rw_thread(void *arg)
{
    rw_arg *a = arg;
    void *slot[RW_SLOTS] = {0};
    for (int i = 0; i < RW_OPS; i++) {
        unsigned k = (unsigned)(rnd(&a->seed) % RW_SLOTS);
        if (slot[k]) {
            if (rnd(&a->seed) % 8 == 0) { /* pass it to another thread to free */
                pthread_mutex_lock(&shared_mu);
                void *victim = nshared == 64 ? shared[--nshared] : NULL;
                shared[nshared++] = slot[k];
                pthread_mutex_unlock(&shared_mu);
                ga_free(victim);
            } else if (rnd(&a->seed) % 4 == 0) {
                uint64_t was = *(uint64_t *)slot[k];
                slot[k] = ga_realloc(slot[k], rw_size(&a->seed));
                assert_non_null(slot[k]);
                assert_int_equal(*(uint64_t *)slot[k], was); /* contents moved along */
                *(uint64_t *)slot[k] = (uintptr_t)slot[k];
                continue;
            } else {
                ga_free(slot[k]);
            }
            slot[k] = NULL;
        } else {
            slot[k] = ga_malloc(rw_size(&a->seed));
            assert_non_null(slot[k]);
            *(uint64_t *)slot[k] = (uintptr_t)slot[k];
        }
    }
    a->kept_bytes = 0;
    int kept = 0;
    for (int k = 0; k < RW_SLOTS; k++) {
        if (!slot[k]) continue;
        if (kept < RW_KEEP) {
            a->kept[kept++] = slot[k];
            a->kept_bytes += ga_usable_size(slot[k]);
        } else {
            ga_free(slot[k]);
        }
    }
    return NULL;
}

static void test_random_workload_identities(void **state)
{
    (void)state;
    ga_memstats base = read_flushed();
    static rw_arg args[RW_THREADS];
    pthread_t t[RW_THREADS];
    for (int i = 0; i < RW_THREADS; i++) {
        memset(&args[i], 0, sizeof args[i]);
        args[i].seed = 0x1234567ull * (uint64_t)(i + 1);
        pthread_create(&t[i], NULL, rw_thread, &args[i]);
    }
    for (int i = 0; i < RW_THREADS; i++)
        pthread_join(t[i], NULL);
    size_t live = 0;
    for (int i = 0; i < RW_THREADS; i++)
        live += args[i].kept_bytes;
    for (int i = 0; i < nshared; i++)
        live += ga_usable_size(shared[i]);
    ga_memstats mid = read_flushed();
    check_identities(&mid);
    assert_true(mid.HeapAlloc - base.HeapAlloc == live); /* exact, class-rounded */
    assert_true(_ga_mheap_is_valid());
    for (int i = 0; i < RW_THREADS; i++)
        for (int k = 0; k < RW_KEEP; k++)
            if (args[i].kept[k]) {
                assert_int_equal(*(uint64_t *)args[i].kept[k], (uintptr_t)args[i].kept[k]);
                ga_free(args[i].kept[k]);
            }
    for (int i = 0; i < nshared; i++)
        ga_free(shared[i]);
    nshared = 0;
    ga_memstats after = read_flushed();
    check_identities(&after);
    check_released_matches_pages(&after);
    assert_true(after.HeapAlloc == base.HeapAlloc);
    assert_true(after.HeapObjects == base.HeapObjects);
    assert_true(after.HeapInuse == base.HeapInuse);
    assert_true(_ga_mheap_is_valid());
}

/* ---- The invariant walkers catch broken spans ---- */

static void test_span_walker_catches_corruption(void **state)
{
    (void)state;
    void *p = ga_malloc(200);
    ga_span *s = _ga_span_of((uintptr_t)p);
    assert_non_null(s);
    assert_true(_ga_span_is_valid(s));
    ga_span copy = *s;
    copy.nalloc++; /* count no longer matches the bits */
    assert_false(_ga_span_is_valid(&copy));
    copy = *s;
    copy.alloccache ^= 1; /* cache disagrees with the bits at freeindex */
    assert_false(_ga_span_is_valid(&copy));
    copy = *s;
    copy.matindex = (uint16_t)(copy.freeindex + 1);
    assert_false(_ga_span_is_valid(&copy));
    copy = *s;
    atomic_store(&copy.remote, GA_REMOTE_UNOWNED); /* owned but flagged unowned */
    assert_false(_ga_span_is_valid(&copy));
    copy = *s;
    copy.limit += 8;
    assert_false(_ga_span_is_valid(&copy));
    assert_true(_ga_span_is_valid(&_ga_span_empty));
    ga_free(p);
    ga_thread_flush();
    assert_true(_ga_mheap_is_valid());
}

/* ---- Stats of threads that have not flushed ---- */

static pthread_barrier_t holding, release_holder;

static void *hold_blocks(void *arg)
{
    void **v = arg;
    for (int i = 0; i < 100; i++)
        v[i] = ga_malloc(i < 50 ? 100 : 50000); /* 112-byte class, 7-page large */
    pthread_barrier_wait(&holding);
    pthread_barrier_wait(&release_holder);
    for (int i = 0; i < 100; i++)
        ga_free(v[i]);
    return NULL;
}

static void test_memstats_sees_unflushed_threads(void **state)
{
    (void)state;
    ga_memstats base = read_flushed();
    void *v[100];
    pthread_barrier_init(&holding, NULL, 2);
    pthread_barrier_init(&release_holder, NULL, 2);
    pthread_t t;
    pthread_create(&t, NULL, hold_blocks, v);
    pthread_barrier_wait(&holding); /* the thread holds its blocks and has not flushed */
    ga_memstats mid;
    assert_int_equal(ga_read_memstats(&mid), 0);
    assert_true(mid.HeapAlloc - base.HeapAlloc == 50 * 112 + 50 * 7 * GA_PAGE_SIZE);
    assert_true(mid.HeapObjects - base.HeapObjects == 100);
    unsigned c112 = _ga_size_to_class(112);
    assert_true(mid.BySize[c112].Mallocs - base.BySize[c112].Mallocs == 50);
    check_identities(&mid);
    pthread_barrier_wait(&release_holder);
    pthread_join(t, NULL);
    pthread_barrier_destroy(&holding);
    pthread_barrier_destroy(&release_holder);
    ga_memstats after = read_flushed();
    assert_true(after.HeapAlloc == base.HeapAlloc);
    assert_true(after.HeapObjects == base.HeapObjects);
}

/* ---- Stats API ---- */

static void count_metric(void *ctx, const char *name, double value)
{
    (void)value;
    size_t *n = ctx;
    assert_non_null(name);
    (*n)++;
}

static void test_memstats_api(void **state)
{
    (void)state;
    errno = 0;
    assert_int_equal(ga_read_memstats(NULL), -1);
    assert_int_equal(errno, EINVAL);
    void *keep = ga_malloc(1000);
    ga_memstats ms = read_flushed();
    size_t n = 0;
    ga_memstats_foreach(&ms, count_metric, &n);
    assert_int_equal(n, 28 + 1 + 14 + 4); /* MemStats, GCCPUFraction, classes, scavenger */
    assert_int_equal(ms.BySize[2].Size, 16);
    assert_int_equal(ms.BySize[67].Size, 32768);
    assert_true(ms.MSpanInuse > 0 && ms.MCacheInuse > 0 && ms.GCSys > 0);
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    ga_memstats_print(&ms, fds[1]);
    close(fds[1]);
    char buf[8192];
    ssize_t got = read(fds[0], buf, sizeof buf - 1);
    close(fds[0]);
    assert_true(got > 0);
    buf[got] = '\0';
    assert_non_null(strstr(buf, "HeapInuse "));
    assert_non_null(strstr(buf, "/memory/classes/total:bytes "));
    ga_free(keep);
}

/* ---- Debug diagnostics: a bad free prints one line and aborts ---- */

typedef enum {
    BAD_FOREIGN,
    BAD_DOUBLE,
    BAD_INTERIOR,
    BAD_DOUBLE_LARGE,
    BAD_TINY_INTERIOR,
    BAD_REALLOC
} bad_kind;

static void expect_abort(bad_kind kind, const char *want)
{
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        dup2(fds[1], STDERR_FILENO);
        static int not_heap;
        char *p = ga_malloc(kind == BAD_DOUBLE_LARGE ? 100000 : 64);
        switch (kind) {
        case BAD_FOREIGN:
            ga_free(&not_heap);
            break;
        case BAD_DOUBLE:
            ga_free(p);
            ga_free(p);
            break;
        case BAD_INTERIOR:
            ga_free(p + 8);
            break;
        case BAD_DOUBLE_LARGE:
            ga_free(p);
            ga_free(p);
            break;
        case BAD_TINY_INTERIOR: {
            ga_thread_flush(); /* a fresh tiny block: sub-objects at 0 and 8 */
            char *t = ga_malloc(8);
            (void)ga_malloc(8);
            ga_free(t + 1);
            break;
        }
        case BAD_REALLOC:
            (void)ga_realloc(&not_heap, 100);
            break;
        }
        _exit(0);
    }
    close(fds[1]);
    char buf[1024] = {0};
    ssize_t n = read(fds[0], buf, sizeof buf - 1);
    close(fds[0]);
    int st = 0;
    waitpid(pid, &st, 0);
    assert_true(WIFSIGNALED(st));
    assert_int_equal(WTERMSIG(st), SIGABRT);
    assert_true(n > 0);
    assert_non_null(strstr(buf, want));
    assert_non_null(strstr(buf, "0x"));
    assert_non_null(strchr(buf, '\n'));
    assert_ptr_equal(strchr(buf, '\n') + 1, buf + n); /* exactly one line */
}

static void test_bad_free_aborts(void **state)
{
    (void)state;
    if (GOALLOC_DEBUG < 1) skip();
    expect_abort(BAD_FOREIGN, "free(): invalid pointer");
    expect_abort(BAD_DOUBLE, "free(): double free");
    expect_abort(BAD_INTERIOR, "free(): invalid pointer");
    expect_abort(BAD_DOUBLE_LARGE, "free(): invalid pointer");
    expect_abort(BAD_TINY_INTERIOR, "free(): invalid pointer");
    expect_abort(BAD_REALLOC, "realloc(): invalid pointer");
}

/* ---- The OS refusing memory: NULL + ENOMEM, never an abort ---- */

static size_t vm_bytes(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    unsigned long pages = 0;
    if (f) {
        if (fscanf(f, "%lu", &pages) != 1) pages = 0;
        fclose(f);
    }
    return pages * (size_t)sysconf(_SC_PAGESIZE);
}

static int exhaust_in_child(void)
{
    void *primed = ga_malloc(100); /* this thread now holds a span of the 112-byte class */
    struct rlimit rl = {vm_bytes() + ((size_t)512 << 20), RLIM_INFINITY};
    rl.rlim_max = rl.rlim_cur;
    if (setrlimit(RLIMIT_AS, &rl) != 0) return 10;
    errno = 0;
    if (ga_malloc((size_t)4 << 30) != NULL || errno != ENOMEM) return 11;
    void *v[64];
    int n = 0;
    while (n < 64 && (v[n] = ga_malloc((size_t)64 << 20)) != NULL)
        n++;
    if (n == 64 || errno != ENOMEM) return 12; /* the limit must have been reached */
    void *small = ga_malloc(100);
    if (!small) return 13; /* the held span still has room: no new memory needed */
    ga_free(small);
    ga_free(primed);
    for (int i = 0; i < n; i++)
        ga_free(v[i]);
    void *again = ga_malloc((size_t)64 << 20); /* freed pages are reused */
    if (!again) return 14;
    ga_free(again);
    return _ga_mheap_is_valid() ? 0 : 15;
}

static void test_os_refusal_is_enomem(void **state)
{
    (void)state;
    if (UNDER_SANITIZER) skip(); /* sanitizers need address space beyond any small limit */
    ga_thread_flush();
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) _exit(exhaust_in_child());
    int st = 0;
    waitpid(pid, &st, 0);
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 0);
}

/* ---- Fork safety: the handlers preload.c registers take and release every lock ---- */

static _Atomic int stop_churn;

static void *churn(void *arg)
{
    (void)arg;
    while (!atomic_load(&stop_churn)) {
        void *p = ga_malloc(64), *q = ga_malloc(40000);
        ga_free(p);
        ga_free(q);
    }
    return NULL;
}

static void test_fork_handlers(void **state)
{
    (void)state;
    if (UNDER_SANITIZER) skip(); /* TSan tracks at most 64 held locks; prepare takes ~140 */
    pthread_t t;
    pthread_create(&t, NULL, churn, NULL);
    /* goalloc registers the handlers itself (mheap.c): a plain fork() must be safe. */
    for (int i = 0; i < 10; i++) {
        pid_t pid = fork();
        if (pid == 0) {
            void *p = ga_malloc(100), *q = ga_malloc(100000);
            ga_free(p);
            ga_free(q);
            ga_thread_flush();
            _exit(p && q && ga_read_memstats(&(ga_memstats){0}) == 0 ? 0 : 1);
        }
        assert_true(pid > 0);
        int st = 0;
        waitpid(pid, &st, 0);
        assert_true(WIFEXITED(st));
        assert_int_equal(WEXITSTATUS(st), 0);
    }
    atomic_store(&stop_churn, 1);
    pthread_join(t, NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_class),
        cmocka_unit_test(test_interior_and_foreign),
        cmocka_unit_test(test_zero_and_absurd),
        cmocka_unit_test(test_tiny_packing),
        cmocka_unit_test(test_tiny_reclaimed),
        cmocka_unit_test(test_large_pages_returned),
        cmocka_unit_test(test_realloc_in_place),
        cmocka_unit_test(test_every_alignment),
        cmocka_unit_test(test_free_after_exit_and_remote),
        cmocka_unit_test(test_remote_free_while_owner_runs),
        cmocka_unit_test(test_full_span_reusable),
        cmocka_unit_test(test_random_workload_identities),
        cmocka_unit_test(test_span_walker_catches_corruption),
        cmocka_unit_test(test_memstats_sees_unflushed_threads),
        cmocka_unit_test(test_memstats_api),
        cmocka_unit_test(test_bad_free_aborts),
        cmocka_unit_test(test_fork_handlers),
        cmocka_unit_test(test_os_refusal_is_enomem),
    };
    (void)rng_state;
    return cmocka_run_group_tests(tests, NULL, NULL);
}
