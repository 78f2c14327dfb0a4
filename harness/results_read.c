/* results_read.c - reads run results back into memory for compare.c, report.c and exec.c:
 * runs.jsonl (jansson) or runs.csv rows, meta.json, and per-cell CSV / hgrm files on demand.
 *
 * Invariants: a loaded hn_results holds only rows of schema HN_RESULTS_SCHEMA (any other
 * schema is refused with a message naming the file and line); every absent numeric field is
 * NAN, never 0; string fields documented non-NULL in hn_results.h are non-NULL. On any error
 * the output object is left empty, so callers never see half a file.
 */
#include "hn_results.h"

#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* ---- Small helpers ---- */

__attribute__((format(printf, 3, 4))) static int fail(char *err, size_t errlen, const char *fmt,
                                                      ...)
{
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
        /* One line, whatever the input echoed into it (a column name may hold a line break). */
        for (char *c = err; *c; c++)
            if ((unsigned char)*c < 0x20) *c = ' ';
    }
    return -1;
}

static char *xstrndup(const char *s, size_t n)
{
    char *d = malloc(n + 1);
    if (!d) {
        fputs("abench: out of memory\n", stderr);
        exit(70);
    }
    memcpy(d, s, n);
    d[n] = 0;
    return d;
}

static char *xstrdup(const char *s)
{
    return xstrndup(s, strlen(s));
}

char *hn_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap + 1);
    while (buf) {
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (n < cap) {
            if (ferror(f)) {
                free(buf);
                buf = NULL;
            }
            break;
        }
        char *nb = realloc(buf, 2 * cap + 1);
        if (!nb) {
            free(buf);
            buf = NULL;
            break;
        }
        buf = nb;
        cap *= 2;
    }
    int saved = errno;
    fclose(f);
    if (!buf) {
        errno = saved ? saved : ENOMEM;
        return NULL;
    }
    buf[n] = 0;
    if (len) *len = n;
    return buf;
}

static int is_dir(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

static int exists(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0;
}

static int ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && strcmp(s + a - b, suffix) == 0;
}

/* ---- Rows ---- */

static void row_init(hn_row *r, int line)
{
    memset(r, 0, sizeof *r);
    r->line = line;
    r->threads = -1;
    r->rep = -1;
#define HN_X(f) r->f = NAN;
    HN_ROW_NUMBERS(HN_X)
#undef HN_X
#define HN_X(f) r->gc.f = NAN;
    HN_GC_NUMBERS(HN_X)
#undef HN_X
}

static void row_free(hn_row *r)
{
    free(r->cell_id);
    free(r->alloc);
    free(r->alloc_version);
    free(r->workload);
    free(r->params);
    free(r->status);
    free(r->error);
    for (size_t i = 0; i < r->nlat; i++)
        free(r->lat[i].op);
    free(r->lat);
}

/* Fills the documented non-NULL defaults. */
static void row_finish(hn_row *r)
{
    if (!r->cell_id) r->cell_id = xstrdup("");
    if (!r->params) r->params = xstrdup("");
    if (!r->status) r->status = xstrdup("ok");
}

static hn_lat *row_lat(hn_row *r, const char *op, size_t oplen)
{
    for (size_t i = 0; i < r->nlat; i++)
        if (strlen(r->lat[i].op) == oplen && memcmp(r->lat[i].op, op, oplen) == 0)
            return &r->lat[i];
    hn_lat *nl = realloc(r->lat, (r->nlat + 1) * sizeof *nl);
    if (!nl) {
        fputs("abench: out of memory\n", stderr);
        exit(70);
    }
    r->lat = nl;
    hn_lat *l = &r->lat[r->nlat++];
    l->op = xstrndup(op, oplen);
#define HN_X(f) l->f = NAN;
    HN_LAT_NUMBERS(HN_X)
#undef HN_X
    return l;
}

static void results_push(hn_results *out, const hn_row *r)
{
    if (out->nrows == out->cap) {
        size_t cap = out->cap ? 2 * out->cap : 64;
        hn_row *nr = realloc(out->rows, cap * sizeof *nr);
        if (!nr) {
            fputs("abench: out of memory\n", stderr);
            exit(70);
        }
        out->rows = nr;
        out->cap = cap;
    }
    out->rows[out->nrows++] = *r;
}

void hn_results_free(hn_results *r)
{
    if (!r) return;
    for (size_t i = 0; i < r->nrows; i++)
        row_free(&r->rows[i]);
    free(r->rows);
    free(r->source);
    free(r->dir);
    if (r->meta) json_decref(r->meta);
    memset(r, 0, sizeof *r);
}

/* ---- Canonical params text ---- */

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Joins "k=v" items sorted by text (keys are unique, so this sorts by key) with ';'. */
static char *join_sorted(char **items, size_t n)
{
    qsort(items, n, sizeof *items, cmp_str);
    size_t len = 1;
    for (size_t i = 0; i < n; i++)
        len += strlen(items[i]) + 1;
    char *s = xstrndup("", 0);
    char *o = realloc(s, len);
    if (!o) {
        fputs("abench: out of memory\n", stderr);
        exit(70);
    }
    o[0] = 0;
    for (size_t i = 0; i < n; i++) {
        if (i) strcat(o, ";");
        strcat(o, items[i]);
    }
    return o;
}

/* ---- runs.jsonl ---- */

/* Copies a JSON scalar as text (params values are text in the schema; numbers tolerated). */
static int json_scalar_text(json_t *v, char *buf, size_t len)
{
    if (json_is_string(v))
        snprintf(buf, len, "%s", json_string_value(v));
    else if (json_is_integer(v))
        snprintf(buf, len, "%lld", (long long)json_integer_value(v));
    else if (json_is_real(v)) /* the writer's precision (results_write.c), so text round-trips */
        snprintf(buf, len, "%.12g", json_real_value(v));
    else if (json_is_boolean(v))
        snprintf(buf, len, "%s", json_is_true(v) ? "true" : "false");
    else
        return -1;
    return 0;
}

static int get_num(json_t *o, const char *key, double *out, const char *where, char *err,
                   size_t errlen)
{
    json_t *v = json_object_get(o, key);
    if (!v || json_is_null(v)) return 0;
    if (!json_is_number(v)) return fail(err, errlen, "%s: field '%s' must be a number", where, key);
    *out = json_number_value(v);
    return 0;
}

static int get_str(json_t *o, const char *key, char **out, int required, const char *where,
                   char *err, size_t errlen)
{
    json_t *v = json_object_get(o, key);
    if (!v || json_is_null(v))
        return required ? fail(err, errlen, "%s: missing field '%s'", where, key) : 0;
    if (!json_is_string(v)) return fail(err, errlen, "%s: field '%s' must be a string", where, key);
    if (!*json_string_value(v)) /* as in runs.csv, where an empty field means "absent" */
        return required ? fail(err, errlen, "%s: field '%s' is empty", where, key) : 0;
    *out = xstrdup(json_string_value(v));
    return 0;
}

static int get_int(json_t *o, const char *key, long *out, const char *where, char *err,
                   size_t errlen)
{
    json_t *v = json_object_get(o, key);
    if (!v || json_is_null(v)) return 0;
    if (!json_is_integer(v))
        return fail(err, errlen, "%s: field '%s' must be an integer", where, key);
    *out = (long)json_integer_value(v);
    return 0;
}

static int check_schema(json_t *o, const char *where, char *err, size_t errlen)
{
    json_t *v = json_object_get(o, "schema");
    if (!v) return fail(err, errlen, "%s: missing field 'schema'", where);
    if (!json_is_integer(v))
        return fail(err, errlen, "%s: field 'schema' must be an integer", where);
    if (json_integer_value(v) != HN_RESULTS_SCHEMA)
        return fail(err, errlen, "%s: schema %lld is not supported (this abench reads schema %d)",
                    where, (long long)json_integer_value(v), HN_RESULTS_SCHEMA);
    return 0;
}

static int row_params_json(hn_row *r, json_t *p, const char *where, char *err, size_t errlen)
{
    if (!p || json_is_null(p)) return 0;
    if (!json_is_object(p)) return fail(err, errlen, "%s: field 'params' must be an object", where);
    size_t n = json_object_size(p), i = 0;
    char **items = calloc(n ? n : 1, sizeof *items);
    const char *k;
    json_t *v;
    int rc = 0;
    json_object_foreach(p, k, v)
    {
        char val[256], kv[512];
        if (json_scalar_text(v, val, sizeof val) != 0) {
            rc = fail(err, errlen, "%s: params.%s must be text", where, k);
            break;
        }
        snprintf(kv, sizeof kv, "%s=%s", k, val);
        items[i++] = xstrdup(kv);
    }
    if (rc == 0) r->params = join_sorted(items, i);
    for (size_t j = 0; j < i; j++)
        free(items[j]);
    free(items);
    return rc;
}

static int row_lat_json(hn_row *r, json_t *lat, const char *where, char *err, size_t errlen)
{
    if (!lat || json_is_null(lat)) return 0;
    if (!json_is_object(lat)) return fail(err, errlen, "%s: field 'lat' must be an object", where);
    const char *op;
    json_t *v;
    json_object_foreach(lat, op, v)
    {
        char w[600];
        snprintf(w, sizeof w, "%.300s: lat.%.200s", where, op);
        if (!json_is_object(v)) return fail(err, errlen, "%s must be an object", w);
        hn_lat *l = row_lat(r, op, strlen(op));
#define HN_X(f)                                                                                    \
    if (get_num(v, #f, &l->f, w, err, errlen)) return -1;
        HN_LAT_NUMBERS(HN_X)
#undef HN_X
    }
    return 0;
}

static int row_from_json(hn_row *r, json_t *o, const char *where, char *err, size_t errlen)
{
    if (!json_is_object(o)) return fail(err, errlen, "%s: expected object", where);
    if (check_schema(o, where, err, errlen) ||
        get_str(o, "alloc", &r->alloc, 1, where, err, errlen) ||
        get_str(o, "workload", &r->workload, 1, where, err, errlen) ||
        get_str(o, "cell_id", &r->cell_id, 0, where, err, errlen) ||
        get_str(o, "alloc_version", &r->alloc_version, 0, where, err, errlen) ||
        get_str(o, "status", &r->status, 0, where, err, errlen) ||
        get_str(o, "error", &r->error, 0, where, err, errlen) ||
        get_int(o, "threads", &r->threads, where, err, errlen) ||
        get_int(o, "rep", &r->rep, where, err, errlen) ||
        row_params_json(r, json_object_get(o, "params"), where, err, errlen) ||
        row_lat_json(r, json_object_get(o, "lat"), where, err, errlen))
        return -1;
#define HN_X(f)                                                                                    \
    if (get_num(o, #f, &r->f, where, err, errlen)) return -1;
    HN_ROW_NUMBERS(HN_X)
#undef HN_X
    json_t *gc = json_object_get(o, "gc");
    if (gc && !json_is_null(gc)) {
        char w[600];
        snprintf(w, sizeof w, "%.500s: gc", where);
        if (!json_is_object(gc)) return fail(err, errlen, "%s must be an object", w);
        r->has_gc = 1;
#define HN_X(f)                                                                                    \
    if (get_num(gc, #f, &r->gc.f, w, err, errlen)) return -1;
        HN_GC_NUMBERS(HN_X)
#undef HN_X
    }
    /* -1 is the reader's "absent": an explicit -1 is as wrong here as in runs.csv. */
    json_t *th = json_object_get(o, "threads"), *rp = json_object_get(o, "rep");
    if ((th && !json_is_null(th) && r->threads < 1) || r->threads < -1 || r->threads == 0 ||
        r->threads > 1000000000L)
        return fail(err, errlen, "%s: field 'threads' must be in 1..1000000000", where);
    /* the same bound as runs.csv's, so every row read from one file reads from the other */
    if (rp && !json_is_null(rp) && (r->rep < 0 || r->rep > 1000000000L))
        return fail(err, errlen, "%s: field 'rep' must be in 0..1000000000", where);
    return 0;
}

static int parse_jsonl_named(const char *buf, size_t len, const char *name, hn_results *out,
                             char *err, size_t errlen)
{
    size_t pos = 0;
    int line = 0;
    while (pos < len) {
        size_t end = pos;
        while (end < len && buf[end] != '\n')
            end++;
        line++;
        size_t a = pos, b = end;
        pos = end + 1;
        while (a < b && isspace((unsigned char)buf[a]))
            a++;
        while (b > a && isspace((unsigned char)buf[b - 1]))
            b--;
        if (a == b) continue;
        char where[512];
        snprintf(where, sizeof where, "%s:%d", name, line);
        json_error_t jerr;
        json_t *o = json_loadb(buf + a, b - a, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
        if (!o) {
            hn_results_free(out);
            return fail(err, errlen, "%s: not valid JSON (%s)", where, jerr.text);
        }
        hn_row r;
        row_init(&r, line);
        int rc = row_from_json(&r, o, where, err, errlen);
        json_decref(o);
        if (rc) {
            row_free(&r);
            hn_results_free(out);
            return -1;
        }
        row_finish(&r);
        results_push(out, &r);
    }
    return 0;
}

int hn_results_parse_jsonl(const char *buf, size_t len, hn_results *out, char *err, size_t errlen)
{
    return parse_jsonl_named(buf, len, "runs.jsonl", out, err, errlen);
}

/* ---- CSV (runs.csv and the per-cell tables) ---- */

/* Splits one CSV record starting at *pos (RFC 4180 quoting). Returns the number of fields
 * stored in f (each malloc'ed), or -1 for an unterminated quote. Advances *pos past the
 * record's newline. */
static long csv_record(const char *buf, size_t len, size_t *pos, char ***f)
{
    size_t p = *pos, n = 0, cap = 8;
    char **v = malloc(cap * sizeof *v);
    char *field = malloc(len - p + 1);
    if (!v || !field) {
        fputs("abench: out of memory\n", stderr);
        exit(70);
    }
    for (;;) {
        size_t fl = 0;
        if (p < len && buf[p] == '"') {
            p++;
            for (;;) {
                if (p >= len) {
                    for (size_t i = 0; i < n; i++)
                        free(v[i]);
                    free(v);
                    free(field);
                    return -1;
                }
                if (buf[p] == '"') {
                    if (p + 1 < len && buf[p + 1] == '"') {
                        field[fl++] = '"';
                        p += 2;
                        continue;
                    }
                    p++;
                    break;
                }
                field[fl++] = buf[p++];
            }
        }
        while (p < len && buf[p] != ',' && buf[p] != '\n' && buf[p] != '\r')
            field[fl++] = buf[p++];
        if (n == cap) {
            cap *= 2;
            char **nv = realloc(v, cap * sizeof *nv);
            if (!nv) {
                fputs("abench: out of memory\n", stderr);
                exit(70);
            }
            v = nv;
        }
        v[n++] = xstrndup(field, fl);
        if (p < len && buf[p] == ',') {
            p++;
            continue;
        }
        if (p < len && buf[p] == '\r') p++;
        if (p < len && buf[p] == '\n') p++;
        break;
    }
    free(field);
    *pos = p;
    *f = v;
    return (long)n;
}

static void free_fields(char **f, long n)
{
    for (long i = 0; i < n; i++)
        free(f[i]);
    free(f);
}

void hn_csv_free(hn_csv *t)
{
    if (!t) return;
    for (size_t i = 0; i < t->ncols; i++)
        free(t->cols[i]);
    for (size_t i = 0; i < t->ncols * t->nrows; i++)
        free(t->cell[i]);
    free(t->cols);
    free(t->cell);
    memset(t, 0, sizeof *t);
}

int hn_csv_parse(const char *buf, size_t len, const char *name, hn_csv *out, char *err,
                 size_t errlen)
{
    memset(out, 0, sizeof *out);
    size_t pos = 0, cap = 0;
    int line = 0;
    while (pos < len) {
        line++;
        if (buf[pos] == '\n' || (buf[pos] == '#' && out->cols == NULL)) {
            while (pos < len && buf[pos] != '\n')
                pos++;
            pos++;
            continue;
        }
        char **f;
        long n = csv_record(buf, len, &pos, &f);
        if (n < 0) {
            hn_csv_free(out);
            return fail(err, errlen, "%s:%d: unterminated quoted field", name, line);
        }
        if (!out->cols) {
            out->cols = f;
            out->ncols = (size_t)n;
            continue;
        }
        if ((size_t)n != out->ncols) {
            free_fields(f, n);
            size_t nc = out->ncols;
            hn_csv_free(out);
            return fail(err, errlen, "%s:%d: expected %zu fields, found %ld", name, line, nc, n);
        }
        if (out->nrows == cap) {
            cap = cap ? 2 * cap : 64;
            char **nc = realloc(out->cell, cap * out->ncols * sizeof *nc);
            if (!nc) {
                fputs("abench: out of memory\n", stderr);
                exit(70);
            }
            out->cell = nc;
        }
        memcpy(out->cell + out->nrows * out->ncols, f, out->ncols * sizeof *f);
        free(f);
        out->nrows++;
    }
    if (!out->cols) return fail(err, errlen, "%s: empty file (no header line)", name);
    return 0;
}

int hn_csv_col(const hn_csv *t, const char *name)
{
    for (size_t i = 0; i < t->ncols; i++)
        if (strcmp(t->cols[i], name) == 0) return (int)i;
    return -1;
}

double hn_csv_num(const hn_csv *t, size_t row, int col)
{
    if (col < 0 || (size_t)col >= t->ncols || row >= t->nrows) return NAN;
    const char *s = t->cell[row * t->ncols + (size_t)col];
    char *end;
    if (!*s) return NAN;
    double v = strtod(s, &end);
    return (*end == 0) ? v : NAN;
}

/* Parses a number field of runs.csv into *out; empty means absent. */
static int csv_num(const char *s, double *out, const char *where, const char *col, char *err,
                   size_t errlen)
{
    if (!*s) return 0;
    char *end;
    double v = strtod(s, &end);
    if (*end) return fail(err, errlen, "%s: column '%s': '%s' is not a number", where, col, s);
    *out = v;
    return 0;
}

static int csv_params(hn_row *r, const char *s)
{
    size_t n = 0, cap = 8;
    char **items = malloc(cap * sizeof *items);
    const char *p = s;
    while (*p) {
        const char *e = strchr(p, ';');
        size_t l = e ? (size_t)(e - p) : strlen(p);
        if (l) {
            if (n == cap) {
                cap *= 2;
                char **ni = realloc(items, cap * sizeof *ni);
                if (!ni) {
                    fputs("abench: out of memory\n", stderr);
                    exit(70);
                }
                items = ni;
            }
            items[n++] = xstrndup(p, l);
        }
        p += l + (e ? 1 : 0);
    }
    r->params = join_sorted(items, n);
    for (size_t i = 0; i < n; i++)
        free(items[i]);
    free(items);
    return 0;
}

/* A latency column lat_<op>_<field>_ns (or lat_<op>_count) into the row. 1 if it was one. */
static int csv_lat_column(hn_row *r, const char *col, const char *val, const char *where, char *err,
                          size_t errlen)
{
    static const char *const fields[] = {"p50", "p90", "p99", "p999", "p9999", "max", "mean"};
    if (strncmp(col, "lat_", 4) != 0) return 0;
    const char *body = col + 4;
    size_t bl = strlen(body);
    int count = ends_with(body, "_count");
    if (!count && !ends_with(body, "_ns")) return 0;
    size_t stem = count ? bl - 6 : bl - 3;
    const char *us = NULL;
    for (size_t i = stem; i > 0; i--)
        if (body[i - 1] == '_') {
            us = body + i - 1;
            break;
        }
    double v = NAN;
    if (csv_num(val, &v, where, col, err, errlen)) return -1;
    if (count) {
        if (!isnan(v)) row_lat(r, body, stem)->count = v;
        return 1;
    }
    if (!us) return 0;
    size_t fl = (size_t)(body + stem - us - 1);
    for (size_t i = 0; i < sizeof fields / sizeof *fields; i++) {
        if (strlen(fields[i]) != fl || strncmp(us + 1, fields[i], fl) != 0) continue;
        if (isnan(v)) return 1;
        hn_lat *l = row_lat(r, body, (size_t)(us - body));
        double *slot[] = {&l->p50_ns,   &l->p90_ns, &l->p99_ns, &l->p999_ns,
                          &l->p9999_ns, &l->max_ns, &l->mean_ns};
        *slot[i] = v;
        return 1;
    }
    return 0;
}

static int row_from_csv(hn_row *r, const hn_csv *t, size_t i, const char *where, char *err,
                        size_t errlen)
{
    int saw_schema = 0;
    for (size_t c = 0; c < t->ncols; c++) {
        const char *col = t->cols[c], *v = t->cell[i * t->ncols + c];
        double d = NAN;
        if (strcmp(col, "schema") == 0) {
            if (csv_num(v, &d, where, col, err, errlen)) return -1;
            if (d != HN_RESULTS_SCHEMA)
                return fail(err, errlen,
                            "%s: schema %s is not supported (this abench reads schema %d)", where,
                            v, HN_RESULTS_SCHEMA);
            saw_schema = 1;
        } else if (strcmp(col, "cell_id") == 0) {
            r->cell_id = xstrdup(v);
        } else if (strcmp(col, "alloc") == 0) {
            r->alloc = xstrdup(v);
        } else if (strcmp(col, "alloc_version") == 0) {
            r->alloc_version = *v ? xstrdup(v) : NULL;
        } else if (strcmp(col, "workload") == 0) {
            r->workload = xstrdup(v);
        } else if (strcmp(col, "status") == 0) {
            r->status = *v ? xstrdup(v) : NULL;
        } else if (strcmp(col, "error") == 0) {
            r->error = *v ? xstrdup(v) : NULL;
        } else if (strcmp(col, "params") == 0) {
            csv_params(r, v);
        } else if (strcmp(col, "threads") == 0 || strcmp(col, "rep") == 0) {
            if (csv_num(v, &d, where, col, err, errlen)) return -1;
            if (!isnan(d) && (d != floor(d) || d < 0 || d > 1e9))
                return fail(err, errlen, "%s: column '%s' must be an integer", where, col);
            if (!isnan(d)) *(col[0] == 't' ? &r->threads : &r->rep) = (long)d;
        } else {
            int done = 0;
#define HN_X(f)                                                                                    \
    if (!done && strcmp(col, #f) == 0) {                                                           \
        if (csv_num(v, &r->f, where, col, err, errlen)) return -1;                                 \
        done = 1;                                                                                  \
    }
            HN_ROW_NUMBERS(HN_X)
#undef HN_X
#define HN_X(f)                                                                                    \
    if (!done && strcmp(col, "gc_" #f) == 0) {                                                     \
        if (csv_num(v, &r->gc.f, where, col, err, errlen)) return -1;                              \
        r->has_gc |= *v != 0;                                                                      \
        done = 1;                                                                                  \
    }
            HN_GC_NUMBERS(HN_X)
#undef HN_X
            if (!done && csv_lat_column(r, col, v, where, err, errlen) < 0) return -1;
        }
    }
    if (!saw_schema) return fail(err, errlen, "%s: missing column 'schema'", where);
    if (!r->alloc || !*r->alloc) return fail(err, errlen, "%s: missing field 'alloc'", where);
    if (!r->workload || !*r->workload)
        return fail(err, errlen, "%s: missing field 'workload'", where);
    if (r->threads == 0) return fail(err, errlen, "%s: field 'threads' must be >= 1", where);
    return 0;
}

static int parse_csv_named(const char *buf, size_t len, const char *name, hn_results *out,
                           char *err, size_t errlen)
{
    hn_csv t;
    if (hn_csv_parse(buf, len, name, &t, err, errlen)) return -1;
    for (size_t i = 0; i < t.ncols; i++)
        for (size_t j = 0; j < i; j++)
            if (strcmp(t.cols[i], t.cols[j]) == 0) {
                fail(err, errlen, "%s:1: column '%.100s' appears twice", name, t.cols[i]);
                hn_csv_free(&t);
                return -1;
            }
    /* Records start on line 2 unless fields hold newlines; line numbers count records. */
    for (size_t i = 0; i < t.nrows; i++) {
        char where[512];
        snprintf(where, sizeof where, "%s:%zu", name, i + 2);
        hn_row r;
        row_init(&r, (int)i + 2);
        if (row_from_csv(&r, &t, i, where, err, errlen)) {
            row_free(&r);
            hn_csv_free(&t);
            hn_results_free(out);
            return -1;
        }
        row_finish(&r);
        results_push(out, &r);
    }
    hn_csv_free(&t);
    return 0;
}

int hn_results_parse_csv(const char *buf, size_t len, hn_results *out, char *err, size_t errlen)
{
    return parse_csv_named(buf, len, "runs.csv", out, err, errlen);
}

/* ---- Loading a folder or file ---- */

static int load_file(const char *file, hn_results *out, char *err, size_t errlen)
{
    size_t len;
    char *buf = hn_read_file(file, &len);
    if (!buf) return fail(err, errlen, "%s: cannot read: %s", file, strerror(errno));
    int rc = ends_with(file, ".csv") ? parse_csv_named(buf, len, file, out, err, errlen)
                                     : parse_jsonl_named(buf, len, file, out, err, errlen);
    free(buf);
    return rc;
}

static int load_meta(const char *dir, hn_results *out, char *err, size_t errlen)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/meta.json", dir);
    if (!exists(path)) return 0;
    json_error_t jerr;
    json_t *m = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
    if (!m) return fail(err, errlen, "%s:%d: not valid JSON (%s)", path, jerr.line, jerr.text);
    if (!json_is_object(m)) {
        json_decref(m);
        return fail(err, errlen, "%s: expected object", path);
    }
    if (check_schema(m, path, err, errlen)) {
        json_decref(m);
        return -1;
    }
    out->meta = m;
    return 0;
}

int hn_results_load(const char *path, hn_results *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    char file[4096];
    if (is_dir(path)) {
        snprintf(file, sizeof file, "%s/runs.jsonl", path);
        if (!exists(file)) snprintf(file, sizeof file, "%s/runs.csv", path);
        if (!exists(file))
            return fail(err, errlen, "%s: no runs.jsonl or runs.csv in this folder", path);
        if (load_meta(path, out, err, errlen)) return -1;
        out->dir = xstrdup(path);
    } else {
        if (!exists(path)) return fail(err, errlen, "%s: no such file or folder", path);
        snprintf(file, sizeof file, "%s", path);
        /* a bare runs file inside a run folder still finds its cells/ */
        const char *slash = strrchr(path, '/');
        char d[4096], cells[4200];
        snprintf(d, sizeof d, "%.*s", slash ? (int)(slash - path) : 1, slash ? path : ".");
        snprintf(cells, sizeof cells, "%s/cells", d);
        if (is_dir(cells)) {
            out->dir = xstrdup(d);
            if (load_meta(d, out, err, errlen)) {
                hn_results_free(out);
                return -1;
            }
        }
    }
    if (load_file(file, out, err, errlen)) {
        hn_results_free(out);
        return -1;
    }
    out->source = xstrdup(path);
    return 0;
}

const char *hn_results_meta_str(const hn_results *r, const char *key)
{
    json_t *v = r->meta ? json_object_get(r->meta, key) : NULL;
    return json_is_string(v) ? json_string_value(v) : NULL;
}

/* ---- Per-cell files ---- */

static int cell_file(const hn_results *r, const hn_row *row, const char *file, char *path,
                     size_t len)
{
    if (!r->dir || !*row->cell_id || strchr(row->cell_id, '/') || strstr(row->cell_id, ".."))
        return -1;
    snprintf(path, len, "%s/cells/%s/%s", r->dir, row->cell_id, file);
    return 0;
}

int hn_results_cell_csv(const hn_results *r, const hn_row *row, const char *file, hn_csv *out,
                        char *err, size_t errlen)
{
    char path[4096];
    memset(out, 0, sizeof *out);
    if (cell_file(r, row, file, path, sizeof path) || !exists(path)) return 0;
    size_t len;
    char *buf = hn_read_file(path, &len);
    if (!buf) return fail(err, errlen, "%s: cannot read: %s", path, strerror(errno));
    int rc = hn_csv_parse(buf, len, path, out, err, errlen);
    free(buf);
    return rc ? -1 : 1;
}

void hn_hgrm_free(hn_hgrm *h)
{
    if (!h) return;
    free(h->value);
    free(h->pct);
    free(h->count);
    free(h->inv);
    memset(h, 0, sizeof *h);
}

int hn_hgrm_parse(const char *buf, size_t len, const char *name, hn_hgrm *out, char *err,
                  size_t errlen)
{
    memset(out, 0, sizeof *out);
    size_t cap = 0, pos = 0;
    int line = 0;
    while (pos < len) {
        size_t end = pos;
        while (end < len && buf[end] != '\n')
            end++;
        line++;
        char tmp[512];
        size_t l = end - pos < sizeof tmp - 1 ? end - pos : sizeof tmp - 1;
        memcpy(tmp, buf + pos, l);
        tmp[l] = 0;
        pos = end + 1;
        char *s = tmp;
        while (isspace((unsigned char)*s))
            s++;
        if (!*s || *s == '#' || isalpha((unsigned char)*s))
            continue; /* blank, comment/footer, or the "Value Percentile ..." header */
        double v[4] = {0, 0, 0, NAN};
        char *p = s;
        int got = 0;
        for (; got < 4; got++) {
            char *e;
            v[got] = strtod(p, &e);
            if (e == p) break;
            p = e;
        }
        if (got < 3 || (got == 3 && !(v[1] >= 1))) {
            hn_hgrm_free(out);
            return fail(err, errlen,
                        "%s:%d: expected 4 numbers (Value Percentile TotalCount 1/(1-Percentile))",
                        name, line);
        }
        if (!(v[1] >= 0 && v[1] < 1) || !isfinite(v[3]) || !isfinite(v[0]))
            continue; /* the final percentile-1 row: 3 numbers or an infinite 1/(1-p) */
        if (out->n == cap) {
            cap = cap ? 2 * cap : 64;
            double **arr[] = {&out->value, &out->pct, &out->count, &out->inv};
            for (int i = 0; i < 4; i++) {
                double *na = realloc(*arr[i], cap * sizeof *na);
                if (!na) {
                    fputs("abench: out of memory\n", stderr);
                    exit(70);
                }
                *arr[i] = na;
            }
        }
        out->value[out->n] = v[0];
        out->pct[out->n] = v[1];
        out->count[out->n] = v[2];
        out->inv[out->n] = v[3];
        out->n++;
    }
    return 0;
}

int hn_results_cell_hgrm(const hn_results *r, const hn_row *row, const char *op, hn_hgrm *out,
                         char *err, size_t errlen)
{
    char path[4096], file[512];
    memset(out, 0, sizeof *out);
    snprintf(file, sizeof file, "lat_%s.hgrm", op);
    if (strchr(op, '/') || cell_file(r, row, file, path, sizeof path) || !exists(path)) return 0;
    size_t len;
    char *buf = hn_read_file(path, &len);
    if (!buf) return fail(err, errlen, "%s: cannot read: %s", path, strerror(errno));
    int rc = hn_hgrm_parse(buf, len, path, out, err, errlen);
    free(buf);
    return rc ? -1 : 1;
}

/* ---- Metrics ---- */

static const struct alias {
    const char *name, *field, *unit;
    int higher_better;
} aliases[] = {
    {"time", "wall_s", "s", 0},
    {"throughput", "ops_per_s", "ops/s", 1},
    {"peak_rss", "peak_rss_bytes", "B", 0},
    {"rss_mean", "rss_mean_bytes", "B", 0},
    {"rss_peak", "rss_peak_sampled_bytes", "B", 0},
    {"live_peak", "live_peak_bytes", "B", 0},
    {"live_mean", "live_mean_bytes", "B", 0},
    {"frag", "frag_ratio", "", 0},
};

static const char *const lat_names[] = {"p50", "p90", "p99", "p999", "p9999", "max", "mean"};

static const char *resolve(const char *metric)
{
    for (size_t i = 0; i < sizeof aliases / sizeof *aliases; i++)
        if (strcmp(metric, aliases[i].name) == 0) return aliases[i].field;
    return metric;
}

int hn_metric_is_latency(const char *metric)
{
    for (size_t i = 0; i < sizeof lat_names / sizeof *lat_names; i++)
        if (strcmp(metric, lat_names[i]) == 0) return 1;
    return 0;
}

static double lat_field(const hn_lat *l, const char *p)
{
    double v[] = {l->p50_ns, l->p90_ns, l->p99_ns, l->p999_ns, l->p9999_ns, l->max_ns, l->mean_ns};
    for (size_t i = 0; i < sizeof lat_names / sizeof *lat_names; i++)
        if (strcmp(p, lat_names[i]) == 0) return v[i];
    return NAN;
}

double hn_row_metric(const hn_row *r, const char *metric, const char *op)
{
    const char *f = resolve(metric);
#define HN_X(x)                                                                                    \
    if (strcmp(f, #x) == 0) return r->x;
    HN_ROW_NUMBERS(HN_X)
#undef HN_X
    if (strncmp(f, "gc_", 3) == 0) {
#define HN_X(x)                                                                                    \
    if (strcmp(f + 3, #x) == 0) return r->gc.x;
        HN_GC_NUMBERS(HN_X)
#undef HN_X
    }
    if (hn_metric_is_latency(f) && op) {
        for (size_t i = 0; i < r->nlat; i++)
            if (strcmp(r->lat[i].op, op) == 0) return lat_field(&r->lat[i], f);
    }
    return NAN;
}

int hn_metric_known(const char *metric)
{
    const char *f = resolve(metric);
#define HN_X(x)                                                                                    \
    if (strcmp(f, #x) == 0) return 1;
    HN_ROW_NUMBERS(HN_X)
#undef HN_X
    if (strncmp(f, "gc_", 3) == 0) {
#define HN_X(x)                                                                                    \
    if (strcmp(f + 3, #x) == 0) return 1;
        HN_GC_NUMBERS(HN_X)
#undef HN_X
    }
    return hn_metric_is_latency(f);
}

int hn_metric_higher_is_better(const char *metric)
{
    const char *f = resolve(metric);
    return strcmp(f, "ops_per_s") == 0 || strcmp(f, "ops") == 0;
}

const char *hn_metric_unit(const char *metric)
{
    const char *f = resolve(metric);
    if (hn_metric_is_latency(f) || ends_with(f, "_ns") || strcmp(f, "ns_per_op") == 0) return "ns";
    if (ends_with(f, "_s") && strcmp(f, "ops_per_s") != 0) return "s";
    if (ends_with(f, "_bytes")) return "B";
    if (strcmp(f, "ops_per_s") == 0) return "ops/s";
    return "";
}
