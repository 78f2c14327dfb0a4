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
#define WBUF_CAP ((WBUF_BYTES - 2 * sizeof(void *)) / sizeof(uintptr_t))

typedef struct wbuf {
    struct wbuf *next; /* the buffer below this one on the stack */
    size_t n;
    uintptr_t obj[WBUF_CAP];
} wbuf;

static wbuf *top, *spare; /* only the collector touches them (cycle lock) */
static bool oom;

/* ---- The work stack ---- */

static void push(uintptr_t obj)
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
    top->obj[top->n++] = obj;
}

static bool pop(uintptr_t *obj)
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
    *obj = top->obj[--top->n];
    return true;
}

/* ---- Marking ---- */

static inline void mark_candidate(uintptr_t p)
{
    ga_span *s = _ga_span_of(p);
    if (!s || s->ci != GA_GC_CI) return;
    unsigned idx = s->nelems == 1 ? 0 : _ga_slot_index(s->divmagic, p - s->base);
    if (!_ga_span_slot_allocated(s, idx)) return;
    uint64_t bit = (uint64_t)1 << (idx & 63), *w = &s->gcmarkbits[idx / 64];
    if (*w & bit) return;
    *w |= bit;
    if (!(s->spanclass & 1)) push(s->base + (uintptr_t)idx * s->elemsize);
}

static void scan_words(const uintptr_t *w, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (w[i] >= GA_PAGE_SIZE) mark_candidate(w[i]);
}

/* Scans the object at obj through its span's pointer bits. */
static void scan_object(uintptr_t obj)
{
    ga_span *s = _ga_span_of(obj);
    ga_assert_internal(s && s->ci == GA_GC_CI && !(s->spanclass & 1));
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

bool _ga_gc_mark(const ga_gc_root *roots, size_t nroots)
{
    oom = false;
    for (size_t r = 0; r < nroots; r++) {
        uintptr_t lo = (roots[r].lo + 7) & ~(uintptr_t)7, hi = roots[r].hi & ~(uintptr_t)7;
        if (hi > lo) scan_words((const uintptr_t *)lo, (hi - lo) / 8);
    }
    uintptr_t obj;
    while (!oom && pop(&obj))
        scan_object(obj);
    while (pop(&obj)) /* drop what is left after running out of buffers */
        ;
    return !oom;
}

void _ga_gc_mark_fork_child(void)
{
    top = NULL;
}
