/* fuzz_gc.c - goalloc's garbage collector (gc.c, gcmark.c, gcsweep.c) against a graph model:
 * random allocations (untyped scan, typed, noscan, tiny, large), pointer stores (interior
 * pointers too), root changes, explicit frees of objects nothing refers to, content writes
 * and forced collections, also ones a second thread runs while this one mutates the graph
 * (a concurrent mark then runs under the stores: the write barrier's case). Every new object
 * is aligned as goalloc_gc.h promises. After every collection each object the model reaches
 * from a root is still owned by goalloc and holds exactly what was written; at the end of an
 * input, with every root cleared, one collection leaves HeapAlloc at 0 and the span lists
 * valid. As the contract demands, operations touch only objects the model reaches from a
 * root (a cycle may free any other at any time), and an explicit free unlinks its object
 * from its only root first.
 *
 * Input: a byte stream of operations (fz.h decoding; short inputs read zeros). Each input
 * starts from an empty collected heap (the previous input's objects are garbage by then).
 */
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "fz.h"
#include "ga_internal.h"
#include "goalloc_gc.h"

#define NROOTS 16
#define MAXOBJ 256
#define NPTR 2 /* pointer fields: words 1..NPTR of scan objects */

enum kind { K_SCAN, K_TYPED, K_NOSCAN, K_TINY, K_LARGE, K_NKINDS };

typedef struct obj {
    unsigned char *p;
    size_t size;
    enum kind kind;
    int ptr[NPTR];
    size_t off[NPTR];
    uint8_t seed; /* contents: pattern(seed, i) after the header */
    int indeg, alive, mark;
} obj;

static obj objs[MAXOBJ];
static int nobjs;
static void *roots[NROOTS];
static int rootobj[NROOTS];
static bool registered;
static bool reach_stale = true; /* the graph changed since objs[].mark was computed */
static pthread_t bg_thread;     /* a ga_gc() running beside the mutations */
static bool bg_running;

/* word 0 data, words 1..2 pointers, the rest data */
static const uint8_t typed_mask[] = {0x06};
static const ga_gc_type typed = {.size = 48, .ptrmask = typed_mask, .name = "fz_node"};

static bool scans(const obj *o)
{
    return o->kind == K_SCAN || o->kind == K_TYPED || o->kind == K_LARGE;
}

static size_t data_from(const obj *o)
{
    return scans(o) ? (1 + NPTR) * 8 : 0;
}

static unsigned char pattern(uint8_t seed, size_t i)
{
    return (unsigned char)(seed * 29u + i * 13u + 3u);
}

static void write_data(int id, uint8_t seed)
{
    obj *o = &objs[id];
    o->seed = seed;
    if (scans(o)) ((uint64_t *)o->p)[0] = (uint64_t)id * 2 + 1;
    for (size_t i = data_from(o); i < o->size; i++)
        o->p[i] = pattern(seed, i);
}

static void check_obj(int id)
{
    obj *o = &objs[id];
    FZ_CHECK(ga_owns(o->p), "gc: reachable object %d (kind %d, %zu B) at %p was freed", id, o->kind,
             o->size, (void *)o->p);
    if (scans(o))
        FZ_CHECK(((uint64_t *)o->p)[0] == (uint64_t)id * 2 + 1, "gc: object %d header changed", id);
    for (size_t i = data_from(o); i < o->size; i++)
        FZ_CHECK(o->p[i] == pattern(o->seed, i), "gc: object %d (kind %d) byte %zu changed", id,
                 o->kind, i);
    if (!scans(o)) return;
    for (int k = 0; k < NPTR; k++) {
        void *want = o->ptr[k] < 0 ? NULL : objs[o->ptr[k]].p + o->off[k];
        FZ_CHECK(((void **)o->p)[1 + k] == want, "gc: object %d pointer %d changed", id, k);
    }
}

static void mark_from(int id);

static void mark_reachable(void)
{
    for (int i = 0; i < nobjs; i++)
        objs[i].mark = 0;
    for (int r = 0; r < NROOTS; r++)
        if (rootobj[r] >= 0) mark_from(rootobj[r]);
    reach_stale = false;
}

/* An object the model reaches from a root, or -1. */
static int pick_alive(fz_input *in)
{
    if (nobjs == 0) return -1;
    int id = (int)fz_below(in, (size_t)nobjs);
    if (reach_stale) mark_reachable();
    return objs[id].alive && objs[id].mark ? id : -1;
}

static void new_obj(fz_input *in)
{
    if (nobjs == MAXOBJ) return;
    obj *o = &objs[nobjs];
    memset(o, 0, sizeof *o);
    o->ptr[0] = o->ptr[1] = -1;
    o->kind = (enum kind)fz_below(in, K_NKINDS);
    size_t count = 1;
    switch (o->kind) {
    case K_SCAN:
        o->size = (1 + NPTR) * 8 + fz_below(in, 4000);
        break;
    case K_TYPED:
        count = 1 + fz_below(in, 4);
        o->size = typed.size * count;
        break;
    case K_NOSCAN:
        o->size = 16 + fz_below(in, 4000);
        break;
    case K_TINY:
        o->size = 1 + fz_below(in, 15);
        break;
    default:
        o->size = 32761 + fz_below(in, 100000);
        break;
    }
    if (o->kind == K_TYPED)
        o->p = ga_gc_alloc_typed(&typed, count);
    else
        o->p = ga_gc_alloc(o->size,
                           o->kind == K_NOSCAN || o->kind == K_TINY ? GA_GC_NOSCAN : GA_GC_SCAN);
    FZ_CHECK(o->p != NULL, "gc: allocation of %zu B (kind %d) failed", o->size, o->kind);
    size_t align = o->size >= 16 ? 16 : 8; /* goalloc_gc.h */
    FZ_CHECK(((uintptr_t)o->p & (align - 1)) == 0,
             "gc: object of %zu B (kind %d) at %p not %zu-aligned", o->size, o->kind, (void *)o->p,
             align);
    for (size_t i = 0; i < o->size; i++)
        FZ_CHECK(o->p[i] == 0, "gc: new object (kind %d, %zu B) byte %zu not zero", o->kind,
                 o->size, i);
    int id = nobjs++;
    o->alive = 1;
    write_data(id, fz_u8(in));
    /* Rooted before the next collected allocation (the contract). */
    int r = (int)fz_below(in, NROOTS);
    if (rootobj[r] >= 0) objs[rootobj[r]].indeg--;
    rootobj[r] = id;
    o->indeg++;
    ga_store_ptr(&roots[r], o->p);
    reach_stale = true;
}

static void set_ptr(int from, int k, int to, size_t off)
{
    obj *o = &objs[from];
    if (o->ptr[k] >= 0) objs[o->ptr[k]].indeg--;
    o->ptr[k] = to;
    o->off[k] = to >= 0 ? off % objs[to].size : 0;
    if (to >= 0) objs[to].indeg++;
    ga_store_ptr(&((void **)o->p)[1 + k], to < 0 ? NULL : objs[to].p + o->off[k]);
    reach_stale = true;
}

static void set_root(int r, int to)
{
    if (rootobj[r] >= 0) objs[rootobj[r]].indeg--;
    rootobj[r] = to;
    if (to >= 0) objs[to].indeg++;
    ga_store_ptr(&roots[r], to < 0 ? NULL : objs[to].p);
    reach_stale = true;
}

static void mark_from(int id)
{
    static int stack[MAXOBJ * (NPTR + 1) + 1];
    int n = 0;
    stack[n++] = id;
    while (n) {
        int x = stack[--n];
        if (x < 0 || objs[x].mark) continue;
        objs[x].mark = 1;
        if (scans(&objs[x]))
            for (int k = 0; k < NPTR; k++)
                stack[n++] = objs[x].ptr[k];
    }
}

/* A collection, then the model's check; objects the model cannot reach leave it. */
static void collect_and_check(void)
{
    ga_gc();
    mark_reachable();
    for (int i = 0; i < nobjs; i++)
        if (objs[i].alive && objs[i].mark) check_obj(i);
    for (int i = 0; i < nobjs; i++) {
        if (!objs[i].alive || objs[i].mark) continue;
        objs[i].alive = 0;
        for (int k = 0; k < NPTR; k++)
            if (scans(&objs[i]) && objs[i].ptr[k] >= 0) objs[objs[i].ptr[k]].indeg--;
    }
}

/* The object of root r, when nothing else refers to it: unlinked, then freed while only
 * this thread's local holds it (during a concurrent mark goalloc ignores the free). */
static void explicit_free(int r)
{
    int id = rootobj[r];
    if (id < 0 || objs[id].indeg != 1) return; /* nothing else may refer to it */
    set_root(r, -1);
    if (scans(&objs[id]))
        for (int k = 0; k < NPTR; k++)
            set_ptr(id, k, -1, 0);
    ga_free(objs[id].p);
    objs[id].alive = 0;
}

static void *bg_main(void *arg)
{
    (void)arg;
    ga_gc(); /* not a mutator: it never stops this fuzzer's thread but at a safepoint */
    return NULL;
}

/* Starts a collection on a second thread, or waits for the running one and checks. */
static void background_collect(void)
{
    if (!bg_running) {
        bg_running = pthread_create(&bg_thread, NULL, bg_main, NULL) == 0;
        return;
    }
    ga_gc_blocking_enter(); /* the collection waits for this mutator otherwise */
    pthread_join(bg_thread, NULL);
    ga_gc_blocking_exit();
    bg_running = false;
    collect_and_check();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_input in = fz_input_make(data, size);
    if (!registered) {
        ga_gc_set_period_ns(0);
        FZ_CHECK(ga_gc_add_roots(roots, roots + NROOTS) == 0, "gc: cannot register the roots");
        registered = true;
    }
    memset(roots, 0, sizeof roots);
    for (int r = 0; r < NROOTS; r++)
        rootobj[r] = -1;
    nobjs = 0;
    ga_gc(); /* the previous input's objects are garbage */
    for (int steps = 0; fz_more(&in) && steps < 2000; steps++) {
        switch (fz_u8(&in) % 9) {
        case 0:
        case 1:
            new_obj(&in);
            break;
        case 2: {
            int from = pick_alive(&in), to = pick_alive(&in);
            int k = (int)fz_below(&in, NPTR);
            size_t off = fz_u16(&in);
            if (from >= 0 && scans(&objs[from])) set_ptr(from, k, fz_u8(&in) % 4 ? to : -1, off);
            break;
        }
        case 3:
            set_root((int)fz_below(&in, NROOTS), pick_alive(&in));
            break;
        case 4:
            explicit_free((int)fz_below(&in, NROOTS));
            break;
        case 5: {
            int id = pick_alive(&in);
            if (id >= 0) write_data(id, fz_u8(&in));
            break;
        }
        case 6:
            collect_and_check();
            break;
        case 7:
            background_collect();
            break;
        default:
            set_root((int)fz_below(&in, NROOTS), -1);
            break;
        }
    }
    if (bg_running) background_collect();
    collect_and_check();
    for (int r = 0; r < NROOTS; r++)
        set_root(r, -1);
    collect_and_check();
    ga_memstats ms;
    ga_read_memstats(&ms);
    FZ_CHECK(ms.HeapAlloc == 0, "gc: %llu bytes still allocated with no root set",
             (unsigned long long)ms.HeapAlloc);
    FZ_CHECK(_ga_gc_spans_valid(), "gc: the collected span lists are broken");
    return 0;
}
