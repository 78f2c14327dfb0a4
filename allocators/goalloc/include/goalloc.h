/* goalloc.h - goalloc's public API: Go's runtime allocator rebuilt in C.
 *
 * Every function is thread-safe unless it says otherwise. Allocation functions return NULL
 * with errno = ENOMEM on failure and never abort (unless a debug level >= 1 catches a caller
 * mistake such as freeing a pointer goalloc does not own). Knobs read like Go's: GOGC,
 * GOMEMLIMIT, GOALLOC_DEBUG=gctrace=1,scavtrace=1,madvdontneed=0|1, GOALLOC_VERBOSE=1.
 * See allocators/goalloc/README.md for the map from each file to Go's runtime.
 */
#ifndef GOALLOC_H
#define GOALLOC_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- The malloc family (manual mode) ---- */
void *ga_malloc(size_t size);
void *ga_calloc(size_t n, size_t size);
void *ga_realloc(void *p, size_t size);
void ga_free(void *p);
void *ga_aligned_alloc(size_t alignment, size_t size);
int ga_posix_memalign(void **out, size_t alignment, size_t size);
void *ga_memalign(size_t alignment, size_t size);
void *ga_valloc(size_t size);
void *ga_pvalloc(size_t size);
size_t ga_usable_size(const void *p);

/* 1 when p points into a block of an in-use goalloc span (interior pointers included), 0 for
 * any other pointer. A block freed by a thread that has not flushed its cache yet may still
 * count as goalloc's until that thread allocates it again or flushes. */
int ga_owns(const void *p);

/* Flushes the calling thread's cache: its local free lists, tiny block, spans and page cache
 * go back to the heap and its counters into the statistics. Called automatically when a
 * thread exits. */
void ga_thread_flush(void);

/* Returns every free page of the heap to the OS now (Go's debug.FreeOSMemory; no GC runs in
 * manual mode). Pages held in other threads' page caches stay. */
void ga_free_os_memory(void);

/* ---- Statistics: Go's runtime.MemStats (GO_ALLOCATOR_SPEC.md 11.2) ----
 *
 * Declared once: X(Name, description). Every field is a uint64_t of the same name in
 * ga_memstats (GCCPUFraction and BySize follow them). Identities, exact whenever no other thread
 * is allocating or freeing at the moment of the read: HeapSys == HeapInuse + HeapIdle,
 * HeapReleased <= HeapIdle, Sys == HeapSys + StackSys + MSpanSys + MCacheSys + BuckHashSys +
 * GCSys + OtherSys, HeapObjects == Mallocs - Frees, HeapAlloc == Alloc == the class-rounded
 * bytes of live blocks (a tiny block counts 16 bytes while any sub-object in it lives or it
 * is a thread's current tiny block; large objects count whole pages). Tiny sub-allocations are
 * added to both Mallocs and Frees, as Go does. The GC fields (goalloc_gc.h) have Go's
 * meanings; collected objects count in HeapAlloc from allocation until a sweep frees them.
 */
#define GA_MEMSTATS_FIELDS(X)                                                                      \
    X(Alloc, "bytes of allocated heap objects (= HeapAlloc)")                                      \
    X(TotalAlloc, "cumulative bytes allocated for heap objects")                                   \
    X(Sys, "bytes obtained from the OS, all parts below")                                          \
    X(Lookups, "pointer lookups by the runtime (always 0)")                                        \
    X(Mallocs, "cumulative count of heap objects allocated")                                       \
    X(Frees, "cumulative count of heap objects freed")                                             \
    X(HeapAlloc, "bytes of allocated heap objects")                                                \
    X(HeapSys, "bytes of heap memory obtained from the OS")                                        \
    X(HeapIdle, "bytes in idle (unused) spans")                                                    \
    X(HeapInuse, "bytes in in-use spans")                                                          \
    X(HeapReleased, "bytes of physical memory returned to the OS")                                 \
    X(HeapObjects, "number of allocated heap objects")                                             \
    X(StackInuse, "bytes in stack spans (always 0: goalloc has no stacks)")                        \
    X(StackSys, "bytes of stack memory from the OS (always 0)")                                    \
    X(MSpanInuse, "bytes of allocated span structures")                                            \
    X(MSpanSys, "bytes obtained from the OS for span structures")                                  \
    X(MCacheInuse, "bytes of allocated mcache structures")                                         \
    X(MCacheSys, "bytes obtained from the OS for mcache structures")                               \
    X(BuckHashSys, "bytes of profiling bucket hash tables (always 0)")                             \
    X(GCSys, "bytes of heap-arena, page-allocator and GC metadata")                                \
    X(OtherSys, "bytes of other off-heap allocations (tiny-block tables)")                         \
    X(NextGC, "target heap size of the next GC cycle")                                             \
    X(LastGC, "time the last GC finished, ns since 1970")                                          \
    X(PauseTotalNs, "cumulative ns in GC stop-the-world pauses")                                   \
    X(NumGC, "completed GC cycles")                                                                \
    X(NumForcedGC, "GC cycles forced by the application")                                          \
    X(TinyAllocs, "tiny sub-objects allocated (goalloc extra)")                                    \
    X(TinyFrees, "tiny sub-objects freed explicitly (goalloc extra)")

/* runtime/metrics /memory/classes/ leaves and total (spec 11.3), X(field, metric name). */
#define GA_MEMCLASSES_FIELDS(X)                                                                    \
    X(heap_objects, "/memory/classes/heap/objects:bytes")                                          \
    X(heap_unused, "/memory/classes/heap/unused:bytes")                                            \
    X(heap_free, "/memory/classes/heap/free:bytes")                                                \
    X(heap_released, "/memory/classes/heap/released:bytes")                                        \
    X(heap_stacks, "/memory/classes/heap/stacks:bytes")                                            \
    X(os_stacks, "/memory/classes/os-stacks:bytes")                                                \
    X(metadata_mspan_inuse, "/memory/classes/metadata/mspan/inuse:bytes")                          \
    X(metadata_mspan_free, "/memory/classes/metadata/mspan/free:bytes")                            \
    X(metadata_mcache_inuse, "/memory/classes/metadata/mcache/inuse:bytes")                        \
    X(metadata_mcache_free, "/memory/classes/metadata/mcache/free:bytes")                          \
    X(metadata_other, "/memory/classes/metadata/other:bytes")                                      \
    X(profiling_buckets, "/memory/classes/profiling/buckets:bytes")                                \
    X(other, "/memory/classes/other:bytes")                                                        \
    X(total, "/memory/classes/total:bytes")

#define GA_MEMSTATS_NCLASSES 68 /* BySize covers every size class (Go freezes it at 61) */

typedef struct ga_memstats_class {
    uint32_t Size;    /* bytes of an object of this class (0 for class 0, large objects) */
    uint64_t Mallocs; /* objects allocated in this class */
    uint64_t Frees;   /* objects freed in this class */
} ga_memstats_class;

typedef struct ga_memstats {
#define GA_X(name, desc) uint64_t name;
    GA_MEMSTATS_FIELDS(GA_X)
#undef GA_X
    double GCCPUFraction;
    ga_memstats_class BySize[GA_MEMSTATS_NCLASSES];
    /* Circular, as Go's: the most recent cycle at index (NumGC + 255) % 256; LastGC equals
     * PauseEnd[(NumGC + 255) % 256]; unused slots are 0. */
    uint64_t PauseNs[256];
    uint64_t PauseEnd[256]; /* ns since 1970 */
} ga_memstats;

typedef struct ga_memclasses {
#define GA_X(field, metric) uint64_t field;
    GA_MEMCLASSES_FIELDS(GA_X)
#undef GA_X
} ga_memclasses;

/* Fills *ms from the heap's counters and every live thread's cache counters (read without
 * stopping those threads: a snapshot, exact when they are quiescent). Returns 0, or -1 with
 * errno = EINVAL when ms is NULL. Thread-safe. */
int ga_read_memstats(ga_memstats *ms);
/* The /memory/classes/ tree derived from *ms; its leaves sum to total (== ms->Sys). */
void ga_memstats_classes(const ga_memstats *ms, ga_memclasses *out);
/* Calls fn(ctx, name, value) for every MemStats field (Go's names), GCCPUFraction, then every
 * /memory/classes/ metric; BySize is not included. For adapters filling key/value records. */
void ga_memstats_foreach(const ga_memstats *ms,
                         void (*fn)(void *ctx, const char *name, double value), void *ctx);
/* Writes "name value" lines for every field, metric and non-empty size class to fd. */
void ga_memstats_print(const ga_memstats *ms, int fd);

/* ---- Knobs (options.c; the same settings as GOGC / GOMEMLIMIT, like Go's runtime/debug) ---- */
/* Soft memory limit in bytes (INT64_MAX = none). Returns the previous limit; a negative
 * argument only queries. */
int64_t ga_set_memory_limit(int64_t bytes);
/* GOGC percent; a negative value turns the GC off (stored as -1). Returns the previous value. */
int ga_set_gc_percent(int percent);
/* NULL, or one line naming the first malformed setting goalloc found in its environment (GOGC,
 * GOMEMLIMIT, GOALLOC_*) and ignored, keeping the default: so a harness can refuse to run
 * under a setting the allocator did not take. Reads the options first if nothing has. */
const char *ga_config_error(void);

#ifdef __cplusplus
}
#endif
#endif /* GOALLOC_H */
