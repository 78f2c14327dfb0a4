/* test_userarena.c - goalloc user arenas: placement, accounting, free-all, faults, reuse. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "ga_internal.h"
#include "goalloc.h"
#include "goalloc_arena.h"

#define CHUNK ((size_t)8 << 20)

typedef struct {
    uintptr_t lo, hi;
} span;

static int cmp_span(const void *a, const void *b)
{
    const span *x = a, *y = b;
    return x->lo < y->lo ? -1 : x->lo > y->lo;
}

/* Random sizes, alignments and scan flags: every block aligned, zeroed, inside an arena
 * chunk, and no two blocks overlap. */
static void test_alignment_and_no_overlap(void **state)
{
    (void)state;
    enum { N = 20000 };
    span *s = malloc(N * sizeof *s);
    ga_arena *a = ga_arena_new();
    assert_non_null(a);
    uint64_t x = 42;
    for (int i = 0; i < N; i++) {
        x = x * 6364136223846793005ull + 1442695040888963407ull;
        size_t size = 1 + (x >> 33) % 3000;
        size_t align = (size_t)1 << ((x >> 20) % 13); /* 1 .. 4096 */
        int scan = (x >> 40) & 1;
        unsigned char *p = ga_arena_alloc(a, size, align, scan);
        assert_non_null(p);
        assert_int_equal((uintptr_t)p % align, 0);
        assert_true(ga_in_arena(p));
        for (size_t k = 0; k < size; k += 97)
            assert_int_equal(p[k], 0);
        assert_int_equal(p[size - 1], 0);
        memset(p, 0xab, size);
        s[i] = (span){(uintptr_t)p, (uintptr_t)p + size};
    }
    qsort(s, N, sizeof *s, cmp_span);
    for (int i = 1; i < N; i++)
        assert_true(s[i - 1].hi <= s[i].lo);
    ga_arena_free(a);
    free(s);
}

/* Pointerful values come from the low end of a chunk, pointer-free ones from the high end. */
static void test_scan_low_noscan_high(void **state)
{
    (void)state;
    ga_arena *a = ga_arena_new();
    char *p1 = ga_arena_alloc(a, 64, 8, 1);
    char *n1 = ga_arena_alloc(a, 64, 8, 0);
    char *p2 = ga_arena_alloc(a, 64, 8, 1);
    char *n2 = ga_arena_alloc(a, 64, 8, 0);
    assert_true(p1 < p2 && p2 < n2 && n2 < n1);
    assert_true((uintptr_t)n1 - (uintptr_t)p1 > CHUNK / 2);
    ga_arena_free(a);
}

static void test_invalid_alignment(void **state)
{
    (void)state;
    ga_arena *a = ga_arena_new();
    errno = 0;
    assert_null(ga_arena_alloc(a, 16, 24, 1));
    assert_int_equal(errno, EINVAL);
    assert_null(ga_arena_alloc(a, 16, 8192, 1));
    ga_arena_free(a);
}

/* Bytes and chunks are accounted, and free-all gives every chunk back. */
static void test_accounting_and_free_all(void **state)
{
    (void)state;
    ga_arena_stats s0, s1, s2;
    ga_arena_read_stats(&s0);
    ga_arena *a = ga_arena_new();
    size_t total = 0;
    for (int i = 0; i < 3000; i++) { /* ~ 3000 x 7000 B = 21 MiB: 3 chunks */
        assert_non_null(ga_arena_alloc(a, 7000, 8, i & 1));
        total += 7000;
    }
    ga_arena_read_stats(&s1);
    assert_int_equal(s1.bytes_allocated - s0.bytes_allocated, total);
    assert_int_equal(s1.chunks_inuse - s0.chunks_inuse, 3);
    assert_int_equal(s1.bytes_inuse - s0.bytes_inuse, 3 * CHUNK);
    assert_int_equal(s1.chunk_allocs - s0.chunk_allocs, 3);
    ga_arena_free(a);
    ga_arena_read_stats(&s2);
    assert_int_equal(s2.chunks_inuse, s0.chunks_inuse);
    assert_int_equal(s2.chunk_frees - s0.chunk_frees, 3);
    assert_int_equal(s2.chunk_allocs - s2.chunk_frees, s2.chunks_inuse);
}

/* MemStats count a live arena's chunks as large allocated objects, and the identities hold
 * while chunks move through quarantine. */
static void test_memstats_count_chunks(void **state)
{
    (void)state;
    ga_memstats m0, m1, m2;
    ga_arena_stats s0, s1;
    ga_arena_read_stats(&s0);
    assert_int_equal(ga_read_memstats(&m0), 0);
    ga_arena *a = ga_arena_new();
    for (int i = 0; i < 20; i++)
        assert_non_null(ga_arena_alloc(a, 1 << 20, 8, 1));
    ga_arena_read_stats(&s1);
    uint64_t n = s1.chunk_allocs - s0.chunk_allocs; /* 3, or 4 when a reused chunk starts it */
    assert_true(n >= 3 && n <= 4);
    assert_int_equal(ga_read_memstats(&m1), 0);
    assert_int_equal(m1.HeapInuse - m0.HeapInuse, n * CHUNK);
    assert_int_equal(m1.HeapAlloc - m0.HeapAlloc, n * CHUNK);
    assert_int_equal(m1.Mallocs - m0.Mallocs, n);
    ga_arena_free(a);
    assert_int_equal(ga_read_memstats(&m2), 0);
    assert_int_equal(m2.HeapInuse, m0.HeapInuse);
    assert_int_equal(m2.HeapAlloc, m0.HeapAlloc);
    assert_int_equal(m2.Frees - m0.Frees, n);
    const ga_memstats *all[] = {&m0, &m1, &m2};
    for (int i = 0; i < 3; i++) {
        assert_int_equal(all[i]->HeapSys, all[i]->HeapInuse + all[i]->HeapIdle);
        assert_true(all[i]->HeapReleased <= all[i]->HeapIdle);
        assert_int_equal(all[i]->HeapObjects, all[i]->Mallocs - all[i]->Frees);
    }
}

/* Requests over 2 MiB come from the heap and are freed with the arena. */
static void test_oversize_goes_to_heap(void **state)
{
    (void)state;
    ga_arena_stats s0, s1;
    ga_arena_read_stats(&s0);
    ga_arena *a = ga_arena_new();
    unsigned char *big = ga_arena_alloc(a, 3u << 20, 64, 0);
    assert_non_null(big);
    assert_false(ga_in_arena(big));
    assert_true(ga_owns(big));
    assert_int_equal((uintptr_t)big % 64, 0);
    assert_int_equal(big[(3u << 20) - 1], 0);
    ga_arena_read_stats(&s1);
    assert_int_equal(s1.heap_fallbacks - s0.heap_fallbacks, 1);
    ga_arena_free(a);
    assert_false(ga_owns(big));
}

static void test_clone(void **state)
{
    (void)state;
    ga_arena *a = ga_arena_new();
    char *v = ga_arena_alloc(a, 32, 8, 0);
    strcpy(v, "decoded message field");
    char *c = ga_arena_clone(v, 32);
    assert_ptr_not_equal(c, v);
    assert_false(ga_in_arena(c));
    assert_string_equal(c, "decoded message field");
    char local[8] = "stack";
    assert_ptr_equal(ga_arena_clone(local, sizeof local), local);
    ga_arena_free(a);
    assert_string_equal(c, "decoded message field");
    ga_free(c);
}

/* Default dispositions in a forked child: cmocka catches SIGSEGV/SIGABRT to report a failing
 * test, which in a child would carry on running the rest of the suite. */
static void child_default_signals(void)
{
    signal(SIGSEGV, SIG_DFL);
    signal(SIGBUS, SIG_DFL);
    signal(SIGABRT, SIG_DFL);
}

/* Runs fn in a child; returns the signal that killed it (0 if it exited). */
static int child_signal(void (*fn)(void))
{
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        child_default_signals();
        int devnull = open("/dev/null", O_WRONLY);
        if (devnull >= 0) dup2(devnull, 2);
        fn();
        _exit(0);
    }
    int st = 0;
    waitpid(pid, &st, 0);
    return WIFSIGNALED(st) ? WTERMSIG(st) : 0;
}

static void touch_after_free(void)
{
    ga_arena *a = ga_arena_new();
    volatile char *first = ga_arena_alloc(a, 1 << 20, 8, 1);
    for (int i = 0; i < 12; i++)
        ga_arena_alloc(a, 1 << 20, 8, 1); /* fill chunk 1, start 2 */
    first[0] = 1;
    ga_arena_free(a);
    first[10] = 2; /* chunk 1 is quarantined: must fault */
}

static void test_use_after_free_faults(void **state)
{
    (void)state;
    assert_int_equal(child_signal(touch_after_free), SIGSEGV);
}

static void free_twice(void)
{
    ga_arena *a = ga_arena_new();
    ga_arena_alloc(a, 10, 8, 1);
    ga_arena_free(a);
    ga_arena_free(a);
}

static void test_double_free_reported(void **state)
{
    (void)state;
    int pipefd[2];
    assert_int_equal(pipe(pipefd), 0);
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        child_default_signals();
        dup2(pipefd[1], 2);
        free_twice();
        _exit(0);
    }
    close(pipefd[1]);
    char buf[256] = {0};
    ssize_t n = read(pipefd[0], buf, sizeof buf - 1);
    close(pipefd[0]);
    int st = 0;
    waitpid(pid, &st, 0);
    assert_true(WIFSIGNALED(st));
    assert_int_equal(WTERMSIG(st), SIGABRT);
    assert_true(n > 0);
    assert_non_null(strstr(buf, "freed twice"));
}

/* With no quarantine depth, a full chunk comes back (zeroed, accessible) to the next arena. */
static void test_reuse_after_quarantine(void **state)
{
    (void)state;
    _ga_userarena_set_quarantine(0);
    ga_arena *a = ga_arena_new();
    char *first = ga_arena_alloc(a, 1 << 20, 4096, 1);
    memset(first, 0x5a, 1 << 20);
    for (int i = 0; i < 12; i++)
        ga_arena_alloc(a, 1 << 20, 8, 1);
    uintptr_t chunk1 = (uintptr_t)first & ~(uintptr_t)(CHUNK - 1);
    ga_arena_free(a);
    ga_arena_stats s;
    ga_arena_read_stats(&s);
    assert_true(s.chunks_ready >= 1);
    /* The reuse list (partial chunk) is only taken for requests that fit it; a request of
     * more than what is left there forces a ready chunk. */
    ga_arena *b = ga_arena_new();
    int seen = 0;
    for (int i = 0; i < 64 && !seen; i++) {
        char *p = ga_arena_alloc(b, 2 << 20, 8, 1);
        assert_non_null(p);
        if (((uintptr_t)p & ~(uintptr_t)(CHUNK - 1)) == chunk1) {
            seen = 1;
            for (size_t k = 0; k < (2u << 20); k += 4096)
                assert_int_equal(p[k], 0);
        }
    }
    assert_true(seen);
    ga_arena_free(b);
    _ga_userarena_set_quarantine(SIZE_MAX);
}

/* The reuse list keeps at most arena_retain bytes of partly used chunks: beyond it the chunk
 * with the least room left goes back to the OS (out of HeapSys, MemStats identities intact),
 * and chunks handed out afterwards still read as zero. */
static void test_reuse_list_capped(void **state)
{
    (void)state;
    int64_t saved = _ga_opt.arena_retain;
    _ga_opt.arena_retain = (int64_t)CHUNK; /* one chunk */
    ga_arena *a[4];
    for (int i = 0; i < 4; i++) {
        a[i] = ga_arena_new();
        assert_non_null(ga_arena_alloc(a[i], (size_t)(i + 1) << 20, 8, 1));
    }
    for (int i = 0; i < 4; i++)
        ga_arena_free(a[i]);
    ga_arena_stats s;
    ga_arena_read_stats(&s);
    assert_int_equal(s.chunks_reusable, 1);
    ga_memstats m;
    assert_int_equal(ga_read_memstats(&m), 0);
    assert_int_equal(m.HeapSys, m.HeapInuse + m.HeapIdle);
    assert_true(m.HeapReleased <= m.HeapIdle);
    assert_int_equal(m.HeapObjects, m.Mallocs - m.Frees);
    for (int i = 0; i < 4; i++) {
        a[i] = ga_arena_new();
        unsigned char *p = ga_arena_alloc(a[i], 2 << 20, 4096, 0);
        assert_non_null(p);
        for (size_t k = 0; k < (2u << 20); k += 4096)
            assert_int_equal(p[k], 0);
        memset(p, 0x77, 2 << 20);
    }
    for (int i = 0; i < 4; i++)
        ga_arena_free(a[i]);
    ga_arena_read_stats(&s);
    assert_true(s.chunks_reusable <= 1);
    assert_int_equal(s.chunk_allocs - s.chunk_frees, s.chunks_inuse);
    _ga_opt.arena_retain = saved;
}

/* Manual mode: the next arena bumps through the pages a freed small arena used (same
 * addresses, reading as zero again), so request-sized arenas cost no fresh pages. */
static void test_small_arena_pages_reused(void **state)
{
    (void)state;
    ga_arena *a = ga_arena_new();
    unsigned char *s1 = ga_arena_alloc(a, 3000, 8, 1);
    unsigned char *n1 = ga_arena_alloc(a, 5000, 8, 0);
    assert_non_null(s1);
    assert_non_null(n1);
    memset(s1, 0xc3, 3000);
    memset(n1, 0x3c, 5000);
    ga_arena_free(a);
    ga_arena *b = ga_arena_new();
    unsigned char *s2 = ga_arena_alloc(b, 3000, 8, 1);
    unsigned char *n2 = ga_arena_alloc(b, 5000, 8, 0);
    assert_ptr_equal(s2, s1);
    assert_ptr_equal(n2, n1);
    for (int i = 0; i < 3000; i++)
        assert_int_equal(s2[i], 0);
    for (int i = 0; i < 5000; i++)
        assert_int_equal(n2[i], 0);
    ga_arena_free(b);
}

static long minor_faults(void)
{
    struct rusage ru;
    assert_int_equal(getrusage(RUSAGE_SELF, &ru), 0);
    return ru.ru_minflt;
}

/* 20000 arenas of ~16 KiB each, one after the other, fault in a handful of pages in all
 * (a fresh-pages-per-arena scheme faults about 4 per arena: ~80000). A dirty run past the
 * memset limit (here 1 MiB) is dropped, not kept, and still reads back as zero. */
static void test_arena_cycles_fault_no_pages(void **state)
{
    (void)state;
    for (int i = 0; i < 10; i++) { /* warm-up: headers, reservation, first pages */
        ga_arena *a = ga_arena_new();
        memset(ga_arena_alloc(a, 8192, 8, 1), 1, 8192);
        memset(ga_arena_alloc(a, 8192, 8, 0), 1, 8192);
        ga_arena_free(a);
    }
    long f0 = minor_faults();
    for (int i = 0; i < 20000; i++) {
        ga_arena *a = ga_arena_new();
        for (int k = 0; k < 16; k++)
            memset(ga_arena_alloc(a, 512, 8, k & 1), 0x5a, 512);
        ga_arena_free(a);
    }
    long f1 = minor_faults();
    print_message("minor faults over 20000 small arenas: %ld\n", f1 - f0);
    assert_true(f1 - f0 < 2000);
    ga_arena *a = ga_arena_new();
    unsigned char *big = ga_arena_alloc(a, 1 << 20, 4096, 1);
    memset(big, 0x77, 1 << 20);
    ga_arena_free(a);
    ga_arena *b = ga_arena_new();
    unsigned char *again = ga_arena_alloc(b, 1 << 20, 4096, 1);
    assert_ptr_equal(again, big);
    for (size_t k = 0; k < (1u << 20); k += 512)
        assert_int_equal(again[k], 0);
    ga_arena_free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_alignment_and_no_overlap),
        cmocka_unit_test(test_scan_low_noscan_high),
        cmocka_unit_test(test_invalid_alignment),
        cmocka_unit_test(test_accounting_and_free_all),
        cmocka_unit_test(test_memstats_count_chunks),
        cmocka_unit_test(test_oversize_goes_to_heap),
        cmocka_unit_test(test_clone),
        cmocka_unit_test(test_small_arena_pages_reused),
        cmocka_unit_test(test_arena_cycles_fault_no_pages),
        cmocka_unit_test(test_use_after_free_faults),
        cmocka_unit_test(test_double_free_reported),
        cmocka_unit_test(test_reuse_after_quarantine),
        cmocka_unit_test(test_reuse_list_capped),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
