/* fuzz_results.c - the results reader (harness/results_read.c) on arbitrary bytes.
 *
 * Byte 0 picks the parser: runs.jsonl rows (hn_results_parse_jsonl), runs.csv rows
 * (hn_results_parse_csv), a per-cell CSV (hn_csv_parse) or a latency histogram
 * (hn_hgrm_parse); byte 1 picks the error-buffer size (1..256 bytes, heap-allocated exactly,
 * so ASan sees any overflow); the rest is the file text, in a buffer of exactly its length
 * with no terminating NUL (the parsers take (buf, len)). Checks:
 *  - never crashes, leaks or reads outside the buffer (ASan, UBSan, LeakSanitizer);
 *  - returns 0 or -1; on -1 the message is non-empty, one line, NUL-terminated within the
 *    buffer, and the result holds no rows;
 *  - on 0 the documented invariants hold (row strings never NULL, lines increasing, csv cells
 *    present, no hgrm row with pct == 1), and parsing the same bytes again gives the same
 *    shape (no hidden state).
 *  - round trip: rows of accepted runs.jsonl text, written back by the CLI's writer
 *    (hn_write_runs in results_write.c, to a private temporary folder), read back from the
 *    written runs.jsonl equal the original rows (numbers to the writer's 12 significant
 *    digits), and from the written runs.csv have the same rows, strings and the numbers the
 *    CSV carries: the tool must read back every file it writes.
 */
#include <ctype.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fz.h"
#include "hn_results.h"
#include "hn_run.h"

static void check_err(int rc, const char *err, size_t errlen, const char *what)
{
    FZ_CHECK(rc == 0 || rc == -1, "%s returned %d, not 0 or -1", what, rc);
    if (rc == 0) return;
    size_t n = strnlen(err, errlen);
    FZ_CHECK(n < errlen, "%s: error message not NUL-terminated within %zu bytes", what, errlen);
    FZ_CHECK(errlen == 1 || n > 0, "%s failed with an empty error message", what);
    FZ_CHECK(memchr(err, '\n', n) == NULL, "%s: error message spans lines: \"%s\"", what, err);
}

static void check_rows(const hn_results *r, const char *what)
{
    int prev = 0;
    for (size_t i = 0; i < r->nrows; i++) {
        const hn_row *row = &r->rows[i];
        FZ_CHECK(row->cell_id && row->alloc && row->workload && row->status && row->params,
                 "%s: row %zu has a NULL required string", what, i);
        FZ_CHECK(row->line > prev, "%s: row %zu line %d not after %d", what, i, row->line, prev);
        prev = row->line;
        FZ_CHECK(row->nlat == 0 || row->lat != NULL, "%s: row %zu: %zu lat entries, NULL array",
                 what, i, row->nlat);
        for (size_t k = 0; k < row->nlat; k++)
            FZ_CHECK(row->lat[k].op != NULL, "%s: row %zu lat %zu has no op", what, i, k);
    }
}

/* ---- Round trip through the writer ---- */

/* A fresh private folder per round trip, removed afterwards (left behind on a finding, so
 * the written files can be inspected). */
static char rt_dir[64];

static int rt_begin(void)
{
    snprintf(rt_dir, sizeof rt_dir, "%s", "/tmp/fuzz_results.XXXXXX");
    return mkdtemp(rt_dir) ? 0 : -1;
}

static void rt_end(void)
{
    char p[128];
    snprintf(p, sizeof p, "%s/runs.jsonl", rt_dir);
    unlink(p);
    snprintf(p, sizeof p, "%s/runs.csv", rt_dir);
    unlink(p);
    rmdir(rt_dir);
}

static int same_num(double a, double b)
{
    if (isnan(a) || isnan(b)) return isnan(a) && isnan(b);
    return a == b || fabs(a - b) <= 1e-11 * fmax(fabs(a), fabs(b));
}

static int same_str(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

/* Compares a row read back with the original: everything (jsonl) or what runs.csv carries. */
static void rt_compare(const hn_row *a, const hn_row *b, int full, const char *what, size_t i)
{
    FZ_CHECK(same_str(a->cell_id, b->cell_id) && same_str(a->alloc, b->alloc) &&
                 same_str(a->workload, b->workload) && same_str(a->status, b->status) &&
                 a->threads == b->threads && a->rep == b->rep,
             "round trip via %s: row %zu changed (cell_id \"%s\" -> \"%s\", alloc \"%s\" -> "
             "\"%s\", status \"%s\" -> \"%s\", threads %ld -> %ld)",
             what, i, a->cell_id, b->cell_id, a->alloc, b->alloc, a->status, b->status, a->threads,
             b->threads);
#define HN_X(f)                                                                                    \
    FZ_CHECK(same_num(a->f, b->f) || (!full && isnan(b->f)),                                       \
             "round trip via %s: row %zu field " #f " %.17g -> %.17g", what, i, a->f, b->f);
    HN_ROW_NUMBERS(HN_X)
#undef HN_X
    if (!full) return;
    FZ_CHECK(same_str(a->params, b->params) && same_str(a->error, b->error) &&
                 same_str(a->alloc_version, b->alloc_version),
             "round trip via %s: row %zu params/error/alloc_version changed (\"%s\" -> \"%s\")",
             what, i, a->params, b->params);
    FZ_CHECK(a->nlat == b->nlat && a->has_gc == b->has_gc,
             "round trip via %s: row %zu has %zu lat entries (gc %d), read back %zu (gc %d)", what,
             i, a->nlat, a->has_gc, b->nlat, b->has_gc);
    for (size_t k = 0; k < a->nlat; k++) {
        FZ_CHECK(same_str(a->lat[k].op, b->lat[k].op), "round trip: row %zu lat %zu op changed", i,
                 k);
#define HN_X(f)                                                                                    \
    FZ_CHECK(same_num(a->lat[k].f, b->lat[k].f), "round trip: row %zu lat %s " #f " changed", i,   \
             a->lat[k].op);
        HN_LAT_NUMBERS(HN_X)
#undef HN_X
    }
#define HN_X(f) FZ_CHECK(same_num(a->gc.f, b->gc.f), "round trip: row %zu gc " #f " changed", i);
    HN_GC_NUMBERS(HN_X)
#undef HN_X
}

/* The accepted text's objects, one per non-blank line (NULL when jansson disagrees). */
static json_t *rt_rows(const char *buf, size_t len)
{
    json_t *arr = json_array();
    for (size_t a = 0; a < len;) {
        const char *nl = memchr(buf + a, '\n', len - a);
        size_t b = nl ? (size_t)(nl - buf) : len, next = nl ? b + 1 : len;
        while (a < b && isspace((unsigned char)buf[a]))
            a++;
        while (b > a && isspace((unsigned char)buf[b - 1]))
            b--;
        if (a < b) {
            json_t *o = json_loadb(buf + a, b - a, 0, NULL);
            if (!json_is_object(o)) {
                json_decref(o);
                json_decref(arr);
                return NULL;
            }
            json_array_append_new(arr, o);
        }
        a = next;
    }
    return arr;
}

static void round_trip(const char *buf, size_t len, const hn_results *orig)
{
    json_t *arr = rt_rows(buf, len);
    if (!arr) return;
    if (rt_begin() != 0) {
        json_decref(arr);
        return;
    }
    int rc = hn_write_runs(rt_dir, arr);
    json_decref(arr);
    if (rc != 0) { /* out of space or memory: nothing to compare */
        rt_end();
        return;
    }
    static const char *const files[] = {"runs.jsonl", "runs.csv"};
    for (int f = 0; f < 2; f++) {
        char path[128], err[512];
        snprintf(path, sizeof path, "%s/%s", rt_dir, files[f]);
        hn_results back;
        memset(&back, 0, sizeof back);
        int lrc = hn_results_load(path, &back, err, sizeof err);
        FZ_CHECK(lrc == 0, "round trip: the reader rejects the %s the writer wrote: %s", files[f],
                 err);
        FZ_CHECK(back.nrows == orig->nrows, "round trip via %s: %zu rows, read back %zu", files[f],
                 orig->nrows, back.nrows);
        for (size_t i = 0; i < orig->nrows; i++)
            rt_compare(&orig->rows[i], &back.rows[i], f == 0, files[f], i);
        hn_results_free(&back);
    }
    rt_end();
}

static void fuzz_rows(const char *buf, size_t len, char *err, size_t errlen, int csv)
{
    const char *what = csv ? "hn_results_parse_csv" : "hn_results_parse_jsonl";
    hn_results r, again;
    memset(&r, 0, sizeof r);
    memset(&again, 0, sizeof again);
    int rc = csv ? hn_results_parse_csv(buf, len, &r, err, errlen)
                 : hn_results_parse_jsonl(buf, len, &r, err, errlen);
    check_err(rc, err, errlen, what);
    if (rc != 0) {
        FZ_CHECK(r.nrows == 0, "%s failed but left %zu rows", what, r.nrows);
    } else {
        check_rows(&r, what);
        int rc2 = csv ? hn_results_parse_csv(buf, len, &again, err, errlen)
                      : hn_results_parse_jsonl(buf, len, &again, err, errlen);
        FZ_CHECK(rc2 == 0 && again.nrows == r.nrows, "%s: second parse gave %d with %zu rows", what,
                 rc2, again.nrows);
        for (size_t i = 0; i < r.nrows; i++)
            FZ_CHECK(strcmp(r.rows[i].cell_id, again.rows[i].cell_id) == 0 &&
                         strcmp(r.rows[i].params, again.rows[i].params) == 0,
                     "%s: second parse differs at row %zu", what, i);
        if (!csv) round_trip(buf, len, &r);
    }
    hn_results_free(&r);
    hn_results_free(&again);
}

static void fuzz_csv(const char *buf, size_t len, char *err, size_t errlen)
{
    hn_csv t;
    memset(&t, 0, sizeof t);
    int rc = hn_csv_parse(buf, len, "timeline.csv", &t, err, errlen);
    check_err(rc, err, errlen, "hn_csv_parse");
    if (rc == 0) {
        for (size_t c = 0; c < t.ncols; c++) {
            FZ_CHECK(t.cols[c] != NULL, "hn_csv_parse: column %zu has no name", c);
            FZ_CHECK(hn_csv_col(&t, t.cols[c]) >= 0 && hn_csv_col(&t, t.cols[c]) <= (int)c,
                     "hn_csv_col(\"%s\") does not find column %zu", t.cols[c], c);
        }
        for (size_t i = 0; i < t.nrows * t.ncols; i++)
            FZ_CHECK(t.cell[i] != NULL, "hn_csv_parse: cell %zu is NULL", i);
        for (size_t i = 0; i < t.nrows && t.ncols > 0; i++)
            (void)hn_csv_num(&t, i, (int)(i % t.ncols));
    }
    hn_csv_free(&t);
}

static void fuzz_hgrm(const char *buf, size_t len, char *err, size_t errlen)
{
    hn_hgrm h;
    memset(&h, 0, sizeof h);
    int rc = hn_hgrm_parse(buf, len, "lat_malloc.hgrm", &h, err, errlen);
    check_err(rc, err, errlen, "hn_hgrm_parse");
    if (rc == 0 && h.n > 0)
        FZ_CHECK(h.value && h.pct && h.count && h.inv, "hn_hgrm_parse: %zu rows, NULL arrays", h.n);
    for (size_t i = 0; rc == 0 && i < h.n; i++)
        FZ_CHECK(h.pct[i] != 1.0, "hn_hgrm_parse kept a pct == 1 row (%zu)", i);
    hn_hgrm_free(&h);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2) return 0;
    unsigned which = data[0] % 4;
    size_t errlen = 1 + data[1];
    size_t len = size - 2;
    char *buf = malloc(len ? len : 1); /* exactly the text: no NUL after it */
    char *err = malloc(errlen);
    if (!buf || !err) {
        free(buf);
        free(err);
        return 0;
    }
    memcpy(buf, data + 2, len);
    memset(err, 'x', errlen);
    switch (which) {
    case 0:
        fuzz_rows(buf, len, err, errlen, 0);
        break;
    case 1:
        fuzz_rows(buf, len, err, errlen, 1);
        break;
    case 2:
        fuzz_csv(buf, len, err, errlen);
        break;
    default:
        fuzz_hgrm(buf, len, err, errlen);
        break;
    }
    free(buf);
    free(err);
    return 0;
}
