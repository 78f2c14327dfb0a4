/* gcsweep.c - the collected spans and sweeping (spec 9). See gc.c for the overview.
 *
 * Collected objects live in spans of their own (ci == GA_GC_CI), never on mcentral's lists,
 * so the sweeper never meets a manual block. This file keeps them: two generations of lists
 * (the span lists of mcentral.c, ga_spanlist), each with a partial and a full list per span
 * class and one list of large spans; gen[(sweepgen / 2) % 2] holds the swept spans and the
 * other generation the unswept ones, as Go's mcentral indexes its swept and unswept span sets
 * by sweepgen. Making every span unswept is then one increment of sweepgen, however big the
 * heap: it happens inside the mark termination pause. It also keeps the GC metadata each span
 * carries (mark bits, then pointer bits for scan spans: gcmarkbits, see _ga_gc_ptrbits), sized to
 * the span and carved from fixallocs in 16-byte steps or, for big large scan objects, straight from
 * _ga_os_alloc_meta. One mutex
 * (central_lock) guards all of it, sweeping included; lock order: the collector's world stop
 * -> central_lock -> heap lock.
 *
 * Sweep generations as in Go, minus the "being swept" state (a span is swept whole under the
 * lock): sweepgen advances by 2 at the end of each mark (_ga_gc_begin_sweep), which turns the
 * swept generation of lists into the unswept one; a span with s->sweepgen == sweepgen - 2 is
 * unswept, == sweepgen swept. Cached spans are always swept
 * (every cycle flushes every cache before marking). Sweeping a span turns its mark bits into
 * its alloc bits (copied: ga_span keeps alloc bits inline), nalloc into their popcount,
 * restarts the cursor, sets needzero when it freed a slot, and returns an empty span's pages.
 * Who sweeps: a mutator's refill, up to 100 unswept spans of its class before taking a fresh
 * span (_ga_gc_central_get); every span acquisition, in proportion to allocation since the
 * cycle (sweep credit, so sweeping ends before the next trigger); a background thread in
 * batches of 10 (started lazily, never in a forked child); and the collector, which finishes
 * sweeping before it marks (and ga_gc after its cycle, so its HeapAlloc is exact).
 *
 * Invariants (checked by _ga_gc_spans_valid() at debug level 3): a collected span is either
 * cached by exactly one mutator (on no list) or on exactly one list; swept lists hold spans
 * with sweepgen == sweepgen and clear mark bits unless a mark runs, partial when nalloc < nelems,
 * full otherwise; unswept lists hold spans with sweepgen == sweepgen - 2 (nalloc may have fallen
 * since they were filed: explicit frees of large objects); npages_all is the pages of every span
 * counted in nspans; a mark bit is set only on an allocated slot (gcmark.c checks alloc bits before
 * marking).
 */
#include <pthread.h>
#include <sched.h>
#include <string.h>

#include "ga_internal.h"

#define MARK_WORDS_SMALL (GA_MAX_OBJS_PER_SPAN / 64)
#define SPAN_BUDGET 100 /* unswept spans a refill may sweep (spec 4) */
#define BG_BATCH 10     /* spans the background sweeper sweeps per lock hold */

static pthread_mutex_t central_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t bg_cond = PTHREAD_COND_INITIALIZER; /* unswept spans appeared */
static pthread_once_t init_once = PTHREAD_ONCE_INIT;
typedef struct span_lists {
    ga_spanlist partial[GA_NUM_SPAN_CLASSES], full[GA_NUM_SPAN_CLASSES], large;
} span_lists;
static span_lists gen[2]; /* swept: gen[(sweepgen >> 1) & 1]; unswept: the other */
static uint32_t sweepgen;
static _Atomic size_t nunswept; /* written under central_lock, read racily as a hint */
static size_t nspans;
static uint64_t npages_all;
static unsigned sweep_cursor; /* next class the background sweeper looks at */
/* Proportional sweep (spec 9): pages swept since the cycle vs bytes allocated since. */
static double pages_per_byte;
static uint64_t live_basis, pages_swept;
static ga_gc_sweep_totals totals;
static bool bg_started, bg_forbidden;
/* From the sweep finished for a mark to the end of that mark (_ga_gc_begin_sweep) or its
 * abandonment: the marker sets mark bits on swept spans, without this lock, also while a
 * stop-the-world mark runs beside threads that are not mutators. */
static bool marking;
/* GC metadata by exact size (16-byte steps): a 1-page span of 64-byte scan objects takes
 * 16 bytes of mark bits and 128 of pointer bits, not the largest small span's share. */
#define META_STEP 16
#define META_MAX_PAGES 16 /* >= every small class's span pages (Go's largest: 10) */
#define META_MAX (MARK_WORDS_SMALL * 8 + META_MAX_PAGES * GA_PAGE_SIZE / 64)
static ga_fixalloc meta_fix[META_MAX / META_STEP + 1];

static void init(void)
{
    for (unsigned c = 1; c < GA_NUM_SIZE_CLASSES; c++)
        ga_assert_internal(_ga_class_to_npages[c] <= META_MAX_PAGES);
    for (size_t i = 1; i < sizeof meta_fix / sizeof meta_fix[0]; i++)
        _ga_fixalloc_init(&meta_fix[i], i * META_STEP);
}

static bool spans_valid_locked(void);

/* ---- Lists (central_lock held) ---- */

static span_lists *swept(void)
{
    return &gen[(sweepgen >> 1) & 1];
}

static span_lists *unswept(void)
{
    return &gen[((sweepgen >> 1) & 1) ^ 1];
}

static void file_span(ga_span *s)
{
    span_lists *l = swept();
    if (s->spanclass < 2)
        _ga_spanlist_push(&l->large, s);
    else
        _ga_spanlist_push(
            s->nalloc < s->nelems ? &l->partial[s->spanclass] : &l->full[s->spanclass], s);
}

/* The first unswept span of class spc, partial ones first (they are likelier to have room). */
static ga_span *first_unswept(unsigned spc)
{
    span_lists *u = unswept();
    return u->partial[spc].first ? u->partial[spc].first : u->full[spc].first;
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
    if (n <= META_MAX) return _ga_fixalloc_alloc(&meta_fix[(n + META_STEP - 1) / META_STEP]);
    return _ga_os_alloc_meta((n + GA_OS_PAGE_SIZE - 1) & ~(GA_OS_PAGE_SIZE - 1));
}

static void meta_free(ga_span *s)
{
    size_t n = meta_bytes(s);
    if (n <= META_MAX)
        _ga_fixalloc_free(&meta_fix[(n + META_STEP - 1) / META_STEP], s->gcmarkbits);
    else
        _ga_os_free_meta(s->gcmarkbits, (n + GA_OS_PAGE_SIZE - 1) & ~(GA_OS_PAGE_SIZE - 1));
    s->gcmarkbits = NULL;
}

/* ---- Sweeping one span (central_lock held) ---- */

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

static void free_span_locked(ga_span *s)
{
    meta_free(s);
    nspans--;
    npages_all -= s->npages;
    totals.spans_freed++;
    s->nalloc = 0;
    s->ci = s->spanclass; /* a dead span is nobody's collected span */
    _ga_mheap_free_span(s);
}

/* Sweeps an unswept span already taken off its list and files it (or frees it). Returns true
 * when it was filed on a partial list. */
static bool sweep_span(ga_span *s)
{
    ga_assert_internal(s->sweepgen + 2 == sweepgen);
    s->sweepgen = sweepgen;
    nunswept--;
    pages_swept += s->npages;
    totals.spans_swept++;
    uint64_t *mark = s->gcmarkbits;
    if (s->spanclass < 2) {
        if (mark[0] & 1) {
            mark[0] = 0;
            file_span(s);
        } else {
            totals.large_free += s->npages * GA_PAGE_SIZE;
            totals.large_free_count++;
            free_span_locked(s);
        }
        return false;
    }
    unsigned nw = (s->nelems + 63u) / 64u, live = 0;
    for (unsigned w = 0; w < nw; w++) {
        uint64_t old = s->allocbits[w];
        ga_assert_internal((mark[w] & ~old) == 0);
        poison_freed(s, w, old & ~mark[w]);
        s->allocbits[w] = mark[w];
        live += (unsigned)__builtin_popcountll(mark[w]);
        mark[w] = 0;
    }
    unsigned freed = s->nalloc - live;
    totals.small_free[s->spanclass >> 1] += freed;
    s->nalloc = (uint16_t)live;
    s->freeindex = 0;
    s->matindex = 0;
    s->alloccache = ~s->allocbits[0];
    if (freed) s->needzero = 1;
    if (live == 0) {
        free_span_locked(s);
        return false;
    }
    file_span(s);
    return live < s->nelems;
}

/* Sweeps up to n unswept spans of any class; returns how many it swept. */
static size_t sweep_some(size_t n)
{
    size_t done = 0;
    span_lists *u = unswept();
    while (done < n && nunswept) {
        if (u->large.first) {
            ga_span *s = u->large.first;
            _ga_spanlist_remove(s);
            sweep_span(s);
            done++;
            continue;
        }
        ga_span *s;
        while (!(s = first_unswept(sweep_cursor)))
            sweep_cursor = (sweep_cursor + 1) % GA_NUM_SPAN_CLASSES;
        _ga_spanlist_remove(s);
        sweep_span(s);
        done++;
    }
    return done;
}

/* ---- The background sweeper ---- */

static void *bg_main(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&central_lock);
    for (;;) {
        size_t n = sweep_some(BG_BATCH);
        if (n == 0) {
            pthread_cond_wait(&bg_cond, &central_lock);
            continue;
        }
        totals.spans_swept_bg += n;
        pthread_mutex_unlock(&central_lock);
        sched_yield(); /* low priority: mutators first */
        pthread_mutex_lock(&central_lock);
    }
    return NULL;
}

static void bg_start(void)
{
    pthread_mutex_lock(&central_lock);
    bool start = !bg_started && !bg_forbidden;
    bg_started = true;
    pthread_mutex_unlock(&central_lock);
    if (!start) return;
    pthread_t th;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    if (pthread_create(&th, &attr, bg_main, NULL) != 0) {
        pthread_mutex_lock(&central_lock);
        bg_started = false; /* the lazy and proportional sweeps still do the work */
        pthread_mutex_unlock(&central_lock);
    }
    pthread_attr_destroy(&attr);
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
    if (s->gcmarkbits) nspans++, npages_all += s->npages;
    s->sweepgen = sweepgen;
    pthread_mutex_unlock(&central_lock);
    atomic_store_explicit(&s->owner, NULL, memory_order_relaxed);
    atomic_store_explicit(&s->remote, GA_REMOTE_UNOWNED, memory_order_relaxed);
    if (!s->gcmarkbits) {
        _ga_mheap_free_span(s);
        return NULL;
    }
    /* From now on ga_free routes its objects to gc.c and a concurrent marker takes the span
     * as collected: published last, with release order (gcmark.c loads it with acquire). */
    __atomic_store_n(&s->ci, (uint8_t)GA_GC_CI, __ATOMIC_RELEASE);
    _ga_heaparena_set_span(s, false); /* the class map: not a manual small span */
    return s;
}

void _ga_gc_central_put(ga_span *s)
{
    ga_assert_internal(s->ci == GA_GC_CI);
    pthread_mutex_lock(&central_lock);
    ga_assert_internal(s->sweepgen == sweepgen);
    _ga_span_materialize(s);
    file_span(s);
    pthread_mutex_unlock(&central_lock);
}

ga_span *_ga_gc_central_get(unsigned spc)
{
    pthread_mutex_lock(&central_lock);
    ga_span *s = swept()->partial[spc].first, *x;
    for (int budget = SPAN_BUDGET; !s && budget > 0 && (x = first_unswept(spc)); budget--) {
        _ga_spanlist_remove(x);
        if (sweep_span(x)) s = x;
    }
    if (s) _ga_spanlist_remove(s);
    pthread_mutex_unlock(&central_lock);
    if (s) _ga_span_reset_cursor(s);
    return s;
}

void _ga_gc_large_free(ga_span *s)
{
    pthread_mutex_lock(&central_lock);
    _ga_spanlist_remove(s);
    if (s->sweepgen != sweepgen) nunswept--;
    free_span_locked(s);
    pthread_mutex_unlock(&central_lock);
}

/* ---- Sweep phases ---- */

bool _ga_gc_sweep_pending(void)
{
    return atomic_load_explicit(&nunswept, memory_order_relaxed) != 0;
}

void _ga_gc_finish_sweep(bool mark_next)
{
    pthread_mutex_lock(&central_lock);
    while (sweep_some(SIZE_MAX))
        ;
    ga_assert_expensive(spans_valid_locked());
    if (mark_next) marking = true;
    pthread_mutex_unlock(&central_lock);
}

/* The pages of every span on the lists of l (the debug check of npages_all). */
static uint64_t list_pages(const span_lists *l)
{
    uint64_t pages = 0;
    for (unsigned spc = 2; spc < GA_NUM_SPAN_CLASSES; spc++) {
        for (const ga_span *s = l->partial[spc].first; s; s = s->next)
            pages += s->npages;
        for (const ga_span *s = l->full[spc].first; s; s = s->next)
            pages += s->npages;
    }
    for (const ga_span *s = l->large.first; s; s = s->next)
        pages += s->npages;
    return pages;
}

void _ga_gc_begin_sweep(uint64_t heap_live, uint64_t trigger)
{
    pthread_once(&init_once, init);
    pthread_mutex_lock(&central_lock);
    ga_assert_internal(nunswept == 0);
    marking = false;
    /* Every span is on a list (the caches were flushed): the swept generation holds them
     * all, and the flip makes it the unswept one. Not in a forked child: a span the parent's
     * other threads held between _ga_gc_span_new and filing it is on no list there (a leak
     * of the child's, counted in npages_all). */
    ga_assert_expensive(bg_forbidden || list_pages(swept()) == npages_all);
    sweepgen += 2;
    size_t n = 0;
    span_lists *u = unswept();
    for (unsigned spc = 2; spc < GA_NUM_SPAN_CLASSES; spc++)
        n += u->partial[spc].n + u->full[spc].n;
    nunswept = n + u->large.n;
    uint64_t pages = npages_all;
    /* Finish before heap_live reaches the trigger, 1 MiB early (spec 9 gcPaceSweeper). */
    uint64_t dist = trigger > heap_live + (1u << 20) ? trigger - heap_live - (1u << 20) : 0;
    if (dist < GA_PAGE_SIZE) dist = GA_PAGE_SIZE;
    pages_per_byte = trigger == UINT64_MAX ? 0 : (double)pages / (double)dist;
    live_basis = heap_live;
    pages_swept = 0;
    pthread_mutex_unlock(&central_lock);
}

void _ga_gc_sweep_wake(void)
{
    pthread_mutex_lock(&central_lock);
    pthread_cond_signal(&bg_cond);
    pthread_mutex_unlock(&central_lock);
    bg_start();
}

void _ga_gc_sweep_credit(uint64_t heap_live)
{
    if (!atomic_load_explicit(&nunswept, memory_order_relaxed)) return;
    pthread_mutex_lock(&central_lock);
    double target = pages_per_byte * (double)(heap_live > live_basis ? heap_live - live_basis : 0);
    while ((double)pages_swept < target && sweep_some(1))
        ;
    pthread_mutex_unlock(&central_lock);
}

void _ga_gc_sweep_totals(ga_gc_sweep_totals *out)
{
    pthread_mutex_lock(&central_lock);
    *out = totals;
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
    span_lists *l = swept();
    for (unsigned spc = 2; spc < GA_NUM_SPAN_CLASSES; spc++) {
        mark_list_all(l->partial[spc].first);
        mark_list_all(l->full[spc].first);
    }
    for (ga_span *s = l->large.first; s; s = s->next)
        s->gcmarkbits[0] = 1;
    pthread_mutex_unlock(&central_lock);
}

static void clear_list_marks(ga_span *s)
{
    for (; s; s = s->next)
        memset(s->gcmarkbits, 0, (s->nelems + 63u) / 64u * 8);
}

void _ga_gc_clear_marks(void)
{
    pthread_mutex_lock(&central_lock);
    span_lists *l = swept();
    for (unsigned spc = 2; spc < GA_NUM_SPAN_CLASSES; spc++) {
        clear_list_marks(l->partial[spc].first);
        clear_list_marks(l->full[spc].first);
    }
    clear_list_marks(l->large.first);
    marking = false; /* the mark is abandoned */
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

/* kind: 0 partial, 1 full, 2 large, 3 unswept */
static bool span_ok(const ga_span *s, const void *arg)
{
    int kind = *(const int *)arg;
    if (s->ci != GA_GC_CI || !_ga_span_is_valid(s)) return false;
    if (s->sweepgen != (kind == 3 ? sweepgen - 2 : sweepgen)) return false;
    if (kind == 0 && s->nalloc >= s->nelems) return false;
    if (kind == 1 && s->nalloc != s->nelems) return false;
    if (kind == 2 && s->spanclass >= 2) return false;
    if (kind == 3 || marking) return true;
    for (unsigned w = 0; w < (s->nelems + 63u) / 64u; w++)
        if (s->gcmarkbits[w] != 0) return false;
    return true;
}

static bool list_valid(const ga_spanlist *l, int kind)
{
    return _ga_spanlist_is_valid(l, span_ok, &kind);
}

static bool spans_valid_locked(void)
{
    span_lists *l = swept(), *u = unswept();
    size_t n = u->large.n;
    for (unsigned spc = 2; spc < GA_NUM_SPAN_CLASSES; spc++) {
        if (!list_valid(&l->partial[spc], 0) || !list_valid(&l->full[spc], 1) ||
            !list_valid(&u->partial[spc], 3) || !list_valid(&u->full[spc], 3))
            return false;
        n += u->partial[spc].n + u->full[spc].n;
    }
    return list_valid(&l->large, 2) && list_valid(&u->large, 3) && n == nunswept;
}

bool _ga_gc_spans_valid(void)
{
    pthread_mutex_lock(&central_lock);
    bool ok = spans_valid_locked();
    pthread_mutex_unlock(&central_lock);
    return ok;
}

/* Fork: the lists are consistent while the parent holds the lock across fork(). */
void _ga_gc_sweep_fork_prepare(void)
{
    pthread_mutex_lock(&central_lock);
}

void _ga_gc_sweep_fork_parent(void)
{
    pthread_mutex_unlock(&central_lock);
}

/* The background sweeper did not survive the fork; the child sweeps lazily. */
void _ga_gc_sweep_fork_child(void)
{
    pthread_mutex_init(&central_lock, NULL);
    pthread_cond_init(&bg_cond, NULL);
    bg_forbidden = true;
}
