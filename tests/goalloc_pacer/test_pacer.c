/* test_pacer.c - the pacer's expectations (spec 8.7) restated for stop-the-world marking,
 * on a simulated heap: steady-state peak against goal, the small-heap trigger, memory-limit
 * goals and headroom (Go's memoryLimitHeapGoal on synthetic inputs), GOGC=off, a live heap
 * above the limit, the CPU limiter's cap, and the overshoot bound while it is engaged. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "ga_internal.h"

#define MIB ((uint64_t)1 << 20)

/* A heap whose live set is `live` bytes, allocating `quantum` bytes between trigger checks
 * (a span refill), collected at the trigger. Returns the peak/goal ratio of the last cycle
 * after `cycles` cycles; non_heap is memory mapped outside the heap. */
typedef struct sim {
    ga_pacer p;
    uint64_t live, quantum, non_heap;
    uint64_t peak, goal_at_peak;
} sim;

static ga_pacer_inputs inputs(const sim *s, uint64_t heap)
{
    return (ga_pacer_inputs){.heap_marked = s->live,
                             .roots_scan = 0,
                             .mapped_ready = heap + s->non_heap,
                             .heap_free = 0,
                             .heap_alloc = heap};
}

static void run_cycles(sim *s, int cycles)
{
    uint64_t heap = s->live;
    for (int c = 0; c < cycles; c++) {
        while (!_ga_pacer_should_start(&s->p, heap))
            heap += s->quantum;
        s->peak = heap;
        s->goal_at_peak = s->p.heap_goal;
        heap = s->live; /* STW mark + sweep: only the live set survives */
        ga_pacer_inputs in = inputs(s, heap);
        _ga_pacer_commit(&s->p, &in);
    }
}

static void test_steady_state_peak_near_goal(void **state)
{
    (void)state;
    static const uint64_t lives[] = {1 * MIB, 16 * MIB, 64 * MIB, 700 * MIB};
    static const int64_t gogcs[] = {50, 100, 200, 1500};
    for (unsigned i = 0; i < 4; i++)
        for (unsigned j = 0; j < 4; j++) {
            sim s = {.live = lives[i], .quantum = 64 << 10};
            _ga_pacer_init(&s.p, gogcs[j], INT64_MAX);
            run_cycles(&s, 50);
            double r = (double)s.peak / (double)s.goal_at_peak;
            double lo = gogcs[j] >= 1500 ? 0.90 : 0.95;
            if (r < lo || r > 1.05)
                fail_msg("live %llu MiB GOGC %lld: peak/goal %.3f outside [%.2f, 1.05]",
                         (unsigned long long)(lives[i] / MIB), (long long)gogcs[j], r, lo);
        }
}

static void test_goal_formula_and_floor(void **state)
{
    (void)state;
    ga_pacer p;
    _ga_pacer_init(&p, 100, INT64_MAX);
    ga_pacer_inputs in = {.heap_marked = 10 * MIB, .roots_scan = 2 * MIB};
    _ga_pacer_commit(&p, &in);
    assert_int_equal(p.heap_goal, 10 * MIB + 12 * MIB); /* marked + (marked + roots) x 100% */
    in.heap_marked = 100 << 10;
    in.roots_scan = 0;
    _ga_pacer_commit(&p, &in);
    assert_int_equal(p.heap_goal, 4 * MIB); /* the 4 MiB x GOGC/100 floor */
    _ga_pacer_set_gogc(&p, 50, &in);
    assert_int_equal(p.heap_goal, 2 * MIB);
    _ga_pacer_set_gogc(&p, -1, &in);
    assert_int_equal(p.heap_goal, UINT64_MAX);
    assert_false(_ga_pacer_should_start(&p, UINT64_MAX / 2));
}

/* The trigger lies in Go's band [M + (G-M) 45/64, max(M + (G-M) 61/64, G - 4 MiB)]; for a
 * small heap that is 0.925-0.975 of the way from live to goal. */
static void test_trigger_band(void **state)
{
    (void)state;
    ga_pacer p;
    _ga_pacer_init(&p, 100, INT64_MAX);
    for (uint64_t m = 1; m < 4000; m = m * 3 + 1) {
        ga_pacer_inputs in = {.heap_marked = m * MIB / 7};
        _ga_pacer_commit(&p, &in);
        uint64_t g = p.heap_goal, lo = in.heap_marked + (g - in.heap_marked) * 45 / 64;
        assert_true(p.trigger >= lo && p.trigger <= g);
        assert_true(p.trigger >= in.heap_marked);
    }
    ga_pacer_inputs small = {.heap_marked = 512 << 10};
    _ga_pacer_commit(&p, &small);
    double way =
        (double)(p.trigger - small.heap_marked) / (double)(p.heap_goal - small.heap_marked);
    assert_true(way >= 0.925 && way <= 0.975);
}

static void test_memory_limit_keeps_peak_below_limit(void **state)
{
    (void)state;
    sim s = {.live = 300 * MIB, .quantum = 64 << 10, .non_heap = 20 * MIB};
    _ga_pacer_init(&s.p, 100, 512 * MIB);
    run_cycles(&s, 40);
    uint64_t headroom = (512 * MIB - 20 * MIB) * 3 / 100;
    assert_true(s.peak + s.non_heap <= 512 * MIB - headroom + s.quantum);
    assert_true(s.p.limit_goal < s.p.gcpercent_goal);
    assert_int_equal(s.p.heap_goal, s.p.limit_goal);
}

static void test_gogc_off_with_limit(void **state)
{
    (void)state;
    ga_pacer p;
    _ga_pacer_init(&p, -1, 100 * MIB);
    ga_pacer_inputs in = {
        .heap_marked = 10 * MIB, .mapped_ready = 10 * MIB, .heap_alloc = 10 * MIB};
    _ga_pacer_commit(&p, &in);
    assert_int_equal(p.heap_goal, 100 * MIB - 3 * MIB); /* limit - max(3%, 1 MiB) */
    _ga_pacer_set_limit(&p, 20 * MIB, &in);
    assert_int_equal(p.heap_goal, 20 * MIB - 1 * MIB); /* 3% < 1 MiB: headroom 1 MiB */
}

/* With the live heap above the limit the goal is the live heap, every allocation would start
 * a cycle, and the limiter caps GC at about half the CPU while the program keeps running. */
static void test_live_above_limit_limiter_engages(void **state)
{
    (void)state;
    ga_pacer p;
    const uint64_t live = 200 * MIB, limit = 128 * MIB;
    _ga_pacer_init(&p, 100, (int64_t)limit);
    ga_pacer_inputs in = {.heap_marked = live, .mapped_ready = live, .heap_alloc = live};
    _ga_pacer_commit(&p, &in);
    assert_int_equal(p.heap_goal, live);
    assert_int_equal(p.trigger, live);
    /* Mutator allocates 1 MiB per ms; a full GC of the live heap stops 2 threads for 20 ms. */
    uint64_t now = 1, gc_ns = 0, mut_ns = 0, heap = live, enabled = 0;
    for (int step = 0; step < 200000 && now < 60e9; step++) {
        if (_ga_pacer_should_start(&p, heap)) {
            now += 20000000;
            gc_ns += 20000000;
            _ga_limiter_update(&p, now, 2 * 20000000ull, 2);
            heap = live;
            _ga_pacer_commit(&p, &in);
        } else {
            now += 1000000;
            mut_ns += 1000000;
            heap += MIB;
            _ga_limiter_update(&p, now, 0, 2);
        }
        enabled += p.limiting;
    }
    double frac = (double)gc_ns / (double)(gc_ns + mut_ns);
    assert_true(enabled > 0);
    assert_true(p.limiter_enabled_count > 0);
    assert_true(mut_ns > 0);
    if (frac < 0.40 || frac > 0.60) fail_msg("GC CPU fraction %.3f not near 0.5", frac);
}

/* The memory-limit goal from synthetic inputs, written out as Go's memoryLimitHeapGoal:
 * goal = limit - (non-heap + overage), non-heap = mapped - free - allocated, overage =
 * max(0, mapped - limit), minus a headroom of max(3%, 1 MiB), never below the marked heap. */
static uint64_t expect_limit_goal(uint64_t limit, uint64_t mapped, uint64_t hfree, uint64_t alloc,
                                  uint64_t marked)
{
    uint64_t nh = mapped - hfree - alloc, over = mapped > limit ? mapped - limit : 0;
    if (nh + over >= limit) return marked;
    uint64_t g = limit - (nh + over), head = g * 3 / 100 > MIB ? g * 3 / 100 : MIB;
    g = g > head ? g - head : head;
    return g < marked ? marked : g;
}

static void test_limit_goal_formula(void **state)
{
    (void)state;
    static const struct {
        uint64_t mapped, hfree, alloc, marked;
    } cases[] = {
        {97 * MIB, 0, 93 * MIB, 64 * MIB},        /* at mark termination: garbage unswept */
        {103 * MIB, 0, 93 * MIB, 64 * MIB},       /* mapped past the limit: overage */
        {90 * MIB, 20 * MIB, 60 * MIB, 50 * MIB}, /* free pages are room, not overhead */
        {140 * MIB, 0, 70 * MIB, 64 * MIB},       /* non-heap + overage fill the limit */
        {30 * MIB, 0, 28 * MIB, 20 * MIB},        /* small heap: the 1 MiB headroom floor */
    };
    const uint64_t limit = 100 * MIB;
    for (unsigned i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ga_pacer p;
        _ga_pacer_init(&p, -1, (int64_t)limit);
        ga_pacer_inputs in = {.heap_marked = cases[i].marked,
                              .mapped_ready = cases[i].mapped,
                              .heap_free = cases[i].hfree,
                              .heap_alloc = cases[i].alloc};
        _ga_pacer_commit(&p, &in);
        uint64_t want = expect_limit_goal(limit, cases[i].mapped, cases[i].hfree, cases[i].alloc,
                                          cases[i].marked);
        if (p.heap_goal != want)
            fail_msg("case %u: goal %llu, want %llu", i, (unsigned long long)p.heap_goal,
                     (unsigned long long)want);
        assert_int_equal(p.limit_goal, p.heap_goal); /* GOGC=off: the limit alone */
        assert_true(p.trigger >= cases[i].marked && p.trigger <= p.heap_goal);
    }
    /* Case 1 by hand: non-heap 10 MiB, overage 3 MiB, goal 87 MiB less 3%, well above the
     * 64 MiB marked heap; counting the unswept 29 MiB as non-heap as well would put the goal
     * at the marked heap, and the collector would run back to back. */
    ga_pacer p;
    _ga_pacer_init(&p, -1, (int64_t)limit);
    ga_pacer_inputs in = {
        .heap_marked = 64 * MIB, .mapped_ready = 103 * MIB, .heap_alloc = 93 * MIB};
    _ga_pacer_commit(&p, &in);
    assert_int_equal(p.heap_goal, 87 * MIB - 87 * MIB * 3 / 100);
    in.heap_alloc = 64 * MIB;
    _ga_pacer_commit(&p, &in);
    assert_int_equal(p.heap_goal, 64 * MIB);
}

/* The overshoot accepted while the limiter is engaged: the heap that fills the limit, at
 * least a quarter of the marked heap plus 1 MiB above it; none without a limit. */
static void test_limit_bound(void **state)
{
    (void)state;
    ga_pacer p;
    _ga_pacer_init(&p, -1, 100 * (int64_t)MIB);
    ga_pacer_inputs in = {
        .heap_marked = 64 * MIB, .mapped_ready = 97 * MIB, .heap_alloc = 93 * MIB};
    _ga_pacer_commit(&p, &in);
    assert_int_equal(p.limit_bound, 96 * MIB); /* limit - non-heap (4 MiB) */
    in.mapped_ready = 140 * MIB;               /* non-heap 47 MiB: the room is 53 MiB */
    in.heap_alloc = 93 * MIB;
    _ga_pacer_commit(&p, &in);
    assert_int_equal(p.limit_bound, 64 * MIB + 16 * MIB + MIB);
    /* Engaged limiter: no cycle below the bound, one at it. */
    p.limiting = true;
    assert_true(p.trigger <= 64 * MIB + MIB);
    assert_false(_ga_pacer_should_start(&p, 80 * MIB));
    assert_true(_ga_pacer_should_start(&p, 81 * MIB));
    p.limiting = false;
    assert_true(_ga_pacer_should_start(&p, 65 * MIB));
    _ga_pacer_set_limit(&p, INT64_MAX, &in);
    assert_int_equal(p.limit_bound, UINT64_MAX);
}

/* GOGC=off, a 100 MiB limit, 64 MiB live, 8 MiB of non-heap memory: the heap is collected at
 * the trigger below the limit's goal, and with the limiter engaged (it stays engaged when GC
 * takes most of the time) the heap still never passes the bound, so mapped memory stays
 * within the limit. Each step allocates one 8 KiB span (1 ms per 80 KiB); a cycle stops the
 * world for 400 ms, longer than the mutator takes to reach the trigger, so GC takes more
 * than half the time and the limiter fills. */
static void test_gogc_off_limit_with_limiter(void **state)
{
    (void)state;
    const uint64_t limit = 100 * MIB, live = 64 * MIB, other = 8 * MIB, step = 8192;
    ga_pacer p;
    _ga_pacer_init(&p, -1, (int64_t)limit);
    uint64_t heap = live, now = 1, peak = 0, cycles = 0, engaged = 0;
    ga_pacer_inputs in = {.heap_marked = live, .mapped_ready = live + other, .heap_alloc = live};
    _ga_pacer_commit(&p, &in);
    for (int i = 0; i < 2000000 && cycles < 400; i++) {
        if (_ga_pacer_should_start(&p, heap)) {
            if (heap > peak) peak = heap;
            now += 400000000; /* 400 ms pause x 1 thread */
            _ga_limiter_update(&p, now, 400000000, 1);
            in = (ga_pacer_inputs){
                .heap_marked = live, .mapped_ready = heap + other, .heap_alloc = heap};
            _ga_pacer_commit(&p, &in); /* at mark termination: the garbage still unswept */
            heap = live;
            cycles++;
        } else {
            heap += step;
            now += 100000;
            _ga_limiter_update(&p, now, 0, 1);
        }
        engaged += p.limiting;
    }
    assert_true(cycles >= 100);
    assert_true(p.limiter_enabled_count > 0 && engaged > 0);
    if (peak + other > limit + step)
        fail_msg("heap peak %llu MiB + %llu MiB non-heap passes the %llu MiB limit",
                 (unsigned long long)(peak / MIB), (unsigned long long)(other / MIB),
                 (unsigned long long)(limit / MIB));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_steady_state_peak_near_goal),
        cmocka_unit_test(test_goal_formula_and_floor),
        cmocka_unit_test(test_trigger_band),
        cmocka_unit_test(test_memory_limit_keeps_peak_below_limit),
        cmocka_unit_test(test_gogc_off_with_limit),
        cmocka_unit_test(test_limit_goal_formula),
        cmocka_unit_test(test_limit_bound),
        cmocka_unit_test(test_gogc_off_limit_with_limiter),
        cmocka_unit_test(test_live_above_limit_limiter_engages),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
