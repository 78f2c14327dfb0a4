/* compare.c - `abench compare`: two result sets in, a benchstat-grade table and an exit code
 * out (BENCH_METHOD.md, "Statistics for comparisons"; DESIGN.md, "CI comparison"; the output
 * formats and exit codes: results/README.md, "abench compare").
 *
 * Method, per matched cell (alloc, workload, threads, params [, op for latency metrics]):
 * median of each side with a distribution-free 95% CI, two-sided Mann-Whitney U, "~" when
 * not significant, else the change in medians. A change is significant when p < alpha, or
 * when the two samples do not overlap at all (every A value below every B value or the
 * reverse) with n >= 4 a side: that is what a deterministic metric with a handful of equal
 * values per side looks like, where the U test's normal approximation has no variance to
 * work with. Two sides whose values are all one and the same number are "no change", whatever
 * the noise rule says (there is no noise). Verdicts and exit code:
 *   1  regression: some cell is significant AND worse by more than the threshold;
 *   2  cannot judge (when no cell regressed): a cell with n < 4 on a side; a cell only in A
 *      or only in B, or no common cell; a cell whose change is not significant while its
 *      noise (the larger CI half-width of the two sides, relative to the median; with n < 6,
 *      where no 95% CI exists, the min..max range half-width) exceeds the threshold, i.e. a
 *      regression of threshold size could hide in the noise;
 *   64 bad usage or unreadable input;
 *   0  otherwise: no significant regression beyond the threshold.
 * Deterministic cells: when both sides have n >= 2 and a spread within 0.1% of the median
 * (a constant, or instr_per_op under --instructions), the change in medians is exact: within
 * 0.1% it is no change, beyond it significant, judged against the threshold with no rank test
 * and no "cannot judge".
 * Default threshold 5% (1% for instr_per_op, a deterministic count): above the 1.7%
 * run-to-run CV measured for mimalloc's churn, below glibc's 6.4% (so noisy glibc/jemalloc
 * cells answer "cannot judge", not a flapping 0/1). Only rows with status "ok" and the metric
 * present take part. Each side's environment (meta.json: host, CPU, kernel, commit, compiler)
 * heads the output, with a warning when host, CPU, kernel or commit differ.
 */
#include "hn.h"
#include "hn_results.h"
#include "hn_stats.h"

#include <getopt.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MIN_N 4

/* ---- Options ---- */

enum cmp_format { FMT_TEXT, FMT_MARKDOWN, FMT_JSON, FMT_CSV };

typedef struct cmp_opts {
    const char *a, *b; /* paths, or with --by alloc: the run and two allocator names */
    const char *by;    /* NULL or "alloc" */
    const char *alloc_a, *alloc_b;
    const char *metric, *op;
    double threshold_pct, alpha;
    int threshold_set; /* --threshold given (else the metric's default) */
    enum cmp_format format;
} cmp_opts;

static void usage(FILE *f)
{
    fputs("usage: abench compare A B [--metric M] [--op OP] [--threshold PCT] [--alpha P]\n"
          "                      [--format text|markdown|json|csv]\n"
          "       abench compare --by alloc RUN ALLOC_A ALLOC_B [same options]\n"
          "A and B are run folders or runs.jsonl/runs.csv files. Metrics: ns_per_op (default\n"
          "when every row has it, else time), instr_per_op, time, throughput, peak_rss,\n"
          "rss_mean, rss_peak, live_mean, live_peak, frag, p50 p90 p99 p999 p9999 max mean\n"
          "(latency of --op, every op when not given), gc_<field>, or any numeric field of\n"
          "results/README.md.\n"
          "Per cell: median with a distribution-free 95% CI (n >= 6), two-sided Mann-Whitney U,\n"
          "\"~\" when not significant; samples that do not overlap at all (n >= 4 a side) are a\n"
          "significant change, two constant and equal samples are no change; a geomean row.\n"
          "Default threshold 5%, 1% for instr_per_op. The environment of both sides (host, CPU,\n"
          "kernel, commit, compiler) heads the output, with a warning when they differ.\n"
          "Exit: 0 no significant regression beyond the threshold; 1 a cell is significantly\n"
          "worse by more than the threshold; 2 cannot judge: n < 4 on a side, a cell on one\n"
          "side only, or a change that is not significant while the larger relative CI\n"
          "half-width (min..max below n = 6) exceeds the threshold; 64 bad usage or input.\n"
          "Formats and their keys: results/README.md, \"abench compare\".\n",
          f);
}

static int parse_double(const char *s, double *out)
{
    char *end;
    double v = strtod(s, &end);
    if (!*s || *end || !isfinite(v)) return -1;
    *out = v;
    return 0;
}

/* 1: --help shown; -1: a usage error (already reported); 0: parsed. */
static int parse_args(int argc, char **argv, cmp_opts *o)
{
    static const struct option opts[] = {
        {"metric", required_argument, NULL, 'm'}, {"op", required_argument, NULL, 'o'},
        {"by", required_argument, NULL, 'b'},     {"threshold", required_argument, NULL, 't'},
        {"alpha", required_argument, NULL, 'a'},  {"format", required_argument, NULL, 'f'},
        {"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0}};
    static const char *const formats[] = {"text", "markdown", "json", "csv"};
    memset(o, 0, sizeof *o);
    o->metric = "auto";
    o->threshold_pct = 5;
    o->alpha = 0.05;
    int c;
    while ((c = hn_getopt("compare", argc, argv, ":m:o:b:t:a:f:h", opts)) != -1) {
        switch (c) {
        case 'h':
            usage(stdout);
            return 1;
        case 'm':
            o->metric = optarg;
            break;
        case 'o':
            o->op = optarg;
            break;
        case 'b':
            o->by = optarg;
            break;
        case 't':
            if (parse_double(optarg, &o->threshold_pct) || o->threshold_pct < 0) {
                hn_error("compare", "--threshold: '%s' is not a percentage >= 0", optarg);
                return -1;
            }
            o->threshold_set = 1;
            break;
        case 'a':
            if (parse_double(optarg, &o->alpha) || o->alpha <= 0 || o->alpha >= 1) {
                hn_error("compare", "--alpha: '%s' is not a probability in (0, 1)", optarg);
                return -1;
            }
            break;
        case 'f': {
            size_t k = 0;
            while (k < 4 && strcmp(optarg, formats[k]) != 0)
                k++;
            if (k == 4) {
                hn_error("compare", "--format: '%s' is not text, markdown, json or csv", optarg);
                return -1;
            }
            o->format = (enum cmp_format)k;
            break;
        }
        default:
            return -1;
        }
    }
    int npos = argc - optind;
    char **pos = argv + optind;
    if (o->by && strcmp(o->by, "alloc") != 0) {
        hn_error("compare", "--by: '%s' is not supported (only --by alloc)", o->by);
        return -1;
    }
    if (npos > (o->by ? 3 : 2)) {
        hn_error("compare", "unexpected argument '%s'", pos[o->by ? 3 : 2]);
        return -1;
    }
    if (npos != (o->by ? 3 : 2)) {
        hn_error("compare",
                 o->by ? "--by alloc needs RUN ALLOC_A ALLOC_B" : "needs two result sets A and B");
        return -1;
    }
    o->a = pos[0];
    o->b = o->by ? pos[0] : pos[1];
    if (o->by) {
        o->alloc_a = pos[1];
        o->alloc_b = pos[2];
    }
    if (strcmp(o->metric, "auto") != 0 && !hn_metric_known(o->metric)) {
        hn_error("compare", "--metric: unknown metric '%s' (see abench compare --help)", o->metric);
        return -1;
    }
    return 0;
}

/* ---- Grouping rows into cells ---- */

typedef struct cell {
    char *key, *label;
    char *alloc, *workload, *params, *op; /* alloc "" with --by alloc; op "" when none */
    long threads;                         /* -1 when unknown */
    double *v[2];                         /* values of side A (0) and B (1) */
    size_t n[2], cap[2];
} cell;

typedef struct cellset {
    cell *c;
    size_t n, cap;
    size_t not_ok[2]; /* rows left out because their status is not "ok" */
} cellset;

static cell *cell_get(cellset *s, const char *key, const char *label, const hn_row *r,
                      int with_alloc, const char *op)
{
    for (size_t i = 0; i < s->n; i++)
        if (strcmp(s->c[i].key, key) == 0) return &s->c[i];
    if (s->n == s->cap) {
        s->cap = s->cap ? 2 * s->cap : 32;
        cell *nc = realloc(s->c, s->cap * sizeof *nc);
        if (!nc) abort();
        s->c = nc;
    }
    cell *c = &s->c[s->n++];
    memset(c, 0, sizeof *c);
    c->key = strdup(key);
    c->label = strdup(label);
    c->alloc = strdup(with_alloc ? r->alloc : "");
    c->workload = strdup(r->workload);
    c->params = strdup(r->params);
    c->op = strdup(op ? op : "");
    c->threads = r->threads > 0 ? r->threads : -1;
    return c;
}

static void cell_add(cell *c, int side, double v)
{
    if (c->n[side] == c->cap[side]) {
        c->cap[side] = c->cap[side] ? 2 * c->cap[side] : 16;
        double *nv = realloc(c->v[side], c->cap[side] * sizeof *nv);
        if (!nv) abort();
        c->v[side] = nv;
    }
    c->v[side][c->n[side]++] = v;
}

static void cellset_free(cellset *s)
{
    for (size_t i = 0; i < s->n; i++) {
        free(s->c[i].key);
        free(s->c[i].label);
        free(s->c[i].alloc);
        free(s->c[i].workload);
        free(s->c[i].params);
        free(s->c[i].op);
        free(s->c[i].v[0]);
        free(s->c[i].v[1]);
    }
    free(s->c);
}

static void add_value(cellset *s, const hn_row *r, int side, int with_alloc, const char *op,
                      double v)
{
    char key[2048], label[2048], t[32];
    if (r->threads > 0)
        snprintf(t, sizeof t, "%ld", r->threads);
    else
        snprintf(t, sizeof t, "?");
    snprintf(key, sizeof key, "%s\x1f%s\x1f%s\x1f%s\x1f%s", with_alloc ? r->alloc : "", r->workload,
             t, r->params, op ? op : "");
    snprintf(label, sizeof label, "%s%s%s t=%s%s%s%s%s", with_alloc ? r->alloc : "",
             with_alloc ? " " : "", r->workload, t, *r->params ? " " : "", r->params,
             op ? " op=" : "", op ? op : "");
    cell_add(cell_get(s, key, label, r, with_alloc, op), side, v);
}

/* Adds the ok rows of one side; returns the number of values taken. */
static size_t collect(cellset *s, const hn_results *res, int side, const cmp_opts *o,
                      const char *alloc_only)
{
    size_t taken = 0;
    for (size_t i = 0; i < res->nrows; i++) {
        const hn_row *r = &res->rows[i];
        if (alloc_only && strcmp(r->alloc, alloc_only) != 0) continue;
        if (strcmp(r->status, "ok") != 0) {
            s->not_ok[side]++;
            continue;
        }
        if (hn_metric_is_latency(o->metric)) {
            for (size_t k = 0; k < r->nlat; k++) {
                if (o->op && strcmp(o->op, r->lat[k].op) != 0) continue;
                double v = hn_row_metric(r, o->metric, r->lat[k].op);
                if (isfinite(v)) {
                    add_value(s, r, side, alloc_only == NULL, r->lat[k].op, v);
                    taken++;
                }
            }
            continue;
        }
        double v = hn_row_metric(r, o->metric, NULL);
        if (isfinite(v)) {
            add_value(s, r, side, alloc_only == NULL, NULL, v);
            taken++;
        }
    }
    return taken;
}

/* "auto": ns_per_op when every ok row of A has it, else wall time. */
static const char *auto_metric(const hn_results *a)
{
    size_t ok = 0, with = 0;
    for (size_t i = 0; i < a->nrows; i++) {
        if (strcmp(a->rows[i].status, "ok") != 0) continue;
        ok++;
        with += isfinite(a->rows[i].ns_per_op) != 0;
    }
    return (ok && with == ok) ? "ns_per_op" : "time";
}

/* ---- Judging one cell ---- */

enum verdict { V_SAME, V_BETTER, V_WORSE_SMALL, V_REGRESSION, V_FEW, V_NOISY, V_ONLY_A, V_ONLY_B };

/* Stable names of the verdicts (the json/csv "verdict" values, results/README.md). */
static const char *const verdict_key[] = {"same", "better", "worse_small", "regression",
                                          "few",  "noisy",  "only_a",      "only_b"};

typedef struct judged {
    double med[2], half[2]; /* median and relative spread half-width (fraction) per side */
    double lo[2], hi[2];    /* min and max per side */
    int has_ci[2];
    double delta_pct, p;
    int significant; /* p < alpha, or the samples do not overlap (n >= MIN_N a side) */
    int exact;       /* both sides constant: judged without statistics */
    enum verdict v;
} judged;

static double rel_half_width(const double *x, size_t n, double med, int *has_ci)
{
    double lo, hi;
    *has_ci = hn_median_ci(x, n, 0.95, &lo, &hi, NULL) == 0;
    if (!*has_ci) { /* n < 6: the range stands in for the interval */
        lo = hi = x[0];
        for (size_t i = 1; i < n; i++) {
            lo = fmin(lo, x[i]);
            hi = fmax(hi, x[i]);
        }
    }
    double h = fmax(med - lo, hi - med);
    return med != 0 ? fabs(h / med) : (h == 0 ? 0 : INFINITY);
}

/* Relative spread (half-width / median) at or below which a side counts as deterministic. */
#define DETERMINISTIC 0.001

static judged judge(const cell *c, double threshold_pct, double alpha, int higher_better)
{
    judged j;
    memset(&j, 0, sizeof j);
    j.p = NAN;
    j.delta_pct = NAN;
    for (int s = 0; s < 2; s++) {
        j.med[s] = c->n[s] ? hn_median(c->v[s], c->n[s]) : NAN;
        j.half[s] = c->n[s] ? rel_half_width(c->v[s], c->n[s], j.med[s], &j.has_ci[s]) : NAN;
        j.lo[s] = j.hi[s] = c->n[s] ? c->v[s][0] : NAN;
        for (size_t i = 1; i < c->n[s]; i++) {
            j.lo[s] = fmin(j.lo[s], c->v[s][i]);
            j.hi[s] = fmax(j.hi[s], c->v[s][i]);
        }
    }
    if (c->n[0] == 0 || c->n[1] == 0) {
        j.v = c->n[0] ? V_ONLY_A : V_ONLY_B;
        return j;
    }
    j.delta_pct = j.med[0] != 0 ? (j.med[1] - j.med[0]) / fabs(j.med[0]) * 100
                                : (j.med[1] == 0 ? 0 : INFINITY);
    hn_utest_result u;
    if (hn_utest(c->v[0], c->n[0], c->v[1], c->n[1], &u) == 0) j.p = u.p;
    j.exact = j.lo[0] == j.hi[0] && j.lo[1] == j.hi[1];
    double worse = higher_better ? -j.delta_pct : j.delta_pct;
    if (c->n[0] >= 2 && c->n[1] >= 2 && j.half[0] <= DETERMINISTIC && j.half[1] <= DETERMINISTIC) {
        /* Every repetition of each side agrees (a constant, or a deterministic figure such as
         * instr_per_op, whose repetitions differ by a few hundred instructions in millions):
         * the change is known without a rank test, and one inside that spread is none. */
        int same = fabs(j.delta_pct) <= DETERMINISTIC * 100;
        j.significant = !same;
        j.p = same ? 1 : 0;
        if (same) j.delta_pct = j.exact && j.med[0] == j.med[1] ? 0 : j.delta_pct;
        j.v = same
                  ? V_SAME
                  : (worse > threshold_pct ? V_REGRESSION : (worse > 0 ? V_WORSE_SMALL : V_BETTER));
        return j;
    }
    if (c->n[0] < MIN_N || c->n[1] < MIN_N) {
        j.v = V_FEW;
        return j;
    }
    int apart = j.hi[0] < j.lo[1] || j.hi[1] < j.lo[0];
    j.significant = j.p < alpha || apart;
    if (j.significant)
        j.v = worse > threshold_pct ? V_REGRESSION : (worse > 0 ? V_WORSE_SMALL : V_BETTER);
    else if (fmax(j.half[0], j.half[1]) * 100 > threshold_pct)
        j.v = V_NOISY;
    else
        j.v = V_SAME;
    return j;
}

static void verdict_text(char *buf, size_t len, const judged *j, const cell *c,
                         double threshold_pct)
{
    switch (j->v) {
    case V_SAME:
        snprintf(buf, len, "%s", j->exact ? "same (constant)" : "");
        break;
    case V_BETTER:
        snprintf(buf, len, "better");
        break;
    case V_WORSE_SMALL:
        snprintf(buf, len, "worse, below threshold");
        break;
    case V_REGRESSION:
        snprintf(buf, len, "REGRESSION");
        break;
    case V_FEW:
        snprintf(buf, len, "cannot judge: n=%zu+%zu, < %d a side (run with --reps %d or more)",
                 c->n[0], c->n[1], MIN_N, MIN_N);
        break;
    case V_NOISY:
        snprintf(buf, len, "cannot judge: noise ±%.1f%% > threshold %g%%",
                 fmax(j->half[0], j->half[1]) * 100, threshold_pct);
        break;
    case V_ONLY_A:
        snprintf(buf, len, "cannot judge: only in A");
        break;
    case V_ONLY_B:
        snprintf(buf, len, "cannot judge: only in B");
        break;
    }
}

/* ---- Formatting ---- */

/* Value with a readable unit, 4 significant digits. */
static void fmt_value(char *buf, size_t len, double v, const char *unit)
{
    static const char *const bytes[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    if (!isfinite(v)) {
        snprintf(buf, len, "-");
    } else if (strcmp(unit, "B") == 0) {
        int k = 0;
        while (fabs(v) >= 1024 && k < 4) {
            v /= 1024;
            k++;
        }
        snprintf(buf, len, "%.4g %s", v, bytes[k]);
    } else if (strcmp(unit, "ns") == 0 && fabs(v) >= 1e6) {
        snprintf(buf, len, "%.4g ms", v / 1e6);
    } else if (strcmp(unit, "ns") == 0 && fabs(v) >= 1e3) {
        snprintf(buf, len, "%.4g µs", v / 1e3);
    } else if (strcmp(unit, "s") == 0 && fabs(v) < 1) {
        snprintf(buf, len, "%.4g ms", v * 1e3);
    } else {
        snprintf(buf, len, "%.4g%s%s", v, *unit ? " " : "", unit);
    }
}

static void fmt_side(char *buf, size_t len, const judged *j, int s, size_t n, const char *unit)
{
    char v[64];
    if (n == 0) {
        snprintf(buf, len, "-");
        return;
    }
    fmt_value(v, sizeof v, j->med[s], unit);
    if (j->has_ci[s] || j->lo[s] == j->hi[s])
        snprintf(buf, len, "%s ± %.0f%%", v, j->half[s] * 100);
    else
        snprintf(buf, len, "%s ± ?", v); /* no 95% CI below n = 6; footnote explains */
}

static void fmt_delta(char *buf, size_t len, const judged *j, const cell *c)
{
    if (j->v == V_ONLY_A || j->v == V_ONLY_B) {
        snprintf(buf, len, "-");
        return;
    }
    if (!j->significant || j->v == V_FEW)
        snprintf(buf, len, "~ (p=%.3f n=%zu+%zu)", j->p, c->n[0], c->n[1]);
    else
        snprintf(buf, len, "%+.2f%% (p=%.3f n=%zu+%zu)", j->delta_pct, j->p, c->n[0], c->n[1]);
}

#define NCOL 5
typedef struct table {
    char *(*cell)[NCOL];
    size_t n, cap;
} table;

static void table_add(table *t, const char *c0, const char *c1, const char *c2, const char *c3,
                      const char *c4)
{
    if (t->n == t->cap) {
        t->cap = t->cap ? 2 * t->cap : 32;
        void *nc = realloc(t->cell, t->cap * sizeof *t->cell);
        if (!nc) abort();
        t->cell = nc;
    }
    const char *src[NCOL] = {c0, c1, c2, c3, c4};
    for (int i = 0; i < NCOL; i++)
        t->cell[t->n][i] = strdup(src[i]);
    t->n++;
}

/* Display width of UTF-8 text (counts code points, enough for ± and µ). */
static size_t width(const char *s)
{
    size_t w = 0;
    for (; *s; s++)
        w += ((unsigned char)*s & 0xC0) != 0x80;
    return w;
}

static void table_print(const table *t, int markdown)
{
    size_t w[NCOL] = {0};
    for (size_t r = 0; r < t->n; r++)
        for (int c = 0; c < NCOL; c++)
            if (width(t->cell[r][c]) > w[c]) w[c] = width(t->cell[r][c]);
    for (size_t r = 0; r < t->n; r++) {
        for (int c = 0; c < NCOL; c++) {
            const char *s = t->cell[r][c];
            size_t pad = w[c] - width(s);
            if (markdown)
                printf("| %s%*s ", s, (int)pad, "");
            else
                printf("%s%*s%s", s, c == NCOL - 1 ? 0 : (int)pad, "", c == NCOL - 1 ? "" : "  ");
        }
        printf(markdown ? "|\n" : "\n");
        if (markdown && r == 0) {
            for (int c = 0; c < NCOL; c++) {
                printf("|");
                for (size_t k = 0; k < w[c] + 2; k++)
                    putchar(c >= 1 && c <= 2 && k == w[c] + 1 ? ':' : '-');
            }
            printf("|\n");
        }
    }
}

static void table_free(table *t)
{
    for (size_t r = 0; r < t->n; r++)
        for (int c = 0; c < NCOL; c++)
            free(t->cell[r][c]);
    free(t->cell);
}

/* ---- The environment of each side (meta.json) ---- */

enum { ENV_HOST, ENV_CPU, ENV_KERNEL, ENV_COMMIT, ENV_COMPILER, NENV };
static const char *const env_key[NENV] = {"host", "cpu", "kernel", "commit", "compiler"};

typedef struct envside {
    char v[NENV][256]; /* "" when the side has no meta.json or not that field */
} envside;

static void env_read(const hn_results *r, envside *e)
{
    static const char *const meta_key[NENV] = {"host", "cpu_model", "kernel", "git_commit",
                                               "compiler"};
    memset(e, 0, sizeof *e);
    for (int k = 0; k < NENV; k++) {
        const char *v = hn_results_meta_str(r, meta_key[k]);
        if (v) snprintf(e->v[k], sizeof e->v[k], "%s", v);
    }
    json_t *dirty = r->meta ? json_object_get(r->meta, "git_dirty") : NULL;
    if (e->v[ENV_COMMIT][0] && json_is_true(dirty)) {
        size_t l = strlen(e->v[ENV_COMMIT]);
        snprintf(e->v[ENV_COMMIT] + l, sizeof e->v[ENV_COMMIT] - l, "%s", " (dirty)");
    }
}

/* Bit k set when field k differs (and is known on both sides); the compiler never warns. */
static unsigned env_differs(const envside *a, const envside *b)
{
    unsigned m = 0;
    for (int k = 0; k < NENV; k++)
        if (k != ENV_COMPILER && a->v[k][0] && b->v[k][0] && strcmp(a->v[k], b->v[k]) != 0)
            m |= 1u << k;
    return m;
}

static void env_print(const envside *a, const envside *b, int same_run, unsigned differs,
                      int markdown)
{
    if (markdown) printf("| environment | A | B |\n|---|---|---|\n");
    for (int k = 0; k < NENV; k++) {
        const char *va = a->v[k][0] ? a->v[k] : "?", *vb = b->v[k][0] ? b->v[k] : "?";
        if (markdown)
            printf("| %s | %s | %s%s |\n", env_key[k], va, same_run ? "(same run)" : vb,
                   differs & (1u << k) ? " **differs**" : "");
        else if (same_run || strcmp(va, vb) == 0)
            printf("%-9s %s\n", env_key[k], va);
        else
            printf("%-9s A: %s\n%-9s B: %s%s\n", env_key[k], va, "", vb,
                   differs & (1u << k) ? "   <- differs" : "");
    }
    if (differs) {
        printf("%swarning: A and B differ in", markdown ? "\n**" : "");
        for (int k = 0; k < NENV; k++)
            if (differs & (1u << k)) printf(" %s", env_key[k]);
        printf(": the comparison measures the %s too%s\n",
               differs & (1u << ENV_COMMIT) && !(differs & ~(1u << ENV_COMMIT)) ? "code change"
                                                                                : "machine",
               markdown ? "**" : "");
    }
    printf("\n");
}

/* ---- The command ---- */

typedef struct outcome {
    size_t nreg, nfew, nnoisy, nonly, nno_ci;
    int has_geo;
    double geo[3]; /* geomean of the medians of A, of B, and of the ratios B/A */
    int rc;
} outcome;

static outcome summarise(const cellset *s, const cmp_opts *o, int higher, judged *js)
{
    outcome out;
    memset(&out, 0, sizeof out);
    double *ra = calloc(s->n + 1, sizeof *ra), *rb = calloc(s->n + 1, sizeof *rb),
           *rr = calloc(s->n + 1, sizeof *rr);
    if (!ra || !rb || !rr) abort();
    size_t nratio = 0;
    for (size_t i = 0; i < s->n; i++) {
        const cell *c = &s->c[i];
        judged j = judge(c, o->threshold_pct, o->alpha, higher);
        js[i] = j;
        out.nreg += j.v == V_REGRESSION;
        out.nfew += j.v == V_FEW;
        out.nnoisy += j.v == V_NOISY;
        out.nonly += j.v == V_ONLY_A || j.v == V_ONLY_B;
        out.nno_ci += (c->n[0] && !j.has_ci[0] && j.lo[0] != j.hi[0]) ||
                      (c->n[1] && !j.has_ci[1] && j.lo[1] != j.hi[1]);
        if (c->n[0] && c->n[1] && j.med[0] > 0 && j.med[1] > 0) {
            ra[nratio] = j.med[0];
            rb[nratio] = j.med[1];
            rr[nratio++] = j.med[1] / j.med[0];
        }
    }
    if (nratio > 0) {
        out.has_geo = 1;
        out.geo[0] = hn_geomean(ra, nratio);
        out.geo[1] = hn_geomean(rb, nratio);
        out.geo[2] = hn_geomean(rr, nratio);
    }
    free(ra);
    free(rb);
    free(rr);
    out.rc = out.nreg                              ? HN_EXIT_FAIL
             : out.nfew || out.nnoisy || out.nonly ? HN_EXIT_CANNOT_JUDGE
                                                   : HN_EXIT_OK;
    return out;
}

static void side_names(const cmp_opts *o, char *sa, size_t la, char *sb, size_t lb)
{
    snprintf(sa, la, "%s%s%s", o->a, o->by ? " alloc " : "", o->by ? o->alloc_a : "");
    snprintf(sb, lb, "%s%s%s", o->b, o->by ? " alloc " : "", o->by ? o->alloc_b : "");
}

static void print_human(const cellset *s, const cmp_opts *o, const char *metric, const judged *js,
                        const outcome *out, const envside env[2], unsigned differs)
{
    int higher = hn_metric_higher_is_better(metric), md = o->format == FMT_MARKDOWN;
    const char *unit = hn_metric_unit(metric);
    char sa[1024], sb[1024];
    side_names(o, sa, sizeof sa, sb, sizeof sb);
    if (md)
        printf("**abench compare**: %s (%s, %s is better), alpha %g, threshold %g%%\n\n"
               "A: `%s` · B: `%s`\n\n",
               metric, *unit ? unit : "no unit", higher ? "higher" : "lower", o->alpha,
               o->threshold_pct, sa, sb);
    else
        printf("abench compare: %s (%s, %s is better), alpha %g, threshold %g%%\nA: %s   B: %s\n\n",
               metric, *unit ? unit : "no unit", higher ? "higher" : "lower", o->alpha,
               o->threshold_pct, sa, sb);
    env_print(&env[0], &env[1], o->by != NULL, differs, md);

    table t = {0};
    char ha[256], hb[256];
    snprintf(ha, sizeof ha, "A %s", metric);
    snprintf(hb, sizeof hb, "B %s", metric);
    table_add(&t, "cell", ha, hb, "delta", "verdict");
    for (size_t i = 0; i < s->n; i++) {
        const cell *c = &s->c[i];
        char a[128], b[128], d[128], v[160];
        fmt_side(a, sizeof a, &js[i], 0, c->n[0], unit);
        fmt_side(b, sizeof b, &js[i], 1, c->n[1], unit);
        fmt_delta(d, sizeof d, &js[i], c);
        verdict_text(v, sizeof v, &js[i], c, o->threshold_pct);
        table_add(&t, c->label, a, b, d, v);
    }
    if (out->has_geo) {
        char a[64], b[64], d[64];
        fmt_value(a, sizeof a, out->geo[0], unit);
        fmt_value(b, sizeof b, out->geo[1], unit);
        snprintf(d, sizeof d, "%+.2f%%", (out->geo[2] - 1) * 100);
        table_add(&t, "geomean", a, b, d, "");
    }
    table_print(&t, md);
    table_free(&t);
    for (int side = 0; side < 2; side++)
        if (s->not_ok[side])
            printf("\nnote: %zu row%s of %c did not finish ok (crash, timeout, error or n/a) and "
                   "%s left out\n",
                   s->not_ok[side], s->not_ok[side] == 1 ? "" : "s", side ? 'B' : 'A',
                   s->not_ok[side] == 1 ? "is" : "are");
    if (out->nno_ci)
        printf("\n± ?: fewer than %zu samples, no distribution-free 95%% CI "
               "(the min..max range is used to judge noise)\n",
               hn_median_ci_min_n(0.95));
    if (out->rc == HN_EXIT_FAIL)
        printf("\nverdict: %zu significant regression%s beyond %g%% (exit 1)\n", out->nreg,
               out->nreg == 1 ? "" : "s", o->threshold_pct);
    else if (out->rc == HN_EXIT_CANNOT_JUDGE)
        printf("\nverdict: cannot judge (exit 2):%s%s%s\n",
               out->nfew ? " cells with n < 4 on a side (rerun with --reps 4 or more);" : "",
               out->nnoisy ? " cells whose noise exceeds the threshold;" : "",
               out->nonly ? " cells present on one side only;" : "");
    else
        printf("\nverdict: no significant regression beyond %g%% (exit 0)\n", o->threshold_pct);
}

static json_t *num_or_null(double v)
{
    return isfinite(v) ? json_real(v) : json_null();
}

static void print_json(const cellset *s, const cmp_opts *o, const char *metric, const judged *js,
                       const outcome *out, const envside env[2], unsigned differs)
{
    static const char *const overall[] = {"ok", "regression", "cannot_judge"};
    json_t *root = json_object();
    json_object_set_new(root, "schema", json_integer(1));
    json_object_set_new(root, "metric", json_string(metric));
    json_object_set_new(root, "unit", json_string(hn_metric_unit(metric)));
    json_object_set_new(root, "higher_is_better", json_boolean(hn_metric_higher_is_better(metric)));
    json_object_set_new(root, "alpha", json_real(o->alpha));
    json_object_set_new(root, "threshold_pct", json_real(o->threshold_pct));
    json_t *wd = json_array();
    for (int side = 0; side < 2; side++) {
        json_t *sd = json_object(), *e = json_object();
        json_object_set_new(sd, "source", json_string(side ? o->b : o->a));
        json_object_set_new(sd, "alloc",
                            o->by ? json_string(side ? o->alloc_b : o->alloc_a) : json_null());
        for (int k = 0; k < NENV; k++)
            json_object_set_new(e, env_key[k],
                                env[side].v[k][0] ? json_string(env[side].v[k]) : json_null());
        json_object_set_new(sd, "env", e);
        json_object_set_new(sd, "rows_not_ok", json_integer((json_int_t)s->not_ok[side]));
        json_object_set_new(root, side ? "b" : "a", sd);
    }
    for (int k = 0; k < NENV; k++)
        if (differs & (1u << k)) json_array_append_new(wd, json_string(env_key[k]));
    json_object_set_new(root, "env_differs", wd);
    json_t *cells = json_array();
    for (size_t i = 0; i < s->n; i++) {
        const cell *c = &s->c[i];
        const judged *j = &js[i];
        json_t *r = json_object();
        json_object_set_new(r, "cell", json_string(c->label));
        json_object_set_new(r, "alloc", *c->alloc ? json_string(c->alloc) : json_null());
        json_object_set_new(r, "workload", json_string(c->workload));
        json_object_set_new(r, "threads", c->threads > 0 ? json_integer(c->threads) : json_null());
        json_object_set_new(r, "params", json_string(c->params));
        json_object_set_new(r, "op", *c->op ? json_string(c->op) : json_null());
        json_object_set_new(r, "n_a", json_integer((json_int_t)c->n[0]));
        json_object_set_new(r, "n_b", json_integer((json_int_t)c->n[1]));
        json_object_set_new(r, "median_a", num_or_null(j->med[0]));
        json_object_set_new(r, "median_b", num_or_null(j->med[1]));
        json_object_set_new(r, "noise_a_pct", num_or_null(j->half[0] * 100));
        json_object_set_new(r, "noise_b_pct", num_or_null(j->half[1] * 100));
        json_object_set_new(r, "delta_pct", num_or_null(j->delta_pct));
        json_object_set_new(r, "p", num_or_null(j->p));
        json_object_set_new(r, "significant", json_boolean(j->significant));
        json_object_set_new(r, "verdict", json_string(verdict_key[j->v]));
        json_array_append_new(cells, r);
    }
    json_object_set_new(root, "cells", cells);
    if (out->has_geo) {
        json_t *g = json_object();
        json_object_set_new(g, "median_a", json_real(out->geo[0]));
        json_object_set_new(g, "median_b", json_real(out->geo[1]));
        json_object_set_new(g, "delta_pct", json_real((out->geo[2] - 1) * 100));
        json_object_set_new(root, "geomean", g);
    } else {
        json_object_set_new(root, "geomean", json_null());
    }
    json_object_set_new(root, "verdict", json_string(overall[out->rc]));
    json_object_set_new(root, "exit_code", json_integer(out->rc));
    char *text = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(12));
    if (text) printf("%s\n", text);
    free(text);
    json_decref(root);
}

/* A CSV field: quoted when it holds a comma, a quote or a line break. */
static void csv_field(const char *v, int last)
{
    if (strpbrk(v, ",\"\n\r")) {
        putchar('"');
        for (; *v; v++) {
            if (*v == '"') putchar('"');
            putchar(*v);
        }
        putchar('"');
    } else {
        fputs(v, stdout);
    }
    putchar(last ? '\n' : ',');
}

static void csv_num(double v, int last)
{
    char b[64] = "";
    if (isfinite(v)) snprintf(b, sizeof b, "%.12g", v);
    csv_field(b, last);
}

static void print_csv(const cellset *s, const judged *js)
{
    printf("cell,alloc,workload,threads,params,op,n_a,n_b,median_a,median_b,noise_a_pct,"
           "noise_b_pct,delta_pct,p,significant,verdict\n");
    for (size_t i = 0; i < s->n; i++) {
        const cell *c = &s->c[i];
        const judged *j = &js[i];
        csv_field(c->label, 0);
        csv_field(c->alloc, 0);
        csv_field(c->workload, 0);
        csv_num(c->threads > 0 ? (double)c->threads : NAN, 0);
        csv_field(c->params, 0);
        csv_field(c->op, 0);
        csv_num((double)c->n[0], 0);
        csv_num((double)c->n[1], 0);
        csv_num(j->med[0], 0);
        csv_num(j->med[1], 0);
        csv_num(j->half[0] * 100, 0);
        csv_num(j->half[1] * 100, 0);
        csv_num(j->delta_pct, 0);
        csv_num(j->p, 0);
        csv_field(j->significant ? "1" : "0", 0);
        csv_field(verdict_key[j->v], 1);
    }
}

int hn_cmd_compare(int argc, char **argv)
{
    cmp_opts o;
    int prc = parse_args(argc, argv, &o);
    if (prc) return prc > 0 ? HN_EXIT_OK : HN_EXIT_EX_USAGE;
    hn_results ra = {0}, rb = {0};
    char err[1024];
    if (hn_results_load(o.a, &ra, err, sizeof err) != 0) {
        hn_error("compare", "%s", err);
        return HN_EXIT_EX_USAGE;
    }
    if (!o.by && hn_results_load(o.b, &rb, err, sizeof err) != 0) {
        hn_error("compare", "%s", err);
        hn_results_free(&ra);
        return HN_EXIT_EX_USAGE;
    }
    const hn_results *sb = o.by ? &ra : &rb;
    const char *metric = strcmp(o.metric, "auto") == 0 ? auto_metric(&ra) : o.metric;
    o.metric = metric;
    if (!o.threshold_set && strcmp(metric, "instr_per_op") == 0) o.threshold_pct = 1;
    cellset s = {0};
    size_t na = collect(&s, &ra, 0, &o, o.alloc_a), nb = collect(&s, sb, 1, &o, o.alloc_b);
    int rc;
    size_t common = 0;
    for (size_t i = 0; i < s.n; i++)
        common += s.c[i].n[0] && s.c[i].n[1];
    if (na == 0 || nb == 0) {
        hn_error("compare", "%s has no ok row with metric '%s'%s%s", na == 0 ? o.a : o.b, metric,
                 o.by ? " for alloc " : "", o.by ? (na == 0 ? o.alloc_a : o.alloc_b) : "");
        rc = HN_EXIT_EX_USAGE;
    } else {
        envside env[2];
        env_read(&ra, &env[0]);
        env_read(sb, &env[1]);
        unsigned differs = o.by ? 0 : env_differs(&env[0], &env[1]);
        judged *js = calloc(s.n, sizeof *js);
        if (!js) abort();
        outcome out = summarise(&s, &o, hn_metric_higher_is_better(metric), js);
        if (o.format == FMT_JSON)
            print_json(&s, &o, metric, js, &out, env, differs);
        else if (o.format == FMT_CSV)
            print_csv(&s, js);
        else
            print_human(&s, &o, metric, js, &out, env, differs);
        if (differs && (o.format == FMT_JSON || o.format == FMT_CSV)) {
            char what[128] = "";
            for (int k = 0; k < NENV; k++)
                if (differs & (1u << k)) {
                    size_t l = strlen(what);
                    snprintf(what + l, sizeof what - l, "%s%s", l ? ", " : "", env_key[k]);
                }
            hn_error("compare", "warning: A and B differ in %s", what);
        }
        free(js);
        rc = out.rc;
        if (common == 0) {
            hn_error("compare", "A and B have no cell in common (cells are matched on alloc, "
                                "workload, threads and params)");
            rc = HN_EXIT_CANNOT_JUDGE;
        }
    }
    cellset_free(&s);
    hn_results_free(&ra);
    hn_results_free(&rb);
    return rc;
}
