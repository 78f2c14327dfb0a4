/* test_scavenger.c - goalloc's heap scavenger end to end: the goals and the pacing controller
 * as functions, then on the real heap (ga_malloc/ga_free) ga_free_os_memory, the background
 * thread giving memory back after a burst, and forced scavenging past GOMEMLIMIT. Resident
 * memory comes from /proc/self/statm; the heap's identities from ga_read_memstats.
 * The tests run in order and share the process's heap.
 */
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "pa_testutil.h"

#define MiB ((size_t)1 << 20)

static size_t rss_bytes(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    assert_non_null(f);
    unsigned long size, res;
    assert_int_equal(fscanf(f, "%lu %lu", &size, &res), 2);
    fclose(f);
    return (size_t)res * (size_t)sysconf(_SC_PAGESIZE);
}

static uint64_t now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}

/* Deadline of the waits for a state the scavenger thread reaches: generous, so that a loaded
 * machine starving that thread slows a test down but does not fail it. */
#define WAIT_NS (120 * 1000000000ull)

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static void check_identities(void)
{
    ga_memstats ms;
    assert_int_equal(ga_read_memstats(&ms), 0);
    assert_int_equal(ms.HeapSys, ms.HeapInuse + ms.HeapIdle);
    assert_true(ms.HeapReleased <= ms.HeapIdle);
    assert_true(_ga_mheap_is_valid()); /* includes: no in-use page is marked scavenged */
}

/* Sanitizers keep shadow memory for every byte written, which madvise does not drop: there
 * resident memory is checked on the heap's own pages (mincore) and not on the process. */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define RSS_IS_MEANINGFUL 0
#else
#define RSS_IS_MEANINGFUL 1
#endif

static void *blocks[256];
static size_t nblocks;

/* Resident 4 KiB pages of the blocks of the last burst (freed, but still heap pages). */
static size_t burst_resident_pages(void)
{
    static unsigned char vec[MiB / 4096];
    size_t n = 0;
    for (size_t i = 0; i < nblocks; i++) {
        assert_int_equal(mincore(blocks[i], MiB, vec), 0);
        for (size_t j = 0; j < MiB / 4096; j++)
            n += vec[j] & 1;
    }
    return n;
}

/* A burst of n 1 MiB blocks, written so they are resident, then freed. */
static void burst(size_t n)
{
    void **p = blocks;
    assert_true(n <= 256);
    nblocks = n;
    for (size_t i = 0; i < n; i++) {
        p[i] = ga_malloc(MiB);
        assert_non_null(p[i]);
        memset(p[i], 0x5a, MiB);
    }
    for (size_t i = 0; i < n; i++)
        ga_free(p[i]);
}

static void test_goals(void **state)
{
    (void)state;
    assert_int_equal(_ga_scav_retain_goal(0), 0);
    assert_int_equal(_ga_scav_retain_goal(1000), 4096);
    assert_int_equal(_ga_scav_retain_goal(100 * MiB), 110 * MiB);
    assert_int_equal(_ga_scav_retain_goal(10 * MiB + 1), 11 * MiB + 4096);
    assert_int_equal(_ga_scav_limit_goal(INT64_MAX), UINT64_MAX);
    assert_int_equal(_ga_scav_limit_goal(100 * (int64_t)MiB), 95 * MiB);
    assert_int_equal(_ga_scav_limit_goal(20), 19);
}

/* Closed loop with a fixed 1 ms of work per wake-up: the CPU share converges near 1%. */
static void test_pacing_controller(void **state)
{
    (void)state;
    ga_scav_pi pi;
    _ga_scav_pi_init(&pi);
    double ratio = 0.001, worked = 1e6, share_sum = 0; /* ns */
    bool ok;
    for (int i = 0; i < 400; i++) {
        double sleep = worked / ratio, share = worked / (worked + sleep);
        if (i >= 300) share_sum += share;
        ratio = _ga_scav_pi_next(&pi, share, 0.01, (worked + sleep) / 1e3, &ok);
        assert_true(ok);
        assert_true(ratio >= 0.001 && ratio <= 1000.0);
    }
    double mean = share_sum / 100;
    if (mean < 0.008 || mean > 0.0125) fail_msg("mean CPU share %.5f, want about 0.01", mean);
    /* Far too much CPU pushes the ratio to its floor; an overflow is reported. */
    _ga_scav_pi_init(&pi);
    for (int i = 0; i < 50; i++)
        ratio = _ga_scav_pi_next(&pi, 0.9, 0.01, 1e9, &ok);
    assert_true(ratio == 0.001);
    _ga_scav_pi_next(&pi, 1e308, 0.01, 1e308, &ok);
    assert_false(ok);
}

static void test_free_os_memory(void **state)
{
    (void)state;
    ga_memstats before, after;
    burst(96);
    assert_int_equal(ga_read_memstats(&before), 0);
    size_t rss = rss_bytes();
    ga_free_os_memory();
    assert_int_equal(ga_read_memstats(&after), 0);
    size_t rss2 = rss_bytes();
    assert_int_equal(burst_resident_pages(), 0);
    if (after.HeapReleased < before.HeapReleased + 90 * MiB ||
        (RSS_IS_MEANINGFUL && rss2 + 80 * MiB > rss))
        fail_msg("HeapReleased %llu -> %llu, RSS %zu -> %zu MiB",
                 (unsigned long long)before.HeapReleased, (unsigned long long)after.HeapReleased,
                 rss >> 20, rss2 >> 20);
    check_identities();
    /* Released memory comes back into use counted once: HeapReleased drops by what is reused. */
    void *p = ga_malloc(8 * MiB);
    assert_non_null(p);
    ga_memstats again;
    assert_int_equal(ga_read_memstats(&again), 0);
    assert_true(again.HeapReleased + 8 * MiB <= after.HeapReleased);
    ga_free(p);
    check_identities();
}

/* About 64 MiB freed back to a 4 MiB live set: the background thread alone brings the burst's
 * pages (and resident memory) back down (typically in 1-3 s: its first sleeps are long because
 * the controller starts at the 0.1% floor; the test waits up to WAIT_NS for it). */
static void test_background_after_burst(void **state)
{
    (void)state;
    _ga_scavenger_set_generation_ns(50 * 1000000ull);
    ga_free_os_memory();
    size_t base = rss_bytes();
    void *live = ga_malloc(4 * MiB);
    memset(live, 1, 4 * MiB);
    ga_scav_stats st0, st;
    _ga_scavenger_stats(&st0);
    burst(64);
    assert_true(burst_resident_pages() > 60 * MiB / 4096);
    assert_true(!RSS_IS_MEANINGFUL || rss_bytes() > base + 48 * MiB);
    _ga_scavenger_start(); /* what the heap does on its first growth */
    _ga_scavenger_stats(&st);
    assert_true(st.running);
    /* The thread adds a batch of releases to released_bg after the batch: the pages can be
     * gone before the counter says so, so the wait is for both. */
    for (uint64_t t0 = now_ns(); now_ns() - t0 < WAIT_NS; sleep_ms(50)) {
        _ga_scavenger_stats(&st);
        if (burst_resident_pages() <= 8 * MiB / 4096 &&
            st.released_bg - st0.released_bg >= 56 * MiB)
            break;
    }
    size_t rss = rss_bytes();
    _ga_scavenger_stats(&st);
    if (burst_resident_pages() > 8 * MiB / 4096 || (RSS_IS_MEANINGFUL && rss > base + 16 * MiB))
        fail_msg("after %llu s: %zu KiB of the burst resident, RSS %zu MiB (base %zu MiB); "
                 "background released %llu MiB",
                 (unsigned long long)(WAIT_NS / 1000000000u), burst_resident_pages() * 4, rss >> 20,
                 base >> 20, (unsigned long long)(st.released_bg - st0.released_bg) >> 20);
    assert_true(st.released_bg - st0.released_bg >= 56 * MiB);
    assert_true(st.generations > st0.generations);
    assert_true(((unsigned char *)live)[4 * MiB - 1] == 1); /* the live set is untouched */
    ga_free(live);
    check_identities();
}

static void test_forced_past_memory_limit(void **state)
{
    (void)state;
    ga_free_os_memory();
    ga_memstats ms;
    assert_int_equal(ga_read_memstats(&ms), 0);
    int64_t limit = (int64_t)(ms.HeapInuse + _ga_os_meta_bytes() + 16 * MiB);
    int64_t old = ga_set_memory_limit(limit);
    burst(64);
    ga_scav_stats s0, s1;
    _ga_scavenger_stats(&s0);
    _ga_scavenge_on_grow(0); /* what the heap does after growing */
    _ga_scavenger_stats(&s1);
    assert_int_equal(ga_read_memstats(&ms), 0);
    uint64_t mapped = ms.HeapInuse + (ms.HeapIdle - ms.HeapReleased) + _ga_os_meta_bytes();
    if (mapped > (uint64_t)limit)
        fail_msg("mapped and ready %llu MiB over the limit %lld MiB",
                 (unsigned long long)mapped >> 20, (long long)limit >> 20);
    assert_true(s1.released_eager + s1.released_bg > s0.released_eager + s0.released_bg);
    ga_set_memory_limit(old);
    check_identities();
}

/* A forked child never runs the scavenger, even when asked to start it. */
static void test_not_in_forked_child(void **state)
{
    (void)state;
    _ga_scavenger_start();
    ga_scav_stats st;
    _ga_scavenger_stats(&st);
    assert_true(st.running);
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        _ga_scavenger_stats(&st);
        bool before = st.running;
        _ga_scavenger_start();
        _ga_scavenger_stats(&st);
        _exit(before || st.running ? 1 : 0);
    }
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    _ga_scavenger_stats(&st);
    assert_true(st.running); /* the parent's thread is unaffected */
}

/* The child run by test_scavtrace: GOALLOC_DEBUG=scavtrace=1, a 20 ms generation clock. It
 * exits once its scavenger has ended 5 generations and released something in the background,
 * and one more generation has ended since (a generation's line is written when the next one
 * begins: the counter moves first, then the line of the generation that ended is printed, and
 * the background work counted up to then is in it). So at least 4 lines, one with background
 * work, are on stderr however slowly the thread runs; the wait has a 120 s deadline. */
static int scavtrace_child(void)
{
    setenv("GOALLOC_DEBUG", "scavtrace=1", 1);
    _ga_scavenger_set_generation_ns(20 * 1000000ull);
    for (size_t i = 0; i < 16; i++) {
        void *p = ga_malloc(MiB);
        memset(p, 1, MiB);
        ga_free(p);
    }
    ga_scav_stats s0, st;
    _ga_scavenger_stats(&s0);
    _ga_scavenger_start();
    uint64_t need = s0.generations + 5, t0 = now_ns();
    bool bg_seen = false;
    for (;;) {
        _ga_scavenger_stats(&st);
        if (!bg_seen && st.released_bg > s0.released_bg) {
            bg_seen = true;
            if (st.generations + 2 > need) need = st.generations + 2;
        }
        if (bg_seen && st.generations >= need) return 0;
        if (now_ns() - t0 > WAIT_NS) return 3;
        sleep_ms(5);
    }
}

/* One line per generation, in Go's shape, with the background work showing up. */
static void test_scavtrace(void **state)
{
    (void)state;
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        dup2(fds[1], 2);
        close(fds[0]);
        execl("/proc/self/exe", "test_goalloc_scavenger", "scavtrace-child", (char *)NULL);
        _exit(127);
    }
    close(fds[1]);
    static char buf[1 << 16];
    size_t len = 0;
    ssize_t r;
    while (len < sizeof buf - 1 && (r = read(fds[0], buf + len, sizeof buf - 1 - len)) > 0)
        len += (size_t)r;
    close(fds[0]);
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    int lines = 0;
    unsigned long long bg_total = 0;
    for (char *line = strtok(buf, "\n"); line; line = strtok(NULL, "\n")) {
        unsigned long long bg, eager, now, retained, util;
        if (sscanf(line,
                   "scav %llu KiB work (bg), %llu KiB work (eager), %llu KiB now, %llu KiB "
                   "retained, %llu%% util",
                   &bg, &eager, &now, &retained, &util) != 5)
            fail_msg("unexpected stderr line: %s", line);
        assert_true(util <= 100);
        bg_total += bg;
        lines++;
    }
    if (lines < 4 || bg_total == 0)
        fail_msg("%d scavtrace lines over 5 generations of 20 ms, %llu KiB in background", lines,
                 bg_total);
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "scavtrace-child") == 0) return scavtrace_child();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_goals),
        cmocka_unit_test(test_pacing_controller),
        cmocka_unit_test(test_free_os_memory),
        cmocka_unit_test(test_forced_past_memory_limit),
        cmocka_unit_test(test_background_after_burst),
        cmocka_unit_test(test_not_in_forked_child),
        cmocka_unit_test(test_scavtrace),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
