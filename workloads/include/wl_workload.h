/* wl_workload.h - what a workload is, and how it reaches the allocator and the measurement.
 *
 * A workload is a descriptor (name, one-line summary, one-paragraph description, typed
 * parameters with defaults, the capabilities it needs) plus a per-thread run function.
 * It is deterministic for a seed, talks to the allocator only through ab_allocator (via the
 * wl_* wrappers below, which also count live bytes and sample latency), and ends holding
 * zero live bytes.
 *
 * Who owns what:
 *  - workloads/ (wl_): the descriptors, registry, RNG, size distributions, thread helpers.
 *  - harness/runner/: the runner main that creates the wl_run, starts the threads, and
 *    implements the measurement hooks declared at the bottom of this file.
 *
 * Invariants: sum over threads of live_bytes == bytes the workload currently holds
 * (requested sizes), and is 0 when the run ends. ops counts the workload's own unit of
 * work (one churn step, one request, ...), which is what ns_per_op divides by.
 */
#ifndef WL_WORKLOAD_H
#define WL_WORKLOAD_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "ab_allocator.h"

#define WL_MAX_PARAMS 24
#define WL_SETUP_NA 1 /* setup(): the backend lacks what these parameters need */

/* ---- Parameters ---- */

typedef enum wl_param_type {
    WL_P_INT,    /* signed integer, plain decimal */
    WL_P_SIZE,   /* byte count: decimal with optional K/KiB/M/MiB/G/GiB suffix */
    WL_P_DOUBLE, /* real number */
    WL_P_ENUM,   /* one of `choices`, a '|'-separated list */
    WL_P_STR,    /* free text (e.g. a trace file path) */
} wl_param_type;

typedef struct wl_param_def {
    const char *name;
    wl_param_type type;
    const char *def;     /* default, in the same syntax as --param name=value */
    const char *help;    /* one line */
    const char *choices; /* WL_P_ENUM only */
    double min, max;     /* inclusive bounds for INT/SIZE/DOUBLE (min > max: unbounded) */
} wl_param_def;

typedef struct wl_param_value {
    int64_t i;     /* INT, SIZE, ENUM (index into choices) */
    double d;      /* DOUBLE (also set for INT/SIZE) */
    const char *s; /* textual value as given (or the default) */
} wl_param_value;

/* ---- Operation kinds (latency histograms are kept per kind) ---- */

#define WL_OPS(X)                                                                                  \
    X(MALLOC, "malloc")                                                                            \
    X(FREE, "free")                                                                                \
    X(CALLOC, "calloc")                                                                            \
    X(REALLOC, "realloc")                                                                          \
    X(GC_ALLOC, "gc_alloc")                                                                        \
    X(ARENA_ALLOC, "arena_alloc")                                                                  \
    X(REQUEST, "request")

typedef enum wl_op {
#define WL_X(id, str) WL_OP_##id,
    WL_OPS(WL_X)
#undef WL_X
        WL_OP_COUNT
} wl_op;

extern const char *const wl_op_names[WL_OP_COUNT];

typedef struct wl_run wl_run;
typedef struct wl_thread wl_thread;
typedef struct wl_lat wl_lat;         /* per-thread latency sampler, owned by the runner */
typedef struct wl_measure wl_measure; /* per-run measurement context, owned by the runner */

enum wl_flags {
    WL_F_TEST_ONLY = 1u << 0, /* hidden from the default suite and `abench list` (unless --all) */
};

typedef struct wl_workload {
    const char *name;
    const char *summary;     /* one line, for `abench list` */
    const char *description; /* one paragraph: what it does and what it stresses */
    const wl_param_def *params;
    unsigned nparams;
    unsigned needs_caps; /* AB_CAP_* bits; a backend lacking them reports "n/a" */
    unsigned flags;      /* WL_F_* */
    /* Once, on the main thread, after parameters are parsed. Validates parameter combinations
     * and builds shared state in run->state. 0, or -1 with a message naming the parameter, or
     * WL_SETUP_NA when this parameter combination needs something the backend lacks (e.g.
     * variant=gc without AB_CAP_GC): the runner records the cell as "n/a" with the message.
     * setup may rewrite run->p[i].s to say what it resolved (e.g. "auto" -> "bump-fallback");
     * the runner records parameters after setup. */
    int (*setup)(wl_run *run, char *err, size_t errlen);
    /* Per thread, started together after a barrier. */
    void (*thread_main)(wl_thread *t);
    /* Once, after every thread has returned. Must leave live bytes at 0. May be NULL. */
    void (*teardown)(wl_run *run);
} wl_workload;

struct wl_run {
    const wl_workload *w;
    const ab_allocator *a;
    wl_param_value p[WL_MAX_PARAMS]; /* indexed like w->params */
    unsigned nthreads;
    uint64_t seed;
    void *state;        /* the workload's shared state */
    wl_thread *threads; /* nthreads slots; successors of a thread reuse its slot */
    wl_measure *m;      /* NULL when not measuring (unit tests) */
};

struct wl_thread {
    wl_run *run;
    const ab_allocator *a;
    unsigned id;
    uint64_t rng[4];            /* xoshiro256** state, seeded from (run->seed, id) */
    _Atomic int64_t live_bytes; /* written by this slot's thread, read by the sampler */
    _Atomic uint64_t ops;       /* units of work done */
    uint64_t op_hash;           /* hash of the operation sequence when hash_ops is set */
    int hash_ops;               /* determinism tests turn this on */
    uint32_t sample_countdown;  /* operations until the next timed one */
    wl_lat *lat;                /* NULL: never time */
    void *local;                /* the workload's per-thread state */
} __attribute__((aligned(64))); /* one cache line of its own: the slots sit in an array and
                                 * each is written on every operation (rng, live_bytes) */

/* ---- Measurement hooks: implemented by the runner (harness/runner/) ---- */

/* Timed versions of the allocator calls, taken when sample_countdown reaches 0; they time
 * the one call with fenced rdtsc, record it under `op` and draw the next countdown. */
void *wl_timed_malloc(wl_thread *t, size_t size);
void *wl_timed_calloc(wl_thread *t, size_t n, size_t size);
void *wl_timed_realloc(wl_thread *t, void *p, size_t size);
void wl_timed_free(wl_thread *t, void *p);
void *wl_timed_gc_alloc(wl_thread *t, size_t size, unsigned flags);
/* Records an externally timed span (e.g. one request) under `op`, in ticks from wl_ticks(). */
void wl_lat_record(wl_thread *t, wl_op op, uint64_t start_ticks, uint64_t end_ticks);
uint64_t wl_ticks(void); /* fenced rdtsc */
/* Whether t should time the next coarse operation (requests): consumes one countdown. */
int wl_lat_should_sample(wl_thread *t);
/* Puts a named event on the run's timeline (phase changes: "spike", "steady", ...). */
void wl_event(wl_run *run, const char *name);
/* After mass frees: waits the settle delay and records resident memory under `name`. */
void wl_settle(wl_run *run, const char *name);
/* Reports a figure of the workload's own, written as a top-level number `name` of the cell's
 * result.json (name: [a-z0-9_], at most 39 characters, not a field the runner writes itself).
 * Values reported under one name are summed (several threads may each report their share).
 * Up to 16 names per run; a 17th, a bad name or a value that is not finite is left out with a
 * warning on stderr. One name has a meaning to the runner: `ns_per_op`, when reported, is the
 * cell's ns_per_op in place of wall time x threads / ops (which is then written as
 * `wall_ns_per_op`). No-op when the run is not measured (run->m NULL); safe from any thread,
 * and from teardown. */
void wl_metric(wl_run *run, const char *name, double value);

/* ---- Allocation wrappers: every workload allocates through these ---- */

static inline void wl_hash_op(wl_thread *t, uint64_t op, uint64_t v)
{
    if (t->hash_ops) t->op_hash = (t->op_hash ^ (op << 56 ^ v)) * 0x100000001b3ull;
}

static inline void wl_live_add(wl_thread *t, int64_t n)
{
    atomic_store_explicit(&t->live_bytes,
                          atomic_load_explicit(&t->live_bytes, memory_order_relaxed) + n,
                          memory_order_relaxed);
}

static inline void wl_count_ops(wl_thread *t, uint64_t n)
{
    atomic_store_explicit(&t->ops, atomic_load_explicit(&t->ops, memory_order_relaxed) + n,
                          memory_order_relaxed);
}

#define WL_SAMPLE_NOW(t) (__builtin_expect(--(t)->sample_countdown == 0, 0))

static inline void *wl_malloc(wl_thread *t, size_t size)
{
    void *p = WL_SAMPLE_NOW(t) ? wl_timed_malloc(t, size) : t->a->malloc(size);
    if (p) wl_live_add(t, (int64_t)size);
    wl_hash_op(t, 1, size);
    return p;
}

static inline void *wl_calloc(wl_thread *t, size_t n, size_t size)
{
    void *p = WL_SAMPLE_NOW(t) ? wl_timed_calloc(t, n, size) : t->a->calloc(n, size);
    if (p) wl_live_add(t, (int64_t)(n * size));
    wl_hash_op(t, 2, n * size);
    return p;
}

static inline void *wl_realloc(wl_thread *t, void *p, size_t old_size, size_t size)
{
    void *q = WL_SAMPLE_NOW(t) ? wl_timed_realloc(t, p, size) : t->a->realloc(p, size);
    if (q || size == 0) wl_live_add(t, (int64_t)size - (int64_t)old_size);
    wl_hash_op(t, 3, size);
    return q;
}

/* `size` is what was requested for p: the live-byte account needs it. */
static inline void wl_free(wl_thread *t, void *p, size_t size)
{
    if (!p) return;
    if (WL_SAMPLE_NOW(t))
        wl_timed_free(t, p);
    else
        t->a->free(p);
    wl_live_add(t, -(int64_t)size);
    wl_hash_op(t, 4, size);
}

/* GC allocation: the object counts as live until the workload drops its last reference and
 * says so with wl_gc_drop(). */
static inline void *wl_gc_alloc(wl_thread *t, size_t size, unsigned flags)
{
    void *p = WL_SAMPLE_NOW(t) ? wl_timed_gc_alloc(t, size, flags) : t->a->gc_alloc(size, flags);
    if (p) wl_live_add(t, (int64_t)size);
    wl_hash_op(t, 5, size);
    return p;
}

static inline void wl_gc_drop(wl_thread *t, size_t size)
{
    wl_live_add(t, -(int64_t)size);
}

/* ---- RNG: xoshiro256**, seeded by splitmix64 ---- */

static inline uint64_t wl_splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static inline void wl_rng_seed(uint64_t s[4], uint64_t seed, uint64_t stream)
{
    uint64_t x = seed ^ (stream * 0xd1342543de82ef95ull);
    for (int i = 0; i < 4; i++)
        s[i] = wl_splitmix64(&x);
}

static inline uint64_t wl_rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

static inline uint64_t wl_rand(uint64_t s[4])
{
    uint64_t r = wl_rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = wl_rotl(s[3], 45);
    return r;
}

/* Uniform in [0, n), n > 0 (Lemire's multiply-shift; bias below 2^-32 for n < 2^32). */
static inline uint64_t wl_rand_below(uint64_t s[4], uint64_t n)
{
    __extension__ typedef unsigned __int128 u128;
    return (uint64_t)(((u128)wl_rand(s) * n) >> 64);
}

/* Uniform double in [0, 1). */
static inline double wl_rand_unit(uint64_t s[4])
{
    return (double)(wl_rand(s) >> 11) * 0x1.0p-53;
}

/* ---- Registry (workloads/registry.c) ---- */

const wl_workload *wl_find(const char *name);
/* All workloads, NULL-terminated, in listing order (test-only ones last). */
const wl_workload *const *wl_all(void);

#endif /* WL_WORKLOAD_H */
