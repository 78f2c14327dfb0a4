/* test_wl_trace.c - the recorder end to end (LABELS integration): libabench-trace.so records a
 * multi-threaded helper and lua5.4 into traces that load, contain what the programs did, and
 * replay on the sys backend with live bytes back to zero and one op per trace line; without
 * ABENCH_TRACE (or with an unwritable one) programs run unaffected.
 *
 *   test_wl_trace <libabench-trace.so> <trace_target> [<lua5.4>]
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "wl_driver.h"
#include "wl_list.h"
#include "wl_replay.h"

extern char **environ;

static const char *lib, *target, *lua;
static char trace_path[128];

/* Runs argv with LD_PRELOAD=lib and ABENCH_TRACE=trace (unset when NULL); returns the exit code. */
static int run_traced(char *const argv[], const char *trace)
{
    char preload[1024], tr[512];
    snprintf(preload, sizeof preload, "LD_PRELOAD=%s", lib);
    snprintf(tr, sizeof tr, "ABENCH_TRACE=%s", trace ? trace : "");
    size_t n = 0;
    while (environ[n])
        n++;
    char **env = calloc(n + 3, sizeof *env);
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (strncmp(environ[i], "LD_PRELOAD=", 11) && strncmp(environ[i], "ABENCH_TRACE=", 13))
            env[k++] = environ[i];
    env[k++] = preload;
    if (trace) env[k++] = tr;
    env[k] = NULL;
    pid_t pid;
    int rc = posix_spawn(&pid, argv[0], NULL, NULL, argv, env), status = 0;
    free(env);
    if (rc != 0) fail_msg("cannot run %s: %s", argv[0], strerror(rc));
    waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static size_t count_kind(const wl_trace *tr, char kind)
{
    size_t n = 0;
    for (size_t i = 0; i < tr->nops; i++)
        n += tr->ops[i].kind == kind;
    return n;
}

static void replay_checks(const wl_trace *tr)
{
    char kv0[160];
    snprintf(kv0, sizeof kv0, "trace=%s", trace_path);
    const char *kv[] = {kv0, "loops=2"};
    wl_drive_result r;
    if (wl_drive(&wl_replay, 2, 1, kv, 2, &r) != 0) fail_msg("replay: %s", r.err);
    assert_int_equal(r.live_end, 0);
    assert_int_equal(r.ops, 2 * 2 * tr->nops);
    /* the recorded threads on 2 and 3 runner threads: one shared pass per loop */
    const char *kvt[] = {kv0, "loops=2", "mode=threads"};
    for (unsigned threads = 2; threads <= 3; threads++) {
        if (wl_drive(&wl_replay, threads, 1, kvt, 3, &r) != 0) fail_msg("replay: %s", r.err);
        assert_int_equal(r.live_end, 0);
        assert_int_equal(r.ops, 2 * tr->nops);
    }
}

static void test_target(void **state)
{
    (void)state;
    unlink(trace_path);
    char *argv[] = {(char *)target, NULL};
    assert_int_equal(run_traced(argv, trace_path), 0);
    wl_trace tr;
    char err[512];
    if (wl_trace_load(trace_path, &tr, err, sizeof err) != 0) fail_msg("%s", err);
    assert_true(tr.nthreads >= 3); /* main and both workers allocated */
    assert_true(count_kind(&tr, 'a') >=
                2 * 4); /* posix_memalign, aligned_alloc, memalign, valloc */
    assert_true(count_kind(&tr, 'r') >= 2 * 9); /* 8 growth steps and one reallocarray */
    assert_true(count_kind(&tr, 'c') >= 1);
    assert_true(count_kind(&tr, 'm') >= 1000);
    assert_true(count_kind(&tr, 'f') >= 1000);
    assert_true(tr.end_blocks >= 2); /* the two leaks (libc may keep a few blocks too) */
    assert_true(tr.end_live >= 250); /* 100 + 3 x 50 */
    replay_checks(&tr);
    wl_trace_free(&tr);
}

static void test_lua(void **state)
{
    (void)state;
    if (!lua) skip();
    unlink(trace_path);
    char *argv[] = {(char *)lua, "-e",
                    "local t = {} for i = 1, 3000 do t[i] = string.rep('x', i % 300) .. i end "
                    "t = nil collectgarbage() local s = {} for i = 1, 500 do s[#s + 1] = {i, "
                    "tostring(i)} end",
                    NULL};
    assert_int_equal(run_traced(argv, trace_path), 0);
    wl_trace tr;
    char err[512];
    if (wl_trace_load(trace_path, &tr, err, sizeof err) != 0) fail_msg("%s", err);
    assert_true(tr.nops > 3000);
    assert_true(count_kind(&tr, 'f') > 1000);
    replay_checks(&tr);
    wl_trace_free(&tr);
}

static void test_passthrough(void **state)
{
    (void)state;
    unlink(trace_path);
    char *argv[] = {(char *)target, NULL};
    assert_int_equal(run_traced(argv, NULL), 0); /* no ABENCH_TRACE: nothing written */
    struct stat sb;
    assert_int_equal(stat(trace_path, &sb), -1);
    /* an unwritable trace path: a warning on stderr, the program still runs */
    assert_int_equal(run_traced(argv, "/nonexistent-dir/x.trace"), 0);
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: test_wl_trace LIBABENCH_TRACE TRACE_TARGET [LUA]\n");
        return 2;
    }
    lib = argv[1];
    target = argv[2];
    lua = argc > 3 && argv[3][0] ? argv[3] : NULL;
    snprintf(trace_path, sizeof trace_path, "wl_trace_test_%ld.trace", (long)getpid());
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_target),
        cmocka_unit_test(test_lua),
        cmocka_unit_test(test_passthrough),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    unlink(trace_path);
    return rc;
}
