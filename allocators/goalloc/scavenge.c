/* scavenge.c - returning free pages to the OS (spec 7). See malloc.c for the overview.
 *
 * The page-allocator side: find free pages whose scavenged bit is clear, highest address
 * first, hand them to a release callback, and set their scavenged bits. Invariants:
 *   - a run being released is marked allocated for the duration of the callback, so the
 *     caller may drop the heap lock around the madvise (as Go does) without the run being
 *     handed out; afterwards it is free again with its scavenged bits set;
 *   - background scavenging skips dense chunks (>= 496 of 512 pages in use now or at the end
 *     of the previous generation); forced scavenging ignores density;
 *   - a run that crosses into a 2 MiB huge page is widened down to the huge page's start when
 *     the whole huge page is free and unscavenged, so a free huge page is released whole;
 *   - cursors only move down while searching; frees raise the forced cursor at once and the
 *     background cursor at the next generation (free_hwm), as Go's two search addresses do.
 *
 * The heap side: one background thread (started lazily, paced to ~1% of one CPU by a PI
 * controller, parked while the goals are met, joined at exit, never running in a forked
 * child), a generation clock standing in for GC cycles, the retention and memory-limit goals,
 * eager/forced scavenging when the heap grows, ga_free_os_memory and scavtrace. Every release
 * moves its bytes from heap_free to heap_released under the heap lock (counted once: a page
 * taken back into use is reported by the page allocator's alloc and leaves heap_released).
 */
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <stdatomic.h>
#include <time.h>

#include "ga_pagealloc.h"

/* ---- Scavenge index ---- */

void _ga_pagealloc_next_gen(ga_pagealloc *pa)
{
    pa->gen++;
    if (pa->free_hwm > pa->scav_cursor_bg) pa->scav_cursor_bg = pa->free_hwm;
    pa->free_hwm = 0;
}

static bool chunk_is_dense(const ga_pagealloc *pa, const ga_pchunk *c)
{
    if (c->in_use >= GA_PA_DENSE_PAGES) return true;
    return c->gen == pa->gen && c->last_in_use >= GA_PA_DENSE_PAGES;
}

/* Highest grown chunk index below `limit` (a chunk index + 1), or GA_PA_NOT_FOUND. */
static size_t prev_grown_chunk(const ga_pagealloc *pa, size_t limit)
{
    for (size_t r = pa->n_in_use; r-- > 0;) {
        size_t lo = pa->in_use[r].base >> GA_PA_CHUNK_SHIFT,
               hi = pa->in_use[r].limit >> GA_PA_CHUNK_SHIFT;
        if (lo < limit) return (limit < hi ? limit : hi) - 1;
    }
    return GA_PA_NOT_FOUND;
}

/* ---- Candidates inside one chunk ---- */

/* Lowest lo such that every bit of [lo, end) is set in b (bit end - 1 is set). */
static size_t run_down(const uint64_t *b, size_t end)
{
    size_t lo = end;
    while (lo > 0) {
        size_t w = (lo - 1) / 64, bit = (lo - 1) % 64;
        uint64_t x = b[w] << (63 - bit); /* bit lo-1 moved to the top, the bits above dropped */
        size_t ones = ~x ? (size_t)__builtin_clzll(~x) : 64;
        lo -= ones;
        if (ones < bit + 1) break;
    }
    return lo;
}

/* The highest run of free, unscavenged pages, at most max_pages long (plus huge-page
 * widening). Returns its length and sets *lo; 0 when the chunk has none. */
static size_t find_candidate(const ga_pchunk *c, size_t max_pages, size_t *lo)
{
    uint64_t cand[GA_PA_CHUNK_WORDS];
    int w;
    for (w = 0; w < GA_PA_CHUNK_WORDS; w++)
        cand[w] = ~(c->alloc[w] | c->scav[w]);
    for (w = GA_PA_CHUNK_WORDS - 1; w >= 0 && cand[w] == 0; w--) {
    }
    if (w < 0) return 0;
    size_t end = (size_t)w * 64 + 64 - (size_t)__builtin_clzll(cand[w]);
    size_t run_lo = run_down(cand, end);
    size_t start = end - run_lo > max_pages ? end - max_pages : run_lo;
    size_t hp = start & ~(GA_PA_HUGE_PAGES - 1);
    if (start != hp && hp + GA_PA_HUGE_PAGES <= end && hp >= run_lo) start = hp;
    *lo = start;
    return end - start;
}

/* ---- Scavenging ---- */

size_t _ga_pagealloc_scavenge(ga_pagealloc *pa, size_t nbytes, bool force, ga_release_fn release,
                              void *arg)
{
    size_t released = 0;
    size_t *cursor = force ? &pa->scav_cursor_force : &pa->scav_cursor_bg;
    while (released < nbytes && *cursor != 0) {
        size_t ci = prev_grown_chunk(pa, *cursor);
        if (ci == GA_PA_NOT_FOUND) {
            *cursor = 0;
            break;
        }
        ga_pchunk *c = _ga_pa_chunk(pa, ci);
        size_t lo, n = 0;
        if (!(c->flags & GA_PCHUNK_SCAV_EMPTY) && (force || !chunk_is_dense(pa, c))) {
            size_t left = nbytes - released; /* nbytes may be SIZE_MAX: round up safely */
            size_t want = left / GA_PAGE_SIZE + (left % GA_PAGE_SIZE != 0);
            n = find_candidate(c, want, &lo);
            if (n == 0) c->flags |= GA_PCHUNK_SCAV_EMPTY;
        }
        if (n == 0) {
            *cursor = ci; /* nothing (more) here: continue below */
            continue;
        }
        uintptr_t base = _ga_pa_chunk_base(ci) + lo * GA_PAGE_SIZE;
        size_t was = _ga_pagealloc_alloc_range(pa, base, n);
        ga_assert_internal(was == 0);
        (void)was;
        if (release) release(arg, base, n * GA_PAGE_SIZE);
        _ga_pagealloc_free_range(pa, base, n, true);
        released += n * GA_PAGE_SIZE;
    }
    return released;
}

void _ga_scavenge_release_os(void *arg, uintptr_t base, size_t bytes)
{
    pthread_mutex_t *lock = arg;
    if (lock) pthread_mutex_unlock(lock);
    _ga_os_unused((void *)base, bytes);
    if (lock) pthread_mutex_lock(lock);
}

size_t _ga_pagealloc_scavenged_bytes(ga_pagealloc *pa)
{
    size_t pages = 0;
    for (size_t r = 0; r < pa->n_in_use; r++)
        for (size_t ci = pa->in_use[r].base >> GA_PA_CHUNK_SHIFT;
             ci < pa->in_use[r].limit >> GA_PA_CHUNK_SHIFT; ci++)
            for (int w = 0; w < GA_PA_CHUNK_WORDS; w++)
                pages += (size_t)__builtin_popcountll(_ga_pa_chunk(pa, ci)->scav[w]);
    return pages * GA_PAGE_SIZE;
}

/* ---- Goals (spec 7.1, adapted: no GC cycles in manual mode) ----
 *
 * Retention goal: Go keeps lastHeapInUse * (heapGoal / lastHeapGoal) plus 10%. Without a GC
 * the ratio is 1 and "last heap in use" becomes the peak of heap_inuse seen during the last
 * finished generation (sampled at every heap growth and every scavenger wake-up), plus 10%.
 * Until the first generation ends there is no goal (Go: none before the second GC).
 * Memory-limit goal: 95% of GOMEMLIMIT, compared with everything goalloc has mapped and ready
 * (heap_inuse + heap_free + metadata).
 */

uint64_t _ga_scav_retain_goal(uint64_t peak_inuse)
{
    uint64_t g = peak_inuse + peak_inuse / 10;
    return (g + GA_OS_PAGE_SIZE - 1) & ~(uint64_t)(GA_OS_PAGE_SIZE - 1);
}

uint64_t _ga_scav_limit_goal(int64_t limit)
{
    if (limit == INT64_MAX || limit < 0) return UINT64_MAX;
    return (uint64_t)limit - (uint64_t)limit / 20;
}

/* ---- Pacing: a PI controller on the scavenger's CPU share (spec 7.2) ---- */

void _ga_scav_pi_init(ga_scav_pi *c)
{
    *c = (ga_scav_pi){.kp = 0.3375, .ti = 3.2e6, .tt = 1e9, .min = 0.001, .max = 1000.0};
}

/* Proportional-integral step with back-calculation anti-windup: the integral is pulled back
 * by how far the clamp cut the raw output. `period` (work + sleep of the step) is in
 * microseconds: with Ti = 3.2e6 and Tt = 1e9 in those units the loop settles at the target
 * share (test_scavenger checks it); in nanoseconds it oscillates. Returns the new output (the
 * work:sleep ratio); *ok = false when the state overflowed (the caller cools down). */
double _ga_scav_pi_next(ga_scav_pi *c, double input, double setpoint, double period, bool *ok)
{
    double err = setpoint - input;
    double raw = c->kp * err + c->integral;
    double out = raw < c->min ? c->min : raw > c->max ? c->max : raw;
    c->integral += c->kp * period / c->ti * err + period / c->tt * (out - raw);
    *ok = isfinite(c->integral) && isfinite(out);
    if (!*ok) {
        c->integral = 0;
        return c->min;
    }
    return out;
}

/* ---- The heap's scavenger: background thread, eager and forced scavenging ---- */

#define SCAV_QUANTUM ((size_t)64 << 10)   /* released per step (scavengeQuantum) */
#define SCAV_MIN_WORK_NS 1000000ull       /* work per wake-up before sleeping (1 ms) */
#define SCAV_CPU_SHARE 0.01               /* of one CPU */
#define SCAV_COOLDOWN_NS 5000000000ull    /* fixed ratio after a controller overflow */
#define SCAV_GEN_NS_DEFAULT 1000000000ull /* generation clock: 1 s */

/* IDLE -> STARTING -> RUNNING -> STOPPED (exit); FAILED when the thread cannot be created;
 * FORKED in a child process, where it never runs. */
enum { SCAV_IDLE, SCAV_STARTING, SCAV_RUNNING, SCAV_STOPPED, SCAV_FAILED, SCAV_FORKED };

/* The scavenger thread never holds `mu` while it takes the heap lock, so the two locks are
 * never nested. Counters are atomics read by scavtrace and the tests. */
static struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    _Atomic int state;
    bool stop;               /* under mu */
    _Atomic uint64_t gen_ns; /* generation clock period */
    pthread_t thread;
    _Atomic uint64_t peak_inuse;  /* highest heap_inuse seen in this generation */
    _Atomic uint64_t retain_goal; /* UINT64_MAX until the first generation ends */
    _Atomic uint64_t released_bg, released_eager, gen_bg, gen_eager;
    _Atomic uint64_t generations;
    _Atomic uint64_t bg_cpu_ns;    /* the thread's whole CPU time (CLOCK_THREAD_CPUTIME_ID) */
    _Atomic uint64_t eager_cpu_ns; /* callers' CPU time inside eager/forced/explicit releases */
} scav = {.mu = PTHREAD_MUTEX_INITIALIZER,
          .cv = PTHREAD_COND_INITIALIZER,
          .gen_ns = SCAV_GEN_NS_DEFAULT,
          .retain_goal = UINT64_MAX};

static uint64_t now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}

static uint64_t thread_cpu_ns(void)
{
    struct timespec t;
    if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t) != 0) return 0;
    return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}

static uint64_t heap_inuse(void)
{
    return atomic_load_explicit(&_ga_heapstat.heap_inuse, memory_order_relaxed);
}

static void sample_peak(void)
{
    uint64_t in = heap_inuse(), p = atomic_load(&scav.peak_inuse);
    while (in > p && !atomic_compare_exchange_weak(&scav.peak_inuse, &p, in)) {
    }
}

/* Release callback for the heap: the heap lock is dropped around the madvise and the
 * accounting done under it again, so the heap's identities hold whenever the lock is held. */
static void release_heap(void *arg, uintptr_t base, size_t bytes)
{
    (void)arg;
    _ga_mheap_unlock();
    _ga_os_unused((void *)base, bytes);
    _ga_mheap_lock();
    _ga_mheap_account_released(bytes);
}

static size_t heap_scavenge(size_t nbytes, bool force)
{
    _ga_mheap_lock();
    size_t r = _ga_pagealloc_scavenge(_ga_mheap_pages(), nbytes, force, release_heap, NULL);
    _ga_mheap_unlock();
    return r;
}

/* Bytes to release now for either goal (0 when both are met). */
static uint64_t scav_need(void)
{
    uint64_t in = heap_inuse();
    uint64_t retained = in + atomic_load_explicit(&_ga_heapstat.heap_free, memory_order_relaxed);
    uint64_t goal = atomic_load(&scav.retain_goal), need = 0;
    if (goal != UINT64_MAX && retained > goal + GA_OS_PAGE_SIZE) need = retained - goal;
    uint64_t limit_goal = _ga_scav_limit_goal(_ga_options_memory_limit());
    uint64_t mapped = retained + _ga_os_meta_bytes();
    if (mapped > limit_goal && mapped - limit_goal > need) need = mapped - limit_goal;
    return need;
}

/* A generation ends: new scavenge generation, new retention goal, one scavtrace line. */
static void end_generation(void)
{
    _ga_mheap_lock();
    _ga_pagealloc_next_gen(_ga_mheap_pages());
    _ga_mheap_unlock();
    sample_peak();
    uint64_t peak = atomic_exchange(&scav.peak_inuse, heap_inuse());
    atomic_store(&scav.retain_goal, _ga_scav_retain_goal(peak));
    atomic_fetch_add(&scav.generations, 1);
    uint64_t bg = atomic_exchange(&scav.gen_bg, 0), eager = atomic_exchange(&scav.gen_eager, 0);
    if (_ga_opt.scavtrace) {
        uint64_t in = heap_inuse(), fr = atomic_load(&_ga_heapstat.heap_free);
        uint64_t rel = atomic_load(&_ga_heapstat.heap_released);
        _ga_trace("scav %llu KiB work (bg), %llu KiB work (eager), %llu KiB now, %llu KiB "
                  "retained, %llu%% util",
                  (unsigned long long)bg >> 10, (unsigned long long)eager >> 10,
                  (unsigned long long)rel >> 10, (unsigned long long)(in + fr) >> 10,
                  (unsigned long long)(in + fr ? in * 100 / (in + fr) : 100));
    }
}

/* The background loop (spec 7.2): up to 1 ms of 64 KiB steps while a goal is unmet, then a
 * sleep sized by the PI controller so work stays near 1% of one CPU; parks until the next
 * generation when a goal is met or nothing could be released. It also wakes at every
 * generation boundary (the clock ticks even while paced). Long because the loop keeps the
 * controller's state, the generation clock and the cooldown together. */
static void *scavenger_main(void *arg)
{
    (void)arg;
    ga_scav_pi pi;
    _ga_scav_pi_init(&pi);
    double ratio = 0.001;
    uint64_t next_gen = now_ns() + scav.gen_ns, resume_at = 0, cooldown_until = 0;
    for (;;) {
        uint64_t t = now_ns();
        if (next_gen > t + scav.gen_ns) next_gen = t + scav.gen_ns; /* the clock was sped up */
        if (t >= next_gen) {
            end_generation();
            next_gen = t + scav.gen_ns;
        }
        sample_peak();
        if (t >= resume_at) {
            uint64_t worked = 0, released = 0;
            for (uint64_t t0 = now_ns(); worked < SCAV_MIN_WORK_NS && scav_need() > 0;) {
                size_t r = heap_scavenge(SCAV_QUANTUM, false);
                if (r == 0) break;
                released += r;
                worked = now_ns() - t0;
            }
            if (released == 0) {
                resume_at = next_gen; /* park: a goal is met or nothing is releasable */
            } else {
                atomic_fetch_add(&scav.released_bg, released);
                atomic_fetch_add(&scav.gen_bg, released);
                if (worked == 0) worked = 10000 * (released / GA_OS_PAGE_SIZE); /* 10 us/page */
                uint64_t sleep_ns = (uint64_t)((double)worked / ratio);
                bool ok = true;
                double share = (double)worked / (double)(worked + sleep_ns);
                double next = _ga_scav_pi_next(&pi, share, SCAV_CPU_SHARE,
                                               (double)(worked + sleep_ns) / 1e3, &ok);
                if (!ok) cooldown_until = now_ns() + SCAV_COOLDOWN_NS;
                ratio = now_ns() < cooldown_until ? 0.001 : next;
                resume_at = now_ns() + sleep_ns;
            }
        }
        atomic_store(&scav.bg_cpu_ns, thread_cpu_ns());
        /* Sleep until work resumes or the generation ends, whichever is first. */
        uint64_t until = resume_at < next_gen ? resume_at : next_gen;
        pthread_mutex_lock(&scav.mu);
        uint64_t n = now_ns();
        if (!scav.stop && until > n) {
            struct timespec ts;
            clock_gettime(CLOCK_MONOTONIC, &ts);
            uint64_t ns = (uint64_t)ts.tv_nsec + (until - n);
            ts.tv_sec += (time_t)(ns / 1000000000ull);
            ts.tv_nsec = (long)(ns % 1000000000ull);
            pthread_cond_timedwait(&scav.cv, &scav.mu, &ts);
        }
        bool stop = scav.stop;
        pthread_mutex_unlock(&scav.mu);
        if (stop) return NULL;
    }
}

/* ---- Start, exit, fork ---- */

static void scav_exit(void)
{
    int expect = SCAV_RUNNING;
    if (!atomic_compare_exchange_strong(&scav.state, &expect, SCAV_STOPPED)) return;
    pthread_mutex_lock(&scav.mu);
    scav.stop = true;
    pthread_cond_signal(&scav.cv);
    pthread_mutex_unlock(&scav.mu);
    pthread_join(scav.thread, NULL);
}

static void scav_fork_prepare(void)
{
    pthread_mutex_lock(&scav.mu);
}

static void scav_fork_parent(void)
{
    pthread_mutex_unlock(&scav.mu);
}

static void scav_fork_child(void)
{
    pthread_mutex_init(&scav.mu, NULL);
    atomic_store(&scav.state, SCAV_FORKED); /* the thread did not survive the fork */
}

void _ga_scavenger_start(void)
{
    int expect = SCAV_IDLE;
    /* Also stops recursion: pthread_create and atexit may call malloc, which may grow. */
    if (!atomic_compare_exchange_strong(&scav.state, &expect, SCAV_STARTING)) return;
    _ga_mheap_init();
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&scav.cv, &ca);
    pthread_condattr_destroy(&ca);
    pthread_atfork(scav_fork_prepare, scav_fork_parent, scav_fork_child);
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old); /* the thread takes no signals */
    int rc = pthread_create(&scav.thread, NULL, scavenger_main, NULL);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0) {
        _ga_warn("scavenger: cannot create its thread (error %d): no background scavenging", rc);
        atomic_store(&scav.state, SCAV_FAILED);
        return;
    }
    atomic_store(&scav.state, SCAV_RUNNING);
    atexit(scav_exit);
}

/* ---- Eager and forced scavenging (spec 7.5) ---- */

void _ga_scavenge_on_grow(size_t grown)
{
    _ga_scavenger_start();
    sample_peak();
    uint64_t retained = heap_inuse() + atomic_load(&_ga_heapstat.heap_free);
    uint64_t mapped = retained + _ga_os_meta_bytes(), over_limit = 0, over_goal = 0;
    int64_t limit = _ga_options_memory_limit();
    if (limit != INT64_MAX && limit >= 0 && mapped > (uint64_t)limit)
        over_limit = mapped - (uint64_t)limit;
    uint64_t goal = atomic_load(&scav.retain_goal);
    if (goal != UINT64_MAX && retained > goal)
        over_goal = retained - goal < grown ? retained - goal : grown;
    if (!over_limit && !over_goal) return; /* the common case: no clock read */
    uint64_t t0 = thread_cpu_ns();
    size_t r = over_limit ? heap_scavenge(over_limit > over_goal ? over_limit : over_goal, true)
                          : heap_scavenge(over_goal, false);
    atomic_fetch_add(&scav.eager_cpu_ns, thread_cpu_ns() - t0);
    atomic_fetch_add(&scav.released_eager, r);
    atomic_fetch_add(&scav.gen_eager, r);
}

void ga_free_os_memory(void)
{
    _ga_mheap_init();
    ga_thread_flush(); /* the calling thread's page cache holds free pages */
    uint64_t t0 = thread_cpu_ns();
    size_t r = heap_scavenge(SIZE_MAX, true);
    atomic_fetch_add(&scav.eager_cpu_ns, thread_cpu_ns() - t0);
    atomic_fetch_add(&scav.released_eager, r);
    atomic_fetch_add(&scav.gen_eager, r);
}

/* ---- Introspection and test hooks ---- */

void _ga_scavenger_stats(ga_scav_stats *out)
{
    out->running = atomic_load(&scav.state) == SCAV_RUNNING;
    out->released_bg = atomic_load(&scav.released_bg);
    out->released_eager = atomic_load(&scav.released_eager);
    out->generations = atomic_load(&scav.generations);
    out->retain_goal = atomic_load(&scav.retain_goal);
    out->bg_cpu_ns = atomic_load(&scav.bg_cpu_ns);
    out->eager_cpu_ns = atomic_load(&scav.eager_cpu_ns);
}

void _ga_scavenger_set_generation_ns(uint64_t ns)
{
    pthread_mutex_lock(&scav.mu);
    atomic_store(&scav.gen_ns, ns);
    if (atomic_load(&scav.state) == SCAV_RUNNING) pthread_cond_signal(&scav.cv);
    pthread_mutex_unlock(&scav.mu);
}
