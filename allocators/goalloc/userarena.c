/* userarena.c - user arenas: request-scoped bump allocation freed all at once (spec 10).
 * See malloc.c for the overview; the public contract is include/goalloc_arena.h.
 *
 * Chunks of 8 MiB come from 64 MiB reservations placed near a hint in the upper half of
 * the heap's hint space, so they never mix with heap arenas and are never used by the heap.
 * Inside a chunk, pointerful values are bumped from the low end upward and pointer-free
 * values from the high end downward (as Go does, so a future scanner can stop at `lo`).
 * Requests over a quarter chunk (2 MiB) go to the heap and are freed with the arena.
 *
 * Chunk life cycle (one global lock guards the lists; an arena itself is single-threaded):
 *   fresh (reserved) -> in use by one arena -> on ga_arena_free:
 *     full chunks:   faulted (PROT_NONE + MADV_DONTNEED) -> quarantine (FIFO)
 *     active chunk:  reuse list. Once a collection has run (as in Go), as it is: its
 *                    untouched middle serves later arenas, its dirtied part is not reused.
 *                    Before (manual mode), rewound first: the bytes the arena bumped out of
 *                    it are zeroed (stores, or MADV_DONTNEED past GA_ARENA_ZERO_INLINE) and
 *                    its free region goes back to what it was when the arena took it, so the
 *                    next arena bumps through the same, already-faulted pages (a request of a
 *                    few KiB costs no page fault and no system call). A use after free of
 *                    such memory reads zeros or a later arena's values; it does not fault.
 *   quarantine -> ready (re-committed; pages read back as zero). Manual-mode rule: once more
 *   than arena_retain bytes (GOALLOC_ARENA_RETAIN, default 64 MiB = 8 chunks) are
 *   quarantined behind it, so a use after free faults until at least that many later chunks
 *   have been quarantined. GC rule (from the first collection on, as in Go): after a mark
 *   that found no pointer into it, whatever the cap (a quarantined chunk holds no pages,
 *   only address space). While a collection marks, the pointerful part of every live chunk
 *   is one of its roots.
 *   reuse -> fresh: the reuse list holds at most arena_retain bytes of chunks; beyond it the
 *   chunk with the least room left is faulted (its pages go back to the OS) and becomes a
 *   fresh, uncommitted chunk of its reservation again. So the memory freed arenas keep is
 *   bounded by the cap, however the requests fragment the reused chunks.
 *
 * Invariants, checked by chunk_is_valid() at debug level 2:
 *   base <= lo <= hi <= base + GA_ARENA_CHUNK_SIZE, and [lo, hi) reads as zero (never handed
 *   out, or zeroed by a rewind); a chunk is on exactly one list or owned by exactly one arena;
 *   while owned, taken_lo <= lo <= hi <= taken_hi.
 * Accounting (as Go counts a chunk: one large object): bytes_inuse = chunks owned by live
 * arenas x chunk size; chunk_allocs - chunk_frees == chunks_inuse. bytes_allocated is kept
 * per owned chunk (plain stores by its owner, no locked add per allocation) and folded into
 * freed_bytes when the arena is freed.
 */
#define _GNU_SOURCE /* PTHREAD_RECURSIVE_MUTEX_INITIALIZER_NP */
#include <errno.h>
#include <pthread.h>
#include <stddef.h>
#include <stdatomic.h>
#include <string.h>

#include "ga_internal.h"
#include "goalloc_arena.h"

#define GA_ARENA_CHUNK_SIZE ((size_t)8 << 20)
#define GA_ARENA_MAX_INLINE (GA_ARENA_CHUNK_SIZE / 4)
#define GA_ARENA_RESERVE (GA_ARENA_SIZE) /* 64 MiB: 8 chunks per reservation */
#define GA_ARENA_MAX_REGIONS 1024
/* On free, dirty runs up to this many bytes are zeroed with stores; longer runs have their
 * whole pages dropped (MADV_DONTNEED), which reads back as zero. */
#define GA_ARENA_ZERO_INLINE ((size_t)128 << 10)
#define GA_ARENA_MAGIC 0x61726e61u /* "arna" */
#define GA_ARENA_DEAD 0x64656164u  /* "dead" */
/* Hint for the first reservation: the upper half of Go's heap hint space (0x00c0<<32 | i<<40
 * with i >= 0x40), kept apart from goalloc's heap near 0xc000000000. */
#define GA_ARENA_HINT ((uintptr_t)0x00c0 << 32 | (uintptr_t)0x40 << 40)

typedef struct ga_arena_chunk {
    uintptr_t base;
    uintptr_t lo, hi; /* free region [lo, hi); [base, lo) holds the pointerful values */
    struct ga_arena_chunk *next;
    struct ga_arena_chunk *live_prev, *live_next; /* chunks owned by live arenas (ua.live) */
    uintptr_t taken_lo, taken_hi; /* lo and hi when its arena took it: on free, [taken_lo, lo)
                                     and [hi, taken_hi) are what that arena dirtied */
    _Atomic uint64_t bytes;       /* bytes its arena allocated here; written by the owner only */
    bool noted;                   /* quarantined and a GC found a pointer into it this cycle */
    uint64_t qepoch;              /* ua.mark_epoch when it was quarantined */
} ga_arena_chunk;

/* A heap block an arena took for an oversize request; the node itself lives in the arena. */
typedef struct ga_arena_big {
    void *p;
    struct ga_arena_big *next;
} ga_arena_big;

struct ga_arena {
    ga_arena_chunk *active;     /* chunk being filled, or NULL */
    uint32_t magic;             /* GA_ARENA_MAGIC while live, GA_ARENA_DEAD after free */
    ga_arena_chunk *full;       /* chunks the arena filled */
    ga_arena_big *big;          /* oversize heap blocks */
    struct ga_arena *next_free; /* on the retired-header FIFO */
};

/* Arena headers are never unmapped: a freed header stays "dead" on a FIFO of this depth
 * before it is reused, so a double free is caught unless that many arenas came between. */
#define GA_ARENA_HEADER_FIFO 256

static struct {
    pthread_mutex_t lock;
    ga_arena_chunk *reuse, *ready, *fresh; /* LIFO lists */
    ga_arena_chunk *quar_head, *quar_tail; /* FIFO */
    size_t quar_len, quarantine_max;
    size_t reuse_len;                /* chunks on the reuse list */
    ga_arena_chunk *free_headers;    /* chunk structs not in use */
    ga_arena *dead_head, *dead_tail; /* retired arena headers (FIFO) */
    size_t dead_len;
    ga_arena *spare_arenas;                 /* headers ready for reuse */
    uintptr_t region[GA_ARENA_MAX_REGIONS]; /* reservation bases */
    size_t nregion;
    uintptr_t next_hint;
    uintptr_t lo, hi;     /* bounds of every reservation: a quick filter for the marker */
    ga_arena_chunk *live; /* chunks owned by live arenas, for the marker's roots */
    uint64_t freed_bytes; /* bytes allocated in chunks since given back by their arenas */
    bool gc_seen;         /* a collection has run: quarantine follows the GC rule */
    uint64_t mark_epoch;  /* marks begun: a chunk quarantined during a mark waits for the next */
} ua = {.lock = PTHREAD_RECURSIVE_MUTEX_INITIALIZER_NP, .quarantine_max = SIZE_MAX};

static struct {
    _Atomic uint64_t chunks_inuse, chunk_allocs, chunk_frees, heap_fallbacks;
} ua_stat;

void _ga_userarena_set_quarantine(size_t nchunks)
{
    pthread_mutex_lock(&ua.lock);
    ua.quarantine_max = nchunks;
    pthread_mutex_unlock(&ua.lock);
}

/* Chunks each of the quarantine and the reuse list may keep: the arena_retain option. */
static size_t retain_chunks(void)
{
    int64_t v = __atomic_load_n(&_ga_opt.arena_retain, __ATOMIC_RELAXED);
    return v <= 0 ? 0 : (size_t)((uint64_t)v / GA_ARENA_CHUNK_SIZE);
}

/* ---- Metadata ---- */

/* Carves a run of metadata pages into `n` objects of `size` bytes and pushes each on the
 * list at *head, linked through the pointer at byte offset `link`. Holds ua.lock. */
static bool meta_carve(size_t size, size_t n, size_t link, void **head)
{
    char *m = _ga_os_alloc_meta(size * n);
    if (!m) return false;
    for (size_t i = 0; i < n; i++) {
        char *obj = m + i * size;
        *(void **)(obj + link) = *head;
        *head = obj;
    }
    return true;
}

static ga_arena_chunk *chunk_header(void)
{
    /* One page at a time: every header carved is written (linked), so it is resident. */
    if (!ua.free_headers &&
        !meta_carve(sizeof(ga_arena_chunk), GA_OS_PAGE_SIZE / sizeof(ga_arena_chunk),
                    offsetof(ga_arena_chunk, next), (void **)&ua.free_headers))
        return NULL;
    ga_arena_chunk *c = ua.free_headers;
    ua.free_headers = c->next;
    memset(c, 0, sizeof *c);
    return c;
}

static bool chunk_is_valid(const ga_arena_chunk *c)
{
    return c->base <= c->lo && c->lo <= c->hi && c->hi <= c->base + GA_ARENA_CHUNK_SIZE;
}

/* ---- Chunk sources ---- */

/* Reserves 64 MiB more for arenas and puts its 8 chunks on the fresh list. Holds ua.lock. */
static bool reserve_region(void)
{
    if (ua.nregion == GA_ARENA_MAX_REGIONS) return false;
    if (!ua.next_hint) ua.next_hint = GA_ARENA_HINT;
    void *r = _ga_os_reserve(GA_ARENA_RESERVE, GA_ARENA_RESERVE, (void *)ua.next_hint);
    if (!r) return false;
    ua.next_hint = (uintptr_t)r + GA_ARENA_RESERVE;
    ua.region[ua.nregion++] = (uintptr_t)r;
    if (!ua.lo || (uintptr_t)r < ua.lo) ua.lo = (uintptr_t)r;
    if ((uintptr_t)r + GA_ARENA_RESERVE > ua.hi) ua.hi = (uintptr_t)r + GA_ARENA_RESERVE;
    for (size_t off = GA_ARENA_RESERVE; off > 0; off -= GA_ARENA_CHUNK_SIZE) {
        ga_arena_chunk *c = chunk_header();
        if (!c) return false;
        c->base = (uintptr_t)r + off - GA_ARENA_CHUNK_SIZE;
        c->lo = 0; /* not committed yet */
        c->next = ua.fresh;
        ua.fresh = c;
    }
    return true;
}

/* Re-commits a chunk that left quarantine (its pages read back as zero) and files it ready.
 * If the kernel refuses to re-commit, the chunk's address space is dropped for good. */
static void make_ready(ga_arena_chunk *c)
{
    if (_ga_os_commit((void *)c->base, GA_ARENA_CHUNK_SIZE) != 0) return;
    c->lo = c->base;
    c->hi = c->base + GA_ARENA_CHUNK_SIZE;
    c->noted = false;
    c->next = ua.ready;
    ua.ready = c;
}

/* Manual-mode rule: moves the oldest quarantined chunks to the ready list while more than
 * retain_chunks() are quarantined. Once a collection has run, chunks leave quarantine only
 * through _ga_userarena_after_mark (the GC rule). Holds ua.lock. */
static void release_quarantine(void)
{
    size_t max = retain_chunks();
    if (max > ua.quarantine_max) max = ua.quarantine_max;
    while (!ua.gc_seen && ua.quar_len > max) {
        ga_arena_chunk *c = ua.quar_head;
        ua.quar_head = c->next;
        if (!ua.quar_head) ua.quar_tail = NULL;
        ua.quar_len--;
        make_ready(c);
    }
}

/* Keeps the reuse list within retain_chunks(): while it is longer, the chunk with the least
 * room left is faulted (PROT_NONE, pages dropped) and goes back to the fresh list, reserved
 * and uncommitted, as if never used. Holds ua.lock. */
static void trim_reuse(void)
{
    size_t max = retain_chunks();
    while (ua.reuse_len > max) {
        ga_arena_chunk **least = &ua.reuse;
        for (ga_arena_chunk **pp = &ua.reuse; *pp; pp = &(*pp)->next)
            if ((*pp)->hi - (*pp)->lo < (*least)->hi - (*least)->lo) least = pp;
        ga_arena_chunk *c = *least;
        *least = c->next;
        ua.reuse_len--;
        _ga_os_fault((void *)c->base, GA_ARENA_CHUNK_SIZE);
        c->lo = c->hi = 0; /* not committed */
        c->next = ua.fresh;
        ua.fresh = c;
    }
}

/* The live list (chunks owned by arenas), for the marker. Holds ua.lock. */
static void live_link(ga_arena_chunk *c)
{
    c->live_prev = NULL;
    c->live_next = ua.live;
    if (ua.live) ua.live->live_prev = c;
    ua.live = c;
}

static void live_unlink(ga_arena_chunk *c)
{
    if (c->live_prev)
        c->live_prev->live_next = c->live_next;
    else
        ua.live = c->live_next;
    if (c->live_next) c->live_next->live_prev = c->live_prev;
    c->live_prev = c->live_next = NULL;
}

/* A chunk with at least `need` free bytes (need <= chunk size): the reuse list first, then
 * ready chunks, then fresh reservations. NULL when the OS refuses memory. */
static ga_arena_chunk *take_chunk(size_t need)
{
    pthread_mutex_lock(&ua.lock);
    ga_arena_chunk *c = NULL;
    for (ga_arena_chunk **pp = &ua.reuse; *pp; pp = &(*pp)->next) {
        if ((*pp)->hi - (*pp)->lo >= need) {
            c = *pp;
            *pp = c->next;
            ua.reuse_len--;
            break;
        }
    }
    if (!c && ua.ready) {
        c = ua.ready;
        ua.ready = c->next;
    }
    if (!c && (ua.fresh || reserve_region())) {
        c = ua.fresh;
        ua.fresh = c->next;
        if (_ga_os_commit((void *)c->base, GA_ARENA_CHUNK_SIZE) != 0) {
            c->next = ua.fresh;
            ua.fresh = c;
            c = NULL;
        } else {
            c->lo = c->base;
            c->hi = c->base + GA_ARENA_CHUNK_SIZE;
        }
    }
    if (c) live_link(c);
    pthread_mutex_unlock(&ua.lock);
    if (c) {
        c->next = NULL;
        ga_assert_internal(chunk_is_valid(c));
        atomic_fetch_add_explicit(&ua_stat.chunks_inuse, 1, memory_order_relaxed);
        atomic_fetch_add_explicit(&ua_stat.chunk_allocs, 1, memory_order_relaxed);
    }
    return c;
}

/* ---- Arenas ---- */

ga_arena *ga_arena_new(void)
{
    _ga_options_init(); /* arena_retain */
    pthread_mutex_lock(&ua.lock);
    if (!ua.spare_arenas && !meta_carve(sizeof(ga_arena), 256, offsetof(ga_arena, next_free),
                                        (void **)&ua.spare_arenas)) {
        pthread_mutex_unlock(&ua.lock);
        errno = ENOMEM;
        return NULL;
    }
    ga_arena *a = ua.spare_arenas;
    ua.spare_arenas = a->next_free;
    pthread_mutex_unlock(&ua.lock);
    memset(a, 0, sizeof *a);
    a->magic = GA_ARENA_MAGIC;
    return a;
}

static void *arena_big(ga_arena *a, size_t size, size_t align)
{
    ga_arena_big *node = ga_arena_alloc(a, sizeof *node, _Alignof(ga_arena_big), 1);
    if (!node) return NULL;
    void *p = ga_aligned_alloc(align, size);
    if (!p) return NULL;
    memset(p, 0, size);
    node->p = p;
    node->next = a->big;
    a->big = node;
    atomic_fetch_add_explicit(&ua_stat.heap_fallbacks, 1, memory_order_relaxed);
    return p;
}

/* Bumps `size` bytes aligned to `align` out of c, from the low end (scan) or the high end
 * (noscan). NULL when it does not fit. */
static inline void *chunk_bump(ga_arena_chunk *c, size_t size, size_t align, int scan)
{
    if (scan) {
        uintptr_t p = (c->lo + align - 1) & ~(uintptr_t)(align - 1);
        if (p > c->hi || c->hi - p < size) return NULL;
        c->lo = p + size;
        return (void *)p;
    }
    if (c->hi - c->lo < size) return NULL;
    uintptr_t p = (c->hi - size) & ~(uintptr_t)(align - 1);
    if (p < c->lo) return NULL;
    c->hi = p;
    return (void *)p;
}

/* The single owner counts its bytes with a plain load and store (no locked instruction);
 * ga_arena_read_stats may read the count from another thread at any time. */
static inline void count_bytes(ga_arena_chunk *c, size_t size)
{
    uint64_t n = atomic_load_explicit(&c->bytes, memory_order_relaxed);
    atomic_store_explicit(&c->bytes, n + size, memory_order_relaxed);
}

/* Everything but a bump that fits the active chunk: bad alignment, size 0, oversize
 * requests, and taking a new chunk when the active one is full (or there is none yet). */
__attribute__((noinline)) static void *arena_alloc_slow(ga_arena *a, size_t size, size_t align,
                                                        int scan)
{
    if (align == 0 || (align & (align - 1)) || align > 4096) {
        errno = EINVAL;
        return NULL;
    }
    if (size == 0) size = 1; /* a unique address, like malloc(0) */
    if (size > GA_ARENA_MAX_INLINE) return arena_big(a, size, align < 16 ? 16 : align);
    void *p = a->active ? chunk_bump(a->active, size, align, scan) : NULL;
    if (!p) {
        ga_arena_chunk *c = take_chunk(size + align);
        if (!c) {
            errno = ENOMEM;
            return NULL;
        }
        if (a->active) {
            a->active->next = a->full;
            a->full = a->active;
        }
        a->active = c;
        c->taken_lo = c->lo;
        c->taken_hi = c->hi;
        p = chunk_bump(c, size, align, scan);
        ga_assert_internal(p != NULL);
    }
    count_bytes(a->active, size);
    return p;
}

/* Fast path: a bump of the active chunk, no lock, no atomic read-modify-write. */
void *ga_arena_alloc(ga_arena *a, size_t size, size_t align, int scan)
{
    ga_assert(a && a->magic == GA_ARENA_MAGIC);
    ga_arena_chunk *c = a->active;
    if (GA_LIKELY(c != NULL) && GA_LIKELY((align & (align - 1)) == 0) &&
        GA_LIKELY(align - 1 < 4096) && GA_LIKELY(size - 1 < GA_ARENA_MAX_INLINE)) {
        void *p = chunk_bump(c, size, align, scan);
        if (GA_LIKELY(p != NULL)) {
            count_bytes(c, size);
            return p;
        }
    }
    return arena_alloc_slow(a, size, align, scan);
}

/* Zeroes a short run with 64-byte stores (the compiler emits vector stores). glibc's memset
 * switches to `rep stosb` from 2 KiB on, which is no faster on runs of a few KiB (it has a
 * start-up cost) and which valgrind counts as one instruction per byte, hiding the real cost
 * of a rewind behind the zeroing; this loop costs what it counts. */
static void zero_short(uintptr_t lo, uintptr_t hi)
{
    uintptr_t a = (lo + 63) & ~(uintptr_t)63;
    if (a > hi) a = hi;
    memset((void *)lo, 0, a - lo);
    for (; hi - a >= 64; a += 64)
        __builtin_memset((void *)a, 0, 64);
    memset((void *)a, 0, hi - a);
}

/* Zeroes [lo, hi) of a chunk: stores for short runs, whole pages dropped for long ones
 * (when dropped pages read back as zero; with MADV_FREE they may not, so memset). */
static void zero_range(uintptr_t lo, uintptr_t hi)
{
    if (hi - lo <= GA_ARENA_ZERO_INLINE) {
        zero_short(lo, hi);
        return;
    }
    if (!_ga_os_released_pages_are_zero()) {
        memset((void *)lo, 0, hi - lo);
        return;
    }
    uintptr_t plo = (lo + GA_OS_PAGE_SIZE - 1) & ~(uintptr_t)(GA_OS_PAGE_SIZE - 1);
    uintptr_t phi = hi & ~(uintptr_t)(GA_OS_PAGE_SIZE - 1);
    memset((void *)lo, 0, plo - lo);
    _ga_os_unused((void *)plo, phi - plo);
    memset((void *)phi, 0, hi - phi);
}

/* Manual mode: gives the active chunk back as it was when the arena took it, zeroing what
 * the arena dirtied, so the next arena reuses the same resident pages. */
static void rewind_active(ga_arena_chunk *c)
{
    ga_assert_internal(c->taken_lo <= c->lo && c->hi <= c->taken_hi);
    zero_range(c->taken_lo, c->lo);
    zero_range(c->hi, c->taken_hi);
    c->lo = c->taken_lo;
    c->hi = c->taken_hi;
}

/* Retires a freed header: it stays dead on a FIFO before it may be handed out again. */
static void retire_header(ga_arena *a)
{
    a->magic = GA_ARENA_DEAD;
    a->next_free = NULL;
    if (ua.dead_tail)
        ua.dead_tail->next_free = a;
    else
        ua.dead_head = a;
    ua.dead_tail = a;
    if (++ua.dead_len > GA_ARENA_HEADER_FIFO) {
        ga_arena *old = ua.dead_head;
        ua.dead_head = old->next_free;
        ua.dead_len--;
        old->next_free = ua.spare_arenas;
        ua.spare_arenas = old;
    }
}

void ga_arena_free(ga_arena *a)
{
    if (!a) return;
    if (a->magic == GA_ARENA_DEAD) _ga_fatal("goalloc: arena %p freed twice\n", (void *)a);
    if (a->magic != GA_ARENA_MAGIC)
        _ga_fatal("goalloc: ga_arena_free(%p): not an arena\n", (void *)a);
    /* Heap blocks first: their list nodes live in the chunks about to be faulted. */
    for (ga_arena_big *b = a->big; b; b = b->next)
        ga_free(b->p);
    uint64_t nchunks = 0;
    ga_arena_chunk *full = a->full;
    /* Racy but safe: gc_seen only ever goes false -> true, and a late true only means this
     * chunk keeps Go's behaviour (its dirtied part is not reused). */
    if (a->active && !__atomic_load_n(&ua.gc_seen, __ATOMIC_RELAXED)) rewind_active(a->active);
    for (ga_arena_chunk *c = full; c; c = c->next) {
        _ga_os_fault((void *)c->base, GA_ARENA_CHUNK_SIZE);
        nchunks++;
    }
    pthread_mutex_lock(&ua.lock);
    while (full) {
        ga_arena_chunk *c = full;
        full = c->next;
        live_unlink(c);
        ua.freed_bytes += atomic_load_explicit(&c->bytes, memory_order_relaxed);
        atomic_store_explicit(&c->bytes, 0, memory_order_relaxed);
        c->next = NULL;
        c->lo = c->hi = c->base;
        if (ua.quar_tail)
            ua.quar_tail->next = c;
        else
            ua.quar_head = c;
        ua.quar_tail = c;
        ua.quar_len++;
        c->qepoch = ua.mark_epoch;
    }
    if (a->active) {
        live_unlink(a->active);
        ua.freed_bytes += atomic_load_explicit(&a->active->bytes, memory_order_relaxed);
        atomic_store_explicit(&a->active->bytes, 0, memory_order_relaxed);
        a->active->next = ua.reuse;
        ua.reuse = a->active;
        ua.reuse_len++;
        nchunks++;
    }
    trim_reuse();
    release_quarantine();
    retire_header(a);
    pthread_mutex_unlock(&ua.lock);
    atomic_fetch_sub_explicit(&ua_stat.chunks_inuse, nchunks, memory_order_relaxed);
    atomic_fetch_add_explicit(&ua_stat.chunk_frees, nchunks, memory_order_relaxed);
}

/* ---- Queries ---- */

int ga_in_arena(const void *p)
{
    uintptr_t x = (uintptr_t)p;
    pthread_mutex_lock(&ua.lock);
    int in = 0;
    for (size_t i = 0; i < ua.nregion && !in; i++)
        in = x - ua.region[i] < GA_ARENA_RESERVE;
    pthread_mutex_unlock(&ua.lock);
    return in;
}

void *ga_arena_clone(const void *p, size_t size)
{
    if (!ga_in_arena(p)) return (void *)p;
    void *q = ga_malloc(size);
    if (q) memcpy(q, p, size);
    return q;
}

static uint64_t list_len(const ga_arena_chunk *c)
{
    uint64_t n = 0;
    for (; c; c = c->next)
        n++;
    return n;
}

void ga_arena_read_stats(ga_arena_stats *out)
{
    memset(out, 0, sizeof *out);
    out->chunks_inuse = atomic_load(&ua_stat.chunks_inuse);
    out->bytes_inuse = out->chunks_inuse * GA_ARENA_CHUNK_SIZE;
    out->chunk_allocs = atomic_load(&ua_stat.chunk_allocs);
    out->chunk_frees = atomic_load(&ua_stat.chunk_frees);
    out->heap_fallbacks = atomic_load(&ua_stat.heap_fallbacks);
    pthread_mutex_lock(&ua.lock);
    out->bytes_allocated = ua.freed_bytes;
    for (ga_arena_chunk *c = ua.live; c; c = c->live_next)
        out->bytes_allocated += atomic_load_explicit(&c->bytes, memory_order_relaxed);
    out->chunks_quarantined = ua.quar_len;
    out->chunks_reusable = ua.reuse_len;
    out->chunks_ready = list_len(ua.ready);
    out->bytes_reserved = ua.nregion * GA_ARENA_RESERVE;
    pthread_mutex_unlock(&ua.lock);
}

/* Arena chunks in Go's MemStats terms: a chunk owned by a live arena is one large allocated
 * object (HeapInuse and HeapAlloc count all of it, Mallocs/Frees count chunks); a reusable
 * chunk is idle but resident; ready and quarantined chunks were dropped with MADV_DONTNEED,
 * so they count as released. Address space not committed (fresh chunks, including those
 * trimmed off the reuse list) is not counted. */
void _ga_userarena_add_memstats(ga_memstats *ms)
{
    ga_arena_stats a;
    ga_arena_read_stats(&a);
    uint64_t idle =
        (a.chunks_reusable + a.chunks_ready + a.chunks_quarantined) * GA_ARENA_CHUNK_SIZE;
    uint64_t released = (a.chunks_ready + a.chunks_quarantined) * GA_ARENA_CHUNK_SIZE;
    ms->Mallocs += a.chunk_allocs;
    ms->Frees += a.chunk_frees;
    ms->HeapObjects += a.chunks_inuse;
    ms->TotalAlloc += a.chunk_allocs * GA_ARENA_CHUNK_SIZE;
    ms->HeapAlloc += a.bytes_inuse;
    ms->Alloc = ms->HeapAlloc;
    ms->HeapInuse += a.bytes_inuse;
    ms->HeapIdle += idle;
    ms->HeapReleased += released;
    ms->HeapSys += a.bytes_inuse + idle;
}

/* ---- The collector's view (gcmark.c, gc.c; the world is stopped) ---- */

/* Hands the pointerful part [base, lo) of every chunk owned by a live arena to the marker as
 * a root range: values in arenas may point into the collected heap (Go scans arena chunks
 * as large pointerful objects). Arenas of threads that are not GC mutators may change while
 * this runs: such threads must not keep the only copy of a collected pointer in an arena
 * (the rooting contract of goalloc_gc.h). ua.lock is recursive because the marker calls
 * _ga_userarena_note_pointer from inside fn. */
void _ga_userarena_foreach_root(ga_gcwork *w, void (*fn)(ga_gcwork *w, uintptr_t lo, uintptr_t hi))
{
    pthread_mutex_lock(&ua.lock);
    for (ga_arena_chunk *c = ua.live; c; c = c->live_next)
        if (c->lo > c->base) fn(w, c->base, c->lo);
    pthread_mutex_unlock(&ua.lock);
}

/* A mark begins: only chunks quarantined before it may leave quarantine after it (a pointer
 * into a chunk freed while the mark ran may sit where the marker has already been). */
void _ga_userarena_before_mark(void)
{
    pthread_mutex_lock(&ua.lock);
    ua.mark_epoch++;
    pthread_mutex_unlock(&ua.lock);
}

/* The marker found a word p that is not in the collected heap: if it points into a
 * quarantined chunk, that chunk stays quarantined (Go reuses a chunk only once a GC found no
 * pointer into it). */
void _ga_userarena_note_pointer(uintptr_t p)
{
    if (p < ua.lo || p >= ua.hi) return; /* a racy read is fine: the bounds only grow */
    pthread_mutex_lock(&ua.lock);
    for (ga_arena_chunk *c = ua.quar_head; c; c = c->next)
        if (p - c->base < GA_ARENA_CHUNK_SIZE) c->noted = true;
    pthread_mutex_unlock(&ua.lock);
}

/* After a mark: every quarantined chunk no pointer was found into leaves quarantine, and
 * from now on the manual-mode count rule is off. `complete` is false when the mark gave up
 * (out of work buffers): then nothing is released. */
void _ga_userarena_after_mark(bool complete)
{
    pthread_mutex_lock(&ua.lock);
    __atomic_store_n(&ua.gc_seen, true, __ATOMIC_RELAXED);
    ga_arena_chunk **pp = &ua.quar_head, *last = NULL;
    while (*pp) {
        ga_arena_chunk *c = *pp;
        if (complete && !c->noted && c->qepoch < ua.mark_epoch) {
            *pp = c->next;
            ua.quar_len--;
            make_ready(c);
            continue;
        }
        c->noted = false;
        last = c;
        pp = &c->next;
    }
    ua.quar_tail = last;
    pthread_mutex_unlock(&ua.lock);
}
