/* gcpacer.c - when to collect: the heap goal, the trigger and the GC CPU limiter (spec 8).
 * See gc.c for the overview of the collector.
 *
 * Pure arithmetic over a ga_pacer: no locks, no clocks of its own, no heap access, so the
 * tests drive it with a simulated heap. The collector calls _ga_pacer_commit() at the end
 * of every cycle, _ga_pacer_should_start() on span refills and large allocations, and
 * _ga_limiter_* around its pauses.
 *
 * The trigger sits `runway` bytes before the goal, clamped to Go's band [M + (G - M) x 45/64,
 * M + (G - M) x 61/64 (or G - 4 MiB when that is higher)], so that a concurrent mark ends
 * near the goal. Where goalloc differs from Go: the runway is not Go's consMark model but
 * the collector's measurement of what the mutator allocated during recent marks (the
 * largest of the last four, gc.c), and with stop-the-world marking (gcstoptheworld=1) it is
 * zero, so the trigger sits at the top of the band and the heap peaks just under the goal.
 * The limiter delays a paced cycle while GC has used more than half the CPU over the bucket
 * window, so a memory limit below the live heap slows the program (the heap overshoots)
 * but never hangs it.
 *
 * With a memory limit the limiter's wait ends early once the heap reaches limit_bound (the
 * overshoot accepted, see limit_bound()), so a limit above the live heap holds.
 *
 * Invariants after _ga_pacer_commit: heap_marked <= trigger <= heap_goal (when the goal is
 * finite), heap_goal = min(gcpercent_goal, limit_goal), limit_bound > heap_marked (finite
 * with a limit).
 */
#include <stdint.h>

#include "ga_internal.h"

#define MIB ((uint64_t)1 << 20)
#define HEAP_MINIMUM (4 * MIB)

static uint64_t gcpercent_goal(const ga_pacer *p)
{
    if (p->gogc < 0) return UINT64_MAX;
    uint64_t g = p->heap_marked + (p->heap_marked + p->roots_scan) * (uint64_t)p->gogc / 100;
    uint64_t minimum = HEAP_MINIMUM * (uint64_t)p->gogc / 100;
    return g < minimum ? minimum : g;
}

static uint64_t non_heap(const ga_pacer_inputs *in)
{
    uint64_t used = in->heap_free + in->heap_alloc;
    return in->mapped_ready > used ? in->mapped_ready - used : 0;
}

/* Spec 8.2: the heap the memory limit leaves room for, after non-heap memory, overage and a
 * headroom of max(3%, 1 MiB); never below the marked heap. */
static uint64_t limit_goal(const ga_pacer *p, const ga_pacer_inputs *in)
{
    if (p->mem_limit == INT64_MAX) return UINT64_MAX;
    uint64_t limit = (uint64_t)p->mem_limit;
    uint64_t nh = non_heap(in);
    uint64_t overage = in->mapped_ready > limit ? in->mapped_ready - limit : 0;
    if (nh + overage >= limit) return p->heap_marked;
    uint64_t goal = limit - (nh + overage);
    uint64_t headroom = goal * 3 / 100 > MIB ? goal * 3 / 100 : MIB;
    goal = goal > headroom ? goal - headroom : headroom;
    return goal < p->heap_marked ? p->heap_marked : goal;
}

/* The overshoot accepted while the CPU limiter delays cycles: the heap that fills the limit
 * (limit - non-heap memory: the goal before headroom and overage), but at least a quarter
 * of the marked heap (plus 1 MiB) above it. Go's assists stop when its limiter engages and
 * the heap overshoots by what the mutator allocates during one slow mark; a stop-the-world
 * cycle that waits for mutator time would instead let the mutator allocate without bound
 * while it waits, so the wait ends here. The floor keeps a live heap that fills the limit
 * from collecting back to back (the death spiral the limiter exists to prevent): such a
 * program runs at most a quarter of its live heap over the limit per cycle. */
static uint64_t limit_bound(const ga_pacer *p, const ga_pacer_inputs *in)
{
    if (p->mem_limit == INT64_MAX) return UINT64_MAX;
    uint64_t limit = (uint64_t)p->mem_limit, nh = non_heap(in);
    uint64_t room = nh < limit ? limit - nh : 0;
    uint64_t floor = p->heap_marked + p->heap_marked / 4 + MIB;
    return room > floor ? room : floor;
}

void _ga_pacer_init(ga_pacer *p, int64_t gogc, int64_t mem_limit)
{
    *p = (ga_pacer){.gogc = gogc, .mem_limit = mem_limit};
    p->limiter_capacity_ns = 1e9; /* 1 s x GOMAXPROCS; scaled by nprocs in the update */
    ga_pacer_inputs none = {0};
    _ga_pacer_commit(p, &none);
}

void _ga_pacer_commit(ga_pacer *p, const ga_pacer_inputs *in)
{
    p->heap_marked = in->heap_marked;
    p->roots_scan = in->roots_scan;
    p->gcpercent_goal = gcpercent_goal(p);
    p->limit_goal = limit_goal(p, in);
    p->limit_bound = limit_bound(p, in);
    uint64_t g = p->gcpercent_goal < p->limit_goal ? p->gcpercent_goal : p->limit_goal;
    p->heap_goal = g;
    uint64_t m = p->heap_marked;
    if (g == UINT64_MAX) {
        p->trigger = UINT64_MAX;
        return;
    }
    if (m >= g) {
        p->trigger = g;
        return;
    }
    uint64_t min_trigger = m + (g - m) * 45 / 64;
    uint64_t max_trigger = m + (g - m) * 61 / 64;
    if (g > HEAP_MINIMUM && g - HEAP_MINIMUM > max_trigger) max_trigger = g - HEAP_MINIMUM;
    if (max_trigger < min_trigger) max_trigger = min_trigger;
    /* Runway = allocation expected during marking: 0 with stop-the-world marking (see the
     * top), so the trigger is at the top of the band. */
    uint64_t t = p->runway < g ? g - p->runway : 0;
    p->trigger = t < min_trigger ? min_trigger : t > max_trigger ? max_trigger : t;
}

void _ga_pacer_set_gogc(ga_pacer *p, int64_t gogc, const ga_pacer_inputs *in)
{
    p->gogc = gogc;
    _ga_pacer_commit(p, in);
}

void _ga_pacer_set_limit(ga_pacer *p, int64_t mem_limit, const ga_pacer_inputs *in)
{
    p->mem_limit = mem_limit;
    _ga_pacer_commit(p, in);
}

bool _ga_pacer_should_start(const ga_pacer *p, uint64_t heap_live)
{
    return heap_live >= p->trigger && (!p->limiting || heap_live >= p->limit_bound);
}

/* ---- GC CPU limiter (spec 8.6): a leaky bucket of GC-versus-mutator CPU time ---- */

void _ga_limiter_update(ga_pacer *p, uint64_t now_ns, uint64_t gc_cpu_ns, unsigned nprocs)
{
    if (p->limiter_last_ns == 0) p->limiter_last_ns = now_ns;
    if (now_ns < p->limiter_last_ns) return;
    double window = (double)(now_ns - p->limiter_last_ns) * (nprocs ? nprocs : 1);
    double gc = (double)gc_cpu_ns > window ? window : (double)gc_cpu_ns;
    double mutator = window - gc;
    p->limiter_fill_ns += gc - mutator;
    if (p->limiter_fill_ns < 0) p->limiter_fill_ns = 0;
    double cap = p->limiter_capacity_ns * (nprocs ? nprocs : 1);
    /* Go clamps the bucket at its capacity, because its assists stop the moment the limiter
     * engages. A stop-the-world cycle cannot stop halfway, so the time it overshoots is
     * carried (up to one more capacity) and repaid by mutator time before the next paced
     * cycle: that is what holds GC near half the CPU here. */
    if (p->limiter_fill_ns > 2 * cap) p->limiter_fill_ns = 2 * cap;
    bool full = p->limiter_fill_ns >= cap;
    if (full && !p->limiting) p->limiter_enabled_count++;
    p->limiting = full;
    p->limiter_last_ns = now_ns;
}
