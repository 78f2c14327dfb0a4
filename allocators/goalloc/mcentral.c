/* mcentral.c - one central span list per span class (spec 4), plus one for the tiny blocks.
 * See malloc.c for the overview.
 *
 * Go keeps lock-free span sets; goalloc keeps span lists (ga_spanlist, mspan.c) under one
 * mutex per mcentral. The lock is taken once per span handed to or taken back from a thread and
 * once per batch of explicit frees (mcache.c frees in batches), which does not show in the profiles
 * yet; lock-free sets are not worth their complexity at this point. Go's sets are partial/full x
 * swept/unswept; manual blocks are never swept (collected objects live in spans of their own,
 * gcsweep.c, which keeps the unswept lists), so each mcentral has only the partial and the full
 * list.
 *
 * Invariants (checked by _ga_mcentral_is_valid() at debug level 3): every span on a list is
 * in use, of this index, owned by nobody (remote == GA_REMOTE_UNOWNED), with 0 < nalloc, and
 * nalloc < nelems exactly when it is on a partial list; s->list names the list holding it.
 * A span with no allocated slot and no owner goes back to the heap at once.
 */
#include <pthread.h>

#include "ga_internal.h"

typedef struct mcentral {
    pthread_mutex_t lock;
    ga_spanlist partial; /* spans with a free slot */
    ga_spanlist full;    /* spans without one */
} __attribute__((aligned(64))) mcentral;

static mcentral central[GA_NUM_CENTRALS];

void _ga_mcentral_init(void)
{
    for (unsigned i = 0; i < GA_NUM_CENTRALS; i++)
        pthread_mutex_init(&central[i].lock, NULL);
}

/* Files an unowned span after its slot counts changed; frees it when empty. Lock held. */
static void refile(mcentral *m, ga_span *s)
{
    if (s->nalloc == 0) {
        if (s->list) _ga_spanlist_remove(s);
        _ga_mheap_free_span(s);
        return;
    }
    ga_spanlist *want = s->nalloc < s->nelems ? &m->partial : &m->full;
    if (s->list == want) return;
    if (s->list) _ga_spanlist_remove(s);
    _ga_spanlist_push(want, s);
}

/* ---- Caching spans (spec 4: cacheSpan / uncacheSpan / grow) ---- */

ga_span *_ga_mcentral_cache_span(ga_mcache *c, unsigned ci)
{
    mcentral *m = &central[ci];
    pthread_mutex_lock(&m->lock);
    ga_span *s = m->partial.first;
    if (s) {
        _ga_spanlist_remove(s);
        atomic_store_explicit(&s->remote, 0, memory_order_relaxed);
        atomic_store_explicit(&s->owner, c, memory_order_relaxed);
    }
    pthread_mutex_unlock(&m->lock);
    if (s) {
        _ga_span_reset_cursor(s);
        return s;
    }
    unsigned npages = ci == GA_TINY_CENTRAL ? _ga_class_to_npages[GA_TINY_SPAN_CLASS >> 1]
                                            : _ga_class_to_npages[ci >> 1];
    return _ga_mheap_alloc(c, npages, ci); /* grow */
}

void _ga_mcentral_uncache_span(ga_span *s)
{
    mcentral *m = &central[s->ci];
    pthread_mutex_lock(&m->lock);
    _ga_span_drain_remote(s, GA_REMOTE_UNOWNED);
    _ga_span_materialize(s);
    atomic_store_explicit(&s->owner, NULL, memory_order_relaxed);
    ga_assert_expensive(_ga_span_is_valid(s));
    refile(m, s);
    pthread_mutex_unlock(&m->lock);
}

/* ---- Explicit free of a batch ---- */

/* The list comes in runs of blocks of one span (a thread frees what it allocated together);
 * each run goes back in one step: cleared in the bits of a span this thread owns or nobody
 * owns (one materialisation, one count update, one refile), or pushed with one CAS on the
 * remote list of a span another thread owns, drained by that thread or when it gives the span
 * back. Ownership cannot change while we hold the lock (mcentral hands spans out and takes
 * them back under it); only the owner's drain races with the CAS. */
void _ga_mcentral_free_list(ga_mcache *c, unsigned ci, void *list)
{
    mcentral *m = &central[ci];
    pthread_mutex_lock(&m->lock);
    while (list) {
        ga_span *s = _ga_span_of((uintptr_t)list);
        ga_assert_internal(s != NULL && s->ci == ci);
        if (c && atomic_load_explicit(&s->owner, memory_order_relaxed) == c) {
            _ga_span_free_run(s, &list); /* our own span: stays cached even when empty */
            continue;
        }
        uintptr_t h = atomic_load_explicit(&s->remote, memory_order_acquire);
        if (h == GA_REMOTE_UNOWNED) {
            if (_ga_span_free_run(s, &list)) refile(m, s); /* may give s back to the heap */
            continue;
        }
        uintptr_t first = (uintptr_t)list, last = first;
        list = _ga_link_get(list);
        while (list && (uintptr_t)list >= s->base && (uintptr_t)list < s->limit) {
            last = (uintptr_t)list;
            list = _ga_link_get(list);
        }
        do {
            ga_assert_internal(h != GA_REMOTE_UNOWNED);
            _ga_link_set((void *)last, (void *)h);
        } while (!atomic_compare_exchange_weak_explicit(&s->remote, &h, first, memory_order_release,
                                                        memory_order_acquire));
    }
    pthread_mutex_unlock(&m->lock);
}

/* ---- Checks, counts, fork ---- */

typedef struct list_want {
    unsigned ci;
    bool full;
} list_want;

static bool span_ok(const ga_span *s, const void *arg)
{
    const list_want *w = arg;
    return s->ci == w->ci && _ga_span_is_valid(s) &&
           atomic_load_explicit(&((ga_span *)s)->owner, memory_order_relaxed) == NULL &&
           s->nalloc != 0 && (s->nalloc == s->nelems) == w->full;
}

bool _ga_mcentral_is_valid(unsigned ci)
{
    mcentral *m = &central[ci];
    pthread_mutex_lock(&m->lock);
    list_want p = {ci, false}, f = {ci, true};
    bool ok = _ga_spanlist_is_valid(&m->partial, span_ok, &p) &&
              _ga_spanlist_is_valid(&m->full, span_ok, &f);
    pthread_mutex_unlock(&m->lock);
    return ok;
}

size_t _ga_mcentral_count(unsigned ci, bool full)
{
    mcentral *m = &central[ci];
    pthread_mutex_lock(&m->lock);
    size_t n = full ? m->full.n : m->partial.n;
    pthread_mutex_unlock(&m->lock);
    return n;
}

void _ga_mcentral_lock_all(void)
{
    for (unsigned i = 0; i < GA_NUM_CENTRALS; i++)
        pthread_mutex_lock(&central[i].lock);
}

void _ga_mcentral_unlock_all(bool reinit)
{
    for (unsigned i = 0; i < GA_NUM_CENTRALS; i++) {
        if (reinit)
            pthread_mutex_init(&central[i].lock, NULL);
        else
            pthread_mutex_unlock(&central[i].lock);
    }
}
