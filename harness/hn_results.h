/* hn_results.h - reading a run's results back (defined in results_read.c): the rows of
 * runs.jsonl / runs.csv, meta.json, and on demand a cell's timeline.csv, events.csv and
 * lat_<op>.hgrm. The schema is results/README.md (version 1); this reader refuses any other.
 * Used by compare.c, report.c and exec.c, and by the fuzzer (hn_results_parse_jsonl on a
 * buffer). Not thread-safe per object; distinct objects are independent.
 */
#ifndef HN_RESULTS_H
#define HN_RESULTS_H

#include <stddef.h>

#define HN_RESULTS_SCHEMA 1

/* The scalar numeric fields of a row (results/README.md), one X per field: NAN when absent. */
#define HN_ROW_NUMBERS(X)                                                                          \
    X(seed)                                                                                        \
    X(signal)                                                                                      \
    X(exit_code)                                                                                   \
    X(wall_s)                                                                                      \
    X(user_s)                                                                                      \
    X(sys_s)                                                                                       \
    X(peak_rss_bytes)                                                                              \
    X(minflt)                                                                                      \
    X(majflt)                                                                                      \
    X(ops)                                                                                         \
    X(ns_per_op)                                                                                   \
    X(ops_per_s)                                                                                   \
    X(rss_mean_bytes)                                                                              \
    X(rss_peak_sampled_bytes)                                                                      \
    X(live_peak_bytes)                                                                             \
    X(live_mean_bytes)                                                                             \
    X(frag_ratio)                                                                                  \
    X(instr_per_op)

/* The fields of one `lat` entry and of the `gc` object, NAN when absent. */
#define HN_LAT_NUMBERS(X)                                                                          \
    X(count) X(p50_ns) X(p90_ns) X(p99_ns) X(p999_ns) X(p9999_ns) X(max_ns) X(mean_ns)
#define HN_GC_NUMBERS(X)                                                                           \
    X(cycles) X(pause_p50_ns) X(pause_p99_ns) X(pause_max_ns) X(pause_total_ns) X(cpu_fraction)

typedef struct hn_lat {
    char *op; /* operation kind, e.g. "malloc" */
#define HN_X(f) double f;
    HN_LAT_NUMBERS(HN_X)
#undef HN_X
} hn_lat;

/* One cell. Invariant: alloc, workload, status, params and cell_id are never NULL (params is
 * the canonical "k=v;k=v" text with keys sorted, "" for none; status defaults to "ok"). */
typedef struct hn_row {
    int line; /* 1-based line of the row in its source file */
    char *cell_id, *alloc, *alloc_version, *workload, *params, *status, *error;
    long threads; /* -1 when absent */
    long rep;     /* -1 when absent */
#define HN_X(f) double f;
    HN_ROW_NUMBERS(HN_X)
#undef HN_X
    hn_lat *lat; /* nlat entries, in file order */
    size_t nlat;
    struct hn_gc {
#define HN_X(f) double f;
        HN_GC_NUMBERS(HN_X)
#undef HN_X
    } gc;
    int has_gc;
} hn_row;

typedef struct hn_results {
    char *source;        /* what was read (folder or file), for messages */
    char *dir;           /* the run folder holding cells/ (NULL for a bare file or buffer) */
    struct json_t *meta; /* meta.json (NULL when there is none) */
    hn_row *rows;
    size_t nrows, cap;
} hn_results;

/* Reads a run folder (meta.json + runs.jsonl, else runs.csv) or a bare runs.jsonl / runs.csv
 * file. On error returns -1 with a one-line message in err ("DIR/runs.jsonl:17: expected
 * object"); *out is then empty (nothing to free, though freeing is harmless). */
int hn_results_load(const char *path, hn_results *out, char *err, size_t errlen);

/* Parses runs.jsonl text from memory (blank lines skipped). Same contract as above; `out`
 * must be zeroed (or freshly freed) first. Used by the fuzzer. */
int hn_results_parse_jsonl(const char *buf, size_t len, hn_results *out, char *err, size_t errlen);
/* Parses runs.csv text from memory (header line first). */
int hn_results_parse_csv(const char *buf, size_t len, hn_results *out, char *err, size_t errlen);
void hn_results_free(hn_results *r);

/* A named numeric metric of a row: any HN_ROW_NUMBERS field by name, the aliases
 * time (wall_s), throughput (ops_per_s), peak_rss (peak_rss_bytes), rss_mean
 * (rss_mean_bytes), frag (frag_ratio), a latency field p50 p90 p99 p999 p9999 max mean of
 * operation `op` (or lat_<op>_<p>), or gc_<field>. NAN when the row does not have it.
 * hn_metric_known() says whether a name is a metric at all. */
double hn_row_metric(const hn_row *r, const char *metric, const char *op);
int hn_metric_known(const char *metric);
int hn_metric_is_latency(const char *metric);
/* 1 when larger values are better (throughput), 0 when smaller are better. */
int hn_metric_higher_is_better(const char *metric);
/* Unit suffix for display ("ns", "s", "B", "ops/s", "" ). */
const char *hn_metric_unit(const char *metric);

/* ---- Per-cell files, loaded on demand ---- */

/* A CSV file as text cells: header names in cols, nrows x ncols values row-major. */
typedef struct hn_csv {
    size_t ncols, nrows;
    char **cols;
    char **cell;
} hn_csv;
int hn_csv_parse(const char *buf, size_t len, const char *name, hn_csv *out, char *err,
                 size_t errlen);
int hn_csv_col(const hn_csv *t, const char *name);       /* -1 when absent */
double hn_csv_num(const hn_csv *t, size_t row, int col); /* NAN when empty/not a number */
void hn_csv_free(hn_csv *t);

/* DIR/cells/<cell_id>/<file> of a row, parsed as CSV (timeline.csv, events.csv).
 * Returns 1 when loaded, 0 when the file does not exist, -1 on a read/parse error. */
int hn_results_cell_csv(const hn_results *r, const hn_row *row, const char *file, hn_csv *out,
                        char *err, size_t errlen);

/* A latency histogram in HdrHistogram's percentile-distribution text format. */
typedef struct hn_hgrm {
    size_t n;
    double *value, *pct, *count, *inv; /* inv = 1/(1-pct); the pct == 1 row is dropped */
} hn_hgrm;
int hn_hgrm_parse(const char *buf, size_t len, const char *name, hn_hgrm *out, char *err,
                  size_t errlen);
/* DIR/cells/<cell_id>/lat_<op>.hgrm; same return convention as hn_results_cell_csv. */
int hn_results_cell_hgrm(const hn_results *r, const hn_row *row, const char *op, hn_hgrm *out,
                         char *err, size_t errlen);
void hn_hgrm_free(hn_hgrm *h);

/* Reads a whole file into a NUL-terminated buffer (caller frees). NULL with errno set. */
char *hn_read_file(const char *path, size_t *len);
/* A meta.json string field, or NULL. */
const char *hn_results_meta_str(const hn_results *r, const char *key);

#endif /* HN_RESULTS_H */
