/* gcmark.c - marking: the grey-object queue shared by the background mark worker, mutator
 * assists and the write barrier, shading, and scanning (spec 9.1). See gc.c for the overview
 * and for which invariant holds in which phase.
 *
 * A candidate word marks its object when it points anywhere inside an allocated slot of a
 * collected span (interior pointers too: the slot index comes from the class's divmagic);
 * pointers into manual spans, arena chunks, metadata or foreign memory are ignored, as are
 * slots free in the alloc bits (so a dangling pointer never resurrects a freed slot). Scan
 * objects are scanned through their span's pointer bits (1 per word: all ones for untyped
 * objects, the type's mask for typed ones, written at allocation); noscan objects never.
 *
 * Work queue (Go's gcWork and workbufs): each marker (the worker, an assisting mutator, a
 * mutator's write barrier, the stop-the-world collector) owns a ga_gcwork holding one buffer
 * of grey objects; full buffers go on a global list (work_lock), empty ones come from a free
 * list (16 KiB each from _ga_os_alloc_meta, off the GC heap; SPARE_WBUFS kept between
 * cycles).
 * If a buffer cannot be had the mark is incomplete (_ga_gc_mark_finish returns false) and the
 * collector keeps everything. Invariant: an object is pushed at most once per cycle (when its
 * mark bit goes from 0 to 1, by an atomic or), so the queue never exceeds the scan objects.
 *
 * Races by design. While the world runs, the marker reads span fields, pointer bits and
 * object words that mutators write without synchronisation with it: a torn or stale
 * non-pointer word only keeps garbage alive, and pointer words change only through
 * ga_store_ptr, whose barrier shades both the old and the new value. Those readers are
 * therefore built without ThreadSanitizer instrumentation (GA_RACY_READER); everything they
 * publish (mark bits, the queue) goes through atomics or work_lock.
 */
#include <pthread.h>
#include <string.h>

#include "ga_internal.h"

#ifdef GA_TSAN
#define GA_RACY_READER __attribute__((no_sanitize("thread"), noinline))
#else
#define GA_RACY_READER
#endif

#define WBUF_BYTES ((size_t)16 << 10)
#define SPARE_WBUFS 8 /* empty buffers kept between cycles; the rest go back to the OS */
#define PREFETCH_RING 8

struct ga_wbuf {
    struct ga_wbuf *next; /* on the full or the free list */
    size_t n;
    struct {
        uintptr_t obj;
        ga_span *span; /* saves the second lookup when it is scanned */
    } w[GA_WBUF_CAP];
};

static pthread_mutex_t work_lock = PTHREAD_MUTEX_INITIALIZER;
static ga_wbuf *full_list, *free_list; /* work_lock */
static size_t nfree;                   /* work_lock: buffers on free_list */
/* Buffers beyond SPARE_WBUFS after a mark, unmapped once the world runs again (one munmap
 * each: thousands after a big root scan, milliseconds a pause need not hold). */
static ga_wbuf *retire_list;          /* work_lock */
static _Atomic uint64_t retire_bytes; /* their size, not yet unmapped */
static _Atomic size_t nfull;          /* buffers on full_list, read racily as a hint */
static _Atomic bool oom;
static _Atomic uint64_t marked_total, scanned_total;
static _Atomic bool concurrent; /* the world runs while marking (gc.c sets it per cycle) */

/* ---- Buffers ---- */

static ga_wbuf *get_empty(void) /* work_lock held */
{
    ga_wbuf *b = free_list;
    if (b)
        free_list = b->next, nfree--;
    else if (!(b = _ga_os_alloc_meta(WBUF_BYTES)))
        return NULL;
    b->n = 0;
    return b;
}

static void put_full(ga_wbuf *b) /* work_lock held */
{
    b->next = full_list;
    full_list = b;
    atomic_fetch_add_explicit(&nfull, 1, memory_order_relaxed);
}

static void publish_counts(ga_gcwork *w)
{
    if (w->marked) atomic_fetch_add_explicit(&marked_total, w->marked, memory_order_relaxed);
    if (w->scanned) atomic_fetch_add_explicit(&scanned_total, w->scanned, memory_order_relaxed);
    w->marked = w->scanned = 0;
}

void _ga_gcwork_flush(ga_gcwork *w)
{
    publish_counts(w);
    if (!w->buf) return;
    pthread_mutex_lock(&work_lock);
    if (w->buf->n)
        put_full(w->buf);
    else {
        w->buf->next = free_list;
        free_list = w->buf;
        nfree++;
    }
    pthread_mutex_unlock(&work_lock);
    w->buf = NULL;
}

static GA_NOINLINE void push_slow(ga_gcwork *w)
{
    pthread_mutex_lock(&work_lock);
    if (w->buf) put_full(w->buf);
    w->buf = get_empty();
    pthread_mutex_unlock(&work_lock);
    if (!w->buf) atomic_store(&oom, true);
}

static inline void push(ga_gcwork *w, uintptr_t obj, ga_span *s)
{
    if (GA_UNLIKELY(!w->buf || w->buf->n == GA_WBUF_CAP)) {
        push_slow(w);
        if (!w->buf) return;
    }
    w->buf->w[w->buf->n].obj = obj;
    w->buf->w[w->buf->n].span = s;
    w->buf->n++;
}

/* Pops a grey object (obj, s), refilling from the full list; false when none is left. */
static bool pop(ga_gcwork *w, uintptr_t *obj, ga_span **s)
{
    if (!w->buf || w->buf->n == 0) {
        if (atomic_load_explicit(&nfull, memory_order_relaxed) == 0) return false;
        pthread_mutex_lock(&work_lock);
        ga_wbuf *b = full_list;
        if (b) {
            full_list = b->next;
            atomic_fetch_sub_explicit(&nfull, 1, memory_order_relaxed);
            if (w->buf) {
                w->buf->next = free_list;
                free_list = w->buf;
                nfree++;
            }
            w->buf = b;
        }
        pthread_mutex_unlock(&work_lock);
        if (!b) return false;
    }
    w->buf->n--;
    *obj = w->buf->w[w->buf->n].obj;
    *s = w->buf->w[w->buf->n].span;
    return true;
}

/* Go's gcWork.balance: when the global list is empty, half of a local buffer goes there, so
 * an assist (or the worker) finds work another marker holds. */
static GA_NOINLINE void share(ga_gcwork *w)
{
    pthread_mutex_lock(&work_lock);
    ga_wbuf *b = get_empty();
    if (b) {
        size_t half = w->buf->n / 2;
        memcpy(b->w, w->buf->w + (w->buf->n - half), half * sizeof b->w[0]);
        b->n = half;
        w->buf->n -= half;
        put_full(b);
    }
    pthread_mutex_unlock(&work_lock);
}

/* ---- Shading and scanning ---- */

static GA_RACY_READER void shade(ga_gcwork *w, uintptr_t p)
{
    ga_span *s = _ga_span_of(p);
    if (!s) {
        _ga_userarena_note_pointer(p); /* into a quarantined arena chunk? (userarena.c) */
        return;
    }
    /* gcsweep.c publishes a fresh collected span's ci last, with release order. */
    if (__atomic_load_n(&s->ci, __ATOMIC_ACQUIRE) != GA_GC_CI) return;
    unsigned idx = s->nelems == 1 ? 0 : _ga_slot_index(s->divmagic, p - s->base);
    if (idx >= s->nelems) return;
    /* Alloc bits are exact for every object allocated before the mark began (the world stop
     * materialised every cursor); objects allocated since are black (gc.c blackens them when
     * their span leaves the cache), so while the world runs the cursor range is ignored. With
     * the world stopped the range counts: a forked child may hold a span another thread had
     * mid-refill at fork(), whose [matindex, freeindex) is allocated (mspan.c's invariant). */
    uint64_t bits = __atomic_load_n(&s->allocbits[idx / 64], __ATOMIC_RELAXED);
    if (!((bits >> (idx & 63)) & 1) && (atomic_load_explicit(&concurrent, memory_order_relaxed) ||
                                        !(idx >= s->matindex && idx < s->freeindex)))
        return;
    uint64_t bit = (uint64_t)1 << (idx & 63), *mw = &s->gcmarkbits[idx / 64];
    if (__atomic_load_n(mw, __ATOMIC_RELAXED) & bit) return;
    if (__atomic_fetch_or(mw, bit, __ATOMIC_RELAXED) & bit) return; /* another marker won */
    w->marked += s->elemsize; /* a large span's elemsize is its pages */
    if (!(s->spanclass & 1)) push(w, s->base + (uintptr_t)idx * s->elemsize, s);
}

void _ga_gc_shade(ga_gcwork *w, uintptr_t old, uintptr_t value)
{
    if (old >= GA_PAGE_SIZE) shade(w, old);
    if (value >= GA_PAGE_SIZE) shade(w, value);
}

static GA_RACY_READER void scan_words(ga_gcwork *w, const uintptr_t *words, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        uintptr_t v = words[i];
        if (v >= GA_PAGE_SIZE) shade(w, v);
    }
    w->scanned += n * 8;
}

void _ga_gc_scan_range(ga_gcwork *w, uintptr_t lo, uintptr_t hi)
{
    lo = (lo + 7) & ~(uintptr_t)7;
    hi &= ~(uintptr_t)7;
    if (hi > lo) scan_words(w, (const uintptr_t *)lo, (hi - lo) / 8);
}

/* Scans the object at obj through its span's pointer bits. */
static GA_RACY_READER void scan_object(ga_gcwork *w, uintptr_t obj, const ga_span *s)
{
    const uint64_t *bits = _ga_gc_ptrbits(s);
    size_t first = (obj - s->base) / 8, nwords = s->elemsize / 8;
    const uintptr_t *words = (const uintptr_t *)obj;
    size_t i = 0;
    while (i < nwords) {
        size_t wi = first + i, left = 64 - (wi & 63);
        uint64_t b = bits[wi / 64] >> (wi & 63);
        if (left > nwords - i) {
            left = nwords - i;
            b &= ((uint64_t)1 << left) - 1;
        }
        while (b) {
            unsigned k = (unsigned)__builtin_ctzll(b);
            uintptr_t v = words[i + k];
            if (v >= GA_PAGE_SIZE) shade(w, v);
            b &= b - 1;
        }
        i += left;
    }
    w->scanned += s->elemsize;
}

uint64_t _ga_gc_drain(ga_gcwork *w, uint64_t budget)
{
    /* Popped objects wait in a small FIFO after a prefetch, so their cache misses overlap
     * with the scanning of the ones before them. */
    struct {
        uintptr_t obj;
        ga_span *span;
    } ring[PREFETCH_RING];
    unsigned head = 0, count = 0, polls = 0;
    uint64_t start = w->scanned, done = 0;
    uintptr_t obj;
    ga_span *s;
    while (!atomic_load_explicit(&oom, memory_order_relaxed)) {
        if ((done = w->scanned - start) >= budget && count == 0) break;
        if (done < budget && pop(w, &obj, &s)) {
            __builtin_prefetch((const void *)obj);
            if (count < PREFETCH_RING) {
                unsigned slot = (head + count++) % PREFETCH_RING;
                ring[slot].obj = obj;
                ring[slot].span = s;
                continue;
            }
            uintptr_t xo = ring[head].obj;
            ga_span *xs = ring[head].span;
            ring[head].obj = obj;
            ring[head].span = s;
            head = (head + 1) % PREFETCH_RING;
            scan_object(w, xo, xs);
            if (GA_UNLIKELY((++polls & 63) == 0) && w->buf && w->buf->n > 16 &&
                atomic_load_explicit(&nfull, memory_order_relaxed) == 0 &&
                atomic_load_explicit(&concurrent, memory_order_relaxed))
                share(w);
        } else if (count) {
            uintptr_t xo = ring[head].obj;
            ga_span *xs = ring[head].span;
            head = (head + 1) % PREFETCH_RING;
            count--;
            scan_object(w, xo, xs);
        } else {
            break;
        }
    }
    done = w->scanned - start;
    if (w->scanned >= ((uint64_t)1 << 20)) publish_counts(w); /* progress for assists */
    return done;
}

/* ---- The cycle's mark state ---- */

void _ga_gc_mark_begin(bool world_runs)
{
    atomic_store(&oom, false);
    atomic_store(&marked_total, 0);
    atomic_store(&scanned_total, 0);
    atomic_store(&concurrent, world_runs);
}

void _ga_gc_mark_add_black(uint64_t bytes)
{
    atomic_fetch_add_explicit(&marked_total, bytes, memory_order_relaxed);
}

bool _ga_gc_work_pending(void)
{
    return atomic_load_explicit(&nfull, memory_order_relaxed) != 0;
}

uint64_t _ga_gc_scan_work(void)
{
    return atomic_load_explicit(&scanned_total, memory_order_relaxed);
}

bool _ga_gc_mark_finish(uint64_t *marked)
{
    bool complete = !atomic_load(&oom);
    /* After running out of buffers: drop what is queued (the caller keeps everything). */
    pthread_mutex_lock(&work_lock);
    while (full_list) {
        ga_wbuf *b = full_list;
        full_list = b->next;
        b->next = free_list;
        free_list = b;
        nfree++;
    }
    atomic_store(&nfull, 0);
    /* The queue's peak (a root scan may grey the whole live set at once) is not kept: it
     * would count as non-heap memory against a memory limit for the rest of the run. It is
     * set aside here and unmapped by _ga_gc_mark_retire, after the pause. */
    ga_wbuf **pp = &free_list;
    for (int k = 0; *pp && k < SPARE_WBUFS; k++)
        pp = &(*pp)->next;
    if (*pp) { /* no walk of the surplus: thousands of buffers, a TLB miss each */
        ga_assert_internal(nfree > SPARE_WBUFS);
        size_t n = nfree - SPARE_WBUFS;
        if (retire_list) { /* a retire still pending (rare): append it */
            ga_wbuf **tail = pp;
            while (*tail)
                tail = &(*tail)->next;
            *tail = retire_list;
        }
        retire_list = *pp;
        *pp = NULL;
        nfree = SPARE_WBUFS;
        atomic_fetch_add(&retire_bytes, (uint64_t)n * WBUF_BYTES);
    }
    pthread_mutex_unlock(&work_lock);
    atomic_store(&concurrent, false);
    *marked = atomic_load(&marked_total);
    return complete;
}

uint64_t _ga_gc_mark_retiring(void)
{
    return atomic_load(&retire_bytes);
}

void _ga_gc_mark_retire(void)
{
    pthread_mutex_lock(&work_lock);
    ga_wbuf *b = retire_list;
    retire_list = NULL;
    pthread_mutex_unlock(&work_lock);
    while (b) {
        ga_wbuf *next = b->next;
        _ga_os_free_meta(b, WBUF_BYTES);
        atomic_fetch_sub(&retire_bytes, WBUF_BYTES);
        b = next;
    }
}

bool _ga_gc_mark(const ga_gc_root *roots, size_t nroots, uint64_t *marked)
{
    ga_gcwork w = {0};
    _ga_gc_mark_begin(false);
    for (size_t r = 0; r < nroots; r++)
        _ga_gc_scan_range(&w, roots[r].lo, roots[r].hi);
    _ga_userarena_foreach_root(&w, _ga_gc_scan_range); /* values in live user arenas */
    _ga_gc_drain(&w, UINT64_MAX);
    _ga_gcwork_flush(&w);
    return _ga_gc_mark_finish(marked);
}

void _ga_gc_mark_fork_child(void)
{
    pthread_mutex_init(&work_lock, NULL);
    full_list = NULL; /* buffers other threads held are lost with them; slabs stay mapped */
    atomic_store(&nfull, 0);
    atomic_store(&concurrent, false);
}
