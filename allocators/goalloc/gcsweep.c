/* gcsweep.c - the collected spans and the sweep (spec 9). See gc.c for the overview.
 *
 * Collected objects live in spans of their own (ci == GA_GC_CI), never on mcentral's lists,
 * so the sweeper never meets a manual block. This file keeps them: per span class a partial
 * and a full list (doubly linked through span.next/prev; span.list stays NULL), one list of
 * large spans, and the GC metadata each span carries (mark bits, then pointer bits for scan
 * spans: gcmarkbits, see _ga_gc_ptrbits), carved from two fixallocs or, for big large scan
 * objects, straight from _ga_os_alloc_meta. One mutex (central_lock) guards all of it; lock
 * order: collector's world stop -> central_lock -> heap lock.
 *
 * Invariants (checked by _ga_gc_spans_valid() at debug level 3): a collected span is either
 * cached by exactly one mutator (on no list) or on exactly one list: partial when
 * nalloc < nelems, full otherwise; every mark bit is clear outside a collection; a mark bit
 * is set only on an allocated slot (gcmark.c checks alloc bits before marking).
 *
 * Sweep: goalloc sweeps every collected span while the world is still stopped, right after
 * marking (Go sweeps lazily and in the background; see gc.c for why and what it costs). Mark
 * bits become alloc bits (the bits are copied: ga_span keeps its alloc bits inline), nalloc
 * becomes their popcount, the cursor restarts at slot 0, a span that freed a slot sets
 * needzero, an empty span returns its pages to the heap.
 */
#include <pthread.h>
#include <string.h>

#include "ga_internal.h"

#define MARK_WORDS_SMALL (GA_MAX_OBJS_PER_SPAN / 64)

static pthread_mutex_t central_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static ga_span *partial[GA_NUM_SPAN_CLASSES], *full[GA_NUM_SPAN_CLASSES], *large;
static ga_fixalloc meta_noscan, meta_scan; /* mark words only / mark words + pointer bits */
static size_t scan_meta_bytes;             /* size of a meta_scan object */
static size_t nspans;

static void init(void)
{
    size_t maxpages = 1;
    for (unsigned c = 1; c < GA_NUM_SIZE_CLASSES; c++)
        if (_ga_class_to_npages[c] > maxpages) maxpages = _ga_class_to_npages[c];
    scan_meta_bytes = MARK_WORDS_SMALL * 8 + maxpages * GA_PAGE_SIZE / 64;
    _ga_fixalloc_init(&meta_noscan, MARK_WORDS_SMALL * 8);
    _ga_fixalloc_init(&meta_scan, scan_meta_bytes);
}

static bool spans_valid_locked(void);

/* ---- Lists (central_lock held) ---- */

static void push(ga_span **head, ga_span *s)
{
    s->prev = NULL;
    s->next = *head;
    if (*head) (*head)->prev = s;
    *head = s;
}

static void unlink_span(ga_span **head, ga_span *s)
{
    if (s->prev)
        s->prev->next = s->next;
    else
        *head = s->next;
    if (s->next) s->next->prev = s->prev;
    s->next = s->prev = NULL;
}

static void file_span(ga_span *s)
{
    if (s->spanclass < 2)
        push(&large, s);
    else
        push(s->nalloc < s->nelems ? &partial[s->spanclass] : &full[s->spanclass], s);
}

/* ---- GC metadata ---- */

static size_t meta_bytes(const ga_span *s)
{
    size_t marks = (s->nelems + 63u) / 64u * 8;
    if (s->spanclass & 1) return marks;
    return marks + s->npages * GA_PAGE_SIZE / 64;
}

static uint64_t *meta_alloc(const ga_span *s)
{
    size_t n = meta_bytes(s);
    if (s->spanclass & 1) return _ga_fixalloc_alloc(&meta_noscan);
    if (n <= scan_meta_bytes) return _ga_fixalloc_alloc(&meta_scan);
    return _ga_os_alloc_meta((n + GA_OS_PAGE_SIZE - 1) & ~(GA_OS_PAGE_SIZE - 1));
}

static void meta_free(ga_span *s)
{
    size_t n = meta_bytes(s);
    if (s->spanclass & 1)
        _ga_fixalloc_free(&meta_noscan, s->gcmarkbits);
    else if (n <= scan_meta_bytes)
        _ga_fixalloc_free(&meta_scan, s->gcmarkbits);
    else
        _ga_os_free_meta(s->gcmarkbits, (n + GA_OS_PAGE_SIZE - 1) & ~(GA_OS_PAGE_SIZE - 1));
    s->gcmarkbits = NULL;
}

/* ---- Spans for mutators ---- */

ga_span *_ga_gc_span_new(size_t npages, unsigned spc)
{
    pthread_once(&init_once, init);
    /* The thread's page cache when it has an mcache (never created here: malloc.c sets up
     * its class table when it creates one). */
    ga_span *s = _ga_mheap_alloc(_ga_tls_mcache, npages, spc);
    if (!s) return NULL;
    pthread_mutex_lock(&central_lock);
    s->gcmarkbits = meta_alloc(s);
    if (s->gcmarkbits) nspans++;
    pthread_mutex_unlock(&central_lock);
    atomic_store_explicit(&s->owner, NULL, memory_order_relaxed);
    atomic_store_explicit(&s->remote, GA_REMOTE_UNOWNED, memory_order_relaxed);
    if (!s->gcmarkbits) {
        _ga_mheap_free_span(s);
        return NULL;
    }
    s->ci = GA_GC_CI; /* from now on ga_free routes its objects to gc.c */
    return s;
}

void _ga_gc_central_put(ga_span *s)
{
    ga_assert_internal(s->ci == GA_GC_CI);
    pthread_mutex_lock(&central_lock);
    _ga_span_materialize(s);
    file_span(s);
    pthread_mutex_unlock(&central_lock);
}

ga_span *_ga_gc_central_get(unsigned spc)
{
    pthread_mutex_lock(&central_lock);
    ga_span *s = partial[spc];
    if (s) unlink_span(&partial[spc], s);
    pthread_mutex_unlock(&central_lock);
    if (s) _ga_span_reset_cursor(s);
    return s;
}

static void free_span_locked(ga_span *s)
{
    meta_free(s);
    nspans--;
    s->nalloc = 0;
    s->ci = s->spanclass; /* a dead span is nobody's collected span */
    _ga_mheap_free_span(s);
}

void _ga_gc_large_free(ga_span *s)
{
    pthread_mutex_lock(&central_lock);
    unlink_span(&large, s);
    free_span_locked(s);
    pthread_mutex_unlock(&central_lock);
}

/* ---- Sweep (world stopped) ---- */

/* Poisons, for AddressSanitizer, the slots freed in word w (alloc bits old -> new). */
static void poison_freed(const ga_span *s, unsigned w, uint64_t freed)
{
#ifdef GA_ASAN
    while (freed) {
        unsigned idx = w * 64 + (unsigned)__builtin_ctzll(freed);
        GA_POISON(s->base + idx * s->elemsize, s->elemsize);
        freed &= freed - 1;
    }
#else
    (void)s, (void)w, (void)freed;
#endif
}

/* Sweeps one small span; returns the number of slots it freed. */
static unsigned sweep_small(ga_span *s)
{
    _ga_span_materialize(s);
    unsigned nw = (s->nelems + 63u) / 64u, live = 0;
    uint64_t *mark = s->gcmarkbits;
    for (unsigned w = 0; w < nw; w++) {
        uint64_t old = s->allocbits[w];
        ga_assert_internal((mark[w] & ~old) == 0);
        poison_freed(s, w, old & ~mark[w]);
        s->allocbits[w] = mark[w];
        live += (unsigned)__builtin_popcountll(mark[w]);
        mark[w] = 0;
    }
    unsigned freed = s->nalloc - live;
    s->nalloc = (uint16_t)live;
    s->freeindex = 0;
    s->matindex = 0;
    s->alloccache = ~s->allocbits[0];
    if (freed) s->needzero = 1;
    return freed;
}

static void sweep_class(unsigned spc, ga_gc_sweep_stats *st)
{
    ga_span *list[2] = {partial[spc], full[spc]};
    partial[spc] = full[spc] = NULL;
    for (int k = 0; k < 2; k++) {
        for (ga_span *s = list[k], *next; s; s = next) {
            next = s->next;
            unsigned freed = sweep_small(s);
            st->small_free[spc >> 1] += freed;
            st->freed_bytes += (uint64_t)freed * s->elemsize;
            st->marked_bytes += (uint64_t)s->nalloc * s->elemsize;
            if (s->nalloc == 0) {
                free_span_locked(s);
                st->spans_freed++;
            } else {
                file_span(s);
            }
        }
    }
}

void _ga_gc_sweep_all(ga_gc_sweep_stats *st)
{
    pthread_once(&init_once, init);
    memset(st, 0, sizeof *st);
    pthread_mutex_lock(&central_lock);
    for (unsigned spc = 2; spc < GA_NUM_SPAN_CLASSES; spc++)
        sweep_class(spc, st);
    for (ga_span *s = large, *next; s; s = next) {
        next = s->next;
        if (s->gcmarkbits[0] & 1) {
            s->gcmarkbits[0] = 0;
            st->marked_bytes += s->npages * GA_PAGE_SIZE;
            continue;
        }
        unlink_span(&large, s);
        st->freed_bytes += s->npages * GA_PAGE_SIZE;
        st->large_free += s->npages * GA_PAGE_SIZE;
        st->large_free_count++;
        st->spans_freed++;
        free_span_locked(s);
    }
    ga_assert_expensive(spans_valid_locked());
    pthread_mutex_unlock(&central_lock);
}

static void mark_list_all(ga_span *s)
{
    for (; s; s = s->next) {
        _ga_span_materialize(s);
        memcpy(s->gcmarkbits, s->allocbits, (s->nelems + 63u) / 64u * 8);
    }
}

void _ga_gc_mark_everything(void)
{
    pthread_mutex_lock(&central_lock);
    for (unsigned spc = 2; spc < GA_NUM_SPAN_CLASSES; spc++) {
        mark_list_all(partial[spc]);
        mark_list_all(full[spc]);
    }
    for (ga_span *s = large; s; s = s->next)
        s->gcmarkbits[0] = 1;
    pthread_mutex_unlock(&central_lock);
}

/* ---- Checks and counts ---- */

size_t _ga_gc_span_count(void)
{
    pthread_mutex_lock(&central_lock);
    size_t n = nspans;
    pthread_mutex_unlock(&central_lock);
    return n;
}

static bool list_valid(const ga_span *s, int kind)
{
    for (const ga_span *prev = NULL; s; prev = s, s = s->next) {
        if (s->ci != GA_GC_CI || s->prev != prev || !_ga_span_is_valid(s)) return false;
        if (kind == 0 && s->nalloc >= s->nelems) return false;
        if (kind == 1 && s->nalloc != s->nelems) return false;
        if (kind == 2 && s->spanclass >= 2) return false;
        for (unsigned w = 0; w < (s->nelems + 63u) / 64u; w++)
            if (s->gcmarkbits[w] != 0) return false;
    }
    return true;
}

static bool spans_valid_locked(void)
{
    for (unsigned spc = 2; spc < GA_NUM_SPAN_CLASSES; spc++)
        if (!list_valid(partial[spc], 0) || !list_valid(full[spc], 1)) return false;
    return list_valid(large, 2);
}

bool _ga_gc_spans_valid(void)
{
    pthread_mutex_lock(&central_lock);
    bool ok = spans_valid_locked();
    pthread_mutex_unlock(&central_lock);
    return ok;
}

void _ga_gc_sweep_fork_child(void)
{
    pthread_mutex_init(&central_lock, NULL);
}
