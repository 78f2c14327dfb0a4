/* test_wl_replay.c - the trace format: a hand-written trace with every operation loads with the
 * right counts and replays on the sys backend with live bytes back to zero; every kind of bad
 * line is rejected with its line number and the reason. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "wl_driver.h"
#include "wl_list.h"
#include "wl_replay.h"

static char path[64];

static void write_trace(const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static int setup(void **state)
{
    (void)state;
    snprintf(path, sizeof path, "wl_replay_test_%ld.trace", (long)getpid());
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    unlink(path);
    return 0;
}

static const char good[] = "# abench-trace v1\n"
                           "t 0\n"
                           "m 1 100\n"
                           "c 2 10 30\n"
                           "a 3 64 200\n"
                           "\n"
                           "t 1\n"
                           "r 1 4 5000\n" /* 1 -> 4, 5000 bytes */
                           "r 4 4 60\n"   /* in place, shrinks */
                           "f 2\n"
                           "m 2 0\n"    /* ids are reusable after free; malloc(0) */
                           "  f\t3\r\n" /* spaces, tabs and CRLF are fine */
                           "m 99999999999 7\n"
                           "t 0\n"
                           "f 2\n"; /* left live: 4 (60 B) and 99999999999 (7 B) */

static void test_load(void **state)
{
    (void)state;
    write_trace(good);
    wl_trace tr;
    char err[256];
    if (wl_trace_load(path, &tr, err, sizeof err) != 0) fail_msg("%s", err);
    assert_int_equal(tr.nops, 10);
    assert_int_equal(tr.nthreads, 2);
    assert_int_equal(tr.end_live, 67);
    assert_int_equal(tr.end_blocks, 2);
    assert_int_equal(tr.peak_live, 5000 + 300 + 200);
    assert_int_equal(tr.nslots, 5);
    assert_int_equal(tr.nrec, 12); /* a `t` record where the thread changes: to 1, back to 0 */
    assert_int_equal(tr.ops[3].kind, 't');
    assert_int_equal(tr.ops[3].aux, 1);
    assert_int_equal(tr.ops[1].kind, 'c');
    assert_int_equal(tr.counts[tr.ops[1].aux], 10);
    assert_int_equal(wl_trace_op_size(&tr.ops[1]), 30);
    assert_int_equal(tr.ops[2].align_log2, 6);
    assert_int_equal(wl_trace_op_size(&tr.ops[9]), 7); /* m 99999999999 7: a hashed id */
    wl_trace_free(&tr);
    write_trace("m 1 1099511627776\nf 1\n"); /* the largest size, 1 TiB: 41 bits survive */
    if (wl_trace_load(path, &tr, err, sizeof err) != 0) fail_msg("%s", err);
    assert_true(wl_trace_op_size(&tr.ops[0]) == (uint64_t)1 << 40);
    wl_trace_free(&tr);
}

static void test_replay(void **state)
{
    (void)state;
    write_trace(good);
    char kv0[96];
    snprintf(kv0, sizeof kv0, "trace=%s", path);
    const char *kv[] = {kv0, "loops=3"};
    wl_drive_result a, b;
    if (wl_drive(&wl_replay, 2, 1, kv, 2, &a) != 0) fail_msg("%s", a.err);
    assert_int_equal(a.live_end, 0);
    assert_int_equal(a.ops, 2 * 3 * 10);
    assert_int_equal(wl_drive(&wl_replay, 2, 9, kv, 2, &b), 0);
    assert_true(a.hash == b.hash); /* a trace is the same sequence whatever the seed */
}

/* mode=threads: trace threads 0 and 1 on 2 or 3 runner threads; blocks cross threads. */
static void test_threads_mode(void **state)
{
    (void)state;
    write_trace(good);
    char kv0[96];
    snprintf(kv0, sizeof kv0, "trace=%s", path);
    const char *kv[] = {kv0, "loops=3", "mode=threads"};
    for (unsigned threads = 1; threads <= 3; threads++) {
        wl_drive_result a, b;
        if (wl_drive(&wl_replay, threads, 1, kv, 3, &a) != 0) fail_msg("%s", a.err);
        assert_int_equal(a.live_end, 0);
        assert_int_equal(a.ops, 3 * 10); /* one shared replay per loop */
        assert_int_equal(wl_drive(&wl_replay, threads, 1, kv, 3, &b), 0);
        assert_true(a.hash == b.hash); /* each runner thread runs fixed operations */
    }
}

/* Longer than the op-count batch (256): every line is one op, frees and reallocs included. */
static void test_many_ops(void **state)
{
    (void)state;
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    for (int i = 0; i < 300; i++)
        fprintf(f, "m %d %d\n", i, 1 + i % 200);
    for (int i = 0; i < 30; i++)
        fprintf(f, "r %d %d %d\n", i, 1000 + i, 300 + i);
    for (int i = 30; i < 300; i++)
        fprintf(f, "f %d\n", i);
    fclose(f);
    char kv0[96];
    snprintf(kv0, sizeof kv0, "trace=%s", path);
    const char *kv[] = {kv0};
    wl_drive_result r;
    if (wl_drive(&wl_replay, 1, 1, kv, 1, &r) != 0) fail_msg("%s", r.err);
    assert_int_equal(r.ops, 600);
    assert_int_equal(r.live_end, 0);
}

static void expect_bad(const char *text, const char *line, const char *reason)
{
    write_trace(text);
    wl_trace tr;
    char err[256], want[96];
    assert_int_equal(wl_trace_load(path, &tr, err, sizeof err), -1);
    snprintf(want, sizeof want, "%s:%s:", path, line);
    if (!strstr(err, want) || !strstr(err, reason) || !strstr(err, "parameter 'trace'"))
        fail_msg("error '%s' lacks '%s' or '%s'", err, want, reason);
    /* and the same error through the workload's setup */
    char kv0[96];
    snprintf(kv0, sizeof kv0, "trace=%s", path);
    const char *kv[] = {kv0};
    wl_drive_result r;
    assert_int_equal(wl_drive(&wl_replay, 1, 1, kv, 1, &r), -1);
    assert_non_null(strstr(r.err, reason));
}

static void test_bad_lines(void **state)
{
    (void)state;
    expect_bad("m 1 10\nx 2 3\n", "2", "unknown operation");
    expect_bad("m 1\n", "1", "expected 'm <id> <size>'");
    expect_bad("m 1 -5\n", "1", "expected 'm <id> <size>'");
    expect_bad("m 1 10 11\n", "1", "unexpected text");
    expect_bad("# c\nc 1 2\n", "2", "expected 'c <id> <n> <size>'");
    expect_bad("f 1\n", "1", "free of an id that is not live");
    expect_bad("m 1 8\nf 1\nf 1\n", "3", "free of an id that is not live");
    expect_bad("m 1 8\nm 1 8\n", "2", "allocated again");
    expect_bad("r 5 6 10\n", "1", "realloc of an id that is not live");
    expect_bad("m 1 8\nm 2 8\nr 1 2 10\n", "3", "allocated again");
    expect_bad("m 1 8\nr 1 2 0\n", "2", "realloc to 0");
    expect_bad("a 1 24 100\n", "1", "power of two");
    expect_bad("c 1 4294967296 4294967296\n", "1", "overflows");
    expect_bad("m 1 99999999999999\n", "1", "1 TiB");
    expect_bad("t\n", "1", "expected 't <thread>'");
    expect_bad("mm 1 2\n", "1", "unknown operation");
    expect_bad("m 1 123456789012345678901234\n", "1", "expected 'm <id> <size>'");
    /* an empty trace is an error too, without a line number */
    write_trace("# nothing\n\n");
    wl_trace tr;
    char err[256];
    assert_int_equal(wl_trace_load(path, &tr, err, sizeof err), -1);
    assert_non_null(strstr(err, "no operations"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_load),      cmocka_unit_test(test_replay),
        cmocka_unit_test(test_many_ops),  cmocka_unit_test(test_threads_mode),
        cmocka_unit_test(test_bad_lines),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
