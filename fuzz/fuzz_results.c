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
 * The reader offers no writer for its own structures (results_write.c writes from the
 * runner's JSON), so there is no round trip here.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fz.h"
#include "hn_results.h"

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
