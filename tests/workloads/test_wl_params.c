/* test_wl_params.c - parameter parsing (wl_params.h): defaults, overrides, every kind of bad
 * input rejected with a message naming the parameter, and the registry's lookups. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "wl_driver.h"
#include "wl_params.h"

static const wl_param_def defs[] = {
    {"count", WL_P_INT, "10", "an int", NULL, 1, 1000},
    {"bytes", WL_P_SIZE, "4K", "a size", NULL, 1, 1e12},
    {"ratio", WL_P_DOUBLE, "0.5", "a ratio", NULL, 0, 1},
    {"mode", WL_P_ENUM, "b", "an enum", "a|b|long-name", 0, -1},
    {"path", WL_P_STR, "", "a path", NULL, 0, -1},
    {"any", WL_P_INT, "-5", "unbounded", NULL, 1, -1},
};
static const wl_workload fake = {.name = "fake", .params = defs, .nparams = 6};

static int parse(wl_run *run, char *err, int n, ...)
{
    const char *kv[8];
    va_list ap;
    va_start(ap, n);
    for (int i = 0; i < n; i++)
        kv[i] = va_arg(ap, const char *);
    va_end(ap);
    memset(run, 0, sizeof *run);
    run->w = &fake;
    err[0] = 0;
    return wl_params_parse(run, kv, n, err, 256);
}

static void test_defaults(void **state)
{
    (void)state;
    wl_run run;
    char err[256];
    assert_int_equal(parse(&run, err, 0), 0);
    assert_int_equal(run.p[0].i, 10);
    assert_int_equal(run.p[1].i, 4096);
    assert_true(run.p[2].d == 0.5);
    assert_int_equal(run.p[3].i, 1);
    assert_string_equal(run.p[4].s, "");
    assert_int_equal(run.p[5].i, -5);
}

static void test_overrides(void **state)
{
    (void)state;
    wl_run run;
    char err[256];
    assert_int_equal(
        parse(&run, err, 5, "count=1000", "bytes=3MiB", "mode=long-name", "path=a=b", "ratio=1e-3"),
        0);
    assert_int_equal(run.p[0].i, 1000);
    assert_int_equal(run.p[1].i, 3 << 20);
    assert_int_equal(run.p[3].i, 2);
    assert_string_equal(run.p[4].s, "a=b");
    assert_true(run.p[2].d == 1e-3);
}

static void test_sizes(void **state)
{
    (void)state;
    char err[128];
    int64_t v;
    static const struct {
        const char *s;
        int64_t v;
    } ok[] = {{"0", 0},        {"17", 17},        {"1K", 1024},    {"2KiB", 2048},
              {"3M", 3 << 20}, {"1MiB", 1 << 20}, {"1G", 1 << 30}, {"5GiB", 5ll << 30}};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        assert_int_equal(wl_parse_size(ok[i].s, &v, err, sizeof err), 0);
        assert_int_equal(v, ok[i].v);
    }
    const char *bad[] = {
        "", "K", "-1", "1KB", "1k", "1 K", "1.5M", "99999999999999999999", "9000000000G"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(wl_parse_size(bad[i], &v, err, sizeof err), -1);
}

static void expect_error(const char *kv, const char *needle1, const char *needle2)
{
    wl_run run;
    char err[256];
    assert_int_equal(parse(&run, err, 1, kv), -1);
    assert_non_null(strstr(err, needle1));
    if (needle2) assert_non_null(strstr(err, needle2));
    assert_null(strchr(err, '\n'));
}

static void test_errors(void **state)
{
    (void)state;
    expect_error("nosuch=1", "unknown parameter 'nosuch'", "count");
    expect_error("count", "'count'", "name=value");
    expect_error("count=0", "parameter 'count'", "minimum");
    expect_error("count=1001", "parameter 'count'", "maximum");
    expect_error("count=12x", "parameter 'count'", "not an integer");
    expect_error("count=", "parameter 'count'", "not an integer");
    expect_error("bytes=4KB", "parameter 'bytes'", "suffix");
    expect_error("bytes=0", "parameter 'bytes'", "minimum");
    expect_error("ratio=2", "parameter 'ratio'", "maximum");
    expect_error("ratio=nan", "parameter 'ratio'", "finite");
    expect_error("mode=c", "parameter 'mode'", "a|b|long-name");
    expect_error("mode=long", "parameter 'mode'", NULL);
    wl_run run;
    char err[256];
    assert_int_equal(parse(&run, err, 2, "count=3", "count=4"), -1);
    assert_non_null(strstr(err, "'count'"));
}

static void test_registry(void **state)
{
    (void)state;
    const wl_workload *const *all = wl_all();
    int n = 0, seen_test_only = 0;
    for (; all[n]; n++) {
        const wl_workload *w = all[n];
        assert_ptr_equal(wl_find(w->name), w);
        assert_non_null(w->summary);
        assert_non_null(w->description);
        assert_non_null(w->thread_main);
        assert_null(strchr(w->summary, '\n'));
        if (w->flags & WL_F_TEST_ONLY)
            seen_test_only = 1;
        else
            assert_false(seen_test_only); /* test-only ones come last */
        for (int k = 0; k < n; k++)
            assert_string_not_equal(all[k]->name, w->name);
        /* parameters: unique names, a help line, choices for enums */
        for (unsigned i = 0; i < w->nparams; i++) {
            const wl_param_def *d = &w->params[i];
            assert_non_null(d->name);
            assert_non_null(d->help);
            assert_non_null(d->def);
            if (d->type == WL_P_ENUM) assert_non_null(d->choices);
            assert_int_equal(wl_param_index(w, d->name), (int)i);
        }
        /* every default parses */
        wl_run run = {.w = w};
        char err[256];
        if (wl_params_parse(&run, NULL, 0, err, sizeof err) != 0) fail_msg("%s: %s", w->name, err);
    }
    assert_true(n >= 1);
    static const char *const mine[] = {"churn",    "larson",       "prodcons", "threadchurn",
                                       "fragment", "burst",        "large",    "realloc",
                                       "tiny",     "cachescratch", "replay"};
    for (size_t i = 0; i < sizeof mine / sizeof mine[0]; i++) {
        const wl_workload *w = wl_find(mine[i]);
        if (!w) fail_msg("workload '%s' is not registered", mine[i]);
        assert_false(w->flags & WL_F_TEST_ONLY);
    }
    assert_null(wl_find("no-such-workload"));
    assert_string_equal(wl_op_names[WL_OP_MALLOC], "malloc");
    assert_string_equal(wl_op_names[WL_OP_REQUEST], "request");
    for (int i = 0; i < WL_OP_COUNT; i++)
        assert_non_null(wl_op_names[i]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults), cmocka_unit_test(test_overrides),
        cmocka_unit_test(test_sizes),    cmocka_unit_test(test_errors),
        cmocka_unit_test(test_registry),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
