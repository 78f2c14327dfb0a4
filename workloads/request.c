/* request.c - workload `request`: request-scoped memory, arenas vs malloc/free vs GC.
 *
 * Each request decodes a message shaped like a protobuf/JSON payload: a tree of nested
 * messages (`children` per message, `depth` levels) whose `fields` are strings and repeated
 * integer fields; it then reads the whole tree (a checksum) and drops it at request end.
 * Messages hold pointers (scan); strings and repeated fields are pointer-free (noscan).
 *
 * Variants (parameter `variant`):
 *  - malloc: every object malloc'd and freed one by one at request end;
 *  - arena:  one arena per request, freed all at once. `arena_impl=auto` uses the backend's
 *            own arenas where it has AB_CAP_ARENAS (goalloc) and otherwise the bump-region
 *            fallback of wl_bump.h (the same code for every backend); the row records which
 *            ("native" or "bump-fallback");
 *  - gc:     collected allocation, pointer stores through gc_store_ptr, the tree reachable
 *            from one registered root slot per thread until the request ends ("n/a" without
 *            AB_CAP_GC).
 * One op = one request; every request's latency is recorded under "request" (one fenced
 * rdtsc pair per request, ~25 ns against requests of microseconds).
 */
#include <stdio.h>
#include <string.h>

#include "wl_bump.h"
#include "wl_workload.h"

enum { P_VARIANT, P_IMPL, P_REQUESTS, P_DEPTH, P_CHILDREN, P_FIELDS, P_STRMAX, P_REPMAX, P_N };
enum { V_MALLOC, V_ARENA, V_GC };
enum { IMPL_AUTO, IMPL_NATIVE, IMPL_BUMP };

static const wl_param_def request_params[P_N] = {
    [P_VARIANT] = {"variant", WL_P_ENUM, "malloc", "how request memory is managed",
                   "malloc|arena|gc", 0, -1},
    [P_IMPL] = {"arena_impl", WL_P_ENUM, "auto", "arena variant: backend arenas or bump fallback",
                "auto|native|bump-fallback", 0, -1},
    [P_REQUESTS] = {"requests", WL_P_INT, "20000", "requests per thread", NULL, 1, 1e9},
    [P_DEPTH] = {"depth", WL_P_INT, "4", "levels of nested messages below the root", NULL, 0, 8},
    [P_CHILDREN] = {"children", WL_P_INT, "2", "nested messages per message", NULL, 0, 8},
    [P_FIELDS] = {"fields", WL_P_INT, "6", "string/repeated fields per message", NULL, 0, 64},
    [P_STRMAX] = {"strmax", WL_P_SIZE, "48", "longest string field (bytes)", NULL, 1, 65536},
    [P_REPMAX] = {"repmax", WL_P_INT, "8", "most elements in a repeated field", NULL, 1, 4096},
};

/* A message: nfield pointer-free blobs, then nchild nested messages. */
typedef struct msg {
    uint32_t nfield, nchild;
    void *slot[];
} msg;

/* A string or repeated field: its size in bytes (header included) comes first. */
typedef struct blob {
    uint32_t size;
    uint32_t kind; /* 0 string, 1 repeated int64 */
    unsigned char data[];
} blob;

typedef struct req_state {
    int variant, impl;
    void **roots; /* gc: one root slot per thread, registered with the backend */
} req_state;

/* Per-request allocation context. */
typedef struct req_ctx {
    wl_thread *t;
    int variant, impl;
    ab_arena *arena;
    wl_bump bump;
    int64_t bytes; /* requested bytes this request holds */
} req_ctx;

static void *req_alloc(req_ctx *c, size_t size, int scan)
{
    void *p;
    switch (c->variant) {
    case V_MALLOC:
        return wl_malloc(c->t, size);
    case V_GC:
        p = wl_gc_alloc(c->t, size, scan ? AB_GC_SCAN : AB_GC_NOSCAN);
        break;
    default:
        if (c->impl == IMPL_NATIVE)
            p = c->t->a->arena_alloc(c->arena, size, 8, scan);
        else
            p = wl_bump_alloc(&c->bump, size, 8);
        if (p && c->impl == IMPL_NATIVE) wl_live_add(c->t, (int64_t)size);
        break;
    }
    if (p) c->bytes += (int64_t)size;
    return p;
}

static void req_store(req_ctx *c, void **slot, void *v)
{
    if (c->variant == V_GC)
        c->t->a->gc_store_ptr(slot, v);
    else
        *slot = v;
}

static blob *decode_field(req_ctx *c, const wl_run *run)
{
    wl_thread *t = c->t;
    int repeated = wl_rand(t->rng) & 1;
    size_t n = repeated ? (1 + wl_rand_below(t->rng, (uint64_t)run->p[P_REPMAX].i)) * 8
                        : 1 + wl_rand_below(t->rng, (uint64_t)run->p[P_STRMAX].i);
    size_t size = sizeof(blob) + n;
    blob *b = req_alloc(c, size, 0);
    if (!b) return NULL;
    b->size = (uint32_t)size;
    b->kind = (uint32_t)repeated;
    memset(b->data, repeated ? 0x11 : 'a' + (int)(n % 26), n);
    return b;
}

/* Decodes one message into *dest. The message is stored into *dest before anything below it
 * is allocated, so with a collector the partial tree is always reachable from the root. */
static void decode_msg(req_ctx *c, const wl_run *run, int depth, void **dest)
{
    uint32_t nf = (uint32_t)run->p[P_FIELDS].i;
    uint32_t nc = depth > 0 ? (uint32_t)run->p[P_CHILDREN].i : 0;
    msg *m = req_alloc(c, sizeof(msg) + (nf + nc) * sizeof(void *), 1);
    if (!m) return;
    m->nfield = nf;
    m->nchild = nc;
    memset(m->slot, 0, (nf + nc) * sizeof(void *));
    req_store(c, dest, m);
    for (uint32_t i = 0; i < nf; i++)
        req_store(c, &m->slot[i], decode_field(c, run));
    for (uint32_t i = 0; i < nc; i++)
        decode_msg(c, run, depth - 1, &m->slot[nf + i]);
}

static uint64_t read_msg(const msg *m)
{
    if (!m) return 0;
    uint64_t h = m->nfield * 31u + m->nchild;
    for (uint32_t i = 0; i < m->nfield; i++) {
        const blob *b = m->slot[i];
        if (!b) continue;
        h = h * 1099511628211u + b->size;
        h += b->data[0] + b->data[b->size - sizeof(blob) - 1];
    }
    for (uint32_t i = 0; i < m->nchild; i++)
        h += read_msg(m->slot[m->nfield + i]);
    return h;
}

static void free_msg(wl_thread *t, msg *m)
{
    if (!m) return;
    for (uint32_t i = 0; i < m->nchild; i++)
        free_msg(t, m->slot[m->nfield + i]);
    for (uint32_t i = 0; i < m->nfield; i++) {
        blob *b = m->slot[i];
        if (b) wl_free(t, b, b->size);
    }
    wl_free(t, m, sizeof(msg) + (m->nfield + m->nchild) * sizeof(void *));
}

static int request_setup(wl_run *run, char *err, size_t errlen)
{
    static const char *const impl_names[] = {"auto", "native", "bump-fallback"};
    int variant = (int)run->p[P_VARIANT].i, impl = (int)run->p[P_IMPL].i;
    int has_arenas = (run->a->caps & AB_CAP_ARENAS) != 0;
    if (variant == V_GC && !(run->a->caps & AB_CAP_GC)) {
        snprintf(err, errlen, "variant=gc needs a garbage-collecting backend");
        return WL_SETUP_NA;
    }
    if (variant == V_ARENA) {
        if (impl == IMPL_AUTO) impl = has_arenas ? IMPL_NATIVE : IMPL_BUMP;
        if (impl == IMPL_NATIVE && !has_arenas) {
            snprintf(err, errlen, "arena_impl=native needs a backend with arenas");
            return WL_SETUP_NA;
        }
        run->p[P_IMPL].i = impl;
        run->p[P_IMPL].s = impl_names[impl];
    }
    req_state *st = run->a->calloc(1, sizeof *st);
    if (!st) return snprintf(err, errlen, "request: out of memory"), -1;
    st->variant = variant;
    st->impl = impl;
    run->state = st;
    if (variant == V_GC) {
        st->roots = run->a->calloc(run->nthreads, sizeof(void *));
        if (!st->roots || run->a->gc_add_roots(st->roots, st->roots + run->nthreads) != 0)
            return snprintf(err, errlen, "request: cannot register GC roots"), -1;
    }
    return 0;
}

static void request_thread(wl_thread *t)
{
    const wl_run *run = t->run;
    req_state *st = run->state;
    int64_t n = run->p[P_REQUESTS].i;
    int depth = (int)run->p[P_DEPTH].i;
    volatile uint64_t sink = 0;
    req_ctx c = {.t = t, .variant = st->variant, .impl = st->impl};
    if (c.variant == V_ARENA && c.impl == IMPL_BUMP) wl_bump_init(&c.bump, t);
    for (int64_t r = 0; r < n; r++) {
        uint64_t t0 = wl_ticks();
        c.bytes = 0;
        if (c.variant == V_ARENA && c.impl == IMPL_NATIVE) c.arena = t->a->arena_new();
        msg *root = NULL;
        decode_msg(&c, run, depth, c.variant == V_GC ? &st->roots[t->id] : (void **)&root);
        if (c.variant == V_GC) root = st->roots[t->id];
        sink += read_msg(root);
        switch (c.variant) {
        case V_MALLOC:
            free_msg(t, root);
            break;
        case V_GC:
            t->a->gc_store_ptr(&st->roots[t->id], NULL);
            wl_gc_drop(t, (size_t)c.bytes);
            break;
        default:
            if (c.impl == IMPL_NATIVE) {
                t->a->arena_free(c.arena);
                wl_live_add(t, -c.bytes);
            } else {
                wl_bump_free_all(&c.bump);
            }
        }
        wl_lat_record(t, WL_OP_REQUEST, t0, wl_ticks());
        wl_count_ops(t, 1);
        wl_hash_op(t, 6, sink);
    }
}

static void request_teardown(wl_run *run)
{
    req_state *st = run->state;
    if (!st) return;
    if (st->roots) {
        run->a->gc_remove_roots(st->roots, st->roots + run->nthreads);
        run->a->free(st->roots);
    }
    run->a->free(st);
    run->state = NULL;
}

const wl_workload wl_request = {
    .name = "request",
    .summary = "request-scoped message trees: arena vs malloc/free vs GC",
    .description =
        "Each request decodes a message tree shaped like a protobuf payload (nested messages, "
        "strings, repeated fields; depth x children x fields set the shape), reads it, and "
        "drops it at request end: one by one with free (variant=malloc), all at once with an "
        "arena (variant=arena: the backend's own arenas, or the same bump-region fallback on "
        "malloc for backends without them, recorded in arena_impl), or by dropping the root "
        "for the garbage collector (variant=gc). Reports requests per second and per-request "
        "latency.",
    .params = request_params,
    .nparams = P_N,
    .setup = request_setup,
    .thread_main = request_thread,
    .teardown = request_teardown,
};
