/* goalloc_arena.h - goalloc's user arenas: request-scoped bump allocation, freed all at once.
 *
 * The C counterpart of Go's experimental `arena` package (GO_ALLOCATOR_SPEC.md section 10).
 *
 * NOT THREAD-SAFE PER ARENA: one arena must be used by one thread at a time (different
 * arenas may be used by different threads concurrently).
 *
 * Memory comes from 8 MiB chunks in an address range kept apart from the normal heap.
 * After ga_arena_free(), every chunk the arena filled is made inaccessible and quarantined:
 * a use after free faults (SIGSEGV) for as long as the chunk stays in quarantine. The
 * chunk the arena was still filling is handed to later arenas instead (its unused middle
 * only), so use-after-free of values in that last chunk is not guaranteed to fault, exactly
 * as in Go. Freeing an arena twice is reported and aborts. Freed chunks kept for later
 * arenas are capped at GOALLOC_ARENA_RETAIN bytes per list (default 64 MiB); beyond that
 * their memory goes back to the OS.
 */
#ifndef GOALLOC_ARENA_H
#define GOALLOC_ARENA_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ga_arena ga_arena;

/* A new, empty arena; NULL + ENOMEM on failure. */
ga_arena *ga_arena_new(void);

/* `size` zeroed bytes aligned to `align` (a power of two <= 4096; anything else: NULL +
 * EINVAL). scan != 0: the value may hold pointers (placed from the low end of a chunk),
 * scan == 0: pointer-free (placed from the high end). Requests over 2 MiB are served from
 * the normal heap and freed with the arena. NULL + ENOMEM on failure. */
void *ga_arena_alloc(ga_arena *a, size_t size, size_t align, int scan);

/* Frees every allocation of the arena. The arena handle is dead afterwards. */
void ga_arena_free(ga_arena *a);

/* Copies `size` bytes at p out of an arena onto the heap (ga_malloc) and returns the copy;
 * a p that is not in any arena chunk is returned as is (Go's arena.Clone). NULL + ENOMEM
 * when the copy cannot be allocated. */
void *ga_arena_clone(const void *p, size_t size);

/* 1 when p lies in an arena chunk (live, reusable or quarantined), 0 otherwise. */
int ga_in_arena(const void *p);

/* Arena accounting, as Go counts arena chunks: each chunk in use is one large object. */
typedef struct ga_arena_stats {
    uint64_t chunks_inuse;       /* chunks owned by live arenas */
    uint64_t bytes_inuse;        /* chunks_inuse x chunk size (HeapInuse share) */
    uint64_t chunk_allocs;       /* chunks handed to arenas, cumulative (large allocation count) */
    uint64_t chunk_frees;        /* chunks given back by ga_arena_free, cumulative */
    uint64_t bytes_allocated;    /* bytes handed out by ga_arena_alloc from chunks, cumulative */
    uint64_t heap_fallbacks;     /* oversize requests served from the heap, cumulative */
    uint64_t chunks_quarantined; /* faulted chunks waiting to be reused */
    uint64_t chunks_reusable;    /* partially used chunks of freed arenas */
    uint64_t chunks_ready;       /* clean chunks ready for reuse */
    uint64_t bytes_reserved;     /* address space reserved for arenas */
} ga_arena_stats;

void ga_arena_read_stats(ga_arena_stats *out);

#ifdef __cplusplus
}
#endif
#endif /* GOALLOC_ARENA_H */
