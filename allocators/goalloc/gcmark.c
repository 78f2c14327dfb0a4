/* gcmark.c - marking: from the root ranges through scan objects (spec 9.1, stop-the-world).
 * See gc.c for the overview.
 *
 * A candidate word marks its object when it points anywhere inside an allocated slot of a
 * collected span (interior pointers too: the slot index comes from the class's divmagic);
 * pointers into manual spans, arena chunks, metadata or foreign memory are ignored, as are
 * slots free in the alloc bits (so a dangling pointer never resurrects a freed slot). Scan
 * objects are scanned through their span's pointer bits (1 per word: all ones for untyped
 * objects, the type's mask for typed ones, written at allocation); noscan objects never.
 *
 * No recursion: grey objects go on a work stack of 64 KiB buffers from _ga_os_alloc_meta
 * (off the GC heap), kept between cycles (one spare); if a buffer cannot be had, _ga_gc_mark
 * returns false and the collector keeps everything. Invariant: an object is pushed at most
 * once per cycle (when its mark bit goes from 0 to 1), so the stack never exceeds the number
 * of scan objects.
 */
#include <string.h>

#include "ga_internal.h"

#define WBUF_BYTES ((size_t)64 << 10)
#define PREFETCH_RING 8
#define WBUF_CAP ((WBUF_BYTES - 2 * sizeof(void *)) / (2 * sizeof(uintptr_t)))

/* A grey object and its span (saves the second lookup when it is scanned). */
typedef struct work {
    uintptr_t obj;
    ga_span *span;
} work;

typedef struct wbuf {
    struct wbuf *next; /* the buffer below this one on the stack */
    size_t n;
    work w[WBUF_CAP];
} wbuf;

static wbuf *top, *spare; /* only the collector touches them (cycle lock) */
static bool oom;
static uint64_t marked_bytes;

/* ---- The work stack ---- */

static void push(uintptr_t obj, ga_span *s)
{
    if (GA_UNLIKELY(!top || top->n == WBUF_CAP)) {
        wbuf *b = spare;
        if (b)
            spare = NULL;
        else
            b = _ga_os_alloc_meta(WBUF_BYTES);
        if (!b) {
            oom = true;
            return;
        }
        b->n = 0;
        b->next = top;
        top = b;
    }
    top->w[top->n++] = (work){obj, s};
}

static bool pop(work *out)
{
    while (top && top->n == 0) {
        wbuf *b = top;
        top = b->next;
        if (!spare)
            spare = b;
        else
            _ga_os_free_meta(b, WBUF_BYTES);
    }
    if (!top) return false;
    *out = top->w[--top->n];
    return true;
}

/* ---- Marking ---- */

static inline void mark_candidate(uintptr_t p)
{
    ga_span *s = _ga_span_of(p);
    if (!s) {
        _ga_userarena_note_pointer(p); /* into a quarantined arena chunk? (userarena.c) */
        return;
    }
    if (s->ci != GA_GC_CI) return;
    unsigned idx = s->nelems == 1 ? 0 : _ga_slot_index(s->divmagic, p - s->base);
    /* The world stop flushes and materialises every mutator's spans, so alloc bits are exact;
     * the exception is a forked child, where a span another thread held mid-refill at fork()
     * was never handed back: its slots in [matindex, freeindex) are allocated all the same
     * (mspan.c's invariant), so count them too rather than free live objects. */
    if (!((s->allocbits[idx / 64] >> (idx & 63)) & 1) &&
        !(idx >= s->matindex && idx < s->freeindex))
        return;
    uint64_t bit = (uint64_t)1 << (idx & 63), *w = &s->gcmarkbits[idx / 64];
    if (*w & bit) return;
    *w |= bit;
    marked_bytes += s->elemsize; /* a large span's elemsize is its pages */
    if (!(s->spanclass & 1)) push(s->base + (uintptr_t)idx * s->elemsize, s);
}

static void scan_words(const uintptr_t *w, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (w[i] >= GA_PAGE_SIZE) mark_candidate(w[i]);
}

/* A root range of 8-byte aligned words [lo, hi). */
static void scan_range(uintptr_t lo, uintptr_t hi)
{
    lo = (lo + 7) & ~(uintptr_t)7;
    hi &= ~(uintptr_t)7;
    if (hi > lo) scan_words((const uintptr_t *)lo, (hi - lo) / 8);
}

/* Scans the object at obj through its span's pointer bits. */
static void scan_object(uintptr_t obj, const ga_span *s)
{
    ga_assert_internal(s == _ga_span_of(obj) && s->ci == GA_GC_CI && !(s->spanclass & 1));
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
            if (v >= GA_PAGE_SIZE) mark_candidate(v);
            b &= b - 1;
        }
        i += left;
    }
}

bool _ga_gc_mark(const ga_gc_root *roots, size_t nroots, uint64_t *marked)
{
    oom = false;
    marked_bytes = 0;
    for (size_t r = 0; r < nroots; r++) {
        uintptr_t lo = (roots[r].lo + 7) & ~(uintptr_t)7, hi = roots[r].hi & ~(uintptr_t)7;
        if (hi > lo) scan_words((const uintptr_t *)lo, (hi - lo) / 8);
    }
    _ga_userarena_foreach_root(scan_range); /* values in live user arenas */
    /* Popped objects wait in a small FIFO after a prefetch, so their cache misses overlap
     * with the scanning of the ones before them. */
    work ring[PREFETCH_RING], w;
    unsigned head = 0, count = 0;
    while (!oom) {
        if (pop(&w)) {
            __builtin_prefetch((const void *)w.obj);
            if (count < PREFETCH_RING) {
                ring[(head + count++) % PREFETCH_RING] = w;
                continue;
            }
            work x = ring[head];
            ring[head] = w;
            head = (head + 1) % PREFETCH_RING;
            scan_object(x.obj, x.span);
        } else if (count) {
            work x = ring[head];
            head = (head + 1) % PREFETCH_RING;
            count--;
            scan_object(x.obj, x.span);
        } else {
            break;
        }
    }
    while (pop(&w)) /* drop what is left after running out of buffers */
        ;
    *marked = marked_bytes;
    return !oom;
}

void _ga_gc_mark_fork_child(void)
{
    top = NULL;
}
