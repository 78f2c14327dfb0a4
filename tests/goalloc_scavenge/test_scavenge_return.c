/* test_scavenge_return.c - goalloc gives memory back (issue 4's tests), measured on the
 * process: resident memory from /proc after a large burst (background scavenger alone, then
 * ga_free_os_memory), peak resident memory (VmHWM) under GOMEMLIMIT in a child process,
 * scavenged bits and MemStats identities through random workloads with a fast generation
 * clock, zeroing skipped for spans made only of released pages, and the MADV_FREE policy.
 *
 * A bad GOMEMLIMIT value (default kept, one warning) is covered by tests/goalloc_options.
 *
 * The same executable is a non-CI benchmark: `test_goalloc_scavenge_return bench 1024` bursts
 * 1 GiB and prints how long the background scavenger takes to return it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "ga_pagealloc.h"

#define MiB ((size_t)1 << 20)

/* Sanitizers keep shadow memory for every byte written, which madvise does not drop: there the
 * process's resident memory says nothing about the heap, and those checks are skipped. */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define RSS_IS_MEANINGFUL 0
#else
#define RSS_IS_MEANINGFUL 1
#endif

/* Burst of test_background_returns_burst. Paced to ~1% of one CPU, the background scavenger
 * returned 1 GiB in 18.4 s when measured (`bench 1024`, debug build, loaded 2-core machine:
 * nothing for the first ~1.5 s while the first generation ends and the controller ramps up
 * from its 0.1% floor, then about 75 MiB/s, using 90 ms of CPU in all; a release build took
 * 19.4 s and 85 ms: the pacing, not the build, sets the time). A 1 GiB test would take
 * ~20 s, so CI bursts 256 MiB (returned in ~7 s). The test waits for the state (RSS back),
 * with a deadline of 120 s, about 17 times the typical time, so a loaded machine that starves
 * the scavenger thread slows the test down but does not fail it. */
#define BURST_MIB 256
#define BURST_WAIT_MS 120000

static uint64_t now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static size_t rss_bytes(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    if (!f) return 0;
    unsigned long size, res;
    int n = fscanf(f, "%lu %lu", &size, &res);
    fclose(f);
    return n == 2 ? (size_t)res * (size_t)sysconf(_SC_PAGESIZE) : 0;
}

/* A "Key:   N kB" line of /proc/self/status, in bytes (0 when absent). */
static size_t status_kb(const char *key)
{
    FILE *f = fopen("/proc/self/status", "r");
    if (!f) return 0;
    char line[256];
    size_t v = 0, klen = strlen(key);
    while (fgets(line, sizeof line, f))
        if (strncmp(line, key, klen) == 0 && line[klen] == ':') {
            v = (size_t)strtoull(line + klen + 1, NULL, 10) * 1024;
            break;
        }
    fclose(f);
    return v;
}

/* ---- Heap checks ---- */

/* Is any page of [base, base + n pages) marked scavenged in the page allocator's bitmap?
 * Called with the heap lock held. */
static bool any_scavenged(ga_pagealloc *pa, uintptr_t base, size_t npages)
{
    for (size_t i = 0; i < npages; i++) {
        uintptr_t a = base + i * GA_PAGE_SIZE;
        ga_pchunk *c = _ga_pa_chunk(pa, a >> GA_PA_CHUNK_SHIFT);
        size_t pi = (a >> GA_PAGE_SHIFT) & (GA_CHUNK_PAGES - 1);
        if (c->scav[pi / 64] >> (pi % 64) & 1) return true;
    }
    return false;
}

/* The identities the scavenger must keep, checked on the quiescent heap of this thread (the
 * background thread may be releasing at the same time: the heap lock makes the snapshot):
 *  - every page of the spans holding `live` has its scavenged bit clear;
 *  - HeapReleased == scavenged pages in the bitmaps + scavenged pages in this thread's page
 *    cache (each released byte counted once, wherever the page sits);
 *  - HeapSys == HeapInuse + HeapIdle, HeapReleased <= HeapIdle, Sys >= HeapSys;
 *  - the heap's own walker (_ga_mheap_is_valid) agrees. */
static void check_heap(void *const *live, size_t nlive)
{
    ga_memstats ms;
    assert_int_equal(ga_read_memstats(&ms), 0);
    assert_int_equal(ms.HeapSys, ms.HeapInuse + ms.HeapIdle);
    assert_true(ms.HeapReleased <= ms.HeapIdle);
    assert_true(ms.Sys >= ms.HeapSys);
    ga_pagealloc *pa = _ga_mheap_pages();
    _ga_mheap_lock();
    size_t bad = SIZE_MAX;
    for (size_t i = 0; i < nlive && bad == SIZE_MAX; i++) {
        if (!live[i]) continue;
        ga_span *s = _ga_span_of((uintptr_t)live[i]);
        if (!s || any_scavenged(pa, s->base & ~(uintptr_t)(GA_PAGE_SIZE - 1), s->npages)) bad = i;
    }
    uint64_t released = atomic_load(&_ga_heapstat.heap_released);
    uint64_t in_bitmap = _ga_pagealloc_scavenged_bytes(pa);
    uint64_t in_cache = 0;
    if (_ga_tls_mcache && _ga_tls_mcache->pcache.base)
        in_cache = (uint64_t)__builtin_popcountll(_ga_tls_mcache->pcache.scav) * GA_PAGE_SIZE;
    _ga_mheap_unlock();
    if (bad != SIZE_MAX)
        fail_msg("live block %zu (%p): in-use page marked scavenged", bad, live[bad]);
    if (released != in_bitmap + in_cache)
        fail_msg("HeapReleased %llu != scavenged pages %llu in the bitmaps + %llu in the page "
                 "cache",
                 (unsigned long long)released, (unsigned long long)in_bitmap,
                 (unsigned long long)in_cache);
    assert_true(_ga_mheap_is_valid());
}

/* ---- Bursts ---- */

/* n 1 MiB blocks, written so they are resident, then freed. */
static void burst(size_t n)
{
    void **p = calloc(n, sizeof *p);
    assert_non_null(p);
    for (size_t i = 0; i < n; i++) {
        p[i] = ga_malloc(MiB);
        assert_non_null(p[i]);
        memset(p[i], 0x5a, MiB);
    }
    for (size_t i = 0; i < n; i++)
        ga_free(p[i]);
    free(p);
}

/* Bursts n MiB, frees it back to an 8 MiB live set and waits up to wait_ms for resident memory
 * to come within `slack` of what it was before the burst, without calling into goalloc. Returns
 * the seconds it took (negative when it did not) and the RSS reached in *rss_end. */
static double burst_and_wait(size_t n, long wait_ms, size_t slack, size_t *base_out,
                             size_t *rss_end, bool verbose)
{
    void *live = ga_malloc(8 * MiB);
    assert_non_null(live);
    memset(live, 1, 8 * MiB);
    size_t base = rss_bytes();
    *base_out = base;
    burst(n);
    size_t peak = rss_bytes();
    if (verbose) printf("burst of %zu MiB: RSS %zu -> %zu MiB\n", n, base >> 20, peak >> 20);
    uint64_t t0 = now_ns();
    double took = -1;
    for (long polls = 0;; polls++) {
        size_t r = rss_bytes();
        if (verbose && polls % 20 == 0)
            printf("  t=%5.1f s RSS %zu MiB\n", (double)(now_ns() - t0) / 1e9, r >> 20);
        if (r <= base + slack) {
            took = (double)(now_ns() - t0) / 1e9;
            break;
        }
        if (now_ns() - t0 >= (uint64_t)wait_ms * 1000000u) break;
        sleep_ms(50);
    }
    *rss_end = rss_bytes();
    assert_true(((unsigned char *)live)[8 * MiB - 1] == 1);
    ga_free(live);
    return took;
}

/* Resident memory falls back within 32 MiB of its pre-burst value from the background
 * scavenger alone, with the default 1 s generation clock. */
static void test_background_returns_burst(void **state)
{
    (void)state;
    if (!RSS_IS_MEANINGFUL) skip();
    ga_free_os_memory(); /* start from a heap holding no free resident pages */
    ga_scav_stats s0, s1;
    _ga_scavenger_stats(&s0);
    size_t base, end;
    double took = burst_and_wait(BURST_MIB, BURST_WAIT_MS, 32 * MiB, &base, &end, false);
    _ga_scavenger_stats(&s1);
    if (took < 0)
        fail_msg("%d MiB burst: RSS %zu MiB after %d s (before the burst %zu MiB); background "
                 "released %llu MiB, eager %llu MiB",
                 BURST_MIB, end >> 20, BURST_WAIT_MS / 1000, base >> 20,
                 (unsigned long long)(s1.released_bg - s0.released_bg) >> 20,
                 (unsigned long long)(s1.released_eager - s0.released_eager) >> 20);
    print_message("%d MiB returned by the background scavenger in %.2f s (%llu ms of its CPU)\n",
                  BURST_MIB, took, (unsigned long long)(s1.bg_cpu_ns - s0.bg_cpu_ns) / 1000000);
    /* The release came from the background thread, not from an allocation-time path. */
    assert_true(s1.released_bg - s0.released_bg >= (BURST_MIB - 40) * MiB);
    assert_true(s1.bg_cpu_ns > s0.bg_cpu_ns);
    check_heap(NULL, 0);
}

/* ga_free_os_memory returns the whole burst at once; a second call finds nothing left. */
static void test_free_os_memory_at_once(void **state)
{
    (void)state;
    ga_free_os_memory();
    size_t base = rss_bytes();
    ga_memstats m0, m1;
    ga_scav_stats sb, s0, s1, s2;
    _ga_scavenger_stats(&sb);
    burst(BURST_MIB);
    assert_int_equal(ga_read_memstats(&m0), 0); /* the burst's pages are free, not released */
    _ga_scavenger_stats(&s0);
    ga_free_os_memory();
    size_t rss = rss_bytes();
    _ga_scavenger_stats(&s1);
    assert_int_equal(ga_read_memstats(&m1), 0);
    if (RSS_IS_MEANINGFUL && rss > base + 16 * MiB)
        fail_msg("RSS %zu MiB right after ga_free_os_memory (%zu MiB before the burst)", rss >> 20,
                 base >> 20);
    /* Every free page is released now, whoever released it. */
    assert_true(m0.HeapIdle - m0.HeapReleased >= (BURST_MIB - 16) * MiB ||
                s0.released_bg > sb.released_bg);
    assert_true(m1.HeapIdle - m1.HeapReleased <= 16 * MiB);
    /* The background scavenger (still running after the last test) may return part of the
     * burst first, on a loaded machine most of it: the two together returned it. */
    assert_true((s1.released_eager - s0.released_eager) + (s1.released_bg - sb.released_bg) >=
                (BURST_MIB - 16) * MiB);
    assert_true(s1.eager_cpu_ns > s0.eager_cpu_ns);
    ga_free_os_memory();
    _ga_scavenger_stats(&s2);
    assert_int_equal(s2.released_eager, s1.released_eager); /* nothing is released twice */
    check_heap(NULL, 0);
}

/* ---- Random workloads: scavenged bits, counted once ---- */

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static size_t random_size(void)
{
    switch (rnd() % 4) {
    case 0:
        return 1 + rnd() % 256; /* tiny and small */
    case 1:
        return 1 + rnd() % (32 << 10); /* small classes */
    case 2:
        return (32 << 10) + rnd() % (256 << 10); /* large, a few pages */
    default:
        return (1 + rnd() % 64) * 64 << 10; /* large, up to 4 MiB */
    }
}

/* Random mallocs and frees (sizes from 1 byte to 4 MiB), written; the background scavenger
 * runs on a 2 ms generation clock and every so often ga_free_os_memory or a memory limit
 * forces releases; after every 250 operations the heap is checked (check_heap). */
static void test_random_workloads_keep_identities(void **state)
{
    (void)state;
    enum { SLOTS = 512, OPS = 6000 };
    static void *slot[SLOTS];
    static size_t size[SLOTS];
    _ga_scavenger_set_generation_ns(2 * 1000000ull);
    _ga_scavenger_start();
    int64_t old_limit = ga_set_memory_limit(-1);
    for (int op = 0; op < OPS; op++) {
        size_t i = (size_t)(rnd() % SLOTS);
        if (slot[i]) {
            unsigned char *p = slot[i];
            if (p[0] != (unsigned char)i || p[size[i] - 1] != (unsigned char)i)
                fail_msg("slot %zu (%zu bytes) lost its contents", i, size[i]);
            ga_free(slot[i]);
            slot[i] = NULL;
        } else {
            size[i] = random_size();
            slot[i] = rnd() % 2 ? ga_malloc(size[i]) : ga_calloc(1, size[i]);
            assert_non_null(slot[i]);
            memset(slot[i], (int)i, size[i]);
        }
        switch (rnd() % 500) {
        case 0:
            ga_free_os_memory();
            break;
        case 1:
            ga_set_memory_limit(64 * (int64_t)MiB);
            break; /* forced releases on growth */
        case 2:
            ga_set_memory_limit(INT64_MAX);
            break;
        case 3:
            ga_thread_flush();
            break;
        default:
            break;
        }
        if (op % 250 == 249) check_heap(slot, SLOTS);
    }
    ga_set_memory_limit(old_limit);
    for (size_t i = 0; i < SLOTS; i++) {
        ga_free(slot[i]);
        slot[i] = NULL;
    }
    check_heap(NULL, 0);
    _ga_scavenger_set_generation_ns(1000000000ull);
}

/* ---- Zeroing ---- */

/* A span made only of released pages needs no zeroing under MADV_DONTNEED (the kernel gives
 * zero pages back); the same pages reused without a release do. Returns needzero of a 4 MiB
 * block allocated after one was written and freed (released first when `release`). */
static int needzero_after(bool release)
{
    void *p = ga_malloc(4 * MiB);
    assert_non_null(p);
    memset(p, 0x77, 4 * MiB);
    ga_free(p);
    if (release) ga_free_os_memory();
    void *q = ga_malloc(4 * MiB);
    assert_non_null(q);
    ga_span *s = _ga_span_of((uintptr_t)q);
    assert_non_null(s);
    int nz = s->needzero;
    void *z = ga_calloc(1, 4 * MiB); /* calloc zeroes whatever needzero says */
    assert_non_null(z);
    for (size_t i = 0; i < 4 * MiB; i += 4096)
        if (((unsigned char *)z)[i] != 0) fail_msg("calloc'd block not zero at %zu", i);
    ga_free(z);
    ga_free(q);
    return nz;
}

static void test_released_span_skips_zeroing(void **state)
{
    (void)state;
    assert_true(_ga_os_released_pages_are_zero()); /* MADV_DONTNEED, the default */
    ga_free_os_memory();
    assert_int_equal(needzero_after(false), 1);
    assert_int_equal(needzero_after(true), 0);
    check_heap(NULL, 0);
}

/* ---- Child processes ---- */

static int run_child(char *const argv[], char *const env[], char *out, size_t outlen)
{
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        dup2(fds[1], 1);
        close(fds[0]);
        execve("/proc/self/exe", argv, env);
        _exit(127);
    }
    close(fds[1]);
    size_t len = 0;
    ssize_t r;
    while (len < outlen - 1 && (r = read(fds[0], out + len, outlen - 1 - len)) > 0)
        len += (size_t)r;
    out[len] = '\0';
    close(fds[0]);
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* The churn run under GOMEMLIMIT (or none): five phases; phase k allocates 80 MiB in blocks
 * of 64 KiB << 2k (each written) and frees two blocks of every three, keeping the third for
 * the rest of the run. The holes (two blocks wide) are too small for every later phase's
 * blocks, which are four times larger, so without a limit they stay free and resident: the
 * heap ends near 400 MiB while the live set peaks at 4 x 27 + 80 = 187 MiB (0.73 x 256 MiB).
 * The generation clock is slowed to 60 s so that no retention goal exists and only the memory
 * limit makes goalloc release. Prints "hwm=<VmHWM bytes> live=<peak live bytes>". */
static int limit_child(void)
{
    _ga_scavenger_set_generation_ns(60 * 1000000000ull);
    enum { PHASES = 5 };
    const size_t total = 80 * MiB;
    size_t live = 0, live_peak = 0;
    for (int k = 0; k < PHASES; k++) {
        size_t bs = (size_t)(64 << 10) << (2 * k), n = total / bs;
        void **blk = calloc(n, sizeof *blk);
        if (!blk) return 2;
        for (size_t i = 0; i < n; i++) {
            blk[i] = ga_malloc(bs);
            if (!blk[i]) return 3;
            memset(blk[i], k + 1, bs);
            live += bs;
            if (live > live_peak) live_peak = live;
        }
        for (size_t i = 0; i < n; i++)
            if (i % 3 != 0) {
                ga_free(blk[i]);
                live -= bs;
            }
        free(blk); /* the kept blocks stay allocated until exit */
    }
    printf("hwm=%zu live=%zu\n", status_kb("VmHWM"), live_peak);
    return 0;
}

/* Peak resident memory of the churn: with GOMEMLIMIT=256MiB within 1.05 x the limit; without
 * one, well above it (the churn really would retain more). */
static void test_memory_limit_bounds_peak_rss(void **state)
{
    (void)state;
    if (!RSS_IS_MEANINGFUL) skip();
    const size_t L = 256 * MiB;
    char out[256];
    char *argv[] = {"test_goalloc_scavenge_return", "limit-child", NULL};
    char *env_none[] = {"GOMEMLIMIT=off", NULL}, *env_lim[] = {"GOMEMLIMIT=256MiB", NULL};
    size_t hwm_none, hwm_lim, live;
    assert_int_equal(run_child(argv, env_none, out, sizeof out), 0);
    assert_int_equal(sscanf(out, "hwm=%zu live=%zu", &hwm_none, &live), 2);
    assert_true(live <= L / 10 * 8);
    assert_int_equal(run_child(argv, env_lim, out, sizeof out), 0);
    assert_int_equal(sscanf(out, "hwm=%zu live=%zu", &hwm_lim, &live), 2);
    print_message("peak RSS without a limit %zu MiB, with GOMEMLIMIT=256MiB %zu MiB (live %zu "
                  "MiB)\n",
                  hwm_none >> 20, hwm_lim >> 20, live >> 20);
    if (hwm_none < L + L / 5)
        fail_msg("without a limit the churn peaks at %zu MiB: not above 1.2 x 256 MiB, the test "
                 "shows nothing",
                 hwm_none >> 20);
    if (hwm_lim > L + L / 20)
        fail_msg("GOMEMLIMIT=256MiB: peak RSS %zu MiB, above 1.05 x the limit", hwm_lim >> 20);
}

/* GOALLOC_DEBUG=madvdontneed=0: releases use MADV_FREE. The kernel takes such pages only under
 * memory pressure, so RSS may not drop (printed, not asserted); the heap's accounting moves
 * them to HeapReleased all the same, and since they may come back with old contents, spans
 * made of them are zeroed (needzero). Exits 0 when all holds, else prints what failed. */
static int madvfree_child(void)
{
    _ga_mheap_init(); /* reads GOALLOC_DEBUG */
    if (_ga_os_released_pages_are_zero()) {
        printf("GOALLOC_DEBUG=madvdontneed=0 did not select MADV_FREE\n");
        return 1;
    }
    ga_memstats m0, m1;
    size_t rss0 = rss_bytes();
    burst(64);
    size_t rss1 = rss_bytes();
    ga_read_memstats(&m0);
    ga_free_os_memory();
    ga_read_memstats(&m1);
    size_t rss2 = rss_bytes();
    if (m1.HeapReleased < m0.HeapReleased + 60 * MiB) {
        printf("HeapReleased %llu -> %llu\n", (unsigned long long)m0.HeapReleased,
               (unsigned long long)m1.HeapReleased);
        return 1;
    }
    void *p = ga_malloc(4 * MiB);
    memset(p, 0x33, 4 * MiB);
    ga_free(p);
    ga_free_os_memory();
    void *q = ga_calloc(1, 4 * MiB);
    ga_span *s = _ga_span_of((uintptr_t)q);
    if (!s || !s->needzero) {
        printf("span of released MADV_FREE pages not marked needzero\n");
        return 1;
    }
    for (size_t i = 0; i < 4 * MiB; i++)
        if (((unsigned char *)q)[i] != 0) {
            printf("calloc'd block not zero at %zu\n", i);
            return 1;
        }
    ga_free(q);
    printf("rss %zu -> %zu -> %zu MiB\n", rss0 >> 20, rss1 >> 20, rss2 >> 20);
    return 0;
}

static void test_madv_free_policy(void **state)
{
    (void)state;
    char out[512];
    char *argv[] = {"test_goalloc_scavenge_return", "madvfree-child", NULL};
    char *env[] = {"GOALLOC_DEBUG=madvdontneed=0", NULL};
    int rc = run_child(argv, env, out, sizeof out);
    if (rc != 0) fail_msg("MADV_FREE child exited %d: %s", rc, out);
    print_message("MADV_FREE: %s", out); /* burst RSS, then after ga_free_os_memory */
}

/* ---- Benchmark mode (not run by ctest) ---- */

static int bench(size_t mib)
{
    size_t base, end;
    ga_free_os_memory();
    double took = burst_and_wait(mib, 600000, 32 * MiB, &base, &end, true);
    ga_scav_stats st;
    _ga_scavenger_stats(&st);
    printf("burst %zu MiB: RSS back within 32 MiB of %zu MiB after %.2f s (end RSS %zu MiB); "
           "background released %llu MiB using %.1f ms of CPU\n",
           mib, base >> 20, took, end >> 20, (unsigned long long)st.released_bg >> 20,
           (double)st.bg_cpu_ns / 1e6);
    return took < 0;
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "limit-child") == 0) return limit_child();
    if (argc > 1 && strcmp(argv[1], "madvfree-child") == 0) return madvfree_child();
    if (argc > 1 && strcmp(argv[1], "bench") == 0) {
        long mib = argc > 2 ? strtol(argv[2], NULL, 10) : 1024;
        if (mib < 1 || mib > 65536) {
            fprintf(stderr, "bench: burst size '%s' MiB must be 1..65536\n", argv[2]);
            return 2;
        }
        return bench((size_t)mib);
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_background_returns_burst),
        cmocka_unit_test(test_free_os_memory_at_once),
        cmocka_unit_test(test_released_span_skips_zeroing),
        cmocka_unit_test(test_random_workloads_keep_identities),
        cmocka_unit_test(test_memory_limit_bounds_peak_rss),
        cmocka_unit_test(test_madv_free_policy),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
