/* conformance_gc.c - the conformance suite's AB_CAP_GC tests (see conformance.c): reachable
 * objects survive collections, unreachable ones are reclaimed, manual blocks act as roots,
 * precise typed allocation, the GC event hook, and the alignment of collected objects.
 */
#include "ct_suite.h"

static void *ct_roots[4];

/* Fills the heap with unreachable objects (pattern 0xEE) and collects, `rounds` times. */
static void ct_gc_churn(int rounds)
{
    for (int r = 0; r < rounds; r++) {
        for (int i = 0; i < 2000; i++) {
            void *g = A->gc_alloc(4096, AB_GC_NOSCAN);
            assert_non_null(g);
            memset(g, 0xEE, 4096);
        }
        A->gc_collect();
    }
}

void test_gc_reachable_survive(void **state)
{
    (void)state;
    void *a = A->gc_alloc(64, AB_GC_SCAN);
    void *b = A->gc_alloc(4096, AB_GC_NOSCAN);
    assert_non_null(a);
    assert_non_null(b);
    assert_true(ct_is_zero(a, 64));
    assert_true(ct_is_zero(b, 4096));
    ct_fill(b, 0, 4096, 99);
    assert_int_equal(A->gc_add_roots(&ct_roots[0], &ct_roots[4]), 0);
    A->gc_store_ptr(&((void **)a)[3], b);
    A->gc_store_ptr(&ct_roots[2], a);
    a = b = NULL;
    ct_gc_churn(8); /* 64 MiB of garbage */
    void **ra = ct_roots[2];
    assert_int_equal(ct_verify(ra[3], 4096, 99), SIZE_MAX);

    /* the garbage was reclaimed: the heap stayed far below 64 MiB */
    ab_stats s;
    assert_int_equal(A->stats(&s), 0);
    if (s.valid & AB_STAT_active) {
        print_message("heap after 64 MiB of garbage: %" PRIu64 " bytes active\n", s.active);
        assert_true(s.active < (24u << 20));
    } else if (s.valid & AB_STAT_mapped) {
        print_message("heap after 64 MiB of garbage: %" PRIu64 " bytes mapped\n", s.mapped);
        assert_true(s.mapped < (48u << 20));
    }
    ct_roots[2] = NULL;
    assert_int_equal(A->gc_remove_roots(&ct_roots[0], &ct_roots[4]), 0);

    /* explicit free of a collected object is allowed */
    void *c = A->gc_alloc(100, AB_GC_SCAN);
    assert_non_null(c);
    A->free(c);
    errno = 0;
    expect_enomem(A->gc_alloc(SIZE_MAX, AB_GC_SCAN), "gc_alloc(SIZE_MAX)");
    assert_int_equal(A->gc_add_roots(&ct_roots[2], &ct_roots[1]), -1); /* hi < lo */
}

/* A root range may lie in a manual block (malloc'd memory): registered, it keeps what it
 * points to alive. Boehm also scans its manual (uncollectable) blocks without registration, as
 * ab_boehm.c documents; the interface promises only registered roots, so only boehm is held to
 * that part. */
void test_gc_roots_in_manual_blocks(void **state)
{
    (void)state;
    void **holder = A->malloc(8 * sizeof(void *)), **plain = A->malloc(8 * sizeof(void *));
    assert_non_null(holder);
    assert_non_null(plain);
    assert_int_equal(A->gc_add_roots(holder, holder + 8), 0);
    void *obj = A->gc_alloc(1000, AB_GC_NOSCAN), *obj2 = A->gc_alloc(1000, AB_GC_NOSCAN);
    assert_non_null(obj);
    assert_non_null(obj2);
    ct_fill(obj, 0, 1000, 5);
    ct_fill(obj2, 0, 1000, 6);
    A->gc_store_ptr(&holder[5], obj);
    A->gc_store_ptr(&plain[2], obj2);
    obj = obj2 = NULL;
    ct_gc_churn(4);
    assert_int_equal(ct_verify(holder[5], 1000, 5), SIZE_MAX);
    if (strcmp(A->name, "boehm") == 0) assert_int_equal(ct_verify(plain[2], 1000, 6), SIZE_MAX);
    assert_int_equal(A->gc_remove_roots(holder, holder + 8), 0);
    A->free(holder);
    A->free(plain);
}

void test_gc_typed(void **state)
{
    (void)state;
    if (!A->gc_alloc_typed) {
        print_message("%s: gc_alloc_typed not offered (optional)\n", A->name);
        return;
    }
    static const uint8_t mask[] = {0x01}; /* word 0 is a pointer, words 1..3 are not */
    static const ab_gc_type node = {4 * sizeof(void *), mask, "node"};
    void **n1 = A->gc_alloc_typed(&node, 1);
    void **arr = A->gc_alloc_typed(&node, 8);
    assert_non_null(n1);
    assert_non_null(arr);
    assert_true(ct_is_zero(n1, node.size));
    assert_true(ct_is_zero(arr, 8 * node.size));
    void *payload = A->gc_alloc(512, AB_GC_NOSCAN), *payload7 = A->gc_alloc(256, AB_GC_NOSCAN);
    assert_non_null(payload);
    assert_non_null(payload7);
    ct_fill(payload, 0, 512, 17);
    ct_fill(payload7, 0, 256, 18);
    A->gc_store_ptr(&n1[0], payload);
    A->gc_store_ptr(&arr[7 * 4], payload7); /* word 0 of element 7 */
    n1[1] = (void *)(uintptr_t)0x1234;      /* plain data in a non-pointer word */
    assert_int_equal(A->gc_add_roots(&ct_roots[0], &ct_roots[4]), 0);
    A->gc_store_ptr(&ct_roots[0], n1);
    A->gc_store_ptr(&ct_roots[1], arr);
    n1 = arr = NULL;
    payload = payload7 = NULL;
    ct_gc_churn(4);
    void **r1 = ct_roots[0], **ra = ct_roots[1];
    assert_int_equal(ct_verify(r1[0], 512, 17), SIZE_MAX);
    assert_int_equal((uintptr_t)r1[1], 0x1234);
    assert_int_equal(ct_verify(ra[7 * 4], 256, 18), SIZE_MAX);
    ct_roots[0] = ct_roots[1] = NULL;
    assert_int_equal(A->gc_remove_roots(&ct_roots[0], &ct_roots[4]), 0);
}

/* Collected objects are aligned as malloc's (ab_allocator.h): 16 bytes from 16 B up, 8 below.
 * Several objects per size, so that packed small objects (a tiny allocator) show their
 * offsets inside a shared block too. */
void test_gc_alignment(void **state)
{
    (void)state;
    static const unsigned flags[] = {AB_GC_SCAN, AB_GC_NOSCAN};
    for (size_t f = 0; f < 2; f++) {
        for (size_t n = 1; n <= 64; n++) {
            size_t want = n >= 16 ? 16 : 8;
            for (int k = 0; k < 4; k++) {
                void *p = A->gc_alloc(n, flags[f]);
                assert_non_null(p);
                if (!ct_aligned(p, want))
                    print_message("gc_alloc(%zu, %s) = %p: not %zu-aligned\n", n,
                                  flags[f] == AB_GC_NOSCAN ? "noscan" : "scan", p, want);
                assert_true(ct_aligned(p, want));
            }
        }
    }
}

enum { CT_MAX_EVENTS = 64 };
static ab_gc_event ct_events[CT_MAX_EVENTS];
static atomic_int ct_nevents;

static void ct_on_gc_event(const ab_gc_event *ev, void *ctx)
{
    int i = atomic_fetch_add(&ct_nevents, 1);
    if (i < CT_MAX_EVENTS) ct_events[i] = *ev;
    (void)ctx;
}

void test_gc_events(void **state)
{
    (void)state;
    atomic_store(&ct_nevents, 0);
    A->gc_set_event_hook(ct_on_gc_event, NULL);
    A->gc_collect();
    A->gc_set_event_hook(NULL, NULL);
    int n = atomic_load(&ct_nevents);
    int nseen = n < CT_MAX_EVENTS ? n : CT_MAX_EVENTS;
    A->gc_collect(); /* no hook: nothing recorded */
    assert_int_equal(atomic_load(&ct_nevents), n);
    const ab_gc_event *start = NULL, *end = NULL;
    for (int i = 0; i < nseen; i++) {
        if (ct_events[i].kind == AB_GC_EV_CYCLE_START && !start) start = &ct_events[i];
        if (ct_events[i].kind == AB_GC_EV_CYCLE_END && start && !end) end = &ct_events[i];
    }
    assert_non_null(start);
    assert_non_null(end);
    print_message("gc cycle %" PRIu64 ": pause %" PRIu64 " ns, heap %" PRId64 " -> %" PRId64
                  ", forced %d\n",
                  end->cycle, end->pause_ns, end->heap_before, end->heap_after, end->forced);
    print_message("  start t %" PRIu64 " ns (cycle %" PRIu64 "), end t %" PRIu64 " ns, %d events\n",
                  start->t_ns, start->cycle, end->t_ns, n);
    assert_true(start->cycle >= 1);
    assert_int_equal(start->cycle, end->cycle);
    assert_true(end->t_ns >= start->t_ns);
    assert_true(end->pause_ns <= end->t_ns - start->t_ns);
    assert_int_equal(end->forced, 1);
}
