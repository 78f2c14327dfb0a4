/* ab_allocator.h - the pluggable allocator interface: the contract of every backend.
 *
 * One `ab_allocator` struct per backend (sys, jemalloc, mimalloc, tcmalloc, boehm,
 * goalloc, plus the test-only `null` and `broken` backends). Workloads, the conformance
 * suite and the fuzzers talk to an allocator only through this struct.
 *
 * Naming: each adapter `allocators/ab_<name>.c` defines exactly one public object,
 * `const ab_allocator ab_alloc_<name>`, and nothing else with external linkage.
 * A runner executable links exactly one adapter (see DESIGN.md, process model).
 *
 * General rules for every member:
 *  - Thread-safety: every member may be called from any thread at any time unless its
 *    comment says otherwise (the arena members are the exception: one arena is used by
 *    one thread at a time).
 *  - Failure: members never abort on resource exhaustion or bad arguments. Allocation
 *    members return NULL and set errno (ENOMEM for sizes the allocator cannot provide,
 *    EINVAL for invalid alignments). Passing a pointer the backend did not hand out is
 *    undefined behaviour, as for the C library (a debug build may diagnose it).
 *  - Optional members are NULL when a backend lacks them; callers check the pointer or
 *    the capability bit first, and report "n/a" rather than imitate the feature.
 */
#ifndef AB_ALLOCATOR_H
#define AB_ALLOCATOR_H

#include <stddef.h>
#include <stdint.h>

#include "ab_stats.h"

#ifdef __cplusplus
extern "C" {
#endif

#define AB_ALLOCATOR_ABI 1

/* Capability bits (ab_allocator.caps). A workload declares the bits it needs; a backend
 * without them reports the cell as "n/a". */
enum ab_cap {
    AB_CAP_GC = 1u << 0, /* gc_* members: collected allocation, roots, barrier, events */
    AB_CAP_MEMLIMIT =
        1u << 1,             /* set_memory_limit: a soft limit the allocator works to stay under */
    AB_CAP_ARENAS = 1u << 2, /* arena_* members: real user arenas (not a fallback) */
    AB_CAP_GCPERCENT = 1u << 3, /* set_gc_percent: GOGC-style pacing knob */
};

/* collect() levels. */
enum ab_collect {
    AB_COLLECT_PURGE = 1, /* return free memory to the OS now (malloc_trim, purge, FreeOSMemory) */
    AB_COLLECT_FULL = 2,  /* GC backends: a full collection first, then purge */
};

/* gc_alloc() flags. */
enum ab_gc_flags {
    AB_GC_SCAN = 0,         /* the object may hold pointers: scanned conservatively word by word */
    AB_GC_NOSCAN = 1u << 0, /* pointer-free: never scanned (Go's noscan span classes) */
};

/* A type descriptor for precise scanning: word i of an object may hold a heap pointer iff
 * bit i of ptrmask is set (bit i = ptrmask[i / 8] >> (i % 8) & 1). `size` is the object size
 * in bytes; `nwords = size / sizeof(void *)` words are described. Descriptors must outlive
 * every object allocated with them. */
typedef struct ab_gc_type {
    size_t size;
    const uint8_t *ptrmask;
    const char *name; /* for diagnostics only; may be NULL */
} ab_gc_type;

/* One GC event. Cycle start and end are separate events; `pause_ns` is the stop-the-world
 * time of the event that ends a pause (0 when not applicable). Byte figures are the heap
 * as the collector counts it (Go's HeapAlloc / heapLive), -1 where the backend cannot tell. */
typedef enum ab_gc_event_kind {
    AB_GC_EV_CYCLE_START = 1,
    AB_GC_EV_CYCLE_END = 2,
} ab_gc_event_kind;

typedef struct ab_gc_event {
    ab_gc_event_kind kind;
    uint64_t cycle;      /* 1-based cycle number */
    uint64_t t_ns;       /* CLOCK_MONOTONIC time of the event */
    uint64_t pause_ns;   /* stop-the-world time of this cycle (END events) */
    int64_t heap_before; /* bytes live + unswept at cycle start */
    int64_t heap_after;  /* bytes allocated after the cycle (END) */
    int64_t heap_marked; /* bytes marked reachable (END) */
    int64_t heap_goal;   /* the next goal the pacer set (END) or the goal in force (START) */
    int64_t mem_limit;   /* soft memory limit in force, -1 if none */
    int forced;          /* 1 when started by gc_collect()/collect(), 0 when paced */
} ab_gc_event;

/* Called from the thread running the collector, possibly while the world is stopped: it
 * must not allocate through the backend and must return quickly (copy and go). */
typedef void (*ab_gc_event_fn)(const ab_gc_event *ev, void *ctx);

typedef struct ab_arena ab_arena; /* opaque, backend-defined */

typedef struct ab_allocator {
    const char *name; /* short backend name: "sys", "jemalloc", ... (matches ab_alloc_<name>) */
    unsigned caps;    /* AB_CAP_* bits */

    /* Library version as the library reports it at run time, e.g. "jemalloc 5.3.0-0-g54eaed1d".
     * Required. Thread-safe. Never NULL. */
    const char *(*version)(void);

    /* Optional. Called once by the runner before any other member, on the main thread.
     * Returns 0 on success, -1 with a message in `err` (NUL-terminated, at most errlen). */
    int (*init)(char *err, size_t errlen);

    /* Required. Proves that this process's allocator is what the backend claims: for
     * backends that replace malloc (jemalloc, mimalloc, tcmalloc, goalloc preload) that the
     * process `malloc` symbol really lands in that library; for backends that do not
     * (sys: glibc; boehm: glibc plus GC_* calls) that `malloc` is glibc's. Returns 0 when
     * proven, -1 with the reason in `err`. The runner refuses to run on -1: a silent
     * fallback to glibc is the best-known benchmarking failure. */
    int (*check_process_malloc)(char *err, size_t errlen);

    /* Required. malloc(0) returns a unique pointer that free() accepts (never NULL unless out
     * of memory). Sizes above PTRDIFF_MAX return NULL with errno = ENOMEM. The result is
     * aligned to 16 bytes when size >= 16, and to the largest power of two <= size (at least
     * 8) otherwise. */
    void *(*malloc)(size_t size);

    /* Required. Zeroed memory. n * size overflowing size_t returns NULL with ENOMEM. */
    void *(*calloc)(size_t n, size_t size);

    /* Required. realloc(NULL, n) == malloc(n). realloc(p, 0) frees p and returns either NULL
     * or a pointer as malloc(0) does (both allowed; callers must accept either). On failure
     * returns NULL with ENOMEM and leaves p untouched. The prefix min(old, new) is kept. */
    void *(*realloc)(void *p, size_t size);

    /* Required. free(NULL) does nothing. A block may be freed from any thread. */
    void (*free)(void *p);

    /* Required. `alignment` must be a power of two (any, 1 included); anything else returns NULL
     * with EINVAL. `size` need not be a multiple of `alignment`. Freed with free(). */
    void *(*aligned_alloc)(size_t alignment, size_t size);

    /* Required. Bytes usable at p, >= the size requested. p must be a live block. */
    size_t (*usable_size)(const void *p);

    /* Optional. Called on a thread before it first allocates and after it last does, by
     * threads the workloads create. Backends with per-thread caches may flush them here.
     * Both may be NULL. Must tolerate threads that never call them. */
    void (*thread_init)(void);
    void (*thread_exit)(void);

    /* Optional. After init: NULL, or one line naming a malformed setting the backend found in
     * its environment and ignored (keeping its default, as a library must). The runner reports
     * it in --info and `abench run` refuses to start: a run under a setting the allocator did
     * not take would be mislabelled. */
    const char *(*config_error)(void);

    /* Required. Fills *out (ab_stats.h). Fields the backend cannot measure are left out of
     * out->valid (reported "n/a"). May be called from any thread while others allocate;
     * figures are then approximate but each is internally consistent. Returns 0 or -1. */
    int (*stats)(ab_stats *out);

    /* Required. AB_COLLECT_PURGE or AB_COLLECT_FULL (FULL on a non-GC backend = PURGE). */
    void (*collect)(int level);

    /* ---- AB_CAP_GC (all NULL without the bit) ---- */

    /* Collected allocation. Returns zeroed memory, reclaimed when unreachable from the
     * registered roots (and, for Boehm, thread stacks and static data). flags: AB_GC_*.
     * Objects may also be freed explicitly with free(); a collected object is never freed
     * twice. Aligned as malloc's result for the same size. NULL + ENOMEM on failure. */
    void *(*gc_alloc)(size_t size, unsigned flags);
    /* Precisely scanned allocation of `count` consecutive objects of type *t. Optional even
     * with AB_CAP_GC (NULL: callers fall back to gc_alloc(size, AB_GC_SCAN)). */
    void *(*gc_alloc_typed)(const ab_gc_type *t, size_t count);
    /* Register / unregister [lo, hi) as a root range: every aligned word in it is a
     * potential pointer. Ranges may not overlap. 0 on success, -1 on error. */
    int (*gc_add_roots)(void *lo, void *hi);
    int (*gc_remove_roots)(void *lo, void *hi);
    /* Every store of a heap pointer into a heap object or a root goes through here in GC
     * workloads (the write barrier hook: today a plain store for stop-the-world marking). */
    void (*gc_store_ptr)(void **slot, void *value);
    /* Runs a full, blocking collection cycle. */
    void (*gc_collect)(void);
    /* Installs (fn != NULL) or removes the event hook. One hook per process. */
    void (*gc_set_event_hook)(ab_gc_event_fn fn, void *ctx);

    /* ---- AB_CAP_MEMLIMIT / AB_CAP_GCPERCENT ---- */

    /* Soft memory limit in bytes (INT64_MAX = none); returns the previous limit; a negative
     * argument only queries. */
    int64_t (*set_memory_limit)(int64_t bytes);
    /* GOGC: percent >= 0, or -1 for off; returns the previous value. */
    int (*set_gc_percent)(int percent);

    /* ---- AB_CAP_ARENAS (all NULL without the bit) ----
     * NOT thread-safe per arena: one arena is used by one thread at a time. */

    ab_arena *(*arena_new)(void);
    /* size bytes aligned to `align` (power of two <= 4096). scan != 0: the value may hold
     * pointers. Oversize requests may be served from the normal heap (freed with the arena
     * all the same). NULL + ENOMEM on failure. */
    void *(*arena_alloc)(ab_arena *a, size_t size, size_t align, int scan);
    /* Frees every allocation of the arena at once. Using them afterwards may fault. */
    void (*arena_free)(ab_arena *a);
} ab_allocator;

/* The backends this build knows. Each is defined in allocators/ab_<name>.c; only the ones a
 * given executable links are usable in it. */
extern const ab_allocator ab_alloc_sys;
extern const ab_allocator ab_alloc_jemalloc;
extern const ab_allocator ab_alloc_mimalloc;
extern const ab_allocator ab_alloc_tcmalloc;
extern const ab_allocator ab_alloc_boehm;
extern const ab_allocator ab_alloc_goalloc;
extern const ab_allocator ab_alloc_overhead; /* the harness-cost calibration backend */
extern const ab_allocator ab_alloc_null;     /* test-only: records calls, backed by glibc */
extern const ab_allocator ab_alloc_broken;   /* test-only: hands out overlapping blocks */

#ifdef __cplusplus
}
#endif
#endif /* AB_ALLOCATOR_H */
