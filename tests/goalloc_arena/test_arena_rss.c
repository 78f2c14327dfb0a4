/* test_arena_rss.c - user arenas keep memory bounded: over 100k arena create/free cycles the
 * process's resident memory after a warm-up and at the end differ by a bound in bytes, and
 * each list of freed chunks goalloc keeps (quarantined, reusable) stays within arena_retain.
 * A process of its own, so the resident set is that of this workload alone.
 *
 * Each cycle creates an arena, takes a few blocks of mixed sizes (mostly small, sometimes up
 * to 1 MiB, so partly used chunks of freed arenas often lack the room for the next request),
 * writes them and frees the arena. Without a cap, those partly used chunks pile up resident
 * on the reuse list and the resident set grows by gigabytes over the run. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "ga_internal.h"
#include "goalloc.h"
#include "goalloc_arena.h"

#define CHUNK ((uint64_t)8 << 20)
#define CYCLES 100000
#define WARMUP 10000
#define RSS_GROWTH_MAX ((uint64_t)32 << 20)

static uint64_t rss_bytes(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    unsigned long long size = 0, resident = 0;
    assert_non_null(f);
    assert_int_equal(fscanf(f, "%llu %llu", &size, &resident), 2);
    fclose(f);
    return resident * (uint64_t)sysconf(_SC_PAGESIZE);
}

static uint64_t rng = 0x9e3779b97f4a7c15u;

static uint64_t next(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static void cycle(void)
{
    ga_arena *a = ga_arena_new();
    assert_non_null(a);
    int n = 1 + (int)(next() % 4);
    for (int i = 0; i < n; i++) {
        uint64_t r = next();
        size_t size = r % 10 == 0 ? (256u << 10) + (size_t)(r >> 8) % (768u << 10)
                                  : 1 + (size_t)(r >> 8) % 4096;
        unsigned char *p = ga_arena_alloc(a, size, (size_t)1 << (r >> 40) % 8, (int)(r >> 50) & 1);
        assert_non_null(p);
        memset(p, 0xa5, size);
    }
    ga_arena_free(a);
}

static void test_rss_flat_over_cycles(void **state)
{
    (void)state;
    for (int i = 0; i < WARMUP; i++)
        cycle();
    uint64_t warm = rss_bytes();
    for (int i = WARMUP; i < CYCLES; i++)
        cycle();
    uint64_t end = rss_bytes();
    ga_arena_stats st;
    ga_arena_read_stats(&st);
    uint64_t kept = (st.chunks_quarantined + st.chunks_reusable) * CHUNK;
    print_message("rss after %d cycles: %llu KiB, after %d: %llu KiB (growth %lld KiB); "
                  "%llu chunk allocs, %llu reserved MiB, kept %llu MiB (%llu quarantined, "
                  "%llu reusable, %llu ready)\n",
                  WARMUP, (unsigned long long)warm >> 10, CYCLES, (unsigned long long)end >> 10,
                  ((long long)end - (long long)warm) / 1024, (unsigned long long)st.chunk_allocs,
                  (unsigned long long)st.bytes_reserved >> 20, (unsigned long long)kept >> 20,
                  (unsigned long long)st.chunks_quarantined, (unsigned long long)st.chunks_reusable,
                  (unsigned long long)st.chunks_ready);
    assert_true(end <= warm + RSS_GROWTH_MAX);
    assert_true(st.chunks_quarantined * CHUNK <= (uint64_t)_ga_opt.arena_retain);
    assert_true(st.chunks_reusable * CHUNK <= (uint64_t)_ga_opt.arena_retain);
    assert_int_equal(st.chunks_inuse, 0);
    assert_int_equal(st.chunk_allocs - st.chunk_frees, st.chunks_inuse);
    ga_memstats m;
    assert_int_equal(ga_read_memstats(&m), 0);
    assert_int_equal(m.HeapSys, m.HeapInuse + m.HeapIdle);
    assert_true(m.HeapReleased <= m.HeapIdle);
    assert_int_equal(m.HeapObjects, m.Mallocs - m.Frees);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rss_flat_over_cycles),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
