/* compare.c - `abench compare`: two result sets in, a benchstat-grade table and an exit code
 * out (BENCH_METHOD.md, "Statistics for comparisons"; DESIGN.md, "CI comparison").
 *
 * Method, per matched cell (alloc, workload, threads, params [, op for latency metrics]):
 * median of each side with a distribution-free 95% CI, two-sided Mann-Whitney U, "~" when
 * p >= alpha, else the change in medians. Verdicts and exit code:
 *   1  regression: some cell is significant (p < alpha) AND worse by more than --threshold;
 *   2  cannot judge (when no cell regressed): a cell with n < 4 on a side; a cell only in A or
 *      only in B, or no common cell; a cell whose change is not significant while its noise
 *      (the larger CI half-width of the two sides, relative to the median; with n < 6, where
 *      no 95% CI exists, the min..max range half-width) exceeds the threshold, i.e. a
 *      regression of threshold size could hide in the noise;
 *   0  otherwise: no significant regression beyond the threshold.
 * Deterministic cells: when both sides have n >= 2 and a spread within 0.1% of the median
 * (instr_per_op under --instructions), the change in medians is exact: within 0.1% it is no
 * change, beyond it significant, judged against the threshold with no rank test and no
 * "cannot judge".
 * Default threshold 5%: above the 1.7% run-to-run CV measured for mimalloc's churn, below
 * glibc's 6.4% (so noisy glibc/jemalloc cells answer "cannot judge", not a flapping 0/1);
 * 1% for instruction counts (metrics instr*).
 * Only rows with status "ok" and the metric present take part.
 */
#include "hn.h"
#include "hn_results.h"
#include "hn_stats.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MIN_N 4

/* ---- Options ---- */

typedef struct cmp_opts {
    const char *a, *b; /* paths, or with --by alloc: the run and two allocator names */
    const char *by;    /* NULL or "alloc" */
    const char *alloc_a, *alloc_b;
    const char *metric, *op;
    double threshold_pct, alpha;
    int markdown;
} cmp_opts;

static void usage(FILE *f)
{
    fputs("usage: abench compare A B [--metric M] [--op OP] [--threshold PCT] [--alpha P]\n"
          "                      [--format text|markdown]\n"
          "       abench compare --by alloc RUN ALLOC_A ALLOC_B [same options]\n"
          "A and B are run folders or runs.jsonl/runs.csv files. Metrics: ns_per_op (default\n"
          "when every row has it, else time), time, throughput, peak_rss, rss_mean, rss_peak,\n"
          "live_mean, live_peak, frag, p50 p90 p99 p999 p9999 max mean (latency of --op, every\n"
          "op when not given), gc_<field>, or any numeric field of results/README.md.\n"
          "Per cell: median with a distribution-free 95% CI (n >= 6), two-sided Mann-Whitney U,\n"
          "\"~\" when p >= alpha; a geomean row over the cells' ratios.\n"
          "Exit: 0 no significant regression beyond the threshold (default 5%); 1 a cell is\n"
          "significantly worse by more than the threshold; 2 cannot judge: n < 4 on a side, a\n"
          "cell on one side only, or a change that is not significant while the larger relative\n"
          "CI half-width (min..max below n = 6) exceeds the threshold; 2 also for bad input.\n",
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

/* Long: one branch per flag, each with its own one-line error. */
static int parse_args(int argc, char **argv, cmp_opts *o)
{
    const char *pos[3];
    int npos = 0;
    memset(o, 0, sizeof *o);
    o->metric = "auto";
    o->threshold_pct = -1; /* unset: 1% for instruction counts, else 5% (below) */
    o->alpha = 0.05;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *val = (i + 1 < argc) ? argv[i + 1] : NULL;
        int takes = 1;
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            usage(stdout);
            return 1;
        } else if (strcmp(a, "--metric") == 0 && val) {
            o->metric = val;
        } else if (strcmp(a, "--op") == 0 && val) {
            o->op = val;
        } else if (strcmp(a, "--by") == 0 && val) {
            o->by = val;
        } else if (strcmp(a, "--threshold") == 0 && val) {
            if (parse_double(val, &o->threshold_pct) || o->threshold_pct < 0) {
                hn_error("compare", "--threshold: '%s' is not a percentage >= 0", val);
                return -1;
            }
        } else if (strcmp(a, "--alpha") == 0 && val) {
            if (parse_double(val, &o->alpha) || o->alpha <= 0 || o->alpha >= 1) {
                hn_error("compare", "--alpha: '%s' is not a probability in (0, 1)", val);
                return -1;
            }
        } else if (strcmp(a, "--format") == 0 && val) {
            if (strcmp(val, "markdown") != 0 && strcmp(val, "text") != 0) {
                hn_error("compare", "--format: '%s' is not text or markdown", val);
                return -1;
            }
            o->markdown = strcmp(val, "markdown") == 0;
        } else if (a[0] == '-' && a[1]) {
            hn_error("compare", "%s: %s", a,
                     val ? "unknown option (see abench compare --help)" : "needs a value");
            return -1;
        } else {
            takes = 0;
            if (npos == 3) {
                hn_error("compare", "unexpected argument '%s'", a);
                return -1;
            }
            pos[npos++] = a;
        }
        i += takes;
    }
    /* Instruction counts are deterministic (valgrind): a tight floor catches a 1% change. */
    if (o->threshold_pct < 0) o->threshold_pct = strncmp(o->metric, "instr", 5) == 0 ? 1 : 5;
    if (o->by && strcmp(o->by, "alloc") != 0) {
        hn_error("compare", "--by: '%s' is not supported (only --by alloc)", o->by);
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
    double *v[2]; /* values of side A (0) and B (1) */
    size_t n[2], cap[2];
} cell;

typedef struct cellset {
    cell *c;
    size_t n, cap;
    size_t not_ok[2]; /* rows left out because their status is not "ok" */
} cellset;

static cell *cell_get(cellset *s, const char *key, const char *label)
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
    cell_add(cell_get(s, key, label), side, v);
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

/* Relative spread (half-width / median) at or below which a side counts as deterministic. */
#define DETERMINISTIC 0.001

enum verdict { V_SAME, V_BETTER, V_WORSE_SMALL, V_REGRESSION, V_FEW, V_NOISY, V_ONLY_A, V_ONLY_B };

typedef struct judged {
    double med[2], half[2]; /* median and relative spread half-width (fraction) per side */
    int has_ci[2];
    double delta_pct, p;
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

static judged judge(const cell *c, const cmp_opts *o, int higher_better)
{
    judged j;
    memset(&j, 0, sizeof j);
    j.p = NAN;
    j.delta_pct = NAN;
    for (int s = 0; s < 2; s++) {
        j.med[s] = c->n[s] ? hn_median(c->v[s], c->n[s]) : NAN;
        j.half[s] = c->n[s] ? rel_half_width(c->v[s], c->n[s], j.med[s], &j.has_ci[s]) : NAN;
    }
    if (c->n[0] == 0 || c->n[1] == 0) {
        j.v = c->n[0] ? V_ONLY_A : V_ONLY_B;
        return j;
    }
    j.delta_pct = j.med[0] != 0 ? (j.med[1] - j.med[0]) / fabs(j.med[0]) * 100
                                : (j.med[1] == 0 ? 0 : INFINITY);
    hn_utest_result u;
    if (hn_utest(c->v[0], c->n[0], c->v[1], c->n[1], &u) == 0) j.p = u.p;
    double worse = higher_better ? -j.delta_pct : j.delta_pct;
    if (c->n[0] >= 2 && c->n[1] >= 2 && j.half[0] <= DETERMINISTIC && j.half[1] <= DETERMINISTIC) {
        /* Every repetition of each side agrees (a deterministic figure such as instr_per_op,
         * whose repetitions differ by a few hundred instructions in millions): the change is
         * known without a rank test, and a change inside that spread counts as none. */
        int same = fabs(j.delta_pct) <= DETERMINISTIC * 100;
        j.p = same ? 1 : 0;
        j.v = same ? V_SAME
                   : (worse > o->threshold_pct ? V_REGRESSION
                                               : (worse > 0 ? V_WORSE_SMALL : V_BETTER));
        return j;
    }
    if (c->n[0] < MIN_N || c->n[1] < MIN_N) {
        j.v = V_FEW;
        return j;
    }
    int significant = j.p < o->alpha;
    if (significant)
        j.v = worse > o->threshold_pct ? V_REGRESSION : (worse > 0 ? V_WORSE_SMALL : V_BETTER);
    else if (fmax(j.half[0], j.half[1]) * 100 > o->threshold_pct)
        j.v = V_NOISY;
    else
        j.v = V_SAME;
    return j;
}

static const char *verdict_text(enum verdict v)
{
    switch (v) {
    case V_SAME:
        return "";
    case V_BETTER:
        return "better";
    case V_WORSE_SMALL:
        return "worse, below threshold";
    case V_REGRESSION:
        return "REGRESSION";
    case V_FEW:
        return "cannot judge: n < 4";
    case V_NOISY:
        return "cannot judge: noise above threshold";
    case V_ONLY_A:
        return "cannot judge: only in A";
    case V_ONLY_B:
        return "cannot judge: only in B";
    }
    return "";
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
    if (j->has_ci[s])
        snprintf(buf, len, "%s ± %.0f%%", v, j->half[s] * 100);
    else
        snprintf(buf, len, "%s ± ?", v); /* no 95% CI below n = 6; footnote explains */
}

static void fmt_delta(char *buf, size_t len, const judged *j, const cell *c, double alpha)
{
    if (j->v == V_ONLY_A || j->v == V_ONLY_B) {
        snprintf(buf, len, "-");
        return;
    }
    if (!(j->p < alpha) || j->v == V_FEW)
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

/* ---- The command ---- */

static int report(cellset *s, const cmp_opts *o, const char *metric, const char *name_a,
                  const char *name_b)
{
    int higher = hn_metric_higher_is_better(metric);
    const char *unit = hn_metric_unit(metric);
    table t = {0};
    char ha[256], hb[256];
    snprintf(ha, sizeof ha, "A %s", metric);
    snprintf(hb, sizeof hb, "B %s", metric);
    table_add(&t, "cell", ha, hb, "delta", "verdict");
    size_t nreg = 0, nfew = 0, nnoisy = 0, nonly = 0, nratio = 0, nno_ci = 0;
    double *ra = calloc(s->n + 1, sizeof *ra), *rb = calloc(s->n + 1, sizeof *rb),
           *rr = calloc(s->n + 1, sizeof *rr);
    for (size_t i = 0; i < s->n; i++) {
        const cell *c = &s->c[i];
        judged j = judge(c, o, higher);
        char a[128], b[128], d[128];
        fmt_side(a, sizeof a, &j, 0, c->n[0], unit);
        fmt_side(b, sizeof b, &j, 1, c->n[1], unit);
        fmt_delta(d, sizeof d, &j, c, o->alpha);
        table_add(&t, c->label, a, b, d, verdict_text(j.v));
        nreg += j.v == V_REGRESSION;
        nfew += j.v == V_FEW;
        nnoisy += j.v == V_NOISY;
        nonly += j.v == V_ONLY_A || j.v == V_ONLY_B;
        nno_ci += (c->n[0] && !j.has_ci[0]) || (c->n[1] && !j.has_ci[1]);
        if (c->n[0] && c->n[1] && j.med[0] > 0 && j.med[1] > 0) {
            ra[nratio] = j.med[0];
            rb[nratio] = j.med[1];
            rr[nratio++] = j.med[1] / j.med[0];
        }
    }
    if (nratio > 0) {
        char a[64], b[64], d[64];
        fmt_value(a, sizeof a, hn_geomean(ra, nratio), unit);
        fmt_value(b, sizeof b, hn_geomean(rb, nratio), unit);
        snprintf(d, sizeof d, "%+.2f%%", (hn_geomean(rr, nratio) - 1) * 100);
        table_add(&t, "geomean", a, b, d, "");
    }
    free(ra);
    free(rb);
    free(rr);

    char sa[1024], sb[1024];
    snprintf(sa, sizeof sa, "%s%s%s", name_a, o->by ? " alloc " : "", o->by ? o->alloc_a : "");
    snprintf(sb, sizeof sb, "%s%s%s", o->by ? o->b : name_b, o->by ? " alloc " : "",
             o->by ? o->alloc_b : "");
    if (o->markdown)
        printf("**abench compare**: %s (%s, %s is better), alpha %g, threshold %g%%\n\n"
               "A: `%s` · B: `%s`\n\n",
               metric, *unit ? unit : "no unit", higher ? "higher" : "lower", o->alpha,
               o->threshold_pct, sa, sb);
    else
        printf("abench compare: %s (%s, %s is better), alpha %g, threshold %g%%\nA: %s   B: %s\n\n",
               metric, *unit ? unit : "no unit", higher ? "higher" : "lower", o->alpha,
               o->threshold_pct, sa, sb);
    table_print(&t, o->markdown);
    table_free(&t);
    for (int side = 0; side < 2; side++)
        if (s->not_ok[side])
            printf("\nnote: %zu row%s of %c did not finish ok (crash, timeout, error or n/a) and "
                   "%s left out\n",
                   s->not_ok[side], s->not_ok[side] == 1 ? "" : "s", side ? 'B' : 'A',
                   s->not_ok[side] == 1 ? "is" : "are");
    if (nno_ci)
        printf("\n± ?: fewer than %zu samples, no distribution-free 95%% CI "
               "(the min..max range is used to judge noise)\n",
               hn_median_ci_min_n(0.95));
    int rc;
    if (nreg) {
        printf("\nverdict: %zu significant regression%s beyond %g%% (exit 1)\n", nreg,
               nreg == 1 ? "" : "s", o->threshold_pct);
        rc = HN_EXIT_FAIL;
    } else if (nfew || nnoisy || nonly) {
        printf("\nverdict: cannot judge (exit 2):%s%s%s\n",
               nfew ? " cells with n < 4 on a side;" : "",
               nnoisy ? " cells whose noise exceeds the threshold;" : "",
               nonly ? " cells present on one side only;" : "");
        rc = HN_EXIT_USAGE;
    } else {
        printf("\nverdict: no significant regression beyond %g%% (exit 0)\n", o->threshold_pct);
        rc = HN_EXIT_OK;
    }
    return rc;
}

int hn_cmd_compare(int argc, char **argv)
{
    cmp_opts o;
    int prc = parse_args(argc, argv, &o);
    if (prc) return prc > 0 ? HN_EXIT_OK : HN_EXIT_USAGE;
    hn_results ra = {0}, rb = {0};
    char err[1024];
    if (hn_results_load(o.a, &ra, err, sizeof err) != 0) {
        hn_error("compare", "%s", err);
        return HN_EXIT_USAGE;
    }
    if (!o.by && hn_results_load(o.b, &rb, err, sizeof err) != 0) {
        hn_error("compare", "%s", err);
        hn_results_free(&ra);
        return HN_EXIT_USAGE;
    }
    const hn_results *sb = o.by ? &ra : &rb;
    const char *metric = strcmp(o.metric, "auto") == 0 ? auto_metric(&ra) : o.metric;
    o.metric = metric;
    cellset s = {0};
    size_t na = collect(&s, &ra, 0, &o, o.alloc_a), nb = collect(&s, sb, 1, &o, o.alloc_b);
    int rc;
    if (na == 0 || nb == 0) {
        hn_error("compare", "%s has no ok row with metric '%s'%s%s", na == 0 ? o.a : o.b, metric,
                 o.by ? " for alloc " : "", o.by ? (na == 0 ? o.alloc_a : o.alloc_b) : "");
        rc = HN_EXIT_USAGE;
    } else {
        size_t common = 0;
        for (size_t i = 0; i < s.n; i++)
            common += s.c[i].n[0] && s.c[i].n[1];
        rc = report(&s, &o, metric, o.a, o.b);
        if (common == 0) {
            hn_error("compare", "A and B have no cell in common (cells are matched on alloc, "
                                "workload, threads and params)");
            rc = HN_EXIT_USAGE;
        }
    }
    cellset_free(&s);
    hn_results_free(&ra);
    hn_results_free(&rb);
    return rc;
}
