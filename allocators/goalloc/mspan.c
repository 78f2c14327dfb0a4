/* mspan.c - spans: slot geometry, alloc bits, the inverted 64-bit alloc cache scanned with
 * ctz (spec 3.1-3.2), and freeing a slot. See malloc.c for the overview.
 *
 * The invariants are stated at struct ga_span (ga_internal.h) and checked by
 * _ga_span_is_valid(). As in Go the allocation cursor (freeindex) only moves forward and the
 * fast path does not touch allocbits; explicit free needs exact bits, so before a slot is
 * freed the allocations the cursor made since the last time ("[matindex, freeindex)") are
 * written into allocbits ("materialised"). Every function here runs on the span's owner
 * thread or under its mcentral's lock; allocbits are accessed with relaxed atomics so that
 * diagnostics on other threads may read them.
 */
#include <string.h>

#include "ga_internal.h"

#define BITS_LOAD(s, w) __atomic_load_n(&(s)->allocbits[w], __ATOMIC_RELAXED)
#define BITS_STORE(s, w, v) __atomic_store_n(&(s)->allocbits[w], (v), __ATOMIC_RELAXED)

ga_span _ga_span_empty; /* nelems 0, alloccache 0: every allocation takes the slow path */

/* ---- Set-up ---- */

void _ga_span_init(ga_span *s, uintptr_t base, size_t npages, unsigned ci)
{
    unsigned spc = ci == GA_TINY_CENTRAL ? GA_TINY_SPAN_CLASS : ci;
    unsigned cls = spc >> 1;
    s->base = base;
    s->npages = npages;
    s->spanclass = (uint8_t)spc;
    s->ci = (uint8_t)ci;
    s->freeindex = 0;
    s->matindex = 0;
    s->nalloc = 0;
    s->needzero = 0;
    s->sweepgen = 0;
    s->gcmarkbits = NULL;
    s->next = s->prev = NULL;
    s->list = NULL;
    memset(s->allocbits, 0, sizeof s->allocbits);
    if (cls == 0) {
        s->elemsize = npages * GA_PAGE_SIZE;
        s->nelems = 1;
        s->divmagic = 0;
    } else {
        s->elemsize = _ga_class_to_size[cls];
        s->nelems = _ga_class_to_nobjs[cls];
        s->divmagic = _ga_class_to_divmagic[cls];
    }
    s->alloccache = ~(uint64_t)0;
    s->limit = base + s->nelems * s->elemsize;
}

/* ---- The allocation cursor ---- */

int _ga_span_next_free(ga_span *s)
{
    for (;;) {
        if (s->freeindex >= s->nelems) return -1;
        uint64_t cache = s->alloccache;
        if (cache) {
            unsigned idx = s->freeindex + (unsigned)__builtin_ctzll(cache);
            if (idx >= s->nelems) {
                s->freeindex = s->nelems;
                s->alloccache = 0;
                return -1;
            }
            s->alloccache = (cache >> (idx - s->freeindex)) >> 1;
            s->freeindex = (uint16_t)(idx + 1);
            if ((s->freeindex & 63) == 0 && s->freeindex < s->nelems)
                s->alloccache = ~BITS_LOAD(s, s->freeindex / 64);
            s->nalloc++;
            return (int)idx;
        }
        /* Nothing free in the rest of this word: every slot up to its end is allocated. */
        unsigned next = (s->freeindex + 64u) & ~63u;
        if (next >= s->nelems) {
            s->freeindex = s->nelems;
            return -1;
        }
        s->freeindex = (uint16_t)next;
        s->alloccache = ~BITS_LOAD(s, next / 64);
    }
}

void _ga_span_materialize(ga_span *s)
{
    unsigned from = s->matindex, to = s->freeindex;
    while (from < to) {
        unsigned w = from / 64, lo = from & 63;
        unsigned hi = (to - w * 64) > 64 ? 64 : to - w * 64;
        uint64_t mask =
            (hi == 64 ? ~(uint64_t)0 : (((uint64_t)1 << hi) - 1)) & (~(uint64_t)0 << lo);
        BITS_STORE(s, w, BITS_LOAD(s, w) | mask);
        from = w * 64 + hi;
    }
    s->matindex = s->freeindex;
}

void _ga_span_reset_cursor(ga_span *s)
{
    _ga_span_materialize(s);
    s->freeindex = 0;
    s->matindex = 0;
    s->alloccache = s->nelems ? ~BITS_LOAD(s, 0) : 0;
}

/* ---- Freeing ---- */

bool _ga_span_slot_allocated(const ga_span *s, unsigned idx)
{
    if (idx >= s->nelems) return false;
    if (idx >= s->matindex && idx < s->freeindex) return true;
    return (BITS_LOAD(s, idx / 64) >> (idx & 63)) & 1;
}

unsigned _ga_span_free_run(ga_span *s, void **list)
{
    _ga_span_materialize(s); /* allocbits exact from here on: the loop edits them alone */
    const uintptr_t base = s->base, limit = s->limit;
    const uint32_t magic = s->divmagic; /* 0 for a one-slot span: every offset is slot 0 */
    uint64_t *bits = s->allocbits;
    unsigned n = 0;
    uintptr_t p = (uintptr_t)*list;
    do {
        uintptr_t next = (uintptr_t)_ga_link_get((void *)p);
        unsigned idx = _ga_slot_index(magic, p - base);
        uint64_t bit = (uint64_t)1 << (idx & 63);
        uint64_t word = __atomic_load_n(&bits[idx / 64], __ATOMIC_RELAXED);
        if (GA_LIKELY(word & bit)) {
            __atomic_store_n(&bits[idx / 64], word & ~bit, __ATOMIC_RELAXED);
            n++;
        } else if (GOALLOC_DEBUG >= 1) {
            _ga_fatal("free(): double free of %p", (void *)p);
        }
        p = next;
    } while (p >= base && p < limit);
    *list = (void *)p;
    if (n) {
        ga_assert_internal(s->nalloc >= n);
        s->nalloc = (uint16_t)(s->nalloc - n);
        s->needzero = 1;
        unsigned fi = s->freeindex;
        if (fi < s->nelems) s->alloccache = ~BITS_LOAD(s, fi / 64) >> (fi & 63);
    }
    return n;
}

size_t _ga_span_drain_remote(ga_span *s, uintptr_t next)
{
    void *h = (void *)atomic_exchange_explicit(&s->remote, next, memory_order_acquire);
    ga_assert_internal((uintptr_t)h != GA_REMOTE_UNOWNED);
    size_t n = 0;
    while (h) /* one run: every block on the list is a block of s */
        n += _ga_span_free_run(s, &h);
    return n;
}

/* ---- Validity (debug level 3) ---- */

bool _ga_span_is_valid(const ga_span *s)
{
    if (s == &_ga_span_empty) return s->nelems == 0 && s->alloccache == 0;
    if (atomic_load_explicit(&s->state, memory_order_relaxed) != GA_SPAN_IN_USE) return false;
    if (s->nelems == 0 || s->nelems > GA_MAX_OBJS_PER_SPAN || s->nalloc > s->nelems) return false;
    if (s->matindex > s->freeindex || s->freeindex > s->nelems) return false;
    if (s->limit != s->base + s->nelems * s->elemsize) return false;
    if (s->limit > s->base + s->npages * GA_PAGE_SIZE) return false;
    if ((s->base & (GA_PAGE_SIZE - 1)) != 0) return false;
    unsigned count = 0;
    for (unsigned i = 0; i < s->nelems; i++)
        count += _ga_span_slot_allocated(s, i);
    for (unsigned i = s->nelems; i < GA_MAX_OBJS_PER_SPAN; i++)
        if ((s->allocbits[i / 64] >> (i & 63)) & 1) return false;
    if (count != s->nalloc) return false;
    if (s->freeindex < s->nelems) { /* the cache mirrors the rest of freeindex's word */
        unsigned fi = s->freeindex;
        for (unsigned k = 0; fi + k < s->nelems && ((fi + k) & 63) >= (fi & 63) && k < 64; k++) {
            if (k > 0 && ((fi + k) & 63) == 0) break;
            bool cfree = (s->alloccache >> k) & 1;
            bool bfree = !((s->allocbits[(fi + k) / 64] >> ((fi + k) & 63)) & 1);
            if (cfree != bfree) return false;
        }
    }
    bool owned = atomic_load_explicit(&s->owner, memory_order_relaxed) != NULL;
    bool unowned_flag = atomic_load_explicit(&s->remote, memory_order_relaxed) == GA_REMOTE_UNOWNED;
    if (s->spanclass >= 2 && owned == unowned_flag) return false;
    return true;
}

/* ---- Span lists ---- */

void _ga_spanlist_push(ga_spanlist *l, ga_span *s)
{
    ga_assert_internal(s->list == NULL);
    s->prev = NULL;
    s->next = l->first;
    if (l->first) l->first->prev = s;
    l->first = s;
    s->list = l;
    l->n++;
}

void _ga_spanlist_remove(ga_span *s)
{
    ga_spanlist *l = s->list;
    ga_assert_internal(l != NULL);
    if (s->prev)
        s->prev->next = s->next;
    else
        l->first = s->next;
    if (s->next) s->next->prev = s->prev;
    s->next = s->prev = NULL;
    s->list = NULL;
    l->n--;
}

bool _ga_spanlist_is_valid(const ga_spanlist *l, bool (*ok)(const ga_span *s, const void *arg),
                           const void *arg)
{
    size_t n = 0;
    for (const ga_span *s = l->first, *prev = NULL; s; prev = s, s = s->next, n++)
        if (s->list != l || s->prev != prev || !ok(s, arg)) return false;
    return n == l->n;
}
