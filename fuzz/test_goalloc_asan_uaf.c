/* test_goalloc_asan_uaf.c - AddressSanitizer sees use-after-free inside goalloc's own pages
 * (issue 9 point 4). Registered only in builds with AB_SANITIZE containing "address" (the
 * `asan` preset), LABELS unit.
 *
 * goalloc maps its heap itself, so ASan knows nothing of its blocks unless goalloc poisons
 * freed slots (and unpoisons them on allocation). Each case runs in a forked child whose
 * stderr is captured: touching a freed small or large block must be reported
 * (use-after-poison, or heap-use-after-free) and kill the child; freeing without touching, and
 * re-allocating then writing the whole block, must not be reported (so the test cannot pass
 * by ASan reporting everything).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "goalloc.h"

typedef void (*child_fn)(size_t size);

/* Runs fn(size) in a child; returns its exit status and fills out with its stderr. */
static int run_child(child_fn fn, size_t size, char *out, size_t outlen)
{
    int fd[2];
    assert_int_equal(pipe(fd), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(fd[0]);
        dup2(fd[1], 2);
        fn(size);
        _exit(0);
    }
    close(fd[1]);
    size_t len = 0;
    ssize_t got;
    while ((got = read(fd[0], out + len, outlen - 1 - len)) > 0) {
        len += (size_t)got;
        if (len == outlen - 1) break;
    }
    out[len] = '\0';
    close(fd[0]);
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    return status;
}

static void touch_after_free(size_t size)
{
    volatile uint8_t *p = ga_malloc(size);
    if (!p) _exit(3);
    p[0] = 1;
    ga_free((void *)p);
    uint8_t v = p[size / 2]; /* the bug under test */
    (void)v;
}

static void free_only(size_t size)
{
    uint8_t *p = ga_malloc(size);
    if (!p) _exit(3);
    memset(p, 1, size);
    ga_free(p);
}

static void reuse_after_free(size_t size)
{
    for (int i = 0; i < 64; i++) { /* the same class: the freed slot comes back */
        uint8_t *p = ga_malloc(size);
        if (!p) _exit(3);
        memset(p, 2, size);
        ga_free(p);
    }
}

static int reported(const char *err)
{
    return strstr(err, "use-after-poison") != NULL || strstr(err, "heap-use-after-free") != NULL;
}

static void expect_report(size_t size)
{
    char err[16384];
    int st = run_child(touch_after_free, size, err, sizeof err);
    if (!reported(err) || !(WIFSIGNALED(st) || (WIFEXITED(st) && WEXITSTATUS(st) != 0)))
        fail_msg("reading a freed %zu-byte goalloc block was not reported by ASan (child "
                 "status %#x); its stderr:\n%s",
                 size, st, err);
}

static void expect_clean(child_fn fn, size_t size)
{
    char err[16384];
    int st = run_child(fn, size, err, sizeof err);
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0 || reported(err))
        fail_msg("a correct use of a %zu-byte goalloc block was reported (status %#x):\n%s", size,
                 st, err);
}

static void test_small_uaf_reported(void **state)
{
    (void)state;
    expect_report(64);
}

static void test_large_uaf_reported(void **state)
{
    (void)state;
    expect_report(100000);
}

static void test_correct_use_not_reported(void **state)
{
    (void)state;
    expect_clean(free_only, 64);
    expect_clean(reuse_after_free, 64);
    expect_clean(reuse_after_free, 100000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_correct_use_not_reported),
        cmocka_unit_test(test_small_uaf_reported),
        cmocka_unit_test(test_large_uaf_reported),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
