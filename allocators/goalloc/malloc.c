/* malloc.c - goalloc's entry points (the malloc family, ga_owns, ga_thread_flush) and the
 * overview of the allocator. goalloc is Go's runtime allocator (GO_ALLOCATOR_SPEC.md) rebuilt
 * in C; this issue is manual mode (malloc/free, no GC).
 *
 * Hierarchy. A thread's mcache (mcache.c, thread-local, no locks) holds one current span per
 * cache index: the 136 span classes (size class << 1 | noscan) plus one index for the tiny
 * allocator's 16-byte blocks. A span (mspan.c) is a run of 8 KiB pages cut into equal slots,
 * with alloc bits and Go's 64-bit inverted alloc cache. When the current span is exhausted the
 * mcache swaps it with its mcentral (mcentral.c, one per index, one mutex each), which hands
 * out partial spans or grows by asking the mheap (mheap.c, one lock) for a run of pages. The
 * mheap takes pages from the radix-tree page allocator (pagealloc.c; runs under 16 pages come
 * lock-free from the thread's 64-page page cache, pagecache.c) and grows it in whole 4 MiB
 * chunks of 64 MiB heap arenas (heaparena.c) reserved PROT_NONE near 0xc000000000 and
 * committed on growth. The arena map (address -> arena -> span) serves free, usable_size and
 * ga_owns for any address. Span and mcache structs come from fixalloc.c (off-heap).
 *
 * Paths. Tiny: pointer-free requests of 1..8 B are packed into the thread's current 16-byte
 * block (spec 2, departure 2 below). In manual mode every such request counts as pointer-free
 * (the GC will not scan malloc'd memory) and malloc(0) is served as a 1-byte tiny request: a
 * unique pointer that free() accepts. Small (9 B .. 32760 B): size class lookup, then the
 * local free list, then the span's alloc cache. Large (> 32760 B, spec 1.1): a span of its own
 * straight from the mheap, whole pages, back to the page allocator on free. Fallbacks: empty alloc
 * cache -> mcache refill (reuse the span's freed slots, else mcentral partial span, else mheap
 * grow, else NULL + ENOMEM: goalloc never aborts on exhaustion; absurd sizes fail at once).
 *
 * Departures from Go, for C: (1) the interface demands 16-byte alignment for sizes >= 16, and
 * Go's 24-byte class only guarantees 8, so requests of 17..24 B use the 32-byte class; (2) the
 * interface demands at least 8-byte alignment for every size, so a tiny sub-object starts at
 * offset 0 or 8 of its block (Go aligns a 1..7-byte object to its own size and packs more):
 * two objects of up to 8 bytes share a block, and a 9..15-byte one, which could share with
 * nothing, is a 16-byte small object (the same memory, without the tiny bookkeeping);
 * (3) explicit free (DESIGN.md) exists.
 *
 * Free. free(p) reads the class map (heaparena.c: one byte per page of the first 256 GiB of
 * arena space, the cache index of a small span's pages, 0 elsewhere); a small block goes on
 * the calling thread's LIFO list for that index with no other lookup (like Go's experimental
 * freegc lists, spec 3.5): no lock, no atomic, and the next malloc of that class reuses the
 * block first; every other pointer finds its span through the arena map. When a list passes its
 * cap, half of it goes back to the spans (mcentral.c), one run of consecutive blocks of one span
 * at a time: a run of a span this thread owns is cleared directly; of a span no thread owns,
 * cleared under the mcentral lock (a full span becomes partial, an empty one returns its pages);
 * of a span another thread owns, pushed with one CAS on that span's lock-free remote list, which
 * its owner drains at refill and when it gives the span back. Tiny sub-objects are counted per
 * block; the last free frees the block. Large objects go straight back to the heap. A thread's exit
 * (and ga_thread_flush) empties its lists, gives its spans and page cache back and merges its
 * counters, so blocks of an exited thread stay valid and freeable. At GOALLOC_DEBUG >= 1 freeing a
 * pointer goalloc does not own, the interior of a block, or a block already on the list head /
 * marked free prints one line naming the pointer and aborts, as glibc does; at 0 the fast path
 * trusts a pointer on a small span's page (a bad one corrupts that list, as in glibc) and other bad
 * frees are ignored.
 *
 * Accounting. Objects are counted per thread at malloc and free (one unlocked add, no
 * locked instruction) and merged at flush; ga_read_memstats (stats.c) adds the merged totals and
 * every live thread's counters, so HeapAlloc is exactly the class-rounded bytes of live blocks when
 * no thread is mid-operation. Pages are counted by the mheap as they change state (in use /
 * free / released).
 *
 * Where the GC and the memory limit will meet allocation (issues 4, 5): the refill and large
 * paths (mcache.c refill, mheap.c grow) are where heap-goal triggers, assists and the memory
 * limit's synchronous scavenging go; spans already carry sweepgen and gcmarkbits, span classes
 * the noscan bit, and the page allocator scavenged bits.
 *
 * Files: malloc.c entry points; mcache.c per-thread cache, local lists, tiny; mcentral.c span
 * lists; mspan.c slots and bits; mheap.c pages and growth; heaparena.c arenas and the span map;
 * fixalloc.c metadata; stats.c MemStats; pagealloc.c/pagecache.c page allocator; os.c the
 * kernel; sizeclass.c + gen/ the class tables; options.c knobs; debug.c diagnostics.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "ga_internal.h"

#define GA_LARGE_CUTOFF (GA_MAX_SMALL_SIZE - 8) /* larger requests get their own span */
#define GA_MAX_REQUEST ((size_t)1 << (GA_ADDR_BITS - 1))

/* Go's fine table with the 24-byte class replaced by 32 (departure 1 above), the one class
 * rounding of manual and collected allocation (_ga_class_of); _ga_ci8 holds the same classes
 * as cache indexes (class << 1 | noscan), what malloc's fast path indexes with. Filled once
 * by the heap's initialisation (mheap.c). */
uint8_t _ga_class16[GA_SMALL_SIZE_MAX / GA_SMALL_SIZE_DIV + 1];
uint8_t _ga_ci8[GA_SMALL_SIZE_MAX / GA_SMALL_SIZE_DIV + 1];

#ifdef GOALLOC_TEST_HOOKS
/* Test builds only (-DGOALLOC_TEST_HOOKS=ON): GOALLOC_TEST_SLOWDOWN=N spins N iterations in
 * every ga_malloc, the injected slowdown that ci/perf-gate's self-test must detect. */
static unsigned long test_slowdown;

void _ga_test_slowdown(void)
{
    for (volatile unsigned long i = 0; i < test_slowdown; i++) {
    }
}
#endif

void _ga_class_tables_init(void)
{
#ifdef GOALLOC_TEST_HOOKS
    const char *v = getenv("GOALLOC_TEST_SLOWDOWN"); /* getenv/strtoul do not allocate */
    if (v) test_slowdown = strtoul(v, NULL, 10);
#endif
    for (size_t i = 0; i < sizeof _ga_class16; i++) {
        unsigned c = _ga_size_to_class8[i];
        if (i * GA_SMALL_SIZE_DIV >= GA_TINY_SIZE && (_ga_class_to_size[c] & 15) != 0) c++;
        _ga_class16[i] = (uint8_t)c;
        _ga_ci8[i] = (uint8_t)(c << 1 | 1);
    }
}

static GA_NOINLINE ga_mcache *mcache_slow(void)
{
    return _ga_mcache_create();
}

static inline ga_mcache *get_mcache(void)
{
    ga_mcache *c = _ga_tls_mcache;
    return GA_LIKELY(c != NULL) ? c : mcache_slow();
}

/* ---- Fast paths ---- */

/* The span's alloc cache was empty: refill (the same span's freed slots, else another span). */
static GA_NOINLINE void *span_refill(ga_mcache *c, unsigned ci)
{
    void *p = _ga_mcache_alloc_slow(c, ci);
    if (GA_LIKELY(p != NULL)) {
        GA_COUNTER_ADD(c->cls[ci].nmalloc, 1);
        GA_UNPOISON(p, c->cls[ci].span->elemsize);
    } else {
        errno = ENOMEM;
    }
    return p;
}

/* The part of small_alloc after the local list: the span's alloc cache, else the refill. The
 * refill is a tail call, so this path keeps no register across a call and needs no frame. */
void *_ga_span_alloc(ga_mcache *c, unsigned ci)
{
    ga_mcache_class *e = &c->cls[ci];
    ga_span *s = e->span;
    void *p = _ga_span_next_fast(s);
    if (GA_LIKELY(p != NULL)) {
        GA_COUNTER_ADD(e->nmalloc, 1);
        GA_UNPOISON(p, s->elemsize);
        return p;
    }
    return span_refill(c, ci);
}

/* Budget: an aligned bump inside the current 16-byte block and one relaxed 16-bit store. */
static inline __attribute__((always_inline)) void *tiny_alloc(ga_mcache *c, size_t size)
{
    size_t off = _ga_tiny_offset(c->tinyoffset, size);
    if (GA_LIKELY(c->tiny != 0 && off < GA_TINY_SIZE)) {
        c->tinyoffset = off + size;
        c->tinycount++;
        GA_COUNTER_ADD(c->ctr.tiny_allocs, 1);
        c->tinybounds =
            (uint16_t)(c->tinybounds | (((1u << off) | (1u << (off + size))) & 0xffffu));
        atomic_store_explicit(c->tinyboundsp, c->tinybounds, memory_order_relaxed);
        return (void *)(c->tiny + off);
    }
    void *p = _ga_mcache_tiny_alloc_slow(c, size);
    if (!p) errno = ENOMEM;
    return p;
}

static GA_NOINLINE void *large_alloc(ga_mcache *c, size_t size, bool zero)
{
    if (size > GA_MAX_REQUEST) {
        errno = ENOMEM;
        return NULL;
    }
    size_t npages = (size + GA_PAGE_SIZE - 1) / GA_PAGE_SIZE;
    ga_span *s = _ga_mheap_alloc(c, npages, GA_LARGE_SPAN_CLASS);
    if (!s) {
        errno = ENOMEM;
        return NULL;
    }
    GA_COUNTER_ADD(c->ctr.large_alloc, npages * GA_PAGE_SIZE);
    GA_COUNTER_ADD(c->ctr.large_alloc_count, 1);
    if (zero && s->needzero) memset((void *)s->base, 0, size);
    return (void *)s->base;
}

/* Every request malloc's fast path leaves: the thread's first, tiny (0..8 B), 1017 B and up. */
void *_ga_malloc_slow(size_t size)
{
    ga_mcache *c = get_mcache();
    if (GA_UNLIKELY(!c)) {
        errno = ENOMEM;
        return NULL;
    }
    if (GA_LIKELY(size <= GA_SMALL_SIZE_MAX - 8)) {
        if (size <= GA_TINY_MAX) return tiny_alloc(c, size ? size : 1);
        return _ga_small_alloc(c, _ga_ci8[(size + 7) >> 3]);
    }
    if (size <= GA_LARGE_CUTOFF) return _ga_small_alloc(c, _ga_size_to_class(size) << 1 | 1);
    return large_alloc(c, size, false);
}

void *ga_malloc(size_t size)
{
    return _ga_malloc_fast(size);
}

void *ga_calloc(size_t n, size_t size)
{
    size_t total;
    if (__builtin_mul_overflow(n, size, &total)) {
        errno = ENOMEM;
        return NULL;
    }
    ga_mcache *c = get_mcache();
    if (GA_UNLIKELY(!c)) {
        errno = ENOMEM;
        return NULL;
    }
    if (total <= GA_TINY_MAX) {
        void *p = tiny_alloc(c, total ? total : 1);
        if (p) memset(p, 0, total);
        return p;
    }
    if (total > GA_LARGE_CUTOFF) return large_alloc(c, total, true);
    unsigned ci = _ga_class_of(total) << 1 | 1;
    bool dirty = c->cls[ci].free != NULL;
    void *p = _ga_small_alloc(c, ci);
    if (p && (dirty || c->cls[ci].span->needzero)) memset(p, 0, _ga_class_to_size[ci >> 1]);
    return p;
}

/* ---- Free ---- */

/* Debug level >= 1: one line naming the call, the mistake and the pointer, then abort. */
static GA_COLD void bad_call(const char *fn, const char *what, const void *p, const char *detail)
{
    if (GOALLOC_DEBUG >= 1) _ga_fatal("%s(): %s %p%s", fn, what, p, detail);
}

/* Debug level >= 1: cheaply visible caller mistakes on a small block. */
static void check_small_free(ga_mcache *c, ga_span *s, void *p)
{
    uintptr_t off = (uintptr_t)p - s->base;
    unsigned idx = _ga_slot_index(s->divmagic, off);
    if ((uintptr_t)idx * s->elemsize != off)
        bad_call("free", "invalid pointer", p, " (inside a block)");
    if (c->cls[s->ci].free == p) bad_call("free", "double free of", p, "");
    if (atomic_load_explicit(&s->owner, memory_order_relaxed) == c &&
        !_ga_span_slot_allocated(s, idx))
        bad_call("free", "double free of", p, "");
}

/* A small block goes on the thread's local list; when the list is full, half of it goes
 * back to the spans first. */
static void local_push(ga_mcache *c, ga_span *s, void *p)
{
    ga_mcache_class *e = &c->cls[s->ci];
    if (e->room == 0) _ga_mcache_release_half(c, s->ci);
    *(void **)p = e->free;
    GA_POISON(p, s->elemsize);
    e->free = p;
    e->room--;
    GA_COUNTER_ADD(e->nfreed, 1);
}

/* Frees without a cache (the thread has none and none can be made: out of metadata). */
static void free_without_cache(ga_span *s, void *p)
{
    if (s->ci == GA_GC_CI) {
        _ga_gc_free(s, p);
    } else if (s->ci >= 2 && s->ci < GA_TINY_CENTRAL) {
        *(void **)p = NULL;
        GA_POISON(p, s->elemsize);
        _ga_mcentral_free_list(NULL, s->ci, p);
    } else if (s->ci < 2 && (uintptr_t)p == s->base) {
        _ga_mheap_free_span(s);
    }
}

/* Everything ga_free's fast path leaves, found through the arena map: NULL, the thread's
 * first free (no cache yet), collected, tiny and large objects, blocks outside the class
 * map, a full local list, and pointers goalloc does not own. */
void _ga_free_slow(ga_mcache *c, void *p)
{
    if (!p) return;
    uintptr_t a = (uintptr_t)p;
    ga_span *s = _ga_span_of(a);
    if (GA_UNLIKELY(!s)) {
        bad_call("free", "invalid pointer", p, " (not goalloc's, or already freed)");
        return;
    }
    if (!c) {
        c = get_mcache();
        if (GA_UNLIKELY(!c)) {
            free_without_cache(s, p);
            return;
        }
    }
    if (s->ci == GA_GC_CI) { /* a collected object (gc.c) */
        _ga_gc_free(s, p);
        return;
    }
    if (s->ci == GA_TINY_CENTRAL) {
        _ga_mcache_tiny_free(c, s, a);
        return;
    }
    if (s->ci < 2) {
        if (a != s->base) {
            bad_call("free", "invalid pointer", p, " (inside a block)");
            return;
        }
        GA_COUNTER_ADD(c->ctr.large_free, s->npages * GA_PAGE_SIZE);
        GA_COUNTER_ADD(c->ctr.large_free_count, 1);
        _ga_mheap_free_span(s);
        return;
    }
    if (GOALLOC_DEBUG >= 1) check_small_free(c, s, p);
    local_push(c, s, p);
}

/* Debug level >= 1: the fast path's block is a block of a small span of that class. */
void _ga_free_check(ga_mcache *c, unsigned ci, void *p)
{
    ga_span *s = _ga_span_of((uintptr_t)p);
    if (!s) bad_call("free", "invalid pointer", p, " (not goalloc's, or already freed)");
    if (!s) return;
    ga_assert_internal(s->ci == ci);
    check_small_free(c, s, p);
}

void ga_free(void *p)
{
    _ga_free_fast(p);
}

/* ---- Sizes, ownership ---- */

/* Bytes from p to the end of its block, or 0 when p is not goalloc's. */
static size_t usable_from(const ga_span *s, uintptr_t p)
{
    if (s->ci == GA_TINY_CENTRAL) return _ga_mcache_tiny_usable(s, p);
    uintptr_t off = p - s->base;
    uintptr_t idx = s->nelems == 1 ? 0 : _ga_slot_index(s->divmagic, off);
    return s->base + (idx + 1) * s->elemsize - p;
}

size_t ga_usable_size(const void *p)
{
    if (!p) return 0;
    ga_span *s = _ga_span_of((uintptr_t)p);
    return s ? usable_from(s, (uintptr_t)p) : 0;
}

int ga_owns(const void *p)
{
    return p && _ga_span_of((uintptr_t)p) != NULL;
}

void ga_thread_flush(void)
{
    if (_ga_tls_mcache) _ga_mcache_flush(_ga_tls_mcache);
}

/* ---- realloc ---- */

/* Cache index a request of n bytes would use (GA_LARGE_SPAN_CLASS for large). */
static unsigned index_for(size_t n)
{
    if (n <= GA_TINY_MAX) return GA_TINY_CENTRAL;
    if (n > GA_LARGE_CUTOFF) return GA_LARGE_SPAN_CLASS;
    return _ga_class_of(n) << 1 | 1;
}

void *ga_realloc(void *p, size_t size)
{
    if (!p) return ga_malloc(size);
    if (size == 0) {
        ga_free(p);
        return NULL;
    }
    ga_span *s = _ga_span_of((uintptr_t)p);
    if (!s) {
        bad_call("realloc", "invalid pointer", p, " (not goalloc's, or already freed)");
        errno = EINVAL;
        return NULL;
    }
    size_t old = usable_from(s, (uintptr_t)p);
    unsigned want = index_for(size);
    if (size <= old) { /* stays in place while the class still fits */
        if (want == s->ci && want != GA_LARGE_SPAN_CLASS) return p;
        if (s->ci == GA_TINY_CENTRAL || (s->ci >= 2 && want == GA_TINY_CENTRAL && old <= 16))
            return p;
        if (s->ci < 2 && size > old / 2 && want == GA_LARGE_SPAN_CLASS) return p;
    }
    void *q = ga_malloc(size);
    if (!q) return NULL;
    memcpy(q, p, old < size ? old : size);
    ga_free(p);
    return q;
}

/* ---- Aligned allocation ---- */

/* Small alignments come from class alignment facts: a slot starts at span base (8 KiB
 * aligned) + i * size, so the smallest class >= size whose size is a multiple of the alignment
 * gives it up to 8 KiB (the power-of-two classes 16..8192 always exist; a span base is only
 * page aligned, so no class promises more). Larger ones come from a large span
 * whose page run is over-allocated and trimmed to the alignment (mheap.c). */
static void *aligned_impl(size_t align, size_t size)
{
    if (size < align) size = align;
    if (size == 0) size = 1;
    if (size <= GA_TINY_MAX || align <= 16)
        return ga_malloc(size); /* malloc's alignment suffices */
    ga_mcache *c = get_mcache();
    if (GA_UNLIKELY(!c) || size > GA_MAX_REQUEST || align > GA_MAX_REQUEST) {
        errno = ENOMEM;
        return NULL;
    }
    if (size <= GA_LARGE_CUTOFF && align <= GA_PAGE_SIZE) { /* slots are only page aligned */
        for (unsigned cls = _ga_class_of(size); cls < GA_NUM_SIZE_CLASSES; cls++)
            if (_ga_class_to_size[cls] % align == 0 && _ga_class_to_size[cls] <= GA_LARGE_CUTOFF)
                return _ga_small_alloc(c, cls << 1 | 1);
    }
    if (align <= GA_PAGE_SIZE) return large_alloc(c, size, false);
    size_t npages = (size + GA_PAGE_SIZE - 1) / GA_PAGE_SIZE;
    ga_span *s = _ga_mheap_alloc_aligned(npages, align);
    if (!s) {
        errno = ENOMEM;
        return NULL;
    }
    GA_COUNTER_ADD(c->ctr.large_alloc, npages * GA_PAGE_SIZE);
    GA_COUNTER_ADD(c->ctr.large_alloc_count, 1);
    return (void *)s->base;
}

static bool is_pow2(size_t a)
{
    return a && (a & (a - 1)) == 0;
}

void *ga_aligned_alloc(size_t alignment, size_t size)
{
    if (!is_pow2(alignment)) {
        errno = EINVAL;
        return NULL;
    }
    return aligned_impl(alignment, size);
}

int ga_posix_memalign(void **out, size_t alignment, size_t size)
{
    if (!out || !is_pow2(alignment) || alignment % sizeof(void *) != 0) return EINVAL;
    int saved = errno;
    void *p = aligned_impl(alignment, size);
    if (!p) {
        errno = saved;
        return ENOMEM;
    }
    *out = p;
    return 0;
}

void *ga_memalign(size_t alignment, size_t size)
{
    if (alignment > GA_MAX_REQUEST) {
        errno = EINVAL;
        return NULL;
    }
    size_t a = 1;
    while (a < alignment)
        a <<= 1; /* glibc rounds a non-power-of-two up */
    return aligned_impl(a, size);
}

void *ga_valloc(size_t size)
{
    return aligned_impl(GA_OS_PAGE_SIZE, size);
}

void *ga_pvalloc(size_t size)
{
    if (size > GA_MAX_REQUEST) {
        errno = ENOMEM;
        return NULL;
    }
    size_t rounded = (size + GA_OS_PAGE_SIZE - 1) & ~(GA_OS_PAGE_SIZE - 1);
    return aligned_impl(GA_OS_PAGE_SIZE, rounded ? rounded : GA_OS_PAGE_SIZE);
}
