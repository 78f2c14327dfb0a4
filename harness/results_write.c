/* results_write.c - writes the run folder files of results/README.md: meta.json, runs.jsonl
 * and runs.csv.
 *
 * Invariants: every file is written whole to a temporary name in the same folder and renamed
 * into place, so a reader (or an interrupted run) only ever sees complete files; runs.jsonl
 * and runs.csv are written from the same rows in the same order, so they always agree. A field
 * a cell did not measure is absent from its JSON row and empty in its CSV row.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hn_run.h"

int hn_mkdir_p(const char *dir)
{
    char buf[4096];
    snprintf(buf, sizeof buf, "%s", dir);
    for (char *p = buf + 1; *p; p++)
        if (*p == '/') {
            *p = '\0';
            if (mkdir(buf, 0777) != 0 && errno != EEXIST) return -1;
            *p = '/';
        }
    return mkdir(buf, 0777) != 0 && errno != EEXIST ? -1 : 0;
}

int hn_write_atomic(const char *path, const char *data, size_t len)
{
    char tmp[4200];
    const char *slash = strrchr(path, '/');
    if (slash)
        snprintf(tmp, sizeof tmp, "%.*s/.%s.tmp", (int)(slash - path), path, slash + 1);
    else
        snprintf(tmp, sizeof tmp, ".%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f) return -1;
    size_t n = fwrite(data, 1, len, f);
    int bad = n != len || fflush(f) != 0 || fsync(fileno(f)) != 0;
    if (fclose(f) != 0 || bad) {
        unlink(tmp);
        return -1;
    }
    return rename(tmp, path);
}

int hn_write_meta(const char *run_dir, json_t *meta)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/meta.json", run_dir);
    char *s = json_dumps(meta, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(12));
    if (!s) return -1;
    size_t len = strlen(s);
    char *t = realloc(s, len + 2);
    if (!t) {
        free(s);
        return -1;
    }
    t[len] = '\n';
    t[len + 1] = '\0';
    int rc = hn_write_atomic(path, t, len + 1);
    free(t);
    return rc;
}

/* ---- A growable text buffer ---- */

typedef struct sbuf {
    char *p;
    size_t len, cap;
    int oom;
} sbuf;

static void sb_add(sbuf *b, const char *s, size_t n)
{
    if (b->oom) return;
    if (b->len + n + 1 > b->cap) {
        size_t ncap = (b->cap ? b->cap * 2 : 65536) + n;
        char *np = realloc(b->p, ncap);
        if (!np) {
            b->oom = 1;
            return;
        }
        b->p = np;
        b->cap = ncap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void sb_str(sbuf *b, const char *s)
{
    sb_add(b, s, strlen(s));
}

/* One CSV field, quoted when it holds a comma, quote or line break (RFC 4180). */
static void sb_csv(sbuf *b, const char *s)
{
    if (!strpbrk(s, ",\"\r\n")) {
        sb_str(b, s);
        return;
    }
    sb_add(b, "\"", 1);
    for (; *s; s++) {
        if (*s == '"') sb_add(b, "\"", 1);
        sb_add(b, s, 1);
    }
    sb_add(b, "\"", 1);
}

/* ---- runs.csv columns ---- */

/* The scalar fields, in README order; each is read from the row's top level. */
static const char *const scalar_cols[] = {"schema",
                                          "cell_id",
                                          "alloc",
                                          "alloc_version",
                                          "workload",
                                          "threads",
                                          "params",
                                          "rep",
                                          "seed",
                                          "status",
                                          "signal",
                                          "exit_code",
                                          "error",
                                          "wall_s",
                                          "user_s",
                                          "sys_s",
                                          "peak_rss_bytes",
                                          "minflt",
                                          "majflt",
                                          "ops",
                                          "ns_per_op",
                                          "ops_per_s",
                                          "rss_mean_bytes",
                                          "rss_peak_sampled_bytes",
                                          "live_mean_bytes",
                                          "live_peak_bytes",
                                          "frag_ratio",
                                          "rss_base_bytes",
                                          "rss_net_peak_bytes",
                                          "rss_net_mean_bytes",
                                          "instr",
                                          "instr_per_op",
                                          "wall_ns_per_op",
                                          "spike_ops",
                                          "spike_alloc_ns_per_op",
                                          "spike_free_ns_per_op",
                                          "rss_steady_bytes",
                                          "rss_spike_peak_bytes",
                                          "rss_return_s",
                                          "rss_excess90_s",
                                          "rss_after_1s_bytes",
                                          NULL};

static const char *const gc_cols[] = {
    "cycles", "pause_p50_ns", "pause_p99_ns", "pause_max_ns", "pause_total_ns", "cpu_fraction",
    NULL};
static const char *const lat_cols[] = {"count",   "p50_ns", "p90_ns", "p99_ns",
                                       "p999_ns", "max_ns", NULL};
static const char *const op_order[] = {"malloc",   "free",        "calloc",  "realloc",
                                       "gc_alloc", "arena_alloc", "request", NULL};

/* Text of a JSON scalar for CSV ("" for absent or null). */
static void scalar_text(json_t *v, char *buf, size_t len)
{
    buf[0] = '\0';
    if (json_is_string(v))
        snprintf(buf, len, "%s", json_string_value(v));
    else if (json_is_integer(v))
        snprintf(buf, len, "%lld", (long long)json_integer_value(v));
    else if (json_is_real(v))
        snprintf(buf, len, "%.12g", json_real_value(v));
    else if (json_is_boolean(v))
        snprintf(buf, len, "%s", json_is_true(v) ? "true" : "false");
}

/* params flattened as k=v;k=v in the object's order. */
static void params_text(json_t *params, sbuf *out)
{
    const char *k;
    json_t *v;
    int first = 1;
    json_object_foreach(params, k, v)
    {
        char val[1024];
        scalar_text(v, val, sizeof val);
        if (!first) sb_str(out, ";");
        sb_str(out, k);
        sb_str(out, "=");
        sb_str(out, val);
        first = 0;
    }
}

/* Latency op kinds present in any row: the known order first, then others as met. */
static json_t *lat_ops(json_t *rows)
{
    json_t *ops = json_array(), *seen = json_object();
    size_t i;
    json_t *row;
    for (int k = 0; op_order[k]; k++)
        json_array_foreach(rows, i,
                           row) if (json_object_get(json_object_get(row, "lat"), op_order[k]))
        {
            json_array_append_new(ops, json_string(op_order[k]));
            json_object_set_new(seen, op_order[k], json_true());
            break;
        }
    json_array_foreach(rows, i, row)
    {
        const char *op;
        json_t *v;
        json_object_foreach(json_object_get(row, "lat"), op, v)
        {
            if (json_object_get(seen, op)) continue;
            json_array_append_new(ops, json_string(op));
            json_object_set_new(seen, op, json_true());
        }
    }
    json_decref(seen);
    return ops;
}

static void csv_write(json_t *rows, sbuf *b)
{
    json_t *ops = lat_ops(rows), *op;
    size_t i, k;
    json_t *row;
    char name[128], val[2048];
    for (int c = 0; scalar_cols[c]; c++) {
        sb_str(b, c ? "," : "");
        sb_str(b, scalar_cols[c]);
    }
    for (int c = 0; gc_cols[c]; c++) {
        snprintf(name, sizeof name, ",gc_%s", gc_cols[c]);
        sb_str(b, name);
    }
    json_array_foreach(ops, k, op) for (int c = 0; lat_cols[c]; c++)
    {
        /* An op name is the workload's: quote the column when it needs it (RFC 4180). */
        const char *o = json_string_value(op);
        size_t n = strlen(o) + strlen(lat_cols[c]) + 6;
        char *col = malloc(n);
        if (!col) {
            fputs("abench: out of memory\n", stderr);
            exit(70);
        }
        snprintf(col, n, "lat_%s_%s", o, lat_cols[c]);
        sb_str(b, ",");
        sb_csv(b, col);
        free(col);
    }
    sb_str(b, "\n");
    json_array_foreach(rows, i, row)
    {
        for (int c = 0; scalar_cols[c]; c++) {
            if (c) sb_str(b, ",");
            json_t *v = json_object_get(row, scalar_cols[c]);
            if (strcmp(scalar_cols[c], "params") == 0 && json_is_object(v)) {
                sbuf pb = {0};
                params_text(v, &pb);
                sb_csv(b, pb.p ? pb.p : "");
                free(pb.p);
                continue;
            }
            scalar_text(v, val, sizeof val);
            sb_csv(b, val);
        }
        json_t *gc = json_object_get(row, "gc");
        for (int c = 0; gc_cols[c]; c++) {
            scalar_text(json_object_get(gc, gc_cols[c]), val, sizeof val);
            sb_str(b, ",");
            sb_csv(b, val);
        }
        json_t *lat = json_object_get(row, "lat");
        json_array_foreach(ops, k, op) for (int c = 0; lat_cols[c]; c++)
        {
            json_t *o = json_object_get(lat, json_string_value(op));
            scalar_text(json_object_get(o, lat_cols[c]), val, sizeof val);
            sb_str(b, ",");
            sb_csv(b, val);
        }
        sb_str(b, "\n");
    }
    json_decref(ops);
}

int hn_write_runs(const char *run_dir, json_t *rows)
{
    char path[4096];
    sbuf jl = {0}, csv = {0};
    size_t i;
    json_t *row;
    json_array_foreach(rows, i, row)
    {
        char *s = json_dumps(row, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(12));
        if (!s) {
            jl.oom = 1;
            break;
        }
        sb_str(&jl, s);
        sb_str(&jl, "\n");
        free(s);
    }
    csv_write(rows, &csv);
    int rc = -1;
    if (!jl.oom && !csv.oom) {
        snprintf(path, sizeof path, "%s/runs.jsonl", run_dir);
        rc = hn_write_atomic(path, jl.p ? jl.p : "", jl.len);
        snprintf(path, sizeof path, "%s/runs.csv", run_dir);
        if (rc == 0) rc = hn_write_atomic(path, csv.p, csv.len);
    }
    free(jl.p);
    free(csv.p);
    return rc;
}
