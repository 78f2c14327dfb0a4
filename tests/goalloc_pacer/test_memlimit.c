/* test_memlimit.c - the memory limit on the real heap, in a process of its own (the CPU
 * limiter's bucket and the heap's mapped pages carry over between tests in one process):
 * GOGC=off, a limit X and a pointerful live set of 0.64 X. Asserts bytes, never time. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdlib.h>

#include "goalloc.h"
#include "goalloc_gc.h"

#define MIB ((uint64_t)1 << 20)

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
static uint64_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static void drain(void)
{
    ga_gc();
}

/* GOGC=off and a limit X with a pointerful live set of 0.64 X (64-byte parent/child pairs,
 * random slots replaced): the limit alone paces the heap. HeapAlloc stays under the limit and
 * mapped memory within 1.15 X, whatever the CPU limiter does (the overshoot it accepts ends
 * at the room the limit leaves), and the goal stays above the live heap (it used to fall to
 * the marked heap, with cycles back to back and the heap then running past the limit). */
static void test_memory_limit_gogc_off_pointerful(void **state)
{
    (void)state;
    drain();
    const uint64_t limit = 32 * MIB, live = limit * 64 / 100;
    int old = ga_set_gc_percent(-1);
    int64_t oldlim = ga_set_memory_limit((int64_t)limit);
    size_t n = live / 128;
    void **slots = calloc(n, sizeof *slots);
    assert_non_null(slots);
    assert_int_equal(ga_gc_add_roots(slots, slots + n), 0);
    ga_gc_stats g0, g1;
    ga_gc_read_stats(&g0);
    uint64_t max_heap = 0, max_mapped = 0, goal_min = UINT64_MAX;
    for (size_t i = 0; i < n + 1500000; i++) {
        size_t k = i < n ? i : (size_t)(rnd() % n);
        void **parent = ga_gc_alloc(64, GA_GC_SCAN);
        assert_non_null(parent);
        ga_store_ptr(parent, ga_gc_alloc(64, GA_GC_SCAN));
        ga_store_ptr(&slots[k], parent);
        if ((i & 1023) == 0) {
            ga_memstats ms;
            ga_read_memstats(&ms);
            if (ms.HeapAlloc > max_heap) max_heap = ms.HeapAlloc;
            uint64_t mapped = ms.Sys - ms.HeapReleased;
            if (mapped > max_mapped) max_mapped = mapped;
            if (i > n && ms.NumGC > g0.NumGC + 2 && ms.NextGC < goal_min) goal_min = ms.NextGC;
        }
    }
    ga_gc_read_stats(&g1);
    ga_gc_remove_roots(slots, slots + n);
    free(slots);
    ga_set_memory_limit(oldlim);
    ga_set_gc_percent(old);
    drain();
    print_message("limit %llu MiB: %llu cycles, HeapAlloc max %.1f MiB, mapped max %.1f MiB, "
                  "lowest goal %.1f MiB\n",
                  (unsigned long long)(limit / MIB), (unsigned long long)(g1.NumGC - g0.NumGC),
                  (double)max_heap / MIB, (double)max_mapped / MIB, (double)goal_min / MIB);
    assert_true(g1.NumGC >= g0.NumGC + 5);
    if (max_heap > limit)
        fail_msg("HeapAlloc reached %.1f MiB under a %llu MiB limit", (double)max_heap / MIB,
                 (unsigned long long)(limit / MIB));
    if (max_mapped > limit * 115 / 100)
        fail_msg("mapped memory reached %.1f MiB under a %llu MiB limit", (double)max_mapped / MIB,
                 (unsigned long long)(limit / MIB));
    if (goal_min <= live + live / 16)
        fail_msg("the goal fell to %.1f MiB, the live heap is %.1f MiB", (double)goal_min / MIB,
                 (double)live / MIB);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_memory_limit_gogc_off_pointerful),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
