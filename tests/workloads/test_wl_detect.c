/* test_wl_detect.c - the workloads' block checks can fail: on a deliberately broken TEST DOUBLE
 * backend that now and then hands out the block it just handed out (overlapping a live block),
 * each workload that tags its blocks must abort with its "was overwritten" message. Each run
 * happens in a forked child; the parent checks the signal and the child's stderr. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "wl_driver.h"
#include "wl_list.h"

/* ---- The overlapping backend: a bump arena, free does nothing, every 50th request returns
 * the previous block again. ---- */

static char *arena, *last;
static size_t used, nalloc;
#define ARENA (256u << 20)

static void *ov_malloc(size_t n)
{
    if (++nalloc % 50 == 0 && last) return last;
    n = (n + 15) & ~(size_t)15;
    if (used + n > ARENA) return NULL;
    last = arena + used;
    used += n ? n : 16;
    return last;
}

static void *ov_calloc(size_t k, size_t n)
{
    void *p = ov_malloc(k * n);
    if (p) memset(p, 0, k * n);
    return p;
}

static void ov_free(void *p)
{
    (void)p;
}

static void *ov_realloc(void *p, size_t n)
{
    void *q = ov_malloc(n);
    if (q && p) memmove(q, p, n); /* blocks only grow in these tests: n bytes are readable */
    return q;
}

static void *ov_aligned(size_t al, size_t n)
{
    (void)al;
    return ov_malloc(n);
}

static const ab_allocator overlapping = {
    .name = "overlapping-test-double",
    .malloc = ov_malloc,
    .calloc = ov_calloc,
    .realloc = ov_realloc,
    .free = ov_free,
    .aligned_alloc = ov_aligned,
};

/* Runs w in a child on the broken backend; asserts it aborted and said `needle`. */
static void expect_caught(const wl_workload *w, const char *const *kv, int n, unsigned threads)
{
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        dup2(fds[1], 2);
        close(fds[0]);
        arena = mmap(NULL, ARENA, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        wl_drive_result r;
        wl_drive_on(&overlapping, w, threads, 1, kv, n, &r);
        _exit(0); /* not caught */
    }
    close(fds[1]);
    char buf[4096];
    size_t len = 0;
    ssize_t k;
    while (len < sizeof buf - 1 && (k = read(fds[0], buf + len, sizeof buf - 1 - len)) > 0)
        len += (size_t)k;
    buf[len] = 0;
    close(fds[0]);
    int status;
    waitpid(pid, &status, 0);
    if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGABRT)
        fail_msg("%s: the overlapping backend went unnoticed (status %d)", w->name, status);
    if (!strstr(buf, "was overwritten") || !strstr(buf, w->name))
        fail_msg("%s: unexpected message: %s", w->name, buf);
}

static void test_detect(void **state)
{
    (void)state;
    expect_caught(&wl_churn, (const char *[]){"slots=64", "ops=5000"}, 2, 1);
    expect_caught(&wl_tiny, (const char *[]){"slots=64", "ops=5000"}, 2, 1);
    expect_caught(&wl_larson, (const char *[]){"chunks=64", "steps=2000", "rounds=2"}, 3, 1);
    expect_caught(&wl_burst, (const char *[]){"live=16K", "steady_ops=2000"}, 2, 1);
    expect_caught(&wl_fragment, (const char *[]){"count=500"}, 1, 1);
    expect_caught(&wl_prodcons, (const char *[]){"batch=64", "batches=5", "dist=uniform"}, 3, 2);
    expect_caught(&wl_threadchurn, (const char *[]){"objects=64", "rounds=2"}, 2, 1);
    expect_caught(&wl_large, (const char *[]){"buffers=4", "min=4K", "max=64K", "steps=200"}, 4, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_detect)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
