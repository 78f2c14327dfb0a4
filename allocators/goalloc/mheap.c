/* mheap.c - the heap: page runs for spans, growth in whole 4 MiB chunks, the heap's page
 * statistics and its lock (spec 5). See malloc.c for the overview.
 *
 * The heap lock guards the page allocator instance, the arena space not yet handed to it
 * [cur_base, cur_end), and the span and tiny-table fixallocs. A thread's page cache and its
 * spare span structs (ga_mcache.pcache, .spancache) serve spans under 16 pages without the
 * lock. Invariants (checked by _ga_mheap_is_valid() at debug level 3):
 *  - heap_inuse + heap_free + heap_released == heap_sys == bytes handed to the page allocator;
 *  - heap_inuse == pages of in-use spans * 8 KiB, and the arena map points every page of each
 *    in-use span at it;
 *  - pages in a thread's page cache count as free (or released) until a span takes them.
 * Lock order: mcache registry -> one mcentral -> heap -> stats.
 */
#include <pthread.h>
#include <string.h>

#include "ga_internal.h"

#define GA_PAGECACHE_MAX_RUN 16 /* runs under this many pages come from the page cache */

static pthread_mutex_t heap_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t heap_once = PTHREAD_ONCE_INIT;
static ga_pagealloc *pages;
static ga_fixalloc span_fa, tiny_fa;
static uintptr_t cur_base, cur_end; /* reserved arena space not yet given to pages */
static uint64_t heap_sys;           /* bytes handed to the page allocator */

static void heap_init_once(void)
{
    _ga_options_init();
    _ga_class_tables_init();
    _ga_fixalloc_init(&span_fa, sizeof(ga_span));
    _ga_fixalloc_init(&tiny_fa, sizeof(ga_tinymeta));
    _ga_mcentral_init();
    pages = _ga_pagealloc_new();
    if (!pages) _ga_fatal("cannot allocate the page allocator's metadata");
    _ga_heaparena_init(); /* the class map must exist before any mcache (retried at growth) */
}

void _ga_mheap_init(void)
{
    pthread_once(&heap_once, heap_init_once);
}

/* ---- Growth (heap lock held) ---- */

static bool commit_to_pages(uintptr_t base, size_t size)
{
    if (_ga_os_commit((void *)base, size) != 0) return false;
    _ga_pagealloc_grow(pages, base, size);
    heap_sys += size;
    atomic_fetch_add_explicit(&_ga_heapstat.heap_released, size, memory_order_relaxed);
    return true;
}

/* Adds at least npages (rounded up to whole chunks) of fresh, released memory; *grown gets
 * the bytes added. The reserved space [cur_base, cur_end) is extended with arenas at the hint
 * that continues it; when the kernel puts them elsewhere, what is left of the old space goes
 * to the page allocator and the new space starts over (a few rounds at most). */
static bool grow(size_t npages, size_t *grown)
{
    size_t ask = ((npages + GA_CHUNK_PAGES - 1) / GA_CHUNK_PAGES) * GA_CHUNK_SIZE;
    if (ask / GA_PAGE_SIZE < npages) return false; /* overflow */
    for (int round = 0; cur_end - cur_base < ask; round++) {
        size_t short_by = ask - (cur_end - cur_base);
        size_t need = ((short_by + GA_ARENA_SIZE - 1) / GA_ARENA_SIZE) * GA_ARENA_SIZE;
        if (need < short_by || round == 8) return false;
        uintptr_t base = _ga_heaparena_reserve(need);
        if (!base) return false;
        if (base != cur_end) { /* not contiguous: hand over what is left of the old space */
            if (cur_end > cur_base) {
                size_t left = cur_end - cur_base;
                if (!commit_to_pages(cur_base, left)) return false;
                *grown += left;
            }
            cur_base = base;
        }
        cur_end = base + need;
    }
    if (!commit_to_pages(cur_base, ask)) return false;
    cur_base += ask;
    *grown += ask;
    ga_assert_expensive(_ga_pagealloc_is_valid(pages));
    return true;
}

/* Pages for a span; heap lock held. 0 when out of memory. *grown gets the bytes the heap grew
 * by, which the caller reports to the scavenger once it has dropped the lock. */
static uintptr_t alloc_pages_locked(size_t npages, size_t *scav, size_t *grown)
{
    uintptr_t base = _ga_pagealloc_alloc(pages, npages, scav);
    if (!base && grow(npages, grown)) base = _ga_pagealloc_alloc(pages, npages, scav);
    return base;
}

/* ---- Span set-up ---- */

static void setup_span(ga_mcache *c, ga_span *s, uintptr_t base, size_t npages, unsigned ci,
                       size_t scav)
{
    size_t nbytes = npages * GA_PAGE_SIZE;
    ga_tinymeta *tiny = s->tiny;
    _ga_span_init(s, base, npages, ci);
    s->tiny = tiny;
    bool nz = _ga_heaparena_needzero(base, nbytes);
    if (scav == nbytes && _ga_os_released_pages_are_zero()) nz = false; /* spec 5.5 [1.26] */
    s->needzero = nz;
    if (ci < 2) {
        atomic_store_explicit(&s->owner, NULL, memory_order_relaxed);
        atomic_store_explicit(&s->remote, GA_REMOTE_UNOWNED, memory_order_relaxed);
    } else {
        atomic_store_explicit(&s->owner, c, memory_order_relaxed);
        atomic_store_explicit(&s->remote, 0, memory_order_relaxed);
    }
    atomic_fetch_add_explicit(&_ga_heapstat.heap_inuse, nbytes, memory_order_relaxed);
    atomic_fetch_sub_explicit(&_ga_heapstat.heap_released, scav, memory_order_relaxed);
    atomic_fetch_sub_explicit(&_ga_heapstat.heap_free, nbytes - scav, memory_order_relaxed);
    GA_UNPOISON(base, nbytes);
    atomic_store_explicit(&s->state, GA_SPAN_IN_USE, memory_order_relaxed);
    _ga_heaparena_set_span(s, false); /* publication (release stores) */
}

/* A span struct (and tiny table when ci is the tiny index); heap lock held. */
static ga_span *new_span_struct_locked(unsigned ci)
{
    ga_span *s = _ga_fixalloc_alloc(&span_fa);
    if (s && ci == GA_TINY_CENTRAL) {
        s->tiny = _ga_fixalloc_alloc(&tiny_fa);
        if (!s->tiny) {
            _ga_fixalloc_free(&span_fa, s);
            return NULL;
        }
    }
    return s;
}

ga_span *_ga_mheap_alloc(ga_mcache *c, size_t npages, unsigned ci)
{
    uintptr_t base = 0;
    size_t scav = 0, grown = 0;
    ga_span *s = NULL;
    if (c && npages < GA_PAGECACHE_MAX_RUN) {
        base = _ga_pagecache_alloc(&c->pcache, npages, &scav);
        if (!base && c->pcache.cache == 0) {
            pthread_mutex_lock(&heap_lock);
            c->pcache = _ga_pagealloc_alloc_to_cache(pages);
            pthread_mutex_unlock(&heap_lock);
            if (c->pcache.cache) base = _ga_pagecache_alloc(&c->pcache, npages, &scav);
        }
        if (c->nspancache && ci != GA_TINY_CENTRAL) s = c->spancache[--c->nspancache];
    }
    if (!base || !s) {
        pthread_mutex_lock(&heap_lock);
        if (!base) base = alloc_pages_locked(npages, &scav, &grown);
        if (base && !s) {
            if (c && ci != GA_TINY_CENTRAL) {
                while (c->nspancache < GA_SPANCACHE_MAX / 2) {
                    ga_span *x = _ga_fixalloc_alloc(&span_fa);
                    if (!x) break;
                    c->spancache[c->nspancache++] = x;
                }
                if (c->nspancache) s = c->spancache[--c->nspancache];
            } else {
                s = new_span_struct_locked(ci);
            }
            if (!s) { /* no metadata memory: give the pages back, unused */
                _ga_pagealloc_free(pages, base, npages);
                atomic_fetch_sub_explicit(&_ga_heapstat.heap_released, scav, memory_order_relaxed);
                atomic_fetch_add_explicit(&_ga_heapstat.heap_free, scav, memory_order_relaxed);
                base = 0;
            }
        }
        pthread_mutex_unlock(&heap_lock);
        if (!base) {
            if (s && c && c->nspancache < GA_SPANCACHE_MAX) c->spancache[c->nspancache++] = s;
            if (grown) _ga_scavenge_on_grow(grown);
            return NULL;
        }
    }
    setup_span(c, s, base, npages, ci, scav);
    if (grown) _ga_scavenge_on_grow(grown); /* spec 5.2 step 3, without the heap lock */
    return s;
}

ga_span *_ga_mheap_alloc_aligned(size_t npages, size_t align)
{
    size_t extra = align / GA_PAGE_SIZE - 1;
    if (npages + extra < npages) return NULL;
    size_t scav = 0, grown = 0;
    pthread_mutex_lock(&heap_lock);
    uintptr_t raw = alloc_pages_locked(npages + extra, &scav, &grown);
    ga_span *s = raw ? _ga_fixalloc_alloc(&span_fa) : NULL;
    if (raw && !s) _ga_pagealloc_free(pages, raw, npages + extra);
    if (!s) {
        if (raw) { /* the run went back dirty: count it as free, not released */
            atomic_fetch_sub_explicit(&_ga_heapstat.heap_released, scav, memory_order_relaxed);
            atomic_fetch_add_explicit(&_ga_heapstat.heap_free, scav, memory_order_relaxed);
        }
        pthread_mutex_unlock(&heap_lock);
        if (grown) _ga_scavenge_on_grow(grown);
        return NULL;
    }
    uintptr_t base = (raw + align - 1) & ~(uintptr_t)(align - 1);
    size_t head = (base - raw) / GA_PAGE_SIZE, tail = extra - head;
    if (head) _ga_pagealloc_free(pages, raw, head);
    if (tail) _ga_pagealloc_free(pages, base + npages * GA_PAGE_SIZE, tail);
    pthread_mutex_unlock(&heap_lock);
    /* The trimmed pages went back dirty: they count as free, whatever they were before. */
    size_t trimmed = (head + tail) * GA_PAGE_SIZE;
    size_t span_scav = scav > trimmed ? scav - trimmed : 0;
    atomic_fetch_sub_explicit(&_ga_heapstat.heap_released, scav - span_scav, memory_order_relaxed);
    atomic_fetch_add_explicit(&_ga_heapstat.heap_free, scav - span_scav, memory_order_relaxed);
    setup_span(NULL, s, base, npages, GA_LARGE_SPAN_CLASS, span_scav);
    if (grown) _ga_scavenge_on_grow(grown);
    return s;
}

void _ga_mheap_free_span(ga_span *s)
{
    size_t nbytes = s->npages * GA_PAGE_SIZE;
    ga_assert_internal(s->nalloc == 0 || s->spanclass < 2);
    GA_POISON(s->base, nbytes);
    pthread_mutex_lock(&heap_lock);
    atomic_store_explicit(&s->state, GA_SPAN_DEAD, memory_order_relaxed);
    _ga_heaparena_set_span(s, true);
    atomic_fetch_sub_explicit(&_ga_heapstat.heap_inuse, nbytes, memory_order_relaxed);
    atomic_fetch_add_explicit(&_ga_heapstat.heap_free, nbytes, memory_order_relaxed);
    _ga_pagealloc_free(pages, s->base, s->npages);
    if (s->tiny) _ga_fixalloc_free(&tiny_fa, s->tiny);
    s->tiny = NULL;
    _ga_fixalloc_free(&span_fa, s);
    pthread_mutex_unlock(&heap_lock);
}

void _ga_mheap_flush_cache(ga_mcache *c)
{
    if (!c->pcache.base && !c->nspancache) return;
    pthread_mutex_lock(&heap_lock);
    if (c->pcache.base) _ga_pagecache_flush(&c->pcache, pages);
    memset(&c->pcache, 0, sizeof c->pcache);
    while (c->nspancache)
        _ga_fixalloc_free(&span_fa, c->spancache[--c->nspancache]);
    pthread_mutex_unlock(&heap_lock);
}

/* ---- Statistics and checks ---- */

void _ga_mheap_meta_stats(size_t *span_inuse, size_t *span_sys, size_t *other_inuse,
                          size_t *other_sys)
{
    pthread_mutex_lock(&heap_lock);
    *span_inuse = span_fa.inuse;
    *span_sys = span_fa.sys;
    *other_inuse = tiny_fa.inuse;
    *other_sys = tiny_fa.sys;
    pthread_mutex_unlock(&heap_lock);
}

/* Walks every arena's span map: each in-use span is valid (unless another thread owns it)
 * and mapped on all its pages; returns the bytes of in-use spans, or SIZE_MAX when broken. */
static size_t walk_spans_locked(void)
{
    size_t inuse = 0;
    for (ga_heaparena *ha = _ga_heaparena_all(); ha; ha = ha->next) {
        for (size_t i = 0; i < GA_PAGES_PER_ARENA; i++) {
            ga_span *s = ha->spans[i];
            uintptr_t page = ha->base + i * GA_PAGE_SIZE;
            if (!s) continue;
            if (page < s->base || page >= s->base + s->npages * GA_PAGE_SIZE) return SIZE_MAX;
            if (page != s->base) continue;
            ga_mcache *owner = atomic_load_explicit(&s->owner, memory_order_relaxed);
            bool manual =
                s->ci < GA_NUM_CENTRALS; /* others (the GC's) are checked by their owner */
            if (manual && (!owner || owner == _ga_tls_mcache) && !_ga_span_is_valid(s))
                return SIZE_MAX;
            inuse += s->npages * GA_PAGE_SIZE;
        }
    }
    return inuse;
}

bool _ga_mheap_is_valid(void)
{
    _ga_mheap_init();
    for (unsigned ci = 2; ci < GA_NUM_CENTRALS; ci++)
        if (!_ga_mcentral_is_valid(ci)) return false;
    pthread_mutex_lock(&heap_lock);
    uint64_t in = atomic_load(&_ga_heapstat.heap_inuse);
    uint64_t fr = atomic_load(&_ga_heapstat.heap_free);
    uint64_t rel = atomic_load(&_ga_heapstat.heap_released);
    bool ok =
        in + fr + rel == heap_sys && walk_spans_locked() == in && _ga_pagealloc_is_valid(pages);
    pthread_mutex_unlock(&heap_lock);
    return ok;
}

/* ---- For the scavenger ---- */

void _ga_mheap_lock(void)
{
    pthread_mutex_lock(&heap_lock);
}

void _ga_mheap_unlock(void)
{
    pthread_mutex_unlock(&heap_lock);
}

ga_pagealloc *_ga_mheap_pages(void)
{
    return pages;
}

void _ga_mheap_account_released(size_t bytes)
{
    atomic_fetch_sub_explicit(&_ga_heapstat.heap_free, bytes, memory_order_relaxed);
    atomic_fetch_add_explicit(&_ga_heapstat.heap_released, bytes, memory_order_relaxed);
}

/* ---- Fork safety ---- */

void _ga_heap_fork_prepare(void)
{
    _ga_mcache_lock_registry();
    _ga_mcentral_lock_all();
    pthread_mutex_lock(&heap_lock);
    _ga_stats_lock();
}

void _ga_heap_fork_parent(void)
{
    _ga_stats_unlock(false);
    pthread_mutex_unlock(&heap_lock);
    _ga_mcentral_unlock_all(false);
    _ga_mcache_unlock_registry(false);
}

void _ga_heap_fork_child(void)
{
    _ga_stats_unlock(true);
    pthread_mutex_init(&heap_lock, NULL);
    _ga_mcentral_unlock_all(true);
    _ga_mcache_unlock_registry(true);
}

/* goalloc registers its heap's fork handlers itself, at load time, in every build: the
 * preload library, the runners and any program that links goalloc directly (a child forked
 * while another thread held the heap lock would otherwise wait for it forever). At load time,
 * not in _ga_mheap_init: glibc's pthread_atfork allocates its list entry, and inside the
 * first malloc that would re-enter the allocator. The GC and the scavenger register their
 * own handlers when they start, later, so their prepare steps run before this one and their
 * locks are taken first (the order they are taken in when they call into the heap). */
#if defined(__SANITIZE_THREAD__)
/* Not under ThreadSanitizer: it tracks at most 64 locks held by one thread and the prepare
 * step holds one per mcentral (about 140); TSan builds fork only in tests that do not race
 * allocation against fork(). */
#else
__attribute__((constructor)) static void heap_register_fork_handlers(void)
{
    if (pthread_atfork(_ga_heap_fork_prepare, _ga_heap_fork_parent, _ga_heap_fork_child) != 0)
        _ga_warn("pthread_atfork failed: fork() while other threads allocate may deadlock");
}
#endif
