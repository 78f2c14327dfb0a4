/* test_gc.c - goalloc's garbage collector on the real heap: reachability under random graph
 * mutations (typed, untyped and noscan objects, interior pointers, large objects, tiny
 * blocks) checked against a model, exact HeapAlloc after a cycle, explicit free composed with
 * the sweeper, mutator threads and safepoints, events and MemStats GC fields, the gctrace
 * line, and the pacer and memory limit on the real heap. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <pthread.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ga_internal.h"
#include "goalloc_gc.h"

#define MIB ((uint64_t)1 << 20)

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
static uint64_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static uint64_t heap_alloc(void)
{
    ga_memstats ms;
    assert_int_equal(ga_read_memstats(&ms), 0);
    return ms.HeapAlloc;
}

/* Bytes an object occupies in HeapAlloc: its slot (class size) or its pages. */
static uint64_t slot_bytes(const void *p)
{
    return ga_usable_size(p);
}

/* Collects everything not reachable: the collected heap is then what the roots hold. */
static void drain(void)
{
    ga_gc();
}

/* ---- Reachability under random mutations, against a model ---- */

/* Object layout: word 0 = id tag (small, odd: never a pointer), words 1..NPTR = pointer fields
 * (pointer slots of typed objects), the rest a byte pattern derived from the id. */
#define NPTR 3
#define NROOTS 64
#define MAXOBJ 20000

enum kind { K_SCAN, K_TYPED, K_NOSCAN, K_TINY, K_LARGE, K_NKINDS };

typedef struct obj {
    unsigned char *p;
    size_t size;
    enum kind kind;
    int ptr[NPTR];      /* model: target object index or -1 */
    unsigned off[NPTR]; /* interior offset of each pointer */
    int indeg;
    int alive; /* in the model: allocated and not yet found dead */
    int mark;
} obj;

static obj objs[MAXOBJ];
static int nobjs;
static void *rootslots[NROOTS];
static int rootobj[NROOTS];

/* typed: word 0 data, words 1..3 pointers, word 4.. data */
static const uint8_t typed_mask[] = {0x0e};
static const ga_gc_type typed_type = {.size = 64, .ptrmask = typed_mask, .name = "node"};

static unsigned char pattern(int id, size_t i)
{
    return (unsigned char)(id * 131 + i * 7 + 1);
}

static size_t data_start(const obj *o)
{
    return o->kind == K_NOSCAN || o->kind == K_TINY ? 0 : (1 + NPTR) * 8;
}

static void fill(int id)
{
    obj *o = &objs[id];
    if (o->kind != K_NOSCAN && o->kind != K_TINY) ((uint64_t *)o->p)[0] = (uint64_t)id * 2 + 1;
    for (size_t i = data_start(o); i < o->size; i++)
        o->p[i] = pattern(id, i);
}

static void check(int id)
{
    obj *o = &objs[id];
    if (o->kind != K_NOSCAN && o->kind != K_TINY && ((uint64_t *)o->p)[0] != (uint64_t)id * 2 + 1)
        fail_msg("object %d (kind %d): header overwritten", id, o->kind);
    for (size_t i = data_start(o); i < o->size; i++)
        if (o->p[i] != pattern(id, i))
            fail_msg("object %d (kind %d, %zu B): byte %zu changed", id, o->kind, o->size, i);
    if (o->kind == K_NOSCAN || o->kind == K_TINY) return;
    for (int k = 0; k < NPTR; k++) {
        void *want = o->ptr[k] < 0 ? NULL : objs[o->ptr[k]].p + o->off[k];
        if (((void **)o->p)[1 + k] != want) fail_msg("object %d: pointer %d changed", id, k);
    }
}

static int new_obj(void)
{
    if (nobjs == MAXOBJ) return -1;
    int id = nobjs++;
    obj *o = &objs[id];
    memset(o, 0, sizeof *o);
    for (int k = 0; k < NPTR; k++)
        o->ptr[k] = -1;
    o->kind = (enum kind)(rnd() % K_NKINDS);
    if (o->kind == K_LARGE && rnd() % 4) o->kind = K_SCAN; /* fewer large ones */
    switch (o->kind) {
    case K_SCAN:
        o->size = 32 + rnd() % 2000;
        o->p = ga_gc_alloc(o->size, GA_GC_SCAN);
        break;
    case K_TYPED:
        o->size = 64;
        o->p = ga_gc_alloc_typed(&typed_type, 1);
        break;
    case K_NOSCAN:
        o->size = 16 + rnd() % 3000;
        o->p = ga_gc_alloc(o->size, GA_GC_NOSCAN);
        break;
    case K_TINY:
        o->size = 1 + rnd() % 15;
        o->p = ga_gc_alloc(o->size, GA_GC_NOSCAN);
        break;
    default:
        o->size = 33000 + rnd() % 70000;
        o->p = ga_gc_alloc(o->size, GA_GC_SCAN);
        break;
    }
    assert_non_null(o->p);
    for (size_t i = 0; i < o->size; i++)
        if (o->p[i] != 0) fail_msg("object %d (kind %d): byte %zu not zeroed", id, o->kind, i);
    fill(id);
    o->alive = 1;
    return id;
}

static void set_ptr(int from, int k, int to)
{
    obj *o = &objs[from];
    if (o->ptr[k] >= 0) objs[o->ptr[k]].indeg--;
    o->ptr[k] = to;
    o->off[k] = to >= 0 ? (unsigned)(rnd() % objs[to].size) : 0; /* interior pointers */
    if (to >= 0) objs[to].indeg++;
    ga_store_ptr(&((void **)o->p)[1 + k], to < 0 ? NULL : objs[to].p + o->off[k]);
}

static void set_root(int r, int to)
{
    if (rootobj[r] >= 0) objs[rootobj[r]].indeg--;
    rootobj[r] = to;
    if (to >= 0) objs[to].indeg++;
    ga_store_ptr(&rootslots[r],
                 to < 0 ? NULL : objs[to].p + (objs[to].size > 1 && rnd() % 2 ? 1 : 0));
}

static int random_alive(void)
{
    for (int tries = 0; tries < 50 && nobjs; tries++) {
        int id = (int)(rnd() % (uint64_t)nobjs);
        if (objs[id].alive) return id;
    }
    return -1;
}

static void model_mark(int id)
{
    /* iterative: explicit stack */
    static int stack[MAXOBJ * (NPTR + 1)];
    int n = 0;
    stack[n++] = id;
    while (n) {
        int x = stack[--n];
        if (x < 0 || objs[x].mark) continue;
        objs[x].mark = 1;
        for (int k = 0; k < NPTR; k++)
            if (objs[x].kind != K_NOSCAN && objs[x].kind != K_TINY && objs[x].ptr[k] >= 0)
                stack[n++] = objs[x].ptr[k];
    }
}

/* After a collection: every model-reachable object intact; unreachable ones leave the model. */
static void verify_and_prune(void)
{
    for (int i = 0; i < nobjs; i++)
        objs[i].mark = 0;
    for (int r = 0; r < NROOTS; r++)
        if (rootobj[r] >= 0) model_mark(rootobj[r]);
    for (int i = 0; i < nobjs; i++) {
        if (!objs[i].alive) continue;
        if (objs[i].mark) {
            assert_true(ga_owns(objs[i].p));
            check(i);
        }
    }
    for (int i = 0; i < nobjs; i++) {
        if (!objs[i].alive || objs[i].mark) continue;
        objs[i].alive = 0;
        for (int k = 0; k < NPTR; k++)
            if (objs[i].ptr[k] >= 0) objs[objs[i].ptr[k]].indeg--;
    }
}

static void test_reachability_random(void **state)
{
    (void)state;
    nobjs = 0;
    for (int r = 0; r < NROOTS; r++)
        rootobj[r] = -1;
    memset(rootslots, 0, sizeof rootslots);
    assert_int_equal(ga_gc_add_roots(rootslots, rootslots + NROOTS), 0);
    int frees = 0;
    for (int step = 0; step < 12000 && nobjs < MAXOBJ - 10; step++) {
        unsigned op = (unsigned)(rnd() % 100);
        if (op < 40) {
            int id = new_obj();
            int from = random_alive();
            if (from >= 0 && objs[from].kind != K_NOSCAN && objs[from].kind != K_TINY &&
                objs[from].alive && rnd() % 2)
                set_ptr(from, (int)(rnd() % NPTR), id);
            else
                set_root((int)(rnd() % NROOTS), id);
        } else if (op < 70) {
            int from = random_alive(), to = random_alive();
            if (from >= 0 && objs[from].kind != K_NOSCAN && objs[from].kind != K_TINY)
                set_ptr(from, (int)(rnd() % NPTR), rnd() % 4 ? to : -1);
        } else if (op < 85) {
            set_root((int)(rnd() % NROOTS), rnd() % 3 ? random_alive() : -1);
        } else if (op < 95) {
            /* explicit free of an object nothing refers to (model in-degree 0) */
            int id = random_alive();
            if (id >= 0 && objs[id].indeg == 0) {
                for (int k = 0; k < NPTR; k++)
                    if (objs[id].kind != K_NOSCAN && objs[id].kind != K_TINY) set_ptr(id, k, -1);
                ga_free(objs[id].p);
                objs[id].alive = 0;
                frees++;
            }
        } else if (op < 97) {
            drain();
            verify_and_prune();
        }
        if (step % 500 == 0) { /* some objects stay reachable through roots only */
            for (int i = 0; i < nobjs; i++)
                if (objs[i].alive && objs[i].indeg > 0 && rnd() % 64 == 0) check(i);
        }
    }
    drain();
    verify_and_prune();
    assert_true(frees > 0);
    /* Nothing reachable: the collected heap is empty. */
    for (int r = 0; r < NROOTS; r++)
        set_root(r, -1);
    drain();
    verify_and_prune();
    assert_int_equal(heap_alloc(), 0);
    assert_int_equal(_ga_gc_span_count(), _ga_gc_span_count()); /* lock sanity */
    assert_true(_ga_gc_spans_valid());
    assert_int_equal(ga_gc_remove_roots(rootslots, rootslots + NROOTS), 0);
}

/* ---- HeapAlloc is exactly the reachable bytes after a cycle ---- */

static void test_heapalloc_exact(void **state)
{
    (void)state;
    drain();
    assert_int_equal(heap_alloc(), 0);
    enum { N = 300 };
    static void *slots[N];
    memset(slots, 0, sizeof slots);
    assert_int_equal(ga_gc_add_roots(slots, slots + N), 0);
    uint64_t want = 0;
    for (int i = 0; i < N; i++) {
        size_t size = i % 50 == 0 ? 40000 + (size_t)i * 100 : 16 + (size_t)(rnd() % 5000);
        void *p = ga_gc_alloc(size, i % 2 ? GA_GC_SCAN : GA_GC_NOSCAN);
        assert_non_null(p);
        void *garbage = ga_gc_alloc(size, GA_GC_SCAN);
        assert_non_null(garbage);
        if (i % 3 == 0) {
            ga_store_ptr(&slots[i], p);
            want += slot_bytes(p);
        }
    }
    drain();
    assert_int_equal(heap_alloc(), want);
    ga_memstats ms;
    ga_read_memstats(&ms);
    assert_int_equal(ms.HeapObjects, N / 3);
    memset(slots, 0, sizeof slots);
    drain();
    assert_int_equal(heap_alloc(), 0);
    assert_int_equal(_ga_gc_span_count(), 0);
    assert_int_equal(ga_gc_remove_roots(slots, slots + N), 0);
}

/* ---- Explicit free composes with the sweeper ---- */

static void test_explicit_free(void **state)
{
    (void)state;
    drain();
    static void *root;
    assert_int_equal(ga_gc_add_roots(&root, &root + 1), 0);
    unsigned char *a = ga_gc_alloc(100, GA_GC_NOSCAN);
    unsigned char *b = ga_gc_alloc(100, GA_GC_NOSCAN);
    memset(b, 0x5a, 100);
    ga_store_ptr(&root, b);
    memset(a, 0x77, 100);
    ga_free(a);
    unsigned char *c = ga_gc_alloc(100, GA_GC_NOSCAN); /* reuses a, zeroed */
    assert_ptr_equal(c, a);
    for (int i = 0; i < 100; i++)
        assert_int_equal(c[i], 0);
    ga_free(c);
    drain(); /* c is on the reuse list and unreachable: swept once, not twice */
    assert_int_equal(heap_alloc(), slot_bytes(b));
    /* Allocate the slot again many times: b is never handed out. */
    for (int i = 0; i < 2000; i++) {
        unsigned char *p = ga_gc_alloc(100, GA_GC_NOSCAN);
        assert_ptr_not_equal(p, b);
    }
    for (int i = 0; i < 100; i++)
        assert_int_equal(b[i], 0x5a);
    /* Large: pages back at once, counted once. */
    uint64_t before = heap_alloc();
    void *big = ga_gc_alloc(200000, GA_GC_SCAN);
    assert_int_equal(heap_alloc(), before + slot_bytes(big));
    ga_free(big);
    assert_int_equal(heap_alloc(), before);
    assert_int_equal(ga_owns(big), 0);
    drain();
    assert_int_equal(heap_alloc(), slot_bytes(b));
    root = NULL;
    drain();
    assert_int_equal(heap_alloc(), 0);
    assert_int_equal(ga_gc_remove_roots(&root, &root + 1), 0);
}

/* ---- Typed objects are scanned precisely; noscan never ---- */

static void test_typed_precise(void **state)
{
    (void)state;
    drain();
    static void *root;
    assert_int_equal(ga_gc_add_roots(&root, &root + 1), 0);
    static const uint8_t mask[] = {0x01}; /* word 0 is a pointer, word 1 is data */
    static const ga_gc_type t = {.size = 16, .ptrmask = mask, .name = "pair"};
    void **pair = ga_gc_alloc_typed(&t, 4); /* 4 pairs: pointers at words 0, 2, 4, 6 */
    ga_store_ptr(&root, pair);
    void *kept = ga_gc_alloc(64, GA_GC_NOSCAN);
    ga_store_ptr(&pair[2], kept);
    void *hidden = ga_gc_alloc(64, GA_GC_NOSCAN);
    pair[3] = hidden; /* a data word: not a reference */
    void *behind_noscan = ga_gc_alloc(64, GA_GC_NOSCAN);
    ((void **)kept)[0] = behind_noscan; /* inside a noscan object: not a reference */
    drain();
    assert_true(ga_owns(kept));
    assert_int_equal(heap_alloc(), slot_bytes(pair) + slot_bytes(kept));
    root = NULL;
    drain();
    assert_int_equal(heap_alloc(), 0);
    assert_int_equal(ga_gc_remove_roots(&root, &root + 1), 0);
    /* Bad input */
    assert_null(ga_gc_alloc_typed(NULL, 1));
    assert_int_equal(ga_gc_add_roots(&root, &root), -1);
    assert_int_equal(ga_gc_remove_roots(&root, &root + 1), -1);
}

/* ---- Events and MemStats GC fields ---- */

static ga_gc_event events[64];
static int nevents;

static void hook(const ga_gc_event *ev, void *ctx)
{
    (void)ctx;
    if (nevents < 64) events[nevents++] = *ev;
}

static void test_events_and_memstats(void **state)
{
    (void)state;
    /* A paced cycle the last test's allocation started may still be marking: its end event
     * would arrive first. ga_gc() returns with no cycle running, and nothing here allocates. */
    drain();
    ga_memstats ms0, ms1;
    ga_read_memstats(&ms0);
    ga_gc_stats gs0;
    ga_gc_read_stats(&gs0);
    uint64_t gcpu0 = gs0.GCCPUNs;
    nevents = 0;
    ga_gc_set_event_hook(hook, NULL);
    ga_gc();
    ga_gc();
    ga_gc_set_event_hook(NULL, NULL);
    ga_read_memstats(&ms1);
    assert_int_equal(nevents, 4);
    assert_int_equal(events[0].kind, GA_GC_EV_START);
    assert_int_equal(events[1].kind, GA_GC_EV_END);
    assert_int_equal(events[1].cycle, events[0].cycle);
    assert_int_equal(events[3].cycle, events[0].cycle + 1);
    assert_int_equal(events[1].forced, 1);
    assert_true(events[1].pause_ns > 0);
    assert_int_equal(ms1.NumGC, ms0.NumGC + 2);
    assert_int_equal(ms1.NumForcedGC, ms0.NumForcedGC + 2);
    assert_true(ms1.PauseTotalNs >= ms0.PauseTotalNs + events[1].pause_ns + events[3].pause_ns);
    assert_true(ms1.LastGC > 0);
    ga_gc_stats gs;
    ga_gc_read_stats(&gs);
    assert_int_equal(gs.NumGC, ms1.NumGC);
    /* GC CPU time counts every pause on every CPU, plus the worker's and assists' time. */
    assert_true(gs.GCCPUNs >= gs.PauseTotalNs);
    assert_true(gs.GCCPUNs >= gcpu0 + events[1].pause_ns + events[3].pause_ns);
    assert_int_equal(gs.PauseNs[(gs.NumGC + 255) % 256], events[3].pause_ns);
    assert_int_equal(gs.LastGC, gs.PauseEnd[(gs.NumGC + 255) % 256]);
    uint64_t sum = 0;
    for (int i = 0; i < 256; i++)
        sum += gs.PauseNs[i];
    if (gs.NumGC < 256) assert_int_equal(sum, gs.PauseTotalNs);
    assert_true(ms1.NumForcedGC <= ms1.NumGC);
    assert_int_equal(ms1.LastGC, ms1.PauseEnd[(ms1.NumGC + 255) % 256]);
    assert_int_equal(ms1.PauseNs[(ms1.NumGC + 255) % 256], events[3].pause_ns);
    assert_true(ms1.GCCPUFraction >= 0 && ms1.GCCPUFraction <= 0.99);
    assert_int_equal(ms1.HeapSys, ms1.HeapInuse + ms1.HeapIdle);
}

/* ---- gctrace: one line per cycle in Go's format (in a child, stderr captured) ---- */

static void test_gctrace_format(void **state)
{
    (void)state;
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        dup2(fds[1], 2);
        close(fds[0]);
        _ga_opt.gctrace = 1;
        static void *root;
        ga_gc_add_roots(&root, &root + 1);
        root = ga_gc_alloc(3 << 20, GA_GC_NOSCAN);
        ga_gc();
        _exit(0);
    }
    close(fds[1]);
    char buf[4096];
    size_t n = 0;
    ssize_t r;
    while (n < sizeof buf - 1 && (r = read(fds[0], buf + n, sizeof buf - 1 - n)) > 0)
        n += (size_t)r;
    buf[n] = 0;
    close(fds[0]);
    int status;
    waitpid(pid, &status, 0);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    regex_t re;
    assert_int_equal(
        regcomp(&re,
                "^gc [0-9]+ @[0-9]+\\.[0-9]{3}s [0-9]+%: [0-9]+\\.[0-9]+\\+[0-9]+\\."
                "[0-9]+\\+[0-9]+\\.[0-9]+ ms clock, [0-9]+\\.[0-9]+\\+[0-9]+\\.[0-9]+/"
                "[0-9]+\\.[0-9]+/[0-9]+\\.[0-9]+\\+[0-9]+\\.[0-9]+ ms cpu, [0-9]+->[0-9]+->3 MB, "
                "[0-9]+ MB "
                "goal, 0 MB stacks, [0-9]+ MB globals, [0-9]+ threads( \\(stw\\))? \\(forced\\)\n$",
                REG_EXTENDED),
        0);
    if (regexec(&re, buf, 0, NULL, 0) != 0) fail_msg("gctrace line does not match: '%s'", buf);
    regfree(&re);
}

/* ---- Mutator threads and safepoints ---- */

#define TLIVE 256

typedef struct worker {
    void *slots[TLIVE];
    int id;
    int errors;
    int blocking; /* also spends time in a blocking section */
} worker;

static void *worker_main(void *arg)
{
    worker *w = arg;
    for (int i = 0; i < 20000; i++) {
        int k = i % TLIVE;
        if (w->slots[k]) {
            uint64_t *o = w->slots[k];
            if (o[0] != (uint64_t)(w->id * 1000000 + k) || o[1] != o[0]) w->errors++;
        }
        uint64_t *o = ga_gc_alloc(16 + (size_t)(i % 7) * 16, i % 2 ? GA_GC_SCAN : GA_GC_NOSCAN);
        if (!o) {
            w->errors++;
            continue;
        }
        o[0] = o[1] = (uint64_t)(w->id * 1000000 + k);
        ga_store_ptr(&w->slots[k], o);
        if (w->blocking && i % 1000 == 0) {
            ga_gc_blocking_enter();
            usleep(100);
            ga_gc_blocking_exit();
        }
    }
    ga_gc_thread_detach();
    return NULL;
}

static void test_threads(void **state)
{
    (void)state;
    static worker w[3];
    memset(w, 0, sizeof w);
    pthread_t th[3];
    for (int i = 0; i < 3; i++) {
        w[i].id = i + 1;
        w[i].blocking = i == 2;
        assert_int_equal(ga_gc_add_roots(w[i].slots, w[i].slots + TLIVE), 0);
        assert_int_equal(pthread_create(&th[i], NULL, worker_main, &w[i]), 0);
    }
    ga_gc_blocking_enter(); /* this thread is a mutator: it must not stall the workers' cycles */
    for (int i = 0; i < 30; i++) {
        ga_gc();
        usleep(200);
    }
    for (int i = 0; i < 3; i++)
        pthread_join(th[i], NULL);
    ga_gc_blocking_exit();
    ga_gc();
    uint64_t want = 0;
    for (int i = 0; i < 3; i++) {
        assert_int_equal(w[i].errors, 0);
        for (int k = 0; k < TLIVE; k++) {
            uint64_t *o = w[i].slots[k];
            assert_non_null(o);
            assert_int_equal(o[0], (uint64_t)(w[i].id * 1000000 + k));
            want += slot_bytes(o);
        }
    }
    assert_int_equal(heap_alloc(), want);
    for (int i = 0; i < 3; i++)
        assert_int_equal(ga_gc_remove_roots(w[i].slots, w[i].slots + TLIVE), 0);
    drain();
    assert_int_equal(heap_alloc(), 0);
}

/* ---- Concurrent mark: mutators relink a pointer graph while the mark runs ---- */

/* Each worker owns a list of CG_LEN nodes rooted at head and relinks it without pause: a
 * node is unlinked (held only in a local: the deletion barrier's case) and put back at
 * another place (the insertion barrier's), or replaced by a fresh node (allocated black).
 * Meanwhile the main thread runs forced concurrent cycles over a ballast chain long enough
 * that each mark takes a while. A node freed while reachable comes back zeroed or as
 * someone else's object: every visit checks the node's tag, check word and payload. */
#define CG_LEN 300
#define CG_BALLAST 150000
#define CG_MIN_OVERLAP 200 /* relinks done while a mark ran, before the test may end */

typedef struct cg_node {
    uint64_t tag; /* worker id << 32 | serial */
    struct cg_node *next;
    uint64_t check; /* tag * CG_K */
    unsigned char pad[40];
} cg_node;
#define CG_K 0x9e3779b97f4a7c15ull

typedef struct cg_worker {
    cg_node *head;
    int id;
    int errors;
    uint64_t seed, serial;
    _Atomic int ops_done; /* the worker finished its own operation count */
} cg_worker;

static _Atomic int cg_in_mark;
static _Atomic uint64_t cg_overlap; /* relinks while a cycle's mark ran */
static _Atomic int cg_stop;

static void cg_hook(const ga_gc_event *ev, void *ctx)
{
    (void)ctx;
    atomic_store(&cg_in_mark, ev->kind == GA_GC_EV_START);
}

static cg_node *cg_new(uint64_t tag)
{
    cg_node *n = ga_gc_alloc(sizeof *n, GA_GC_SCAN);
    if (!n) return NULL;
    n->tag = tag;
    n->check = tag * CG_K;
    for (size_t j = 0; j < sizeof n->pad; j++)
        n->pad[j] = (unsigned char)(tag + j);
    return n;
}

static bool cg_ok(const cg_node *n, int id)
{
    if ((n->tag >> 32) != (uint64_t)id || n->check != n->tag * CG_K) return false;
    for (size_t j = 0; j < sizeof n->pad; j++)
        if (n->pad[j] != (unsigned char)(n->tag + j)) return false;
    return true;
}

static uint64_t cg_rand(cg_worker *w)
{
    w->seed = w->seed * 6364136223846793005ull + 1442695040888963407ull;
    return w->seed >> 33;
}

/* The node at position k (0 = the first), checking every node passed. */
static cg_node *cg_at(cg_worker *w, unsigned k)
{
    cg_node *n = w->head;
    for (unsigned i = 0; i < k && n; i++) {
        if (!cg_ok(n, w->id)) w->errors++;
        n = n->next;
    }
    return n;
}

static void *cg_main(void *arg)
{
    cg_worker *w = arg;
    for (unsigned i = 0; i < CG_LEN; i++) { /* push front: rooted before the next alloc */
        cg_node *n = cg_new((uint64_t)w->id << 32 | w->serial++);
        if (!n) {
            w->errors++;
            break;
        }
        ga_store_ptr((void **)&n->next, w->head);
        ga_store_ptr((void **)&w->head, n);
    }
    for (int i = 0; !atomic_load(&cg_stop); i++) {
        if (i == 3000) atomic_store(&w->ops_done, 1);
        int marking = atomic_load(&cg_in_mark);
        cg_node *p = cg_at(w, 1 + (unsigned)(cg_rand(w) % (CG_LEN - 2)));
        cg_node *q = p ? p->next : NULL;
        if (!p || !q) {
            w->errors++;
            break;
        }
        if (cg_rand(w) % 4 == 0) { /* replace q by a fresh node: q becomes garbage */
            cg_node *n = cg_new((uint64_t)w->id << 32 | w->serial++);
            if (!n) {
                w->errors++;
                break;
            }
            /* The safepoint above may have collected nothing reachable: p and q still are. */
            ga_store_ptr((void **)&n->next, q->next);
            ga_store_ptr((void **)&p->next, n);
            if (!cg_ok(q, w->id)) w->errors++;
        } else { /* move q: unlink it, walk on (q only in a local), link it elsewhere */
            ga_store_ptr((void **)&p->next, q->next);
            ga_store_ptr((void **)&q->next, NULL);
            cg_node *r = cg_at(w, (unsigned)(cg_rand(w) % (CG_LEN - 2)));
            if (!r || !cg_ok(q, w->id)) {
                w->errors++;
                break;
            }
            ga_store_ptr((void **)&q->next, r->next);
            ga_store_ptr((void **)&r->next, q);
        }
        if (marking && atomic_load(&cg_in_mark)) atomic_fetch_add(&cg_overlap, 1);
        if (i % 8 == 0) /* garbage, so paced cycles and slot reuse happen too */
            (void)ga_gc_alloc(64 + (size_t)(i % 5) * 16, GA_GC_NOSCAN);
    }
    ga_gc_thread_detach();
    return NULL;
}

static void test_concurrent_mark_relink(void **state)
{
    (void)state;
    drain();
    static cg_worker w[2];
    static void *ballast;
    memset(w, 0, sizeof w);
    atomic_store(&cg_stop, 0);
    atomic_store(&cg_overlap, 0);
    atomic_store(&cg_in_mark, 0);
    assert_int_equal(ga_gc_add_roots(&ballast, &ballast + 1), 0);
    for (int i = 0; i < CG_BALLAST; i++) { /* a chain: the marker follows it node by node */
        void **n = ga_gc_alloc(2 * sizeof(void *), GA_GC_SCAN);
        assert_non_null(n);
        ga_store_ptr(&n[0], ballast);
        ga_store_ptr(&ballast, n);
    }
    ga_gc_set_event_hook(cg_hook, NULL);
    pthread_t th[2];
    for (int i = 0; i < 2; i++) {
        w[i].id = i + 1;
        w[i].seed = (uint64_t)i * 1234567 + 89;
        assert_int_equal(ga_gc_add_roots(&w[i].head, &w[i].head + 1), 0);
        assert_int_equal(pthread_create(&th[i], NULL, cg_main, &w[i]), 0);
    }
    ga_gc_blocking_enter();
    /* Concurrent cycles until both workers did their operations and enough relinks ran
     * during a mark; a deadline, not a speed goal (a second or two is typical). */
    struct timespec t0, t;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int cycles = 0;
    for (;; cycles++) {
        ga_gc();
        if (atomic_load(&w[0].ops_done) && atomic_load(&w[1].ops_done) &&
            atomic_load(&cg_overlap) >= CG_MIN_OVERLAP && cycles >= 10)
            break;
        clock_gettime(CLOCK_MONOTONIC, &t);
        if (t.tv_sec - t0.tv_sec > 120) break;
    }
    atomic_store(&cg_stop, 1);
    for (int i = 0; i < 2; i++)
        pthread_join(th[i], NULL);
    ga_gc_blocking_exit();
    ga_gc_set_event_hook(NULL, NULL);
    drain();
    uint64_t want = 0;
    for (int i = 0; i < 2; i++) {
        assert_int_equal(w[i].errors, 0);
        unsigned len = 0;
        for (cg_node *n = w[i].head; n; n = n->next, len++) {
            if (!cg_ok(n, w[i].id)) fail_msg("worker %d: node %u damaged", w[i].id, len);
            want += slot_bytes(n);
        }
        assert_int_equal(len, CG_LEN);
    }
    unsigned blen = 0;
    for (void **n = ballast; n; n = n[0], blen++)
        want += slot_bytes(n);
    assert_int_equal(blen, CG_BALLAST);
    if (atomic_load(&cg_overlap) < CG_MIN_OVERLAP)
        fail_msg("only %llu relinks ran during a mark in %d cycles (120 s deadline)",
                 (unsigned long long)atomic_load(&cg_overlap), cycles);
    assert_int_equal(heap_alloc(), want);
    assert_true(_ga_gc_spans_valid());
    for (int i = 0; i < 2; i++)
        assert_int_equal(ga_gc_remove_roots(&w[i].head, &w[i].head + 1), 0);
    assert_int_equal(ga_gc_remove_roots(&ballast, &ballast + 1), 0);
    drain();
    assert_int_equal(heap_alloc(), 0);
}

/* ---- Manual blocks are never swept ---- */

static void test_manual_untouched(void **state)
{
    (void)state;
    uint64_t before = heap_alloc();
    unsigned char *m[50];
    for (int i = 0; i < 50; i++) {
        m[i] = ga_malloc(16 + (size_t)i * 40);
        memset(m[i], i, 16 + (size_t)i * 40);
    }
    for (int i = 0; i < 2000; i++)
        ga_gc_alloc(16 + (size_t)(i % 40) * 40, GA_GC_SCAN);
    drain();
    for (int i = 0; i < 50; i++) {
        for (size_t j = 0; j < 16 + (size_t)i * 40; j++)
            assert_int_equal(m[i][j], i);
        ga_free(m[i]);
    }
    ga_thread_flush();
    assert_int_equal(heap_alloc(), before);
}

/* ---- Pacer on the real heap ---- */

static uint64_t peak_max, goal_at, nstart;
static double ratio_min = 1e9, ratio_max;
static _Atomic int paced_seen; /* the hook runs on the mark worker's thread */

/* The heap peak of a cycle is heap_after of its end event (the heap when marking ended; with
 * a concurrent mark the mutator allocates between start and end), against the goal its start
 * event reported (the end event carries the next cycle's). */
static void pace_hook(const ga_gc_event *ev, void *ctx)
{
    (void)ctx;
    static uint64_t start_goal;
    if (ev->forced) return;
    if (ev->kind == GA_GC_EV_START) {
        start_goal = ev->heap_goal;
        return;
    }
    if (ev->kind != GA_GC_EV_END) return;
    paced_seen++;
    if (paced_seen <= 2) return; /* let the live set settle */
    double r = (double)ev->heap_after / (double)start_goal;
    if (r < ratio_min) ratio_min = r;
    if (r > ratio_max) ratio_max = r;
    if (ev->heap_after > peak_max) {
        peak_max = ev->heap_after;
        goal_at = start_goal;
    }
    nstart++;
}

/* A steady live set of `live` bytes in 1 KiB objects; garbage until `cycles` paced cycles. */
static void **build_live(size_t live, size_t *n)
{
    *n = live / 1024;
    void **slots = calloc(*n, sizeof *slots);
    assert_int_equal(ga_gc_add_roots(slots, slots + *n), 0);
    for (size_t i = 0; i < *n; i++)
        ga_store_ptr(&slots[i], ga_gc_alloc(1024, GA_GC_NOSCAN));
    return slots;
}

static void churn_until(int cycles, int max_allocs)
{
    for (int i = 0; i < max_allocs && paced_seen < cycles; i++)
        assert_non_null(ga_gc_alloc(1024, GA_GC_NOSCAN));
}

/* Stop-the-world marking (gcstoptheworld=1) peaks at the trigger, at the top of Go's band:
 * peak/goal in [0.95, 1.05] as TestGcPacer's. A concurrent mark peaks between the trigger
 * (at least 45/64 of the way from live to goal: 0.85 here) and the goal, which assists hold
 * unless the CPU limiter engaged (then overshooting is what it is for). */
static void pacer_gogc_steady(bool stw)
{
    drain();
    _ga_opt.gcstoptheworld = stw;
    ga_gc_stats l0;
    ga_gc_read_stats(&l0);
    int old = ga_set_gc_percent(100);
    size_t n;
    void **slots = build_live(8 * MIB, &n);
    ga_gc();
    paced_seen = 0;
    nstart = 0;
    ratio_min = 1e9;
    ratio_max = 0;
    ga_gc_set_event_hook(pace_hook, NULL);
    churn_until(12, 2000000);
    ga_gc_set_event_hook(NULL, NULL);
    assert_true(nstart >= 5);
    ga_gc_stats gs;
    ga_gc_read_stats(&gs);
    double lo = stw ? 0.95 : 0.84;
    double hi = stw || gs.LimiterEnabled == l0.LimiterEnabled ? 1.05 : 1e9;
    if (ratio_min < lo || ratio_max > hi)
        fail_msg("GOGC=100, 8 MiB live, %s: heap peak/goal in [%.3f, %.3f], not in [%.2f, %.2f]",
                 stw ? "stop-the-world" : "concurrent", ratio_min, ratio_max, lo, hi);
    assert_true(gs.NextGC >= 16 * MIB && gs.NextGC <= 17 * MIB);
    ga_gc_remove_roots(slots, slots + n);
    free(slots);
    ga_set_gc_percent(old);
    drain();
    _ga_opt.gcstoptheworld = 0;
}

static void test_pacer_gogc_steady_stw(void **state)
{
    (void)state;
    pacer_gogc_steady(true);
}

static void test_pacer_gogc_steady(void **state)
{
    (void)state;
    pacer_gogc_steady(false);
}

/* The heap stays under the limit (the goal leaves Go's headroom); with a concurrent mark that
 * holds while assists run, that is unless the CPU limiter engaged. */
static void pacer_memory_limit(bool stw)
{
    drain();
    _ga_opt.gcstoptheworld = stw;
    ga_gc_stats l0, l1;
    ga_gc_read_stats(&l0);
    int old = ga_set_gc_percent(-1); /* GOGC=off: the limit alone sets the goal */
    int64_t limit = 48 * (int64_t)MIB;
    int64_t oldlim = ga_set_memory_limit(limit);
    size_t n;
    void **slots = build_live(8 * MIB, &n);
    ga_gc();
    paced_seen = 0;
    nstart = 0;
    peak_max = 0;
    ratio_min = 1e9;
    ratio_max = 0;
    ga_gc_set_event_hook(pace_hook, NULL);
    churn_until(8, 2000000);
    ga_gc_set_event_hook(NULL, NULL);
    assert_true(nstart >= 4);
    ga_memstats ms;
    ga_read_memstats(&ms);
    ga_gc_read_stats(&l1);
    bool limiter = l1.LimiterEnabled != l0.LimiterEnabled;
    if ((!limiter && peak_max > (uint64_t)limit) || goal_at > (uint64_t)limit)
        fail_msg("limit 48 MiB: heap peak %llu goal %llu", (unsigned long long)peak_max,
                 (unsigned long long)goal_at);
    /* The goal leaves the headroom: at most limit - max(3%, 1 MiB). */
    assert_true(goal_at <= (uint64_t)limit - (uint64_t)limit * 3 / 100);
    uint64_t mapped = ms.Sys - ms.HeapReleased;
    if (!limiter && mapped > (uint64_t)limit * 11 / 10)
        fail_msg("limit 48 MiB: mapped %llu MiB", (unsigned long long)(mapped >> 20));
    ga_gc_remove_roots(slots, slots + n);
    free(slots);
    ga_set_memory_limit(oldlim);
    ga_set_gc_percent(old);
    drain();
    _ga_opt.gcstoptheworld = 0;
}

static void test_pacer_memory_limit_stw(void **state)
{
    (void)state;
    pacer_memory_limit(true);
}

static void test_pacer_memory_limit(void **state)
{
    (void)state;
    pacer_memory_limit(false);
}

static uint64_t lim_goal_diff;
static int lim_ends;

/* Only cycles that ran under the 2 MiB limit count: a concurrent cycle build_live()
 * started before the limit was set ends with the old goal. */
static void limit_hook(const ga_gc_event *ev, void *ctx)
{
    (void)ctx;
    if (ev->kind != GA_GC_EV_END || ev->mem_limit != 2 * (int64_t)MIB) return;
    lim_ends++;
    if (ev->heap_goal != ev->heap_marked) lim_goal_diff++;
}

/* Stop-the-world marking spends nearly all the time in GC here, so the limiter engages. A
 * concurrent mark of a noscan heap costs far less than half the CPU (the mutator runs while
 * it marks) and the limiter need not engage: that variant asserts the goal and progress. */
static void limiter_live_above_limit(bool stw)
{
    drain();
    _ga_opt.gcstoptheworld = stw;
    size_t n;
    void **slots = build_live(4 * MIB, &n);
    int64_t oldlim = ga_set_memory_limit(2 * (int64_t)MIB);
    ga_gc_stats g0, g1;
    ga_gc_read_stats(&g0);
    lim_ends = 0;
    lim_goal_diff = 0;
    ga_gc_set_event_hook(limit_hook, NULL);
    /* Every refill is past the goal; the limiter must let the program run on. */
    struct timespec t0, t;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (int round = 0;; round++) { /* about 1 s of GC time fills the limiter's bucket */
        for (int i = 0; i < 200; i++)
            assert_non_null(ga_gc_alloc(1024, GA_GC_NOSCAN));
        ga_gc_read_stats(&g1);
        if ((!stw || g1.LimiterEnabled > g0.LimiterEnabled) && round > 20) break;
        clock_gettime(CLOCK_MONOTONIC, &t);
        /* A deadline, not a speed goal (about 1 s is typical): the state is asserted below. */
        if (t.tv_sec - t0.tv_sec > 60) break;
    }
    ga_gc_set_event_hook(NULL, NULL);
    ga_gc_read_stats(&g1);
    assert_true(lim_ends > 0);
    assert_int_equal(lim_goal_diff, 0); /* live above the limit: goal == live heap */
    if (stw && g1.LimiterEnabled <= g0.LimiterEnabled)
        fail_msg("the CPU limiter never engaged in %llu cycles",
                 (unsigned long long)(g1.NumGC - g0.NumGC));
    ga_set_memory_limit(oldlim);
    ga_gc_remove_roots(slots, slots + n);
    free(slots);
    drain();
    _ga_opt.gcstoptheworld = 0;
}

static void test_limiter_live_above_limit_stw(void **state)
{
    (void)state;
    limiter_live_above_limit(true);
}

static void test_limiter_live_above_limit(void **state)
{
    (void)state;
    limiter_live_above_limit(false);
}

/* ---- Lazy and background sweeping after a paced cycle ---- */

static void test_lazy_background_sweep(void **state)
{
    (void)state;
    drain();
    int old = ga_set_gc_percent(100);
    static void *keep[64];
    assert_int_equal(ga_gc_add_roots(keep, keep + 64), 0);
    uint64_t want = 0;
    for (int i = 0; i < 64; i++) {
        ga_store_ptr(&keep[i], ga_gc_alloc(1024, GA_GC_NOSCAN));
        want += 1024;
    }
    ga_gc_sweep_totals t0, t1;
    _ga_gc_sweep_totals(&t0);
    ga_gc_stats g0, g1;
    ga_gc_read_stats(&g0);
    /* Garbage until a paced (not forced) cycle has run, then a little more. */
    for (int i = 0; i < 200000; i++) {
        assert_non_null(ga_gc_alloc(256, GA_GC_NOSCAN));
        ga_gc_read_stats(&g1);
        if (g1.NumGC > g0.NumGC + 1) break;
    }
    assert_true(g1.NumGC > g0.NumGC);
    assert_int_equal(g1.NumForcedGC, g0.NumForcedGC);
    /* The background sweeper sweeps the spans the cycle left (no allocation drives it): wait
     * for that, up to a 60 s deadline (a loaded machine may starve the sweeper thread). */
    struct timespec w0, w;
    clock_gettime(CLOCK_MONOTONIC, &w0);
    for (;;) {
        _ga_gc_sweep_totals(&t1);
        if (t1.spans_swept_bg > t0.spans_swept_bg) break;
        clock_gettime(CLOCK_MONOTONIC, &w);
        if (w.tv_sec - w0.tv_sec > 60) break;
        usleep(10000);
    }
    if (!(t1.spans_swept_bg > t0.spans_swept_bg))
        fail_msg("no background sweep in 60 s: %llu spans swept (%llu by the background), %llu "
                 "freed, NumGC %llu -> %llu",
                 (unsigned long long)(t1.spans_swept - t0.spans_swept),
                 (unsigned long long)(t1.spans_swept_bg - t0.spans_swept_bg),
                 (unsigned long long)(t1.spans_freed - t0.spans_freed),
                 (unsigned long long)g0.NumGC, (unsigned long long)g1.NumGC);
    assert_true(t1.spans_freed > t0.spans_freed);
    assert_true(t1.small_free[_ga_size_to_class(256)] > t0.small_free[_ga_size_to_class(256)]);
    drain();
    assert_int_equal(heap_alloc(), want);
    assert_true(_ga_gc_spans_valid());
    memset(keep, 0, sizeof keep);
    assert_int_equal(ga_gc_remove_roots(keep, keep + 64), 0);
    ga_set_gc_percent(old);
    drain();
    assert_int_equal(heap_alloc(), 0);
}

/* ---- The periodic cycle (Go's 2-minute forced GC, here 20 ms) ---- */

static void test_periodic_cycle(void **state)
{
    (void)state;
    drain();
    static void *slot;
    assert_int_equal(ga_gc_add_roots(&slot, &slot + 1), 0);
    ga_gc_stats g0, g1;
    ga_gc_read_stats(&g0);
    uint64_t old = ga_gc_set_period_ns(20 * 1000000ull);
    /* Far below the 4 MiB trigger: only the timer can start a cycle; refills check it. */
    for (int i = 0; i < 400; i++) {
        for (int j = 0; j < 4; j++) /* one 8 KiB span refill: 400 of them stay under 4 MiB */
            ga_store_ptr(&slot, ga_gc_alloc(2048, GA_GC_NOSCAN));
        ga_gc_read_stats(&g1);
        if (g1.NumGC > g0.NumGC) break;
        usleep(1000);
    }
    ga_gc_set_period_ns(old);
    assert_true(g1.NumGC > g0.NumGC);
    assert_int_equal(g1.NumForcedGC, g0.NumForcedGC);
    slot = NULL;
    assert_int_equal(ga_gc_remove_roots(&slot, &slot + 1), 0);
    drain();
}

/* ---- Threads: pairs (scan holder -> noscan leaf), explicit frees, paced and forced cycles ---- */

#define PSLOTS 128

typedef struct pair_worker {
    void *slots[PSLOTS + 1]; /* the last one is a spare root */
    int id, errors;
    uint64_t seed;
} pair_worker;

static void *pair_main(void *arg)
{
    pair_worker *w = arg;
    for (int i = 0; i < 15000; i++) {
        w->seed = w->seed * 6364136223846793005ull + 1442695040888963407ull;
        unsigned k = (unsigned)(w->seed >> 33) % PSLOTS;
        size_t leaf = (w->seed >> 20) % 64 == 0 ? 40000 : 16 + (size_t)((w->seed >> 40) % 600);
        uint64_t tag = (uint64_t)w->id << 32 | (uint64_t)i;
        uint64_t **old = w->slots[k];
        if (old) { /* verify the pair it held */
            uint64_t t = (uint64_t)old[1];
            unsigned char *b = (unsigned char *)old[0];
            size_t n = (size_t)old[2];
            if ((t >> 32) != (uint64_t)w->id) w->errors++;
            for (size_t j = 0; j < n; j++)
                if (b[j] != (unsigned char)(t + j)) {
                    w->errors++;
                    break;
                }
        }
        /* The contract: each new object is rooted before the next collected allocation. */
        void **a = ga_gc_alloc(3 * sizeof(void *), GA_GC_SCAN);
        ga_store_ptr(&w->slots[PSLOTS], a); /* a spare root until a replaces the old pair */
        unsigned char *b = ga_gc_alloc(leaf, GA_GC_NOSCAN);
        ga_store_ptr(&a[0], b);
        for (size_t j = 0; j < leaf; j++)
            b[j] = (unsigned char)(tag + j);
        a[1] = (void *)tag;
        a[2] = (void *)leaf;
        ga_store_ptr(&w->slots[k], a);
        ga_store_ptr(&w->slots[PSLOTS], NULL);
        if (old && (w->seed >> 10) % 2) { /* nothing else refers to the old pair */
            ga_free(old[0]);
            ga_free(old);
        }
    }
    ga_gc_thread_detach();
    return NULL;
}

static void test_threads_pairs_free(void **state)
{
    (void)state;
    drain();
    static pair_worker w[3];
    memset(w, 0, sizeof w);
    pthread_t th[3];
    for (int i = 0; i < 3; i++) {
        w[i].id = i + 1;
        w[i].seed = (uint64_t)i * 77 + 5;
        assert_int_equal(ga_gc_add_roots(w[i].slots, w[i].slots + PSLOTS + 1), 0);
        assert_int_equal(pthread_create(&th[i], NULL, pair_main, &w[i]), 0);
    }
    ga_gc_blocking_enter();
    for (int i = 0; i < 20; i++) {
        ga_gc();
        usleep(500);
    }
    for (int i = 0; i < 3; i++)
        pthread_join(th[i], NULL);
    ga_gc_blocking_exit();
    drain();
    uint64_t want = 0;
    for (int i = 0; i < 3; i++) {
        assert_int_equal(w[i].errors, 0);
        for (int k = 0; k < PSLOTS; k++) {
            void **a = w[i].slots[k];
            if (!a) continue;
            want += slot_bytes(a) + slot_bytes(a[0]);
        }
    }
    assert_int_equal(heap_alloc(), want);
    assert_true(_ga_gc_spans_valid());
    for (int i = 0; i < 3; i++)
        assert_int_equal(ga_gc_remove_roots(w[i].slots, w[i].slots + PSLOTS + 1), 0);
    drain();
    assert_int_equal(heap_alloc(), 0);
}

/* ---- fork() while other mutators and the background sweeper run ---- */

static void test_fork_with_mutators(void **state)
{
    (void)state;
    drain();
    static pair_worker w[2];
    memset(w, 0, sizeof w);
    pthread_t th[2];
    for (int i = 0; i < 2; i++) {
        w[i].id = i + 1;
        w[i].seed = (uint64_t)i * 31 + 7;
        assert_int_equal(ga_gc_add_roots(w[i].slots, w[i].slots + PSLOTS + 1), 0);
        assert_int_equal(pthread_create(&th[i], NULL, pair_main, &w[i]), 0);
    }
    static void *mine;
    assert_int_equal(ga_gc_add_roots(&mine, &mine + 1), 0);
    ga_store_ptr(&mine, ga_gc_alloc(5000, GA_GC_NOSCAN));
    memset(mine, 0x3c, 5000);
    for (int f = 0; f < 3; f++) {
        usleep(2000);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) { /* only this thread exists here: its cycles must not wait for others */
            for (int i = 0; i < 3; i++) {
                for (int j = 0; j < 20000; j++)
                    ga_gc_alloc(64, GA_GC_SCAN);
                ga_gc();
            }
            const unsigned char *m = mine;
            for (int i = 0; i < 5000; i++)
                if (m[i] != 0x3c) _exit(3);
            _exit(_ga_gc_spans_valid() ? 0 : 4);
        }
        int status;
        ga_gc_blocking_enter();
        waitpid(pid, &status, 0);
        ga_gc_blocking_exit();
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0);
    }
    ga_gc_blocking_enter();
    for (int i = 0; i < 2; i++)
        pthread_join(th[i], NULL);
    ga_gc_blocking_exit();
    for (int i = 0; i < 2; i++) {
        assert_int_equal(w[i].errors, 0);
        assert_int_equal(ga_gc_remove_roots(w[i].slots, w[i].slots + PSLOTS + 1), 0);
    }
    mine = NULL;
    assert_int_equal(ga_gc_remove_roots(&mine, &mine + 1), 0);
    drain();
    assert_int_equal(heap_alloc(), 0);
}

int main(void)
{
    ga_gc_set_period_ns(0);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_heapalloc_exact),
        cmocka_unit_test(test_explicit_free),
        cmocka_unit_test(test_typed_precise),
        cmocka_unit_test(test_reachability_random),
        cmocka_unit_test(test_events_and_memstats),
        cmocka_unit_test(test_gctrace_format),
        cmocka_unit_test(test_threads),
        cmocka_unit_test(test_threads_pairs_free),
        cmocka_unit_test(test_concurrent_mark_relink),
        cmocka_unit_test(test_fork_with_mutators),
        cmocka_unit_test(test_manual_untouched),
        cmocka_unit_test(test_pacer_gogc_steady_stw),
        cmocka_unit_test(test_pacer_gogc_steady),
        cmocka_unit_test(test_pacer_memory_limit_stw),
        cmocka_unit_test(test_pacer_memory_limit),
        cmocka_unit_test(test_limiter_live_above_limit_stw),
        cmocka_unit_test(test_limiter_live_above_limit),
        cmocka_unit_test(test_lazy_background_sweep),
        cmocka_unit_test(test_periodic_cycle),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
