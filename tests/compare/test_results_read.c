/* test_results_read.c - unit tests of harness/results_read.c: rows from runs.jsonl and
 * runs.csv text, the errors for corrupt input (file:line and what is wrong), hgrm parsing and
 * the metric names compare uses. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <string.h>

#include "hn_results.h"

#define ROW1                                                                                       \
    "{\"schema\":1,\"cell_id\":\"c1\",\"alloc\":\"sys\",\"workload\":\"churn\",\"threads\":2,"     \
    "\"params\":{\"size_min\":\"8\",\"b\":3},\"rep\":0,\"status\":\"ok\",\"wall_s\":0.5,"          \
    "\"ns_per_op\":12.5,\"ops_per_s\":1e6,\"peak_rss_bytes\":1048576,"                             \
    "\"lat\":{\"malloc\":{\"p99_ns\":40,\"p50_ns\":10}},\"gc\":{\"cycles\":3}}"

static int parse(const char *text, hn_results *r, char *err, size_t errlen)
{
    memset(r, 0, sizeof *r);
    return hn_results_parse_jsonl(text, strlen(text), r, err, errlen);
}

static void test_jsonl_rows(void **state)
{
    (void)state;
    hn_results r;
    char err[256] = "";
    const char *text = ROW1 "\n\n   \n"
                            "{\"schema\":1,\"alloc\":\"goalloc\",\"workload\":\"churn\"}\n";
    assert_int_equal(parse(text, &r, err, sizeof err), 0);
    assert_int_equal(r.nrows, 2);
    hn_row *a = &r.rows[0], *b = &r.rows[1];
    assert_string_equal(a->alloc, "sys");
    assert_int_equal(a->threads, 2);
    assert_string_equal(a->params, "b=3;size_min=8"); /* sorted by key, numbers as text */
    assert_float_equal(a->ns_per_op, 12.5, 0);
    assert_true(isnan(a->user_s)); /* absent stays absent */
    assert_int_equal(a->nlat, 1);
    assert_float_equal(hn_row_metric(a, "p99", "malloc"), 40, 0);
    assert_true(isnan(hn_row_metric(a, "p99", "free")));
    assert_float_equal(hn_row_metric(a, "time", NULL), 0.5, 0);
    assert_float_equal(hn_row_metric(a, "throughput", NULL), 1e6, 0);
    assert_float_equal(hn_row_metric(a, "peak_rss", NULL), 1048576, 0);
    assert_float_equal(hn_row_metric(a, "gc_cycles", NULL), 3, 0);
    assert_int_equal(a->line, 1);
    assert_int_equal(b->line, 4);         /* blank lines count */
    assert_string_equal(b->status, "ok"); /* default */
    assert_string_equal(b->params, "");
    assert_int_equal(b->threads, -1);
    hn_results_free(&r);
}

static void expect_error(const char *text, const char *msg)
{
    hn_results r;
    char err[256] = "";
    assert_int_equal(parse(text, &r, err, sizeof err), -1);
    if (strstr(err, msg) == NULL) fail_msg("error '%s' does not contain '%s'", err, msg);
    assert_int_equal(r.nrows, 0);
    hn_results_free(&r);
}

static void test_jsonl_errors(void **state)
{
    (void)state;
    expect_error(ROW1 "\n" ROW1 "\n[1,2]\n", "runs.jsonl:3: expected object");
    expect_error(ROW1 "\n{\"schema\":1,\n", "runs.jsonl:2: not valid JSON");
    expect_error("{\"schema\":2,\"alloc\":\"a\",\"workload\":\"w\"}",
                 "runs.jsonl:1: schema 2 is not supported (this abench reads schema 1)");
    expect_error("{\"alloc\":\"a\",\"workload\":\"w\"}", "runs.jsonl:1: missing field 'schema'");
    expect_error("{\"schema\":1,\"workload\":\"w\"}", "missing field 'alloc'");
    expect_error("{\"schema\":1,\"alloc\":\"a\",\"workload\":\"w\",\"wall_s\":\"fast\"}",
                 "field 'wall_s' must be a number");
    expect_error("{\"schema\":1,\"alloc\":\"a\",\"workload\":\"w\",\"threads\":1.5}",
                 "field 'threads' must be an integer");
    expect_error("{\"schema\":1,\"alloc\":\"a\",\"workload\":\"w\",\"threads\":0}",
                 "field 'threads' must be in 1..1000000000");
    expect_error("{\"schema\":1,\"alloc\":\"a\",\"workload\":\"w\",\"lat\":{\"m\":3}}",
                 "lat.m must be an object");
    expect_error("{\"schema\":1,\"alloc\":\"a\",\"workload\":\"w\",\"params\":[1]}",
                 "field 'params' must be an object");
}

static void test_csv(void **state)
{
    (void)state;
    const char *text = "schema,cell_id,alloc,workload,threads,params,rep,status,wall_s,ns_per_op,"
                       "lat_malloc_p99_ns,lat_aligned_alloc_p50_ns,lat_malloc_count,gc_cycles\n"
                       "1,c1,sys,churn,1,\"size_min=8;a=1\",0,ok,0.25,10,99,7,1000,\n"
                       "1,c2,je,churn,2,,1,crash,,,,,,\n";
    hn_results r = {0};
    char err[256] = "";
    assert_int_equal(hn_results_parse_csv(text, strlen(text), &r, err, sizeof err), 0);
    assert_int_equal(r.nrows, 2);
    assert_string_equal(r.rows[0].params, "a=1;size_min=8");
    assert_float_equal(hn_row_metric(&r.rows[0], "p99", "malloc"), 99, 0);
    assert_float_equal(hn_row_metric(&r.rows[0], "p50", "aligned_alloc"), 7, 0);
    assert_float_equal(r.rows[0].lat[0].count, 1000, 0);
    assert_int_equal(r.rows[0].has_gc, 0);
    assert_string_equal(r.rows[1].status, "crash");
    assert_true(isnan(r.rows[1].wall_s));
    assert_int_equal(r.rows[1].threads, 2);
    hn_results_free(&r);

    const char *bad = "schema,alloc,workload,wall_s\n1,sys,churn,0.5\n1,sys,churn,slow\n";
    assert_int_equal(hn_results_parse_csv(bad, strlen(bad), &r, err, sizeof err), -1);
    assert_non_null(strstr(err, "runs.csv:3: column 'wall_s': 'slow' is not a number"));
    const char *ragged = "schema,alloc,workload\n1,sys\n";
    assert_int_equal(hn_results_parse_csv(ragged, strlen(ragged), &r, err, sizeof err), -1);
    assert_non_null(strstr(err, "runs.csv:2: expected 3 fields, found 2"));
    const char *dup = "schema,alloc,workload,alloc\n1,sys,w,je\n";
    assert_int_equal(hn_results_parse_csv(dup, strlen(dup), &r, err, sizeof err), -1);
    assert_non_null(strstr(err, "runs.csv:1: column 'alloc' appears twice"));
    const char *schema = "schema,alloc,workload\n3,sys,w\n";
    assert_int_equal(hn_results_parse_csv(schema, strlen(schema), &r, err, sizeof err), -1);
    assert_non_null(strstr(err, "schema 3 is not supported"));
}

static void test_hgrm(void **state)
{
    (void)state;
    const char *text = "       Value     Percentile TotalCount 1/(1-Percentile)\n\n"
                       "      10.000 0.000000000000          1           1.00\n"
                       "      20.000 0.500000000000         50           2.00\n"
                       "      90.000 0.990000000000         99         100.00\n"
                       "     120.000 1.000000000000        100\n"
                       "#[Mean    =       21.000, StdDeviation   =        5.000]\n";
    hn_hgrm h;
    char err[256];
    assert_int_equal(hn_hgrm_parse(text, strlen(text), "x.hgrm", &h, err, sizeof err), 0);
    assert_int_equal(h.n, 3); /* the percentile-1 row is dropped */
    assert_float_equal(h.value[2], 90, 0);
    assert_float_equal(h.inv[1], 2, 0);
    hn_hgrm_free(&h);
    const char *bad = "Value Percentile TotalCount 1/(1-Percentile)\n10 0.1\n";
    assert_int_equal(hn_hgrm_parse(bad, strlen(bad), "x.hgrm", &h, err, sizeof err), -1);
    assert_non_null(strstr(err, "x.hgrm:2: expected 4 numbers"));
}

static void test_metrics(void **state)
{
    (void)state;
    assert_true(hn_metric_known("time"));
    assert_true(hn_metric_known("ns_per_op"));
    assert_true(hn_metric_known("p999"));
    assert_true(hn_metric_known("gc_pause_p99_ns"));
    assert_false(hn_metric_known("speed"));
    assert_true(hn_metric_higher_is_better("throughput"));
    assert_false(hn_metric_higher_is_better("peak_rss"));
    assert_string_equal(hn_metric_unit("peak_rss"), "B");
    assert_string_equal(hn_metric_unit("p99"), "ns");
    assert_string_equal(hn_metric_unit("time"), "s");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_jsonl_rows), cmocka_unit_test(test_jsonl_errors),
        cmocka_unit_test(test_csv),        cmocka_unit_test(test_hgrm),
        cmocka_unit_test(test_metrics),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
