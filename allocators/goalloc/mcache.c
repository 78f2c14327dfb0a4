/* mcache.c - the per-thread cache (spec 3): current spans, the local free lists of explicit
 * free, the tiny allocator (spec 2), the registry of caches and the flush at thread exit.
 * See malloc.c for the overview.
 *
 * Only the owning thread touches its mcache (the registry links excepted, which the registry
 * lock guards), so nothing here is atomic but the tiny counts shared with freeing threads.
 *
 * Tiny blocks in manual mode: a tiny span's ga_tinymeta keeps per 16-byte block a signed
 * count and a 16-bit boundary map. While a block is the current tiny block its allocations
 * are counted in mcache.tinycount only; frees (from any thread) decrement the shared count,
 * which is therefore <= 0. Retiring the block adds tinycount, after which the count is the
 * number of live sub-objects and the free that brings it to 0 frees the block; if it is
 * already 0 at retirement, the retiring thread frees it. The boundary map records where each
 * sub-object starts and ends, so usable_size(p) can say how far p may be written.
 */
#include <pthread.h>
#include <string.h>

#include "ga_internal.h"

__thread ga_mcache *_ga_tls_mcache __attribute__((tls_model("initial-exec")));

static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static ga_mcache *registry;
static size_t registry_n;
static ga_fixalloc mcache_fa = {.size = (sizeof(ga_mcache) + 15) & ~(size_t)15};
static pthread_key_t exit_key;
static pthread_once_t key_once = PTHREAD_ONCE_INIT;
static bool key_ok;

/* ---- Registry and thread exit ---- */

static void unregister(ga_mcache *c)
{
    pthread_mutex_lock(&registry_lock);
    if (c->prev)
        c->prev->next = c->next;
    else
        registry = c->next;
    if (c->next) c->next->prev = c->prev;
    registry_n--;
    _ga_fixalloc_free(&mcache_fa, c);
    pthread_mutex_unlock(&registry_lock);
}

static void thread_exit(void *arg)
{
    ga_mcache *c = arg;
    _ga_mcache_flush(c);
    _ga_tls_mcache = NULL;
    unregister(c);
}

static void make_key(void)
{
    key_ok = pthread_key_create(&exit_key, thread_exit) == 0;
}

/* Bound of a local free list: two spans' worth, at most 128 KiB, at least 8 blocks. */
static uint32_t list_cap(unsigned ci)
{
    unsigned cls = ci == GA_TINY_CENTRAL ? GA_TINY_SPAN_CLASS >> 1 : ci >> 1;
    if (cls == 0) return 0;
    uint32_t cap = 2u * _ga_class_to_nobjs[cls];
    uint32_t by_bytes = (128u << 10) / _ga_class_to_size[cls];
    if (by_bytes < cap) cap = by_bytes;
    return cap < 8 ? 8 : cap;
}

ga_mcache *_ga_mcache_create(void)
{
    _ga_mheap_init();
    /* malloc.c's free reads the class map unchecked once the thread has an mcache. */
    if (!__atomic_load_n(&_ga_classmap, __ATOMIC_ACQUIRE) && !_ga_heaparena_init()) return NULL;
    pthread_mutex_lock(&registry_lock);
    ga_mcache *c = _ga_fixalloc_alloc(&mcache_fa);
    if (c) {
        c->next = registry;
        if (registry) registry->prev = c;
        registry = c;
        registry_n++;
    }
    pthread_mutex_unlock(&registry_lock);
    if (!c) return NULL;
    for (unsigned ci = 0; ci < GA_NUM_CENTRALS; ci++) {
        c->cls[ci].span = &_ga_span_empty;
        c->cls[ci].cap = c->cls[ci].room = list_cap(ci);
    }
    _ga_tls_mcache = c; /* before setspecific, which may allocate */
    pthread_once(&key_once, make_key);
    if (key_ok) pthread_setspecific(exit_key, c);
    return c;
}

void _ga_mcache_foreach(void (*fn)(ga_mcache *c, void *ctx), void *ctx)
{
    for (ga_mcache *c = registry; c; c = c->next)
        fn(c, ctx);
}

size_t _ga_mcache_count(void)
{
    pthread_mutex_lock(&registry_lock);
    size_t n = registry_n;
    pthread_mutex_unlock(&registry_lock);
    return n;
}

void _ga_mcache_meta_stats(size_t *inuse, size_t *sys)
{
    pthread_mutex_lock(&registry_lock);
    *inuse = mcache_fa.inuse;
    *sys = mcache_fa.sys;
    pthread_mutex_unlock(&registry_lock);
}

void _ga_mcache_lock_registry(void)
{
    pthread_mutex_lock(&registry_lock);
}

void _ga_mcache_unlock_registry(bool reinit)
{
    if (reinit)
        pthread_mutex_init(&registry_lock, NULL);
    else
        pthread_mutex_unlock(&registry_lock);
}

/* ---- Small allocation slow path (spec 3.3 refill) ---- */

void *_ga_mcache_alloc_slow(ga_mcache *c, unsigned ci)
{
    ga_mcache_class *e = &c->cls[ci];
    ga_span *s = e->span;
    if (s != &_ga_span_empty) {
        int idx = _ga_span_next_free(s);
        if (idx < 0) {
            /* The cursor reached the end: take back remote frees and reuse freed slots
             * before giving the span up. */
            if (atomic_load_explicit(&s->remote, memory_order_relaxed)) _ga_span_drain_remote(s, 0);
            if (s->nalloc < s->nelems) {
                _ga_span_reset_cursor(s);
                idx = _ga_span_next_free(s);
            }
        }
        if (idx >= 0) return (void *)(s->base + (uintptr_t)idx * s->elemsize);
        _ga_mcentral_uncache_span(s);
        e->span = &_ga_span_empty;
    }
    s = _ga_mcentral_cache_span(c, ci);
    if (GA_UNLIKELY(e->span != &_ga_span_empty)) {
        /* A malloc nested in the growth (the scavenger starting its thread) installed a span
         * of this class meanwhile: give that one back rather than lose track of it. */
        _ga_mcentral_uncache_span(e->span);
        e->span = &_ga_span_empty;
    }
    if (!s) return NULL;
    e->span = s;
    int idx = _ga_span_next_free(s);
    ga_assert_internal(idx >= 0);
    return (void *)(s->base + (uintptr_t)idx * s->elemsize);
}

/* ---- Explicit free: the local lists ---- */

void _ga_mcache_release_half(ga_mcache *c, unsigned ci)
{
    ga_mcache_class *e = &c->cls[ci];
    uint32_t keep = _ga_mcache_nfree(e) / 2;
    void *rest = e->free;
    if (keep == 0) {
        e->free = NULL;
    } else {
        void *last = e->free;
        for (uint32_t i = 1; i < keep; i++)
            last = _ga_link_get(last);
        rest = _ga_link_get(last);
        _ga_link_set(last, NULL);
    }
    e->room = e->cap - keep;
    if (rest) _ga_mcentral_free_list(c, ci, rest);
}

/* Puts a whole tiny block on the local list of the tiny blocks. */
static void local_free(ga_mcache *c, unsigned ci, void *p)
{
    ga_mcache_class *e = &c->cls[ci];
    if (e->room == 0) _ga_mcache_release_half(c, ci);
    *(void **)p = e->free;
    GA_POISON(p, GA_TINY_SIZE);
    e->free = p;
    e->room--;
    GA_COUNTER_ADD(e->nfreed, 1);
}

/* ---- Tiny allocator ---- */

static unsigned tiny_index(const ga_span *s, uintptr_t blk)
{
    return (unsigned)((blk - s->base) / GA_TINY_SIZE);
}

/* Stops using the current tiny block; frees it when all its sub-objects are already freed. */
static void tiny_retire(ga_mcache *c)
{
    if (!c->tiny) return;
    uintptr_t blk = c->tiny;
    int n = atomic_fetch_add_explicit(c->tinycountp, (int8_t)c->tinycount, memory_order_acq_rel) +
            (int)c->tinycount;
    c->tiny = 0;
    c->tinyoffset = 0;
    c->tinycount = 0;
    c->tinybounds = 0;
    c->tinyboundsp = NULL;
    c->tinycountp = NULL;
    if (n == 0) local_free(c, GA_TINY_CENTRAL, (void *)blk);
}

static void *tiny_block(ga_mcache *c)
{
    ga_mcache_class *e = &c->cls[GA_TINY_CENTRAL];
    void *p = e->free;
    if (p) {
        GA_UNPOISON(p, GA_TINY_SIZE);
        e->free = *(void **)p;
        e->room++;
    } else {
        p = _ga_mcache_alloc_slow(c, GA_TINY_CENTRAL);
        if (!p) return NULL;
        GA_UNPOISON(p, GA_TINY_SIZE);
    }
    GA_COUNTER_ADD(e->nmalloc, 1);
    return p;
}

void *_ga_mcache_tiny_alloc_slow(ga_mcache *c, size_t size)
{
    uintptr_t blk = (uintptr_t)tiny_block(c);
    if (!blk) return NULL;
    ga_span *s = _ga_span_of(blk);
    unsigned bi = tiny_index(s, blk);
    uint16_t bounds = (uint16_t)(1u | (size < GA_TINY_SIZE ? 1u << size : 0u));
    ga_assert_internal(atomic_load_explicit(&s->tiny->count[bi], memory_order_relaxed) == 0);
    atomic_store_explicit(&s->tiny->bounds[bi], bounds, memory_order_relaxed);
    GA_COUNTER_ADD(c->ctr.tiny_allocs, 1);
    if (c->tiny == 0 || size < c->tinyoffset) { /* the new block has more room left */
        tiny_retire(c);
        c->tiny = blk;
        c->tinyoffset = size;
        c->tinycount = 1;
        c->tinybounds = bounds;
        c->tinyboundsp = &s->tiny->bounds[bi];
        c->tinycountp = &s->tiny->count[bi];
    } else { /* used for this object only */
        atomic_store_explicit(&s->tiny->count[bi], 1, memory_order_release);
    }
    return (void *)blk;
}

void _ga_mcache_tiny_free(ga_mcache *c, ga_span *s, uintptr_t p)
{
    uintptr_t blk = p & ~(uintptr_t)(GA_TINY_SIZE - 1);
    unsigned bi = tiny_index(s, blk);
    if (GOALLOC_DEBUG >= 1) {
        uint16_t b = atomic_load_explicit(&s->tiny->bounds[bi], memory_order_relaxed);
        if (!((b >> (p & (GA_TINY_SIZE - 1))) & 1))
            _ga_fatal("free(): invalid pointer %p (not the start of a block)", (void *)p);
    }
    GA_COUNTER_ADD(c->ctr.tiny_frees, 1);
    int n = atomic_fetch_sub_explicit(&s->tiny->count[bi], 1, memory_order_acq_rel) - 1;
    if (n == 0) local_free(c, GA_TINY_CENTRAL, (void *)blk);
}

size_t _ga_mcache_tiny_usable(const ga_span *s, uintptr_t p)
{
    uintptr_t blk = p & ~(uintptr_t)(GA_TINY_SIZE - 1);
    unsigned off = (unsigned)(p - blk);
    uint32_t b = atomic_load_explicit(&((ga_span *)s)->tiny->bounds[tiny_index(s, blk)],
                                      memory_order_relaxed);
    b = (b | (1u << GA_TINY_SIZE)) >> (off + 1);
    return (size_t)__builtin_ctz(b) + 1;
}

/* ---- Flush (thread exit, ga_thread_flush) ---- */

void _ga_mcache_flush(ga_mcache *c)
{
    tiny_retire(c);
    for (unsigned ci = 2; ci < GA_NUM_CENTRALS; ci++) {
        ga_mcache_class *e = &c->cls[ci];
        if (e->free) _ga_mcentral_free_list(c, ci, e->free);
        e->free = NULL;
        e->room = e->cap;
    }
    for (unsigned ci = 2; ci < GA_NUM_CENTRALS; ci++) {
        ga_mcache_class *e = &c->cls[ci];
        if (e->span != &_ga_span_empty) _ga_mcentral_uncache_span(e->span);
        e->span = &_ga_span_empty;
    }
    _ga_mheap_flush_cache(c);
    _ga_stats_absorb(c);
}
