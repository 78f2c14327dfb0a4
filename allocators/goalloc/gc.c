/* gc.c - goalloc's garbage collector: collected allocation, mutators and safepoints, roots,
 * the cycle, triggers, events, gctrace and GC statistics. The overview of the collector;
 * malloc.c has the allocator's. Public API: include/goalloc_gc.h (its contract first).
 *
 * Two modes, one heap. Collected objects (ga_gc_alloc, ga_gc_alloc_typed) live in spans of
 * their own: same size classes and pages as manual blocks, but span class = class << 1 |
 * noscan with both halves in use, and ci = GA_GC_CI, so no mcache or mcentral ever holds
 * them and the sweeper never meets a manual block. Each mutator thread has a gcache (below):
 * one current span per span class, Go's freegc-style reuse list per class, a tiny block
 * (noscan objects under 16 B share 16-byte blocks, spec 2). Exhausted spans go to the
 * collected span lists (gcsweep.c, one mutex); refills take a partial span from there or a
 * fresh one from the mheap (through the thread's page cache). Large objects (> 32760 B) get
 * a span each. Scan spans carry one pointer bit per word, written at allocation: all ones for
 * untyped objects (scanned conservatively), the type's mask for typed ones (precise);
 * noscan spans carry none. Space: 128 B of mark bits per span, plus span bytes / 64 of
 * pointer bits per scan span (1.6%), off-heap and counted in GCSys.
 *
 * Mutators and the world stop. A thread becomes a mutator at its first collected
 * allocation or ga_store_ptr and stays one until it exits or detaches. A collection takes the
 * cycle lock, sets the stop flag and waits (world lock + condition variable) until every
 * other mutator is parked, blocking or detached. A mutator polls the flag with one relaxed
 * load at each ga_gc_alloc* (the safepoints; not at ga_store_ptr) and parks on a condition
 * variable. Every change of a mutator's `running` flag happens under the world lock, and so
 * does the collector's reading of it, which makes the hand-over ordered without membarrier or
 * fences (a departure from the asymmetric-Dekker plan: nothing here needs the unlocked
 * ordering it buys; the fast path keeps only the relaxed poll). A mutator that must wait for
 * the cycle lock (to collect itself) or blocks outside goalloc (ga_gc_blocking_enter) first
 * marks itself not running. Threads that never use the GC API are never stopped.
 *
 * The cycle, concurrent as Go's (gcStart, gcBgMarkWorker, gcMarkTermination), and the
 * tri-colour invariant at each phase (white: mark bit clear; grey: marked, in a work buffer
 * not yet scanned; black: marked and scanned, or noscan):
 *  - Off. gc_marking = 0: no barrier, ga_store_ptr is a plain store. Mark bits are clear on
 *    swept spans and mean nothing yet; nothing is black.
 *  - Sweep termination (stop the world #1). The sweep the last cycle left is finished before
 *    the stop (mutators keep running); with the world stopped every gcache is flushed (spans
 *    back to the lists with their cursors materialised, reuse lists and tiny blocks dropped,
 *    counters merged), the mark starts with every object white and gc_marking = 1 (the
 *    barrier, allocate-black, no explicit free), and the world restarts. The stop is a
 *    safepoint of every mutator, where the contract says every object it still needs is
 *    reachable from the roots: the snapshot the mark preserves holds the whole live heap.
 *  - Concurrent mark. The worker (gcmark.c's grey queue, about 25% of the CPUs) scans the
 *    root ranges, then drains grey objects; mutators that allocate pay assists from the same
 *    queue. Every pointer store into a collected object or a root range goes through
 *    ga_store_ptr (the contract, goalloc_gc.h), which shades both the old and the new value
 *    (the hybrid barrier). Shading the new value keeps the strong invariant for stores: no
 *    black object or scanned root is made to point to a white object. Shading the old value
 *    (the deletion barrier) keeps every object of the snapshot reachable through grey
 *    objects even when the mutator unlinks it and keeps it only in a local (goalloc scans no
 *    stacks, so it cannot rescan them as Go's hybrid barrier lets Go do). Objects allocated
 *    now are black: small ones in the range of their span the mutator's cursor has passed
 *    (the marker leaves that range alone while the world runs; blacken() sets their mark
 *    bits when the span goes back), large ones marked at allocation. Explicit frees are
 *    ignored (a freed object may be grey in a buffer).
 *  - Mark termination (stop the world #2). When the queue is empty the worker offers the
 *    termination to the running mutators (offer_termination): the first one at a safepoint
 *    stops the world, or the worker does when none takes it. The terminating thread flushes
 *    every gcache (blackening the cursor ranges, handing over the barrier's grey buffers),
 *    scans the root ranges added during the mark and the user arenas (stores into arena
 *    memory have no barrier), and drains until nothing is grey: every reachable
 *    object is black, every white one is garbage. The pacer commits, every span becomes
 *    unswept in O(1) (sweepgen += 2 flips gcsweep.c's two list generations), gc_marking = 0,
 *    and the world restarts. The pause holds no walk of the heap or of the span lists.
 *  - Sweep, with the world running (gcsweep.c): lazily in refills, in proportion to
 *    allocation, and on a background thread; mark bits become alloc bits, empty spans go back
 *    to the heap, freed slots set needzero. ga_gc() waits for a cycle that began after the
 *    call and sweeps everything before it returns (as runtime.GC), so its HeapAlloc is exact.
 * Stop-the-world cycles do all of it in one pause: with GOALLOC_DEBUG=gcstoptheworld=1 (as
 * Go's GODEBUG, to compare both), in a forked child (no worker thread there) and, for now,
 * while the memory limit sets the goal (concurrent_mode(): the runway and assists do not yet
 * hold a binding limit). Then no barrier is needed: no mutator runs while marking.
 *
 * Triggers (spec 8, gcpacer.c): heap_live counts collected bytes as Go's heapLive does (every
 * free slot of a span is counted when a mutator caches it, large objects whole, reset to the
 * marked bytes by each cycle). On every span refill and large allocation a mutator compares
 * heap_live with the trigger, the options with the pacer's (ga_set_gc_percent and
 * ga_set_memory_limit take effect at the next refill) and the time with the periodic period
 * (2 minutes after the last cycle, as Go's sysmon; checked at refills, so an idle program does
 * not collect). While the CPU limiter is engaged (it is fed each pause x CPUs as GC time) a
 * paced cycle waits until the mutator has run as long as the last pause, which holds GC near
 * half the time: a limit below the live heap slows the program (and lets the heap overshoot)
 * without hanging it. ga_gc() always collects (forced).
 *
 * Accounting: each gcache counts its allocations per class and the GA_THREAD_COUNTERS of
 * the manual path (no atomics), merged into the totals when the world stops and at detach; sweeps
 * count the frees. After ga_gc() the merged HeapAlloc of collected objects equals the class-rounded
 * bytes of the marked objects. Explicit free of a small collected object changes no counter (the
 * object lives on in the reuse list, as in Go's freegc, and only objects of the thread's current
 * span go there, so no two threads ever write the pointer bits of one span); a large one is freed
 * and counted at once.
 *
 * Files: gc.c (this), gcmark.c marking, gcsweep.c collected spans and sweeping, gcpacer.c
 * goal, trigger and limiter.
 */
#define _GNU_SOURCE /* PTHREAD_RECURSIVE_MUTEX_INITIALIZER_NP */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ga_internal.h"
#include "goalloc_gc.h"

#define LARGE_CUTOFF (GA_MAX_SMALL_SIZE - 8)
#define MAX_REQUEST ((size_t)1 << (GA_ADDR_BITS - 1))
#define DEFAULT_PERIOD_NS (120ull * 1000000000ull)

/* A mutator's cache. Only its thread touches it while running; the collector touches it
 * while the thread is parked, blocking or detaching (world lock order). Invariant: every
 * alloc[spc] is &_ga_span_empty or a collected span of class spc that is on no list. */
typedef struct gcache {
    ga_span *alloc[GA_NUM_SPAN_CLASSES];
    void *reuse[GA_NUM_SPAN_CLASSES]; /* explicitly freed objects, linked via their first word */
    uintptr_t tiny;                   /* current 16-byte tiny block, 0 when none */
    size_t tinyoffset;
    uint64_t nmalloc[GA_NUM_SIZE_CLASSES];
    ga_counter_values ctr; /* GA_THREAD_COUNTERS (tiny_frees unused: the collector's) */
    ga_gcwork gcw;         /* grey objects its write barrier and assists found */
    uint64_t assist_debt;  /* scan work owed (bytes), paid once it reaches ASSIST_MIN */
    int running;           /* world lock: 1 unless parked, blocking or detached */
    struct gcache *next, *prev;
} gcache;

/* Totals of collected objects (gstats_lock). */
typedef struct totals {
    uint64_t small_alloc[GA_NUM_SIZE_CLASSES]; /* frees: gcsweep.c's totals */
    ga_counter_values ctr;
} totals;

static __thread gcache *tls_g __attribute__((tls_model("initial-exec")));

static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static pthread_key_t detach_key;
static pthread_mutex_t world_lock = PTHREAD_MUTEX_INITIALIZER;
/* parked_cond: a mutator stopped running, or the world restarted */
static pthread_cond_t parked_cond = PTHREAD_COND_INITIALIZER;
static pthread_cond_t resume_cond = PTHREAD_COND_INITIALIZER; /* the world restarted */
static pthread_mutex_t cycle_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t gstats_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t roots_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t hook_lock = PTHREAD_RECURSIVE_MUTEX_INITIALIZER_NP;
/* STOP_NONE, STOP_WORLD (every mutator parks at its next safepoint) or STOP_TERM_OFFERED
 * (the concurrent mark found no more work: the first mutator at a safepoint that gets the
 * cycle lock stops the world and terminates the mark itself, see offer_termination). Only
 * the cycle lock's holder stores STOP_WORLD or STOP_NONE; the worker stores the offer. */
enum { STOP_NONE, STOP_WORLD, STOP_TERM_OFFERED };
static _Atomic int stop_flag;
static _Atomic uint64_t nstopped; /* bumped whenever a mutator stops running (stop_world spins) */
#define STOP_SPIN_NS 100000
/* 1 while a concurrent mark runs: write barrier on, allocate black, assists, no explicit
 * free. Set and cleared with the world stopped, so a mutator's relaxed load sees a value
 * that cannot change before its next safepoint. */
static _Atomic int gc_marking;
static gcache *mutators; /* world lock */
static unsigned nmutators;
static ga_fixalloc gcache_fa; /* world lock */

static ga_gc_root *roots; /* roots_lock */
static size_t nroots, roots_cap;
static uint64_t roots_bytes;

static ga_pacer pacer; /* cycle lock */
/* With a memory limit: the mapped memory at which the limit goal is recomputed (the last
 * commit's + LIMIT_RECHECK); UINT64_MAX without a limit. */
static _Atomic uint64_t limit_recheck_mapped = UINT64_MAX;
static _Atomic uint64_t limit_bound_at = UINT64_MAX; /* pacer.limit_bound, for racy reads */
#define LIMIT_RECHECK ((uint64_t)1 << 20)
static _Atomic uint64_t heap_live, trigger_at, goal_at, limiter_until_ns, last_gc_mono;
static uint64_t last_pause_ns; /* cycle lock */
static _Atomic uint64_t period_ns = DEFAULT_PERIOD_NS;
static _Atomic int init_done;
static _Atomic int64_t gogc_seen, limit_seen; /* the pacer's settings, for racy comparisons */
static _Atomic uint64_t numgc_atomic;
static uint64_t start_mono;
static unsigned nprocs = 1;

static totals tot;     /* gstats_lock */
static ga_gc_stats st; /* gstats_lock */

static ga_gc_event_fn hook_fn; /* hook_lock */
static void *hook_ctx;

/* The concurrent mark (cycle lock for the start, the worker for the rest). */
#define ASSIST_MIN ((uint64_t)64 << 10)    /* Go's gcOverAssistWork: the least an assist does */
#define WORKER_SLICE ((uint64_t)256 << 10) /* scan bytes between the worker's pacing checks */
#define RUNWAY_HISTORY 4
#define OFFER_NS 2000000 /* how long the worker offers the termination to mutators */
static pthread_mutex_t worker_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t worker_cond = PTHREAD_COND_INITIALIZER; /* a mark was handed over */
static pthread_cond_t done_cond = PTHREAD_COND_INITIALIZER;   /* a cycle ended */
static uint64_t worker_gen;                     /* worker_lock: marks handed to the worker */
static bool worker_started;                     /* worker_lock */
static bool in_forked_child;                    /* no worker thread there: cycles stop the world */
static _Atomic int urgent;                      /* ga_gc waits: the worker marks flat out */
static _Atomic int limiter_on;                  /* pacer.limiting, for the assists' racy check */
static _Atomic uint64_t marking_cycle;          /* the number of the cycle whose mark runs */
static _Atomic uint64_t assist_ns, assist_work; /* totals over the process's life */
static uint64_t assist_ns_start;                /* assist_ns when the running mark began */
/* Mutators waiting at the goal for the mark to end, and the sum of their start times: at
 * termination their wait so far (nwaiting x now - wait_begin_sum) is charged as assist time;
 * they wait for that cycle only. */
static _Atomic uint64_t nwaiting, wait_begin_sum;
static _Atomic uint64_t expected_work;       /* scan work expected this mark (bytes) */
static uint64_t last_scan_work;              /* cycle lock: scan work of the last mark */
static uint64_t runway_hist[RUNWAY_HISTORY]; /* cycle lock: allocated during recent marks */
static unsigned runway_next;
static uint64_t gc_cpu_total_ns; /* gstats_lock: pauses x CPUs + worker + assist CPU */
static ga_gcwork orphan_gcw;     /* orphan_lock: the barrier of a thread that cannot attach */
static pthread_mutex_t orphan_lock = PTHREAD_MUTEX_INITIALIZER;

static void collect(gcache *self, bool forced);
static void detach(gcache *g);
static void flush_cache(gcache *g);
static void wait_cycle(gcache *self, uint64_t n);

/* ---- Clocks ---- */

static uint64_t clock_ns(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t mono_ns(void)
{
    return clock_ns(CLOCK_MONOTONIC);
}

/* ---- Initialisation and fork ---- */

static void key_destructor(void *arg)
{
    if (arg) detach(arg);
}

/* Fork: the mutator list, the roots and the span lists are held across fork() (lock order
 * world -> roots -> central, as the collector takes them), so the child sees them whole. */
static void fork_prepare(void)
{
    pthread_mutex_lock(&world_lock);
    pthread_mutex_lock(&roots_lock);
    _ga_gc_sweep_fork_prepare();
}

static void fork_parent(void)
{
    _ga_gc_sweep_fork_parent();
    pthread_mutex_unlock(&roots_lock);
    pthread_mutex_unlock(&world_lock);
}

static void fork_child(void)
{
    pthread_mutex_init(&world_lock, NULL);
    pthread_cond_init(&parked_cond, NULL);
    pthread_cond_init(&resume_cond, NULL);
    pthread_mutex_init(&cycle_lock, NULL);
    pthread_mutex_init(&gstats_lock, NULL);
    pthread_mutex_init(&roots_lock, NULL);
    pthread_mutex_t recursive = PTHREAD_RECURSIVE_MUTEX_INITIALIZER_NP;
    hook_lock = recursive;
    pthread_mutex_init(&worker_lock, NULL);
    pthread_cond_init(&worker_cond, NULL);
    pthread_cond_init(&done_cond, NULL);
    pthread_mutex_init(&orphan_lock, NULL);
    in_forked_child = true; /* no worker thread here: every cycle stops the world */
    worker_started = false;
    _ga_gc_sweep_fork_child();
    _ga_gc_mark_fork_child();
    atomic_store(&stop_flag, 0);
    /* Only this thread survives: the other mutators' spans go back to the lists. */
    for (gcache *g = mutators, *next; g; g = next) {
        next = g->next;
        if (g != tls_g) detach(g);
    }
    /* A concurrent mark the parent was running is abandoned (its worker's grey objects are
     * gone): every mark bit is cleared and the next cycle marks from scratch. */
    if (atomic_load(&gc_marking)) {
        if (tls_g) flush_cache(tls_g);
        uint64_t ignored;
        _ga_gc_mark_finish(&ignored);
        _ga_gc_mark_retire();
        _ga_gc_clear_marks();
        atomic_store(&gc_marking, 0);
        atomic_store(&urgent, 0);
    }
}

static void init(void)
{
    _ga_mheap_init();
    _ga_fixalloc_init(&gcache_fa, sizeof(gcache));
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    nprocs = n > 0 ? (unsigned)n : 1;
    start_mono = mono_ns();
    atomic_store(&last_gc_mono, start_mono);
    _ga_pacer_init(&pacer, _ga_options_gogc(), _ga_options_memory_limit());
    atomic_store(&gogc_seen, pacer.gogc);
    atomic_store(&limit_seen, pacer.mem_limit);
    atomic_store(&trigger_at, pacer.trigger);
    atomic_store(&goal_at, pacer.heap_goal);
    atomic_store(&limit_bound_at, pacer.limit_bound);
    if (pacer.mem_limit != INT64_MAX) atomic_store(&limit_recheck_mapped, LIMIT_RECHECK);
    pthread_mutex_lock(&gstats_lock);
    st.NextGC = pacer.heap_goal;
    pthread_mutex_unlock(&gstats_lock);
    pthread_key_create(&detach_key, key_destructor);
    pthread_atfork(fork_prepare, fork_parent, fork_child);
    atomic_store_explicit(&init_done, 1, memory_order_release);
}

static void gc_init(void)
{
    pthread_once(&init_once, init);
}

/* ---- Mutators: attach, detach, park, blocking ---- */

static void set_running(gcache *g, int running) /* world lock held */
{
    if (running) {
        while (atomic_load_explicit(&stop_flag, memory_order_relaxed) == STOP_WORLD)
            pthread_cond_wait(&resume_cond, &world_lock);
    } else {
        atomic_fetch_add_explicit(&nstopped, 1, memory_order_relaxed);
        pthread_cond_broadcast(&parked_cond);
    }
    g->running = running;
}

static bool take_termination(gcache *g);

static GA_NOINLINE void park(gcache *g)
{
    if (atomic_load_explicit(&stop_flag, memory_order_relaxed) == STOP_TERM_OFFERED &&
        take_termination(g))
        return;
    pthread_mutex_lock(&world_lock);
    set_running(g, 0);
    set_running(g, 1);
    pthread_mutex_unlock(&world_lock);
}

static GA_NOINLINE gcache *attach(void)
{
    gc_init();
    pthread_mutex_lock(&world_lock);
    gcache *g = _ga_fixalloc_alloc(&gcache_fa);
    if (g) {
        for (unsigned i = 0; i < GA_NUM_SPAN_CLASSES; i++)
            g->alloc[i] = &_ga_span_empty;
        g->gcw = (ga_gcwork){0};
        g->assist_debt = 0;
        set_running(g, 1);
        g->next = mutators;
        if (mutators) mutators->prev = g;
        mutators = g;
        nmutators++;
    }
    pthread_mutex_unlock(&world_lock);
    if (!g) return NULL;
    tls_g = g;
    pthread_setspecific(detach_key, g);
    return g;
}

/* Empties a reuse list: its objects stay allocated until a sweep finds them unmarked. */
static void drop_reuse(gcache *g, unsigned spc)
{
    for (void *p = g->reuse[spc]; p;) {
        void *next = _ga_link_get(p);
        GA_UNPOISON(p, _ga_class_to_size[spc >> 1]);
        p = next;
    }
    g->reuse[spc] = NULL;
}

/* Allocate black: a span a mutator took during a concurrent mark (every cache is flushed
 * when a mark starts, and the cursor is materialised when a span is taken) holds the objects
 * it allocated since in [matindex, freeindex) where the alloc bits are still clear; they get
 * their mark bits here, before the span goes back and the cursor is materialised, so the
 * marker (which ignores the cursor range while the world runs) never sees them unmarked.
 * They need no scan: every pointer stored into them went through the barrier. */
static void blacken(ga_span *s)
{
    unsigned from = s->matindex, to = s->freeindex;
    uint64_t n = 0;
    while (from < to) {
        unsigned w = from / 64, lo = from & 63;
        unsigned hi = (to - w * 64) > 64 ? 64 : to - w * 64;
        uint64_t mask =
            (hi == 64 ? ~(uint64_t)0 : (((uint64_t)1 << hi) - 1)) & (~(uint64_t)0 << lo);
        uint64_t fresh = mask & ~__atomic_load_n(&s->allocbits[w], __ATOMIC_RELAXED);
        if (fresh) {
            uint64_t old = __atomic_fetch_or(&s->gcmarkbits[w], fresh, __ATOMIC_RELAXED);
            n += (uint64_t)__builtin_popcountll(fresh & ~old);
        }
        from = w * 64 + hi;
    }
    if (n) _ga_gc_mark_add_black(n * s->elemsize);
}

/* A mutator stops using span s (exhausted, or its cache is flushed). */
static void release_span(ga_span *s)
{
    if (atomic_load_explicit(&gc_marking, memory_order_relaxed)) blacken(s);
    _ga_gc_central_put(s);
}

/* Gives back g's spans, drops its reuse lists and tiny block, hands over its grey objects.
 * g is not running (or is the caller, detaching), so nobody else touches it. */
static void flush_cache(gcache *g)
{
    for (unsigned spc = 2; spc < GA_NUM_SPAN_CLASSES; spc++) {
        ga_span *s = g->alloc[spc];
        if (s != &_ga_span_empty) {
            uint64_t unused = (uint64_t)(s->nelems - s->nalloc) * s->elemsize;
            uint64_t live = atomic_load_explicit(&heap_live, memory_order_relaxed);
            atomic_fetch_sub(&heap_live, unused < live ? unused : live);
            release_span(s);
            g->alloc[spc] = &_ga_span_empty;
        }
        drop_reuse(g, spc);
    }
    g->tiny = 0;
    g->tinyoffset = 0;
    _ga_gcwork_flush(&g->gcw);
}

static void merge_counters(gcache *g) /* gstats_lock held */
{
    for (unsigned c = 0; c < GA_NUM_SIZE_CLASSES; c++) {
        tot.small_alloc[c] += g->nmalloc[c];
        g->nmalloc[c] = 0;
    }
#define GA_X(name, desc)                                                                           \
    tot.ctr.name += g->ctr.name;                                                                   \
    g->ctr.name = 0;
    GA_THREAD_COUNTERS(GA_X)
#undef GA_X
}

static void detach(gcache *g)
{
    pthread_mutex_lock(&world_lock);
    while (atomic_load_explicit(&stop_flag, memory_order_relaxed) == STOP_WORLD) {
        set_running(g, 0); /* let the cycle run; it may flush g */
        pthread_cond_wait(&resume_cond, &world_lock);
    }
    flush_cache(g);
    pthread_mutex_lock(&gstats_lock);
    merge_counters(g);
    pthread_mutex_unlock(&gstats_lock);
    if (g->prev)
        g->prev->next = g->next;
    else
        mutators = g->next;
    if (g->next) g->next->prev = g->prev;
    nmutators--;
    _ga_fixalloc_free(&gcache_fa, g);
    pthread_mutex_unlock(&world_lock);
    if (tls_g == g) tls_g = NULL;
}

void ga_gc_thread_detach(void)
{
    gcache *g = tls_g;
    if (!g) return;
    pthread_setspecific(detach_key, NULL);
    detach(g);
}

void ga_gc_blocking_enter(void)
{
    gcache *g = tls_g;
    if (!g) return;
    pthread_mutex_lock(&world_lock);
    set_running(g, 0);
    pthread_mutex_unlock(&world_lock);
}

void ga_gc_blocking_exit(void)
{
    gcache *g = tls_g;
    if (!g) return;
    pthread_mutex_lock(&world_lock);
    set_running(g, 1);
    pthread_mutex_unlock(&world_lock);
}

static inline gcache *mutator(void)
{
    gcache *g = tls_g;
    if (GA_UNLIKELY(!g)) g = attach();
    if (GA_LIKELY(g) && GA_UNLIKELY(atomic_load_explicit(&stop_flag, memory_order_relaxed)))
        park(g); /* the safepoint */
    return g;
}

/* The hybrid barrier (Go 1.8+): shade the value overwritten (Yuasa's deletion barrier) and
 * the value stored (Dijkstra's insertion barrier). Go shades the stored value only while the
 * goroutine's stack is grey; goalloc needs it always, for a pointer loaded from memory no
 * barrier guards: a user arena (rescanned only at termination) may hand a thread the only
 * pointer to a white object, which it may store into a black object and then clear from the
 * arena, unseen by the deletion half. */
static GA_NOINLINE void barrier(gcache *g, void **slot, void *value)
{
    uintptr_t old = (uintptr_t)__atomic_load_n(slot, __ATOMIC_RELAXED);
    if (GA_LIKELY(g)) {
        _ga_gc_shade(&g->gcw, old, (uintptr_t)value);
        return;
    }
    pthread_mutex_lock(&orphan_lock); /* attach failed (out of memory): a shared buffer */
    _ga_gc_shade(&orphan_gcw, old, (uintptr_t)value);
    _ga_gcwork_flush(&orphan_gcw);
    pthread_mutex_unlock(&orphan_lock);
}

/* Not a safepoint: between two collected allocations a thread may hold new objects in locals
 * only (the contract), and a store is often what roots them, e.g. linking a fresh object's
 * child into it before the object itself is stored. It attaches the thread, which waits
 * while the world is stopped (an unregistered thread must not store into roots then). */
void ga_store_ptr(void **slot, void *value)
{
    gcache *g = tls_g;
    if (GA_UNLIKELY(!g)) g = attach();
    if (GA_UNLIKELY(atomic_load_explicit(&gc_marking, memory_order_relaxed)))
        barrier(g, slot, value);
    __atomic_store_n(slot, value, __ATOMIC_RELAXED);
}

/* ---- Pointer bits of scan objects ---- */

static void bits_fill(uint64_t *bits, size_t from, size_t n, bool one)
{
    while (n) {
        size_t w = from / 64, lo = from & 63, k = 64 - lo < n ? 64 - lo : n;
        uint64_t mask = (k == 64 ? ~(uint64_t)0 : (((uint64_t)1 << k) - 1)) << lo;
        bits[w] = one ? bits[w] | mask : bits[w] & ~mask;
        from += k;
        n -= k;
    }
}

/* Words of the object at obj (slot of nwords words) that may hold pointers: all (t NULL) or
 * the type's mask repeated count times. */
static void set_ptrbits(ga_span *s, uintptr_t obj, size_t nwords, const ga_gc_type *t, size_t count)
{
    uint64_t *bits = _ga_gc_ptrbits(s);
    size_t first = (obj - s->base) / 8;
    if (!t) {
        bits_fill(bits, first, nwords, true);
        return;
    }
    bits_fill(bits, first, nwords, false);
    size_t tw = t->size / 8;
    for (size_t e = 0; e < count; e++)
        for (size_t i = 0; i < tw; i++)
            if ((t->ptrmask[i / 8] >> (i % 8)) & 1) {
                size_t b = first + e * tw + i;
                bits[b / 64] |= (uint64_t)1 << (b & 63);
            }
}

/* ---- Allocation ---- */

static void maybe_collect(gcache *g);

static uint64_t thread_cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Mutator assist (spec 8.5): a mutator that allocates `bytes` during a concurrent mark owes
 * bytes x assistWorkPerByte of scan work, with assistWorkPerByte = the scan work still
 * expected / the heap left before the goal (Go's revise), and pays it from the grey queue
 * once the debt reaches ASSIST_MIN (over-assisting amortises the cost, as Go's). No work
 * left means nothing to pay: the debt is forgiven. Off while the CPU limiter is engaged. */
static GA_NOINLINE void assist(gcache *g, uint64_t bytes)
{
    if (atomic_load_explicit(&limiter_on, memory_order_relaxed)) return;
    uint64_t done = _ga_gc_scan_work(), expected = atomic_load(&expected_work);
    uint64_t left = expected > done + 1000 ? expected - done : 1000;
    uint64_t live = atomic_load_explicit(&heap_live, memory_order_relaxed);
    uint64_t goal = atomic_load_explicit(&goal_at, memory_order_relaxed);
    uint64_t dist = goal > live + 1 ? goal - live : 1;
    double per_byte = (double)left / (double)dist;
    double debt = (double)g->assist_debt + (double)bytes * per_byte;
    g->assist_debt = debt > 1e18 ? (uint64_t)1e18 : (uint64_t)debt;
    if (g->assist_debt < ASSIST_MIN) return;
    uint64_t t0 = thread_cpu_ns();
    uint64_t work = _ga_gc_drain(&g->gcw, g->assist_debt);
    _ga_gcwork_flush(&g->gcw); /* what it found is the worker's too */
    atomic_fetch_add_explicit(&assist_ns, thread_cpu_ns() - t0, memory_order_relaxed);
    atomic_fetch_add_explicit(&assist_work, work, memory_order_relaxed);
    g->assist_debt = 0;
    /* Out of work at the goal: the rest of the mark is in the worker's hands (its buffer,
     * its termination). The mutator waits for the cycle to end rather than run past the
     * goal, as Go parks an assist that finds no work; the wait counts as assist time (GC
     * time taken from the mutator, which the CPU limiter weighs). */
    if (work < debt && atomic_load_explicit(&heap_live, memory_order_relaxed) >= goal) {
        uint64_t n = atomic_load(&marking_cycle), w0 = mono_ns();
        atomic_store(&urgent, 1);
        atomic_fetch_add(&wait_begin_sum, w0);
        atomic_fetch_add(&nwaiting, 1);
        wait_cycle(g, n);
        atomic_fetch_sub(&nwaiting, 1);
        atomic_fetch_sub(&wait_begin_sum, w0);
    }
}

/* Slow path: the next slot of the current span, else a partial or fresh span. */
static GA_NOINLINE void *refill(gcache *g, unsigned spc, ga_span **sp)
{
    ga_span *s = g->alloc[spc];
    if (s != &_ga_span_empty) {
        int idx = _ga_span_next_free(s);
        if (idx >= 0) {
            *sp = s;
            return (void *)(s->base + (uintptr_t)idx * s->elemsize);
        }
        g->alloc[spc] = &_ga_span_empty;
        drop_reuse(g, spc); /* its objects belong to the span we give back */
        release_span(s);
    }
    maybe_collect(g);
    /* Before a span is taken: an assist may wait for the mark to end, and a span held across
     * mark termination would miss its sweep. Charged a whole span, as Go charges the slots
     * a refill caches. */
    if (GA_UNLIKELY(atomic_load_explicit(&gc_marking, memory_order_relaxed)))
        assist(g, (uint64_t)_ga_class_to_npages[spc >> 1] * GA_PAGE_SIZE);
    _ga_gc_sweep_credit(atomic_load_explicit(&heap_live, memory_order_relaxed));
    s = _ga_gc_central_get(spc);
    if (!s) s = _ga_gc_span_new(_ga_class_to_npages[spc >> 1], spc);
    if (!s) return NULL;
    atomic_fetch_add(&heap_live, (uint64_t)(s->nelems - s->nalloc) * s->elemsize);
    g->alloc[spc] = s;
    int idx = _ga_span_next_free(s);
    ga_assert_internal(idx >= 0);
    *sp = s;
    return (void *)(s->base + (uintptr_t)idx * s->elemsize);
}

/* Budget: one pop from the reuse list, or one ctz in the cached span; no locks, no atomics.
 * *sp = the span (NULL for a reused object), *dirty = the slot may hold old data. */
static inline void *small_alloc(gcache *g, unsigned spc, ga_span **sp, bool *dirty)
{
    void *p = g->reuse[spc];
    if (p) {
        GA_UNPOISON(p, _ga_class_to_size[spc >> 1]);
        g->reuse[spc] = *(void **)p;
        *sp = NULL;
        *dirty = true;
        return p;
    }
    ga_span *s = g->alloc[spc];
    p = _ga_span_next_fast(s);
    if (!p) p = refill(g, spc, &s);
    if (!p) return NULL;
    g->nmalloc[spc >> 1]++;
    *sp = s;
    *dirty = s->needzero;
    GA_UNPOISON(p, s->elemsize);
    return p;
}

/* The manual path's tiny policy (_ga_tiny_offset): goalloc_gc.h promises 8-byte alignment
 * below 16 B. */
static void *tiny_alloc(gcache *g, size_t size)
{
    size_t off = _ga_tiny_offset(g->tinyoffset, size);
    g->ctr.tiny_allocs++;
    if (GA_LIKELY(g->tiny != 0 && off < GA_TINY_SIZE)) {
        g->tinyoffset = off + size;
        return (void *)(g->tiny + off);
    }
    ga_span *s;
    bool dirty;
    void *p = small_alloc(g, GA_TINY_SPAN_CLASS, &s, &dirty);
    if (!p) {
        g->ctr.tiny_allocs--;
        return NULL;
    }
    if (dirty) memset(p, 0, GA_TINY_SIZE);
    if (g->tiny == 0 || size < g->tinyoffset) { /* the new block has more room left */
        g->tiny = (uintptr_t)p;
        g->tinyoffset = size;
    }
    return p;
}

static GA_NOINLINE void *large_alloc(gcache *g, size_t size, bool noscan, const ga_gc_type *t,
                                     size_t count)
{
    if (size > MAX_REQUEST) return NULL;
    maybe_collect(g);
    size_t npages = (size + GA_PAGE_SIZE - 1) / GA_PAGE_SIZE;
    /* Before the object exists: an assist may wait out the rest of the mark, and another
     * cycle may run meanwhile, which would free an object held only in a local. */
    if (atomic_load_explicit(&gc_marking, memory_order_relaxed)) assist(g, npages * GA_PAGE_SIZE);
    _ga_gc_sweep_credit(atomic_load_explicit(&heap_live, memory_order_relaxed));
    ga_span *s = _ga_gc_span_new(npages, noscan ? 1 : 0);
    if (!s) return NULL;
    int idx = _ga_span_next_free(s);
    ga_assert_internal(idx == 0);
    (void)idx;
    if (s->needzero) memset((void *)s->base, 0, size);
    if (!noscan) set_ptrbits(s, s->base, (size + 7) / 8, t, count);
    if (atomic_load_explicit(&gc_marking, memory_order_relaxed)) { /* allocate black */
        __atomic_fetch_or(&s->gcmarkbits[0], (uint64_t)1, __ATOMIC_RELAXED);
        _ga_gc_mark_add_black(npages * GA_PAGE_SIZE);
    }
    _ga_gc_central_put(s);
    atomic_fetch_add(&heap_live, npages * GA_PAGE_SIZE);
    g->ctr.large_alloc += npages * GA_PAGE_SIZE;
    g->ctr.large_alloc_count++;
    return (void *)s->base;
}

static void *alloc_impl(size_t size, bool noscan, const ga_gc_type *t, size_t count)
{
    gcache *g = mutator();
    void *p = NULL;
    if (GA_UNLIKELY(!g)) goto fail;
    if (GA_UNLIKELY(size > LARGE_CUTOFF)) {
        p = large_alloc(g, size, noscan, t, count);
        if (!p) goto fail;
        return p;
    }
    if (size == 0) size = 1;
    if (noscan && size <= GA_TINY_MAX) {
        p = tiny_alloc(g, size);
        if (!p) goto fail;
        return p;
    }
    unsigned cls = _ga_class_of(size), spc = cls << 1 | (noscan ? 1u : 0u);
    ga_span *s;
    bool dirty;
    p = small_alloc(g, spc, &s, &dirty);
    if (GA_UNLIKELY(!p)) goto fail;
    size_t esz = _ga_class_to_size[cls];
    /* A scan slot is zeroed whole (it is scanned whole); a noscan one only as far as asked. */
    if (dirty) memset(p, 0, noscan ? size : esz);
    if (!noscan) set_ptrbits(s ? s : _ga_span_of((uintptr_t)p), (uintptr_t)p, esz / 8, t, count);
    return p;
fail:
    errno = ENOMEM;
    return NULL;
}

void *ga_gc_alloc(size_t size, unsigned flags)
{
    return alloc_impl(size, (flags & GA_GC_NOSCAN) != 0, NULL, 1);
}

void *ga_gc_alloc_typed(const ga_gc_type *t, size_t count)
{
    size_t total;
    if (!t || !t->ptrmask || t->size == 0 || count == 0) {
        _ga_warn("ga_gc_alloc_typed: %s", !t ? "NULL type" : count == 0 ? "count 0" : "empty type");
        errno = EINVAL;
        return NULL;
    }
    if (__builtin_mul_overflow(t->size, count, &total)) {
        errno = ENOMEM;
        return NULL;
    }
    /* Elements not a whole number of words apart cannot be described word by word. */
    if (t->size % 8 != 0 && count > 1) return alloc_impl(total, false, NULL, 1);
    return alloc_impl(total, false, t, count);
}

/* ---- Explicit free (ga_free of a collected object) ---- */

void _ga_gc_free(ga_span *s, void *p)
{
    gcache *g = tls_g;
    if (!g || !g->running) return; /* not a running mutator: left to the collector */
    /* During a concurrent mark the marker may be scanning the object, and a reused slot
     * would need allocating black: left to the collector. */
    if (atomic_load_explicit(&gc_marking, memory_order_relaxed)) return;
    uintptr_t a = (uintptr_t)p;
    if (s->spanclass < 2) {
        if (a != s->base) {
            if (GOALLOC_DEBUG >= 1) _ga_fatal("free(): invalid pointer %p (inside a block)", p);
            return;
        }
        uint64_t bytes = s->npages * GA_PAGE_SIZE;
        _ga_gc_large_free(s);
        uint64_t live = atomic_load_explicit(&heap_live, memory_order_relaxed);
        atomic_fetch_sub(&heap_live, bytes < live ? bytes : live);
        g->ctr.large_free += bytes;
        g->ctr.large_free_count++;
        return;
    }
    if (s->spanclass == GA_TINY_SPAN_CLASS) return; /* tiny blocks are shared: collector's */
    uintptr_t off = a - s->base;
    if ((uintptr_t)_ga_slot_index(s->divmagic, off) * s->elemsize != off) {
        if (GOALLOC_DEBUG >= 1) _ga_fatal("free(): invalid pointer %p (inside a block)", p);
        return;
    }
    /* Only objects of the span this thread allocates from: the reuse writes pointer bits,
     * which no other thread may write then (see refill, which drops the list with the span). */
    if (g->alloc[s->spanclass] != s) return;
    if (g->reuse[s->spanclass] == p) {
        if (GOALLOC_DEBUG >= 1) _ga_fatal("free(): double free of %p", p);
        return;
    }
    *(void **)p = g->reuse[s->spanclass];
    GA_POISON(p, s->elemsize);
    g->reuse[s->spanclass] = p;
}

/* ---- Roots ---- */

int ga_gc_add_roots(void *lo, void *hi)
{
    uintptr_t l = (uintptr_t)lo, h = (uintptr_t)hi;
    if (!lo || h <= l) {
        _ga_warn("ga_gc_add_roots: empty or inverted range [%p, %p)", lo, hi);
        errno = EINVAL;
        return -1;
    }
    pthread_mutex_lock(&roots_lock);
    for (size_t i = 0; i < nroots; i++) {
        if (l < roots[i].hi && roots[i].lo < h) {
            pthread_mutex_unlock(&roots_lock);
            _ga_warn("ga_gc_add_roots: [%p, %p) overlaps the registered range [%p, %p)", lo, hi,
                     (void *)roots[i].lo, (void *)roots[i].hi);
            errno = EINVAL;
            return -1;
        }
    }
    if (nroots == roots_cap) {
        size_t cap = roots_cap ? roots_cap * 2 : 256;
        ga_gc_root *n = _ga_os_alloc_meta(cap * sizeof *n);
        if (!n) {
            pthread_mutex_unlock(&roots_lock);
            errno = ENOMEM;
            return -1;
        }
        if (roots) {
            memcpy(n, roots, nroots * sizeof *n);
            _ga_os_free_meta(roots, roots_cap * sizeof *n);
        }
        roots = n;
        roots_cap = cap;
    }
    /* Added while a concurrent mark runs: the worker may have scanned the roots already. */
    roots[nroots++] = (ga_gc_root){l, h, atomic_load(&gc_marking) != 0};
    roots_bytes += h - l;
    pthread_mutex_unlock(&roots_lock);
    return 0;
}

int ga_gc_remove_roots(void *lo, void *hi)
{
    pthread_mutex_lock(&roots_lock);
    for (size_t i = 0; i < nroots; i++) {
        if (roots[i].lo == (uintptr_t)lo && roots[i].hi == (uintptr_t)hi) {
            roots_bytes -= roots[i].hi - roots[i].lo;
            roots[i] = roots[--nroots];
            pthread_mutex_unlock(&roots_lock);
            return 0;
        }
    }
    pthread_mutex_unlock(&roots_lock);
    _ga_warn("ga_gc_remove_roots: [%p, %p) is not a registered root range", lo, hi);
    errno = EINVAL;
    return -1;
}

/* ---- Events and gctrace ---- */

void ga_gc_set_event_hook(ga_gc_event_fn fn, void *ctx)
{
    pthread_mutex_lock(&hook_lock);
    hook_fn = fn;
    hook_ctx = fn ? ctx : NULL;
    pthread_mutex_unlock(&hook_lock);
}

/* The hook runs under hook_lock (recursive: it may set the hook again), so once
 * ga_gc_set_event_hook returns no call to the old hook is in flight, even one from the mark
 * worker's thread. */
static void emit(const ga_gc_event *ev)
{
    pthread_mutex_lock(&hook_lock);
    if (hook_fn) hook_fn(ev, hook_ctx);
    pthread_mutex_unlock(&hook_lock);
}

#define MB(x) ((unsigned long long)((x) >> 20))
#define MS(x) ((double)(x) / 1e6)

/* One cycle's figures, for gctrace, the events and the statistics. */
typedef struct cycle_figures {
    uint64_t n, t0, t_end;
    uint64_t clock[3]; /* STW sweep termination, concurrent mark, STW mark termination */
    uint64_t cpu_assist, cpu_worker, cpu_idle; /* worker: background and idle shares */
    uint64_t before, at_end, marked; /* heap_live at start and at termination; marked bytes */
    unsigned threads;
    bool forced, stw;
} cycle_figures;

static cycle_figures mark_cycle; /* the running concurrent mark: cycle_start, then its worker */

/* One line per cycle in Go's gctrace format: the clock of the three phases (stop-the-world
 * sweep termination + concurrent mark + stop-the-world mark termination), their CPU (STW
 * phases x CPUs; mark: assist/background/idle, idle being what the worker ran beyond its
 * paced share while CPUs were free), heap at start
 * -> at termination -> marked. With gcstoptheworld=1 the mark is the middle phase of one
 * pause: its clock is the mark's, its CPU the collector's alone. */
static void trace_cycle(const cycle_figures *f, uint64_t goal, double cpu_fraction)
{
    _ga_trace("gc %llu @%.3fs %.0f%%: %.3f+%.3f+%.3f ms clock, %.3f+%.3f/%.3f/%.3f+%.3f ms cpu, "
              "%llu->%llu->%llu MB, %llu MB goal, 0 MB stacks, %llu MB globals, %u threads%s%s",
              (unsigned long long)f->n, (double)(f->t_end - start_mono) / 1e9, cpu_fraction * 100,
              MS(f->clock[0]), MS(f->clock[1]), MS(f->clock[2]), MS(f->clock[0] * nprocs),
              MS(f->cpu_assist), MS(f->cpu_worker), MS(f->cpu_idle), MS(f->clock[2] * nprocs),
              MB(f->before), MB(f->at_end), MB(f->marked), goal == UINT64_MAX ? 0ull : MB(goal),
              MB(roots_bytes), f->threads, f->stw ? " (stw)" : "", f->forced ? " (forced)" : "");
}

/* ---- The cycle ---- */

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

/* Sets the stop flag and waits until every other mutator has stopped running. The wait
 * spins for up to STOP_SPIN_NS before it blocks: a mutator reaches its safepoint within
 * microseconds, sooner than a blocked thread is woken, and the wait is part of the pause. */
static void stop_world(gcache *self)
{
    pthread_mutex_lock(&world_lock);
    atomic_store(&stop_flag, STOP_WORLD);
    uint64_t spin_end = 0;
    for (;;) {
        gcache *g = mutators;
        while (g && (g == self || !g->running))
            g = g->next;
        if (!g) break;
        uint64_t now = mono_ns();
        if (spin_end == 0) spin_end = now + STOP_SPIN_NS;
        if (now >= spin_end) {
            pthread_cond_wait(&parked_cond, &world_lock);
            continue;
        }
        uint64_t seen = atomic_load_explicit(&nstopped, memory_order_relaxed);
        pthread_mutex_unlock(&world_lock);
        while (atomic_load_explicit(&nstopped, memory_order_relaxed) == seen &&
               mono_ns() < spin_end)
            cpu_relax();
        pthread_mutex_lock(&world_lock);
    }
    pthread_mutex_unlock(&world_lock);
}

static void start_world(void)
{
    pthread_mutex_lock(&world_lock);
    atomic_store(&stop_flag, STOP_NONE);
    pthread_cond_broadcast(&resume_cond);
    pthread_cond_broadcast(&parked_cond); /* a worker offering the termination: it is done */
    pthread_mutex_unlock(&world_lock);
}

/* World stopped: every mutator's cache back (spans, grey objects, counters); returns the
 * number of mutators. */
static unsigned flush_all(void)
{
    unsigned threads = 0;
    pthread_mutex_lock(&gstats_lock);
    for (gcache *g = mutators; g; g = g->next, threads++) {
        flush_cache(g);
        merge_counters(g);
    }
    pthread_mutex_unlock(&gstats_lock);
    return threads;
}

/* allocated = the collected bytes in allocated slots now (Go's heapAlloc at mark termination:
 * the marked bytes plus the garbage not yet swept, which still occupies its spans); manual
 * blocks count as non-heap memory, which the memory-limit goal leaves room for. Passing the
 * marked bytes instead would count the unswept garbage as non-heap memory too, and the goal
 * would fall to the marked heap. */
static ga_pacer_inputs pacer_inputs(uint64_t marked, uint64_t allocated)
{
    uint64_t inuse = atomic_load(&_ga_heapstat.heap_inuse);
    uint64_t hfree = atomic_load(&_ga_heapstat.heap_free);
    uint64_t meta = _ga_os_meta_bytes(), retiring = _ga_gc_mark_retiring();
    meta = meta > retiring ? meta - retiring : 0; /* mark buffers about to be unmapped */
    return (ga_pacer_inputs){.heap_marked = marked,
                             .roots_scan = roots_bytes,
                             .mapped_ready = inuse + hfree + meta,
                             .heap_free = hfree,
                             .heap_alloc = allocated < inuse ? allocated : inuse};
}

static uint64_t mapped_now(void)
{
    return atomic_load_explicit(&_ga_heapstat.heap_inuse, memory_order_relaxed) +
           atomic_load_explicit(&_ga_heapstat.heap_free, memory_order_relaxed) +
           _ga_os_meta_bytes();
}

/* Commits the pacer with `in` and publishes the trigger, the goal, the recheck point and
 * NextGC. Cycle lock held. */
static void commit_pacer(const ga_pacer_inputs *in)
{
    _ga_pacer_commit(&pacer, in);
    atomic_store(&trigger_at, pacer.trigger);
    atomic_store(&goal_at, pacer.heap_goal);
    atomic_store(&limit_bound_at, pacer.limit_bound);
    atomic_store(&limit_recheck_mapped,
                 pacer.mem_limit == INT64_MAX ? UINT64_MAX : in->mapped_ready + LIMIT_RECHECK);
    pthread_mutex_lock(&gstats_lock);
    st.NextGC = pacer.heap_goal;
    pthread_mutex_unlock(&gstats_lock);
}

/* Go computes the memory-limit goal afresh at every trigger check (heapGoalInternal): as
 * non-heap memory grows the goal falls, and as the mutator refills the slots the last sweep
 * freed they stop counting as non-heap memory and the goal rises. Here it is recomputed when
 * heap_live reaches the stored trigger or the mapped memory has grown LIMIT_RECHECK past the
 * last commit's (so the goal is never more than that stale), once the sweep is done
 * (proportional sweeping normally finishes before the trigger): heap_live is then the
 * allocated collected bytes. While spans are unswept their garbage would count as non-heap
 * memory, so the goal the last commit computed stands. Without the recheck on growth, a heap
 * still building its live set would pass the goal before its first cycle, into spans that
 * scattered garbage then keeps mapped. Cycle lock held. */
static void refresh_limit_goal(void)
{
    if (pacer.mem_limit == INT64_MAX || _ga_gc_sweep_pending()) return;
    ga_pacer_inputs in = pacer_inputs(pacer.heap_marked, atomic_load(&heap_live));
    commit_pacer(&in);
}

/* Re-commits the pacer when GOGC or the memory limit changed. Cycle lock held. */
static void sync_options(void)
{
    int64_t gogc = _ga_options_gogc(), limit = _ga_options_memory_limit();
    if (gogc == pacer.gogc && limit == pacer.mem_limit) return;
    ga_pacer_inputs in = pacer_inputs(pacer.heap_marked, atomic_load(&heap_live));
    pacer.gogc = gogc;
    pacer.mem_limit = limit;
    atomic_store_explicit(&gogc_seen, gogc, memory_order_relaxed);
    atomic_store_explicit(&limit_seen, limit, memory_order_relaxed);
    commit_pacer(&in);
}

static void emit_start(const cycle_figures *f)
{
    ga_gc_event ev = {.kind = GA_GC_EV_START,
                      .cycle = f->n,
                      .t_ns = f->t0,
                      .heap_before = f->before,
                      .heap_goal = pacer.heap_goal,
                      .mem_limit = pacer.mem_limit,
                      .forced = f->forced};
    emit(&ev);
}

/* Mark termination, world stopped, every marker flushed: the marked heap becomes heap_live,
 * the pacer commits, every span becomes unswept, the world restarts; then the statistics,
 * the end event and gctrace. Cycle lock held. */
static void end_cycle(cycle_figures *f, bool complete, uint64_t marked, uint64_t t_stw2)
{
    if (!complete) {
        _ga_warn("GC: out of memory for mark work buffers; this cycle keeps every object");
        _ga_gc_mark_everything();
        marked = f->at_end;
    }
    _ga_userarena_after_mark(complete); /* quarantined arena chunks nothing points into */
    f->marked = marked;
    if (!f->stw) { /* the runway: what the mutator allocated while this mark ran */
        runway_hist[runway_next++ % RUNWAY_HISTORY] =
            f->at_end > f->before ? f->at_end - f->before : 0;
        uint64_t r = 0;
        for (unsigned i = 0; i < RUNWAY_HISTORY; i++)
            r = runway_hist[i] > r ? runway_hist[i] : r;
        pacer.runway = r;
    } else {
        pacer.runway = 0;
    }
    last_scan_work = _ga_gc_scan_work();
    atomic_store(&heap_live, marked);
    ga_pacer_inputs in = pacer_inputs(marked, f->at_end);
    commit_pacer(&in);
    _ga_gc_begin_sweep(marked, pacer.trigger);
    atomic_store(&gc_marking, 0);
    start_world();
    uint64_t t3 = mono_ns(), now_real = clock_ns(CLOCK_REALTIME);
    _ga_gc_sweep_wake();
    f->t_end = t3;
    f->clock[2] = t3 - t_stw2;
    uint64_t pause = f->stw ? t3 - f->t0 : f->clock[0] + f->clock[2];
    /* Stop-the-world: the pause holds every CPU and covers the mark (cpu_worker is the mark's
     * share of it, for gctrace only). */
    uint64_t gc_cpu = pause * nprocs + (f->stw ? 0 : f->cpu_assist + f->cpu_worker);
    /* Idle marking used CPUs nothing else wanted: GC time (Go's /cpu/classes/gc/total counts
     * it), but not time the CPU limiter weighs against the mutator (as Go's limiter). */
    _ga_limiter_update(&pacer, t3, gc_cpu, nprocs);
    atomic_store(&limiter_on, pacer.limiting);
    last_pause_ns = gc_cpu / nprocs; /* the wall-clock share the limiter waits out */
    gc_cpu += f->cpu_idle;
    atomic_store(&last_gc_mono, t3);

    pthread_mutex_lock(&gstats_lock);
    st.PauseNs[st.NumGC % 256] = pause;
    st.PauseEnd[st.NumGC % 256] = now_real;
    st.NumGC++;
    st.NumForcedGC += f->forced;
    st.PauseTotalNs += pause;
    st.LastGC = now_real;
    st.NextGC = pacer.heap_goal;
    st.HeapMarked = marked;
    st.LimiterEnabled = pacer.limiter_enabled_count;
    gc_cpu_total_ns += gc_cpu;
    st.GCCPUNs = gc_cpu_total_ns;
    double cpu =
        t3 > start_mono ? (double)gc_cpu_total_ns / ((double)(t3 - start_mono) * nprocs) : 0;
    st.GCCPUFraction = cpu;
    pthread_mutex_unlock(&gstats_lock);

    /* The end event and gctrace come before the cycle counts as ended, so that a ga_gc()
     * that waited for it finds both (the mark may have ended on another thread). */
    ga_gc_event ev = {.kind = GA_GC_EV_END,
                      .cycle = f->n,
                      .t_ns = t3,
                      .pause_ns = pause,
                      .heap_before = f->before,
                      .heap_after = f->at_end,
                      .heap_marked = marked,
                      .heap_goal = pacer.heap_goal,
                      .mem_limit = pacer.mem_limit,
                      .forced = f->forced};
    emit(&ev);
    if (_ga_opt.gctrace) trace_cycle(f, pacer.heap_goal, cpu);
    pthread_mutex_lock(&worker_lock);
    atomic_store(&numgc_atomic, f->n);
    pthread_cond_broadcast(&done_cond);
    pthread_mutex_unlock(&worker_lock);
}

/* gcstoptheworld=1 (and a forked child): stop, flush, finish the sweep, mark, commit,
 * restart, all in one pause. Cycle lock held; self (may be NULL) is the calling mutator. */
static void cycle_stw(gcache *self, bool forced)
{
    cycle_figures f = {.forced = forced, .stw = true};
    f.t0 = mono_ns();
    stop_world(self);
    uint64_t t1 = mono_ns();
    f.threads = flush_all();
    _ga_gc_finish_sweep(true); /* what the last cycle left unswept (spec 9: finishsweep_m) */
    f.before = f.at_end = atomic_load(&heap_live);
    f.n = atomic_load(&numgc_atomic) + 1;
    emit_start(&f);
    uint64_t marked = 0;
    _ga_userarena_before_mark();
    pthread_mutex_lock(&roots_lock);
    bool complete = _ga_gc_mark(roots, nroots, &marked);
    pthread_mutex_unlock(&roots_lock);
    uint64_t t2 = mono_ns();
    f.clock[0] = t1 - f.t0;
    f.clock[1] = t2 - t1;
    f.cpu_worker = t2 - t1;
    end_cycle(&f, complete, marked, t2);
}

static void *worker_main(void *arg);

/* The background mark worker, started at the first concurrent cycle. */
static bool worker_ready(void)
{
    pthread_mutex_lock(&worker_lock);
    bool ok = worker_started;
    if (!ok) {
        pthread_t th;
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        ok = worker_started = pthread_create(&th, &attr, worker_main, NULL) == 0;
        pthread_attr_destroy(&attr);
    }
    pthread_mutex_unlock(&worker_lock);
    return ok;
}

/* Sweep termination and the start of a concurrent mark (Go's gcStart): finish the sweep
 * while the world runs, stop it, flush every cache, switch the barrier and allocate-black
 * on, restart, and hand the mark to the worker. Cycle lock held, no mark running. */
static void cycle_start(gcache *self, bool forced)
{
    _ga_gc_finish_sweep(false); /* outside the pause: mutators keep running meanwhile */
    cycle_figures *f = &mark_cycle;
    *f = (cycle_figures){.forced = forced};
    f->t0 = mono_ns();
    stop_world(self);
    f->threads = flush_all();
    _ga_gc_finish_sweep(true); /* nothing, normally: no span turns unswept until termination */
    f->before = atomic_load(&heap_live);
    f->n = atomic_load(&numgc_atomic) + 1;
    atomic_store(&marking_cycle, f->n);
    _ga_gc_mark_begin(true);
    _ga_userarena_before_mark();
    atomic_store(&expected_work, last_scan_work + roots_bytes);
    assist_ns_start = atomic_load(&assist_ns); /* a wait that ended after the last mark ended
                                                  counts in this one */
    atomic_store(&gc_marking, 1);
    start_world();
    f->clock[0] = mono_ns() - f->t0;
    emit_start(f);
    pthread_mutex_lock(&worker_lock);
    worker_gen++;
    pthread_cond_signal(&worker_cond);
    pthread_mutex_unlock(&worker_lock);
}

static unsigned running_mutators_locked(void) /* world lock held */
{
    unsigned n = 0;
    for (gcache *g = mutators; g; g = g->next)
        n += g->running != 0;
    return n;
}

static unsigned running_mutators(void)
{
    pthread_mutex_lock(&world_lock);
    unsigned n = running_mutators_locked();
    pthread_mutex_unlock(&world_lock);
    return n;
}

static double background_utilization(void)
{
    return 0.25 * nprocs > 1.0 ? 1.0 : 0.25 * nprocs;
}

/* Holds the worker near gcBackgroundUtilization (25% of the CPUs, at most one thread) of
 * the time since the mark began, unless a ga_gc() waits or the heap passed its goal. */
static void pace_worker(uint64_t t_start, uint64_t cpu_start)
{
    if (atomic_load_explicit(&urgent, memory_order_relaxed) ||
        atomic_load_explicit(&heap_live, memory_order_relaxed) >=
            atomic_load_explicit(&goal_at, memory_order_relaxed))
        return;
    /* A CPU no mutator runs on is idle: the worker marks on it flat out, as Go runs an idle
     * mark worker on every P with nothing else to run (gctrace's idle share). The sooner the
     * mark ends, the shorter the barrier's cost to the mutators. */
    if (running_mutators() < nprocs) return;
    double u = background_utilization();
    double used = (double)(thread_cpu_ns() - cpu_start), wall = (double)(mono_ns() - t_start);
    double ahead = used / u - wall; /* ns the worker would have to idle to be on target */
    if (ahead <= 0) return;
    if (ahead > 5e6) ahead = 5e6; /* look again soon: a ga_gc or the goal may need it */
    struct timespec ts = {0, (long)ahead};
    nanosleep(&ts, NULL);
}

/* Mark termination: what the barriers and assists still hold, the fresh roots and the user
 * arenas (stores into arena memory have no barrier), with the world stopped; w is the
 * terminating thread's work buffer, self its gcache (NULL for the worker). Cycle lock held. */
static void terminate_mark(gcache *self, ga_gcwork *w)
{
    cycle_figures *f = &mark_cycle;
    uint64_t t_stw2 = mono_ns();
    stop_world(self);
    f->clock[1] = t_stw2 - (f->t0 + f->clock[0]);
    flush_all();
    pthread_mutex_lock(&roots_lock);
    for (size_t r = 0; r < nroots; r++)
        if (roots[r].fresh) {
            _ga_gc_scan_range(w, roots[r].lo, roots[r].hi);
            roots[r].fresh = false;
        }
    pthread_mutex_unlock(&roots_lock);
    _ga_userarena_foreach_root(w, _ga_gc_scan_range);
    _ga_gc_drain(w, UINT64_MAX);
    _ga_gcwork_flush(w);
    uint64_t marked = 0;
    bool complete = _ga_gc_mark_finish(&marked);
    f->at_end = atomic_load(&heap_live);
    f->cpu_assist = atomic_load(&assist_ns) - assist_ns_start +
                    (atomic_load(&nwaiting) * t_stw2 - atomic_load(&wait_begin_sum));
    atomic_store(&urgent, 0);
    end_cycle(f, complete, marked, t_stw2);
}

/* A mutator at its safepoint while the termination is offered: terminates the mark when it
 * gets the cycle lock first (the lock before the stop flag, as every collector takes them).
 * Its own cache is flushed with the others, as at any stop. */
static bool take_termination(gcache *g)
{
    if (pthread_mutex_trylock(&cycle_lock) != 0) return false;
    bool mine = atomic_load(&stop_flag) == STOP_TERM_OFFERED;
    if (mine) terminate_mark(g, &g->gcw);
    pthread_mutex_unlock(&cycle_lock);
    return mine;
}

/* The mark is out of work: while mutators run, offer the termination to them for up to
 * OFFER_NS, so that the world stops from a running mutator's safepoint instead of waiting
 * for mutators the scheduler may have preempted (that wait is part of the pause). The
 * worker terminates itself when nobody takes it, when no mutator runs (they may all wait
 * for this cycle) and when a ga_gc() waits. */
static void offer_termination(ga_gcwork *w)
{
    uint64_t n = mark_cycle.n;
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline); /* parked_cond's clock */
    deadline.tv_nsec += OFFER_NS;
    deadline.tv_sec += deadline.tv_nsec / 1000000000;
    deadline.tv_nsec %= 1000000000;
    pthread_mutex_lock(&world_lock);
    if (!atomic_load(&urgent) && running_mutators_locked() > 0) {
        atomic_store(&stop_flag, STOP_TERM_OFFERED);
        /* Woken when a mutator stops running (it may wait for this cycle) and when the world
         * restarts (a mutator terminated the mark). */
        while (atomic_load(&numgc_atomic) < n && !atomic_load(&urgent) &&
               running_mutators_locked() > 0)
            if (pthread_cond_timedwait(&parked_cond, &world_lock, &deadline) == ETIMEDOUT) break;
    }
    pthread_mutex_unlock(&world_lock);
    pthread_mutex_lock(&cycle_lock);
    if (atomic_load(&numgc_atomic) < n) terminate_mark(NULL, w);
    pthread_mutex_unlock(&cycle_lock);
}

/* The concurrent mark of one cycle (the worker thread), then its termination. */
static void mark_concurrently(ga_gcwork *w)
{
    cycle_figures *f = &mark_cycle;
    uint64_t t_start = mono_ns(), cpu_start = thread_cpu_ns();
    /* The roots, with the world running: the barrier covers every store into them
     * (the contract); ranges added from now on are marked fresh and rescanned at the end. */
    pthread_mutex_lock(&roots_lock);
    for (size_t r = 0; r < nroots; r++)
        _ga_gc_scan_range(w, roots[r].lo, roots[r].hi);
    pthread_mutex_unlock(&roots_lock);
    for (;;) {
        uint64_t n = _ga_gc_drain(w, WORKER_SLICE);
        if (n == 0) {
            _ga_gcwork_flush(w);
            if (!_ga_gc_work_pending()) break;
            continue;
        }
        pace_worker(t_start, cpu_start);
    }
    /* Background: the paced share of the mark's wall time; idle: what the worker ran beyond. */
    uint64_t used = thread_cpu_ns() - cpu_start;
    double paced = background_utilization() * (double)(mono_ns() - t_start);
    f->cpu_worker = (double)used > paced ? (uint64_t)paced : used;
    f->cpu_idle = used - f->cpu_worker;
    offer_termination(w);
    _ga_gc_mark_retire(); /* the world runs: the mark's surplus buffers go now */
}

static void *worker_main(void *arg)
{
    (void)arg;
    ga_gcwork w = {0};
    uint64_t seen = 0;
    for (;;) {
        pthread_mutex_lock(&worker_lock);
        while (worker_gen == seen)
            pthread_cond_wait(&worker_cond, &worker_lock);
        seen = worker_gen;
        pthread_mutex_unlock(&worker_lock);
        mark_concurrently(&w);
    }
    return NULL;
}

/* Takes the cycle lock; a running mutator stops running while it waits (a cycle in progress
 * waits for it). Only the cycle lock's holder sets the stop flag, so on return it is clear. */
static void lock_cycle(gcache *self)
{
    if (!self || pthread_mutex_trylock(&cycle_lock) == 0) {
        if (!self) pthread_mutex_lock(&cycle_lock);
        return;
    }
    pthread_mutex_lock(&world_lock);
    int was = self->running;
    set_running(self, 0);
    pthread_mutex_unlock(&world_lock);
    pthread_mutex_lock(&cycle_lock);
    pthread_mutex_lock(&world_lock);
    set_running(self, was);
    pthread_mutex_unlock(&world_lock);
}

/* Waits, not running, until cycle `n` has ended. */
static void wait_cycle(gcache *self, uint64_t n)
{
    int was = 0;
    if (self) {
        pthread_mutex_lock(&world_lock);
        was = self->running;
        set_running(self, 0);
        pthread_mutex_unlock(&world_lock);
    }
    pthread_mutex_lock(&worker_lock);
    while (atomic_load(&numgc_atomic) < n)
        pthread_cond_wait(&done_cond, &worker_lock);
    pthread_mutex_unlock(&worker_lock);
    if (self) {
        pthread_mutex_lock(&world_lock);
        set_running(self, was);
        pthread_mutex_unlock(&world_lock);
    }
}

/* Whether this cycle marks concurrently. Not yet while the memory limit sets the goal: the
 * runway and assists here do not yet hold the heap under a binding limit (the first cycles
 * start late, the mapped heap passes the limit, the goal falls to the marked heap and cycles
 * run back to back with the mutator waiting), so such cycles stop the world, whose pacing
 * holds the limit (tests/goalloc_pacer). Cycle lock held. */
static bool concurrent_mode(void)
{
    if (_ga_opt.gcstoptheworld || in_forked_child) return false;
    if (pacer.mem_limit != INT64_MAX && pacer.limit_goal <= pacer.gcpercent_goal) return false;
    return worker_ready();
}

static void collect(gcache *self, bool forced)
{
    gc_init();
    uint64_t seen = atomic_load(&numgc_atomic);
    lock_cycle(self);
    while (atomic_load(&gc_marking)) { /* a mark runs: a paced request is served by it */
        pthread_mutex_unlock(&cycle_lock);
        if (!forced) return;
        wait_cycle(self, seen + 1); /* ga_gc wants a cycle that began after the call */
        seen = atomic_load(&numgc_atomic);
        lock_cycle(self);
    }
    sync_options();
    bool run = forced;
    if (!run && atomic_load(&numgc_atomic) == seen) {
        uint64_t now = mono_ns();
        if (atomic_load(&heap_live) >= pacer.trigger ||
            mapped_now() >= atomic_load(&limit_recheck_mapped))
            refresh_limit_goal();
        if (atomic_load(&heap_live) >= pacer.trigger) {
            _ga_limiter_update(&pacer, now, 0, nprocs);
            atomic_store(&limiter_on, pacer.limiting);
            /* While the limiter is engaged a paced cycle waits until the mutator has run as
             * long as the last cycle cost: GC stays near half the time (Go's cap) and the
             * heap keeps being collected, late, instead of growing unchecked; under a memory
             * limit the wait ends when the heap reaches the pacer's limit_bound. */
            uint64_t since = now - atomic_load(&last_gc_mono);
            run = !pacer.limiting || since >= last_pause_ns ||
                  atomic_load(&heap_live) >= pacer.limit_bound;
            if (!run) atomic_store(&limiter_until_ns, now + (last_pause_ns - since));
        }
        uint64_t period = atomic_load(&period_ns);
        if (period && now - atomic_load(&last_gc_mono) >= period) run = true;
    }
    bool waiting = false;
    uint64_t n = atomic_load(&numgc_atomic) + 1;
    if (run && concurrent_mode() && !atomic_load(&gc_marking)) {
        if (forced) atomic_store(&urgent, 1);
        cycle_start(self, forced);
        waiting = forced;
    } else if (run && !atomic_load(&gc_marking)) {
        cycle_stw(self, forced);
    }
    pthread_mutex_unlock(&cycle_lock);
    if (run) _ga_gc_mark_retire();          /* a stop-the-world mark's surplus buffers */
    if (waiting) wait_cycle(self, n);       /* ga_gc returns after its cycle, as runtime.GC */
    if (forced) _ga_gc_finish_sweep(false); /* ...with the heap swept */
}

/* On refills and large allocations: the trigger, changed options, the periodic cycle.
 * During a concurrent mark only changed options matter (they re-commit at termination). */
static void maybe_collect(gcache *g)
{
    if (atomic_load_explicit(&gc_marking, memory_order_relaxed)) return;
    bool due = atomic_load_explicit(&heap_live, memory_order_relaxed) >=
               atomic_load_explicit(&trigger_at, memory_order_relaxed);
    uint64_t recheck = atomic_load_explicit(&limit_recheck_mapped, memory_order_relaxed);
    if (recheck != UINT64_MAX && mapped_now() >= recheck && !_ga_gc_sweep_pending()) due = true;
    bool changed =
        _ga_options_gogc() != atomic_load_explicit(&gogc_seen, memory_order_relaxed) ||
        _ga_options_memory_limit() != atomic_load_explicit(&limit_seen, memory_order_relaxed);
    uint64_t period = atomic_load_explicit(&period_ns, memory_order_relaxed);
    uint64_t now = 0;
    if (due || period) {
        now = clock_ns(CLOCK_MONOTONIC_COARSE);
        if (due && now < atomic_load_explicit(&limiter_until_ns, memory_order_relaxed) &&
            atomic_load_explicit(&heap_live, memory_order_relaxed) <
                atomic_load_explicit(&limit_bound_at, memory_order_relaxed))
            due = false;
    }
    /* The coarse clock may lag the precise one that stamped the last cycle: 10 ms of slack. */
    uint64_t last = atomic_load_explicit(&last_gc_mono, memory_order_relaxed);
    bool periodic = period && now > last && now - last >= period + 10000000;
    if (due || changed || periodic) collect(g, false);
}

void ga_gc(void)
{
    gcache *g = tls_g;
    collect(g && g->running ? g : NULL, true);
}

uint64_t ga_gc_set_period_ns(uint64_t ns)
{
    gc_init();
    return atomic_exchange(&period_ns, ns);
}

/* ---- Statistics ---- */

void ga_gc_read_stats(ga_gc_stats *out)
{
    gc_init();
    pthread_mutex_lock(&gstats_lock);
    *out = st;
    pthread_mutex_unlock(&gstats_lock);
    out->HeapLive = atomic_load(&heap_live);
    out->Trigger = atomic_load(&trigger_at);
}

void _ga_gc_add_memstats(ga_memstats *ms)
{
    if (atomic_load_explicit(&init_done, memory_order_acquire) == 0) return; /* no GC yet */
    gcache *g = tls_g;
    ga_gc_sweep_totals sw;
    _ga_gc_sweep_totals(&sw);
    pthread_mutex_lock(&gstats_lock);
    if (g && g->running) merge_counters(g);
    uint64_t balloc = tot.ctr.large_alloc, bfree = tot.ctr.large_free + sw.large_free;
    uint64_t nalloc = tot.ctr.large_alloc_count + tot.ctr.tiny_allocs;
    uint64_t nfree = tot.ctr.large_free_count + sw.large_free_count + tot.ctr.tiny_allocs;
    for (unsigned c = 1; c < GA_NUM_SIZE_CLASSES; c++) {
        balloc += tot.small_alloc[c] * _ga_class_to_size[c];
        bfree += sw.small_free[c] * _ga_class_to_size[c];
        nalloc += tot.small_alloc[c];
        nfree += sw.small_free[c];
        ms->BySize[c].Mallocs += tot.small_alloc[c];
        ms->BySize[c].Frees += sw.small_free[c];
    }
    ms->Mallocs += nalloc;
    ms->Frees += nfree;
    ms->TotalAlloc += balloc;
    ms->HeapAlloc += balloc > bfree ? balloc - bfree : 0;
    ms->TinyAllocs += tot.ctr.tiny_allocs;
    ms->NumGC = st.NumGC;
    ms->NumForcedGC = st.NumForcedGC;
    ms->PauseTotalNs = st.PauseTotalNs;
    ms->LastGC = st.LastGC;
    ms->NextGC = st.NextGC;
    ms->GCCPUFraction = st.GCCPUFraction;
    memcpy(ms->PauseNs, st.PauseNs, sizeof ms->PauseNs);
    memcpy(ms->PauseEnd, st.PauseEnd, sizeof ms->PauseEnd);
    pthread_mutex_unlock(&gstats_lock);
}
