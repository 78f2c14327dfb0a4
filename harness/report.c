/* report.c - `abench report DIR`: charts (gnuplot, SVG + PNG) and report.md / report.html for
 * one run folder (BENCH_METHOD.md, "Normalising and charting").
 *
 * Invariants: the raw results are only read, never rewritten; everything this file writes
 * goes to DIR/plots/ (<chart>.dat, <chart>.gp, <chart>.svg, <chart>.png) and DIR/report.md,
 * DIR/report.html. Each .gp reads only its .dat, with paths relative to plots/, so
 * `cd DIR/plots && gnuplot <chart>.gp` redraws it. Every chart has a title and one named
 * series per allocator (or per quantity); a chart whose data do not exist is not emitted.
 * report.html is self-contained (SVGs inlined, no external resource). plots/ holds the
 * charts of the latest report only (earlier chart files are removed first).
 *
 * Sections, bottom-up: grouping the rows into cell keys; one writer per chart kind
 * (fragmentation, latency, throughput, relative time, box plots, GC timeline, size-class
 * waste); report.md and report.html written side by side; the entry points. The file is
 * longer than the ~800-line aim because each chart kind needs its data and its script.
 */
#include "hn.h"
#include "hn_results.h"
#include "hn_stats.h"

#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_ALLOCS 32

/* ---- The run, grouped ---- */

/* A cell key without the allocator: (workload, threads, params). */
typedef struct rkey {
    const char *workload, *params;
    long threads;
} rkey;

typedef struct chart {
    char name[200];  /* file stem under plots/ */
    char title[400]; /* chart title, also the heading in the reports */
} chart;

typedef struct rep {
    const char *dir;
    hn_results res;
    const char *allocs[MAX_ALLOCS]; /* baseline first, then order of first appearance */
    size_t nallocs;
    const char **workloads;
    size_t nworkloads;
    rkey *keys;
    size_t nkeys;
    const char *baseline;
    const char *metric; /* ns_per_op when present, else time */
    char plots[4096];
    chart *charts;
    size_t ncharts, capcharts;
    char **notes; /* remarks for the report (skipped charts, what a chart shows) */
    size_t nnotes;
    int gnuplot_ok; /* 0 when gnuplot is missing or failed */
} rep;

static int is_ok(const hn_row *r)
{
    return strcmp(r->status, "ok") == 0;
}

__attribute__((format(printf, 2, 3))) static void note(rep *R, const char *fmt, ...)
{
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    char **nn = realloc(R->notes, (R->nnotes + 1) * sizeof *nn);
    if (!nn) abort();
    R->notes = nn;
    R->notes[R->nnotes++] = strdup(buf);
}

static void group(rep *R)
{
    hn_results *res = &R->res;
    R->workloads = calloc(res->nrows + 1, sizeof *R->workloads);
    R->keys = calloc(res->nrows + 1, sizeof *R->keys);
    if (R->baseline) R->allocs[R->nallocs++] = R->baseline;
    size_t with_nsop = 0, ok = 0;
    for (size_t i = 0; i < res->nrows; i++) {
        const hn_row *r = &res->rows[i];
        size_t k;
        for (k = 0; k < R->nallocs && strcmp(R->allocs[k], r->alloc) != 0; k++)
            ;
        if (k == R->nallocs && R->nallocs < MAX_ALLOCS) R->allocs[R->nallocs++] = r->alloc;
        for (k = 0; k < R->nworkloads && strcmp(R->workloads[k], r->workload) != 0; k++)
            ;
        if (k == R->nworkloads) R->workloads[R->nworkloads++] = r->workload;
        for (k = 0; k < R->nkeys; k++)
            if (strcmp(R->keys[k].workload, r->workload) == 0 &&
                strcmp(R->keys[k].params, r->params) == 0 && R->keys[k].threads == r->threads)
                break;
        if (k == R->nkeys) R->keys[R->nkeys++] = (rkey){r->workload, r->params, r->threads};
        ok += is_ok(r);
        with_nsop += is_ok(r) && isfinite(r->ns_per_op);
    }
    R->metric = (ok && with_nsop == ok) ? "ns_per_op" : "wall_s";
}

/* Values of `metric` (op for latency) over the ok repetitions of one cell. */
static size_t cell_values(const rep *R, const rkey *k, const char *alloc, const char *metric,
                          const char *op, double *out, size_t max)
{
    size_t n = 0;
    for (size_t i = 0; i < R->res.nrows && n < max; i++) {
        const hn_row *r = &R->res.rows[i];
        if (!is_ok(r) || strcmp(r->alloc, alloc) || strcmp(r->workload, k->workload) ||
            strcmp(r->params, k->params) || r->threads != k->threads)
            continue;
        double v = hn_row_metric(r, metric, op);
        if (isfinite(v)) out[n++] = v;
    }
    return n;
}

/* The ok row of (workload, alloc) that stands for it in timeline charts: the first key of the
 * workload (lowest threads among those of its first params), lowest repetition. */
static const hn_row *representative(const rep *R, const char *workload, const char *alloc)
{
    const hn_row *best = NULL;
    const char *params = NULL;
    for (size_t i = 0; i < R->nkeys; i++)
        if (strcmp(R->keys[i].workload, workload) == 0) {
            params = R->keys[i].params;
            break;
        }
    /* Parameters a runner resolves per backend (mode=auto -> gc or manual, arena_impl) make
     * the workload's first parameter set differ between allocators: then take this
     * allocator's first ok row's parameters. */
    int found = 0;
    for (size_t i = 0; i < R->res.nrows && !found; i++) {
        const hn_row *r = &R->res.rows[i];
        found = is_ok(r) && !strcmp(r->workload, workload) && !strcmp(r->alloc, alloc) &&
                !strcmp(r->params, params ? params : "");
    }
    for (size_t i = 0; i < R->res.nrows && !found; i++) {
        const hn_row *r = &R->res.rows[i];
        if (is_ok(r) && !strcmp(r->workload, workload) && !strcmp(r->alloc, alloc)) {
            params = r->params;
            found = 1;
        }
    }
    for (size_t i = 0; i < R->res.nrows; i++) {
        const hn_row *r = &R->res.rows[i];
        if (!is_ok(r) || strcmp(r->workload, workload) || strcmp(r->alloc, alloc) ||
            strcmp(r->params, params ? params : ""))
            continue;
        if (!best || r->threads < best->threads ||
            (r->threads == best->threads && r->rep < best->rep))
            best = r;
    }
    return best;
}

/* 1 when the "k=v" item is not in every parameter set of the workload's cells. */
static int param_varies(const rep *R, const char *workload, const char *kv, size_t kvlen)
{
    for (size_t i = 0; i < R->nkeys; i++) {
        if (strcmp(R->keys[i].workload, workload) != 0) continue;
        const char *p = R->keys[i].params;
        int found = 0;
        while (*p && !found) {
            size_t l = strcspn(p, ";");
            found = l == kvlen && strncmp(p, kv, l) == 0;
            p += l + (p[l] == ';');
        }
        if (!found) return 1;
    }
    return 0;
}

/* Chart label of a cell key: the workload, threads, and only the parameters that differ
 * between the workload's cells (the summary table lists them all). */
static void key_label(const rep *R, char *buf, size_t len, const rkey *k)
{
    size_t o = (size_t)snprintf(buf, len, "%s", k->workload);
    if (k->threads > 0 && o < len) o += (size_t)snprintf(buf + o, len - o, " t=%ld", k->threads);
    for (const char *p = k->params; *p && o < len;) {
        size_t l = strcspn(p, ";");
        if (param_varies(R, k->workload, p, l))
            o += (size_t)snprintf(buf + o, len - o, " %.*s", (int)l, p);
        p += l + (p[l] == ';');
    }
}

/* The workload as the timeline, latency and throughput charts show it: its name and the
 * parameters of its first parameter set that differ from its other sets (if any). */
static void workload_label(const rep *R, const char *workload, char *buf, size_t len)
{
    for (size_t i = 0; i < R->nkeys; i++)
        if (strcmp(R->keys[i].workload, workload) == 0) {
            rkey k = R->keys[i];
            k.threads = 0;
            key_label(R, buf, len, &k);
            return;
        }
    snprintf(buf, len, "%s", workload);
}

/* ---- Writing charts ---- */

static void sanitize(char *dst, size_t len, const char *src)
{
    size_t i = 0;
    for (; *src && i + 1 < len; src++)
        dst[i++] =
            (strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-.", *src) &&
             *src)
                ? *src
                : '_';
    dst[i] = 0;
}

/* Writes s as a single-quoted gnuplot string (a quote is doubled). */
static void gp_str(FILE *f, const char *s)
{
    fputc('\'', f);
    for (; *s; s++) {
        if (*s == '\'') fputc('\'', f);
        if (*s != '\n') fputc(*s, f);
    }
    fputc('\'', f);
}

static FILE *open_in(const rep *R, const char *name, const char *ext)
{
    char path[4400];
    snprintf(path, sizeof path, "%s/%s.%s", R->plots, name, ext);
    FILE *f = fopen(path, "w");
    if (!f) hn_error("report", "cannot write %s: %s", path, strerror(errno));
    return f;
}

/* Opens <name>.gp with the shared preamble (SVG first; gp_end adds the PNG). */
static FILE *gp_begin(const rep *R, const chart *c)
{
    FILE *f = open_in(R, c->name, "gp");
    if (!f) return NULL;
    fprintf(f,
            "# %s.gp - written by `abench report` from %s.dat (in this folder).\n"
            "# Redraw: gnuplot %s.gp  (writes %s.svg and %s.png)\n"
            "set terminal svg size 960,540 dynamic noenhanced font 'sans,11' background "
            "'#ffffff'\n"
            "set output '%s.svg'\n"
            "set title ",
            c->name, c->name, c->name, c->name, c->name, c->name);
    gp_str(f, c->title);
    fputs("\nset key outside right top\nset grid\n", f);
    return f;
}

static void gp_end(FILE *f, const chart *c)
{
    fprintf(f,
            "set terminal pngcairo size 960,540 noenhanced font 'sans,10' background "
            "'#ffffff'\n"
            "set output '%s.png'\nreplot\nunset output\n",
            c->name);
    fclose(f);
}

/* Runs `gnuplot <name>.gp` inside plots/ (stderr appended to plots/gnuplot.log). */
static int run_gnuplot(const rep *R, const chart *c)
{
    pid_t pid = fork();
    if (pid < 0) return -1;
    if (pid == 0) {
        char gp[240];
        snprintf(gp, sizeof gp, "%s.gp", c->name);
        if (chdir(R->plots) != 0) _exit(126);
        FILE *log = freopen("gnuplot.log", "a", stderr);
        (void)log;
        execlp("gnuplot", "gnuplot", gp, (char *)NULL);
        _exit(127);
    }
    int st;
    while (waitpid(pid, &st, 0) < 0)
        if (errno != EINTR) return -1;
    return (WIFEXITED(st) && WEXITSTATUS(st) == 0) ? 0 : (WIFEXITED(st) ? WEXITSTATUS(st) : -1);
}

/* Registers a written chart and draws it. */
static void finish_chart(rep *R, const chart *c)
{
    if (R->ncharts == R->capcharts) {
        R->capcharts = R->capcharts ? 2 * R->capcharts : 16;
        chart *nc = realloc(R->charts, R->capcharts * sizeof *nc);
        if (!nc) abort();
        R->charts = nc;
    }
    R->charts[R->ncharts++] = *c;
    if (!R->gnuplot_ok) return;
    int rc = run_gnuplot(R, c);
    if (rc == 127) {
        hn_error("report", "gnuplot not found: charts are written as .gp/.dat only (install "
                           "gnuplot-nox)");
        R->gnuplot_ok = 0;
    } else if (rc != 0) {
        hn_error("report", "gnuplot failed on %s/%s.gp (see %s/gnuplot.log)", R->plots, c->name,
                 R->plots);
        R->gnuplot_ok = 0;
    }
}

/* Line colour of allocator i, stable across charts. */
static const char *color(size_t i)
{
    static const char *const c[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd",
                                    "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"};
    return c[i % (sizeof c / sizeof *c)];
}

/* ---- Fragmentation: resident and live bytes over time ---- */

/* Long because it writes the .dat (one block per allocator) and the .gp in one pass; the
 * two halves share the list of series. */
static void chart_frag(rep *R, const char *workload)
{
    chart c;
    char sw[120];
    sanitize(sw, sizeof sw, workload);
    snprintf(c.name, sizeof c.name, "frag_%s", sw);
    FILE *dat = NULL;
    size_t idx = 0;
    const char *series[MAX_ALLOCS];
    size_t sidx[MAX_ALLOCS];
    long thr = -1, rp = -1;
    for (size_t a = 0; a < R->nallocs; a++) {
        const hn_row *r = representative(R, workload, R->allocs[a]);
        hn_csv t;
        char err[512];
        if (!r) continue;
        int rc = hn_results_cell_csv(&R->res, r, "timeline.csv", &t, err, sizeof err);
        if (rc < 0) note(R, "fragmentation chart of %s: %s", workload, err);
        if (rc <= 0) continue;
        int ct = hn_csv_col(&t, "t_s"), cr = hn_csv_col(&t, "rss_bytes"),
            cl = hn_csv_col(&t, "live_bytes");
        if (ct < 0 || cr < 0 || t.nrows == 0) {
            hn_csv_free(&t);
            continue;
        }
        if (!dat && !(dat = open_in(R, c.name, "dat"))) {
            hn_csv_free(&t);
            return;
        }
        fprintf(dat, "%s# %s (cell %s, rep %ld, threads %ld): t_s rss_MiB live_MiB\n",
                idx ? "\n\n" : "", r->alloc, r->cell_id, r->rep, r->threads);
        for (size_t i = 0; i < t.nrows; i++) {
            double ts = hn_csv_num(&t, i, ct), rs = hn_csv_num(&t, i, cr),
                   lv = cl >= 0 ? hn_csv_num(&t, i, cl) : NAN;
            if (!isfinite(ts) || !isfinite(rs)) continue;
            fprintf(dat, "%.6f %.6f ", ts, rs / 1048576.0);
            if (isfinite(lv))
                fprintf(dat, "%.6f\n", lv / 1048576.0);
            else
                fprintf(dat, "NaN\n");
        }
        hn_csv_free(&t);
        series[idx] = r->alloc;
        sidx[idx++] = a;
        thr = r->threads;
        rp = r->rep;
    }
    if (!dat) return;
    fclose(dat);
    char wl[300];
    workload_label(R, workload, wl, sizeof wl);
    snprintf(c.title, sizeof c.title,
             "Fragmentation: %s - resident and live memory (rep %ld, %ld thread%s)", wl, rp, thr,
             thr == 1 ? "" : "s");
    FILE *f = gp_begin(R, &c);
    if (!f) return;
    fputs("set xlabel 'time (s)'\nset ylabel 'MiB'\nset yrange [0:*]\nplot ", f);
    for (size_t i = 0; i < idx; i++) {
        char t1[300], t2[300];
        snprintf(t1, sizeof t1, "%s resident", series[i]);
        snprintf(t2, sizeof t2, "%s live", series[i]);
        fprintf(f, "%s'%s.dat' index %zu using 1:2 with lines lw 2 lc rgb '%s' title ",
                i ? ", \\\n     " : "", c.name, i, color(sidx[i]));
        gp_str(f, t1);
        fprintf(f,
                ", \\\n     '%s.dat' index %zu using 1:3 with lines lw 1 dt 2 lc rgb '%s' title ",
                c.name, i, color(sidx[i]));
        gp_str(f, t2);
    }
    fputs("\n", f);
    gp_end(f, &c);
    finish_chart(R, &c);
}

/* ---- Latency percentile distribution ---- */

static void chart_latency(rep *R, const char *workload, const char *op)
{
    chart c;
    char sw[120], so[60];
    sanitize(sw, sizeof sw, workload);
    sanitize(so, sizeof so, op);
    snprintf(c.name, sizeof c.name, "latency_%s_%s", sw, so);
    FILE *dat = NULL;
    size_t idx = 0, sidx[MAX_ALLOCS];
    const char *series[MAX_ALLOCS];
    long thr = -1;
    double maxinv = 1;
    for (size_t a = 0; a < R->nallocs; a++) {
        const hn_row *r = representative(R, workload, R->allocs[a]);
        hn_hgrm h;
        char err[512];
        if (!r) continue;
        int rc = hn_results_cell_hgrm(&R->res, r, op, &h, err, sizeof err);
        if (rc < 0) note(R, "latency chart of %s/%s: %s", workload, op, err);
        if (rc <= 0) continue;
        if (h.n == 0) {
            hn_hgrm_free(&h);
            continue;
        }
        if (!dat && !(dat = open_in(R, c.name, "dat"))) {
            hn_hgrm_free(&h);
            return;
        }
        fprintf(dat, "%s# %s (cell %s, rep %ld): 1/(1-p) latency_ns percentile\n",
                idx ? "\n\n" : "", r->alloc, r->cell_id, r->rep);
        for (size_t i = 0; i < h.n; i++)
            if (h.inv[i] >= 1) {
                fprintf(dat, "%.6g %.6g %.12g\n", h.inv[i], h.value[i], h.pct[i]);
                maxinv = fmax(maxinv, h.inv[i]);
            }
        hn_hgrm_free(&h);
        thr = r->threads;
        series[idx] = r->alloc;
        sidx[idx++] = a;
    }
    if (!dat) return;
    fclose(dat);
    char wl[300];
    workload_label(R, workload, wl, sizeof wl);
    snprintf(c.title, sizeof c.title, "Latency: %s, %s (percentile distribution, %ld thread%s)", wl,
             op, thr, thr == 1 ? "" : "s");
    FILE *f = gp_begin(R, &c);
    if (!f) return;
    /* x runs to the next power of ten above the deepest percentile measured (at least 99.99%,
     * so the axis always shows the labels of BENCH_METHOD.md) */
    double xmax = fmin(1e7, fmax(1e4, pow(10, ceil(log10(maxinv)))));
    fprintf(
        f,
        "set logscale x\nset logscale y\nset xrange [1:%g]\n"
        "set xtics (\"0%%%%\" 1, \"50%%%%\" 2, \"90%%%%\" 10, \"99%%%%\" 100, \"99.9%%%%\" 1000, "
        "\"99.99%%%%\" 10000, \"99.999%%%%\" 100000, \"99.9999%%%%\" 1000000, "
        "\"99.99999%%%%\" 10000000)\n"
        "set xlabel 'percentile'\nset ylabel 'latency (ns)'\nplot ",
        xmax);
    for (size_t i = 0; i < idx; i++) {
        fprintf(f, "%s'%s.dat' index %zu using 1:2 with steps lw 2 lc rgb '%s' title ",
                i ? ", \\\n     " : "", c.name, i, color(sidx[i]));
        gp_str(f, series[i]);
    }
    fputs("\n", f);
    gp_end(f, &c);
    finish_chart(R, &c);
}

/* Operation kinds seen in a workload's rows (lat objects), at most max. */
static size_t workload_ops(const rep *R, const char *workload, const char **ops, size_t max)
{
    size_t n = 0;
    for (size_t i = 0; i < R->res.nrows; i++) {
        const hn_row *r = &R->res.rows[i];
        if (strcmp(r->workload, workload) != 0) continue;
        for (size_t k = 0; k < r->nlat; k++) {
            size_t j;
            for (j = 0; j < n && strcmp(ops[j], r->lat[k].op) != 0; j++)
                ;
            if (j == n && n < max) ops[n++] = r->lat[k].op;
        }
    }
    return n;
}

/* ---- Throughput against threads ---- */

/* Long for the same reason as chart_frag: data and script share the series list. */
static void chart_throughput(rep *R, const char *workload)
{
    chart c;
    char sw[120];
    sanitize(sw, sizeof sw, workload);
    snprintf(c.name, sizeof c.name, "throughput_%s", sw);
    const char *params = NULL;
    for (size_t i = 0; i < R->nkeys; i++)
        if (strcmp(R->keys[i].workload, workload) == 0) {
            params = R->keys[i].params;
            break;
        }
    long threads[64];
    size_t nt = 0;
    for (size_t i = 0; i < R->nkeys && nt < 64; i++)
        if (strcmp(R->keys[i].workload, workload) == 0 && strcmp(R->keys[i].params, params) == 0)
            threads[nt++] = R->keys[i].threads;
    for (size_t i = 1; i < nt; i++) /* sort thread counts */
        for (size_t j = i; j > 0 && threads[j - 1] > threads[j]; j--) {
            long t = threads[j];
            threads[j] = threads[j - 1];
            threads[j - 1] = t;
        }
    FILE *dat = NULL;
    size_t idx = 0, sidx[MAX_ALLOCS];
    double v[4096];
    for (size_t a = 0; a < R->nallocs; a++) {
        int any = 0;
        for (size_t t = 0; t < nt; t++) {
            rkey k = {workload, params, threads[t]};
            size_t n = cell_values(R, &k, R->allocs[a], "ops_per_s", NULL, v, 4096);
            if (n == 0) continue;
            if (!dat && !(dat = open_in(R, c.name, "dat"))) return;
            if (!any)
                fprintf(dat, "%s# %s: threads median_ops_per_s min max n\n", idx ? "\n\n" : "",
                        R->allocs[a]);
            any = 1;
            double lo = v[0], hi = v[0];
            for (size_t i = 1; i < n; i++) {
                lo = fmin(lo, v[i]);
                hi = fmax(hi, v[i]);
            }
            fprintf(dat, "%ld %.6g %.6g %.6g %zu\n", threads[t], hn_median(v, n), lo, hi, n);
        }
        if (any) sidx[idx++] = a;
    }
    if (!dat) return;
    fclose(dat);
    char wl[300];
    workload_label(R, workload, wl, sizeof wl);
    snprintf(c.title, sizeof c.title, "Throughput vs threads: %s (median, min..max bars)", wl);
    FILE *f = gp_begin(R, &c);
    if (!f) return;
    fprintf(f,
            "set xlabel 'threads'\nset ylabel 'operations per second (all threads)'\n"
            "set xtics 1\nset xrange [0.5:%ld.5]\nset yrange [0:*]\nset format y '%%.3s%%c'\nplot ",
            nt ? threads[nt - 1] : 1);
    for (size_t i = 0; i < idx; i++) {
        fprintf(f, "%s'%s.dat' index %zu using 1:2:3:4 with yerrorlines lw 2 lc rgb '%s' title ",
                i ? ", \\\n     " : "", c.name, i, color(sidx[i]));
        gp_str(f, R->allocs[sidx[i]]);
    }
    fputs("\n", f);
    gp_end(f, &c);
    finish_chart(R, &c);
}

/* ---- Relative time against the baseline, and box plots over repetitions ---- */

/* Bars of each allocator's median relative to the baseline's, min..max error bars, log axis.
 * Long: the .dat table (one row per cell key, three columns per allocator), the axis
 * range from the data, and the script, which skips allocators without any ratio. */
static void chart_relative(rep *R)
{
    chart c;
    snprintf(c.name, sizeof c.name, "relative_time");
    FILE *dat = open_in(R, c.name, "dat");
    if (!dat) return;
    double v[4096], b[4096], lo = INFINITY, hi = 0;
    size_t rows = 0;
    int any[MAX_ALLOCS] = {0};
    fprintf(dat,
            "# %s relative to %s's median; per allocator: ratio min_ratio max_ratio\n"
            "# cell",
            R->metric, R->baseline);
    for (size_t a = 0; a < R->nallocs; a++)
        fprintf(dat, " %s %s_min %s_max", R->allocs[a], R->allocs[a], R->allocs[a]);
    fputc('\n', dat);
    for (size_t k = 0; k < R->nkeys; k++) {
        size_t nb = cell_values(R, &R->keys[k], R->baseline, R->metric, NULL, b, 4096);
        double base = nb ? hn_median(b, nb) : NAN;
        if (!(base > 0)) continue;
        char label[400];
        key_label(R, label, sizeof label, &R->keys[k]);
        fputc('"', dat);
        for (const char *p = label; *p; p++)
            fputc(*p == '"' ? '\'' : *p, dat);
        fputc('"', dat);
        for (size_t a = 0; a < R->nallocs; a++) {
            size_t n = cell_values(R, &R->keys[k], R->allocs[a], R->metric, NULL, v, 4096);
            if (n == 0) {
                fputs(" NaN NaN NaN", dat);
                continue;
            }
            double mn = v[0], mx = v[0];
            for (size_t i = 1; i < n; i++) {
                mn = fmin(mn, v[i]);
                mx = fmax(mx, v[i]);
            }
            fprintf(dat, " %.6g %.6g %.6g", hn_median(v, n) / base, mn / base, mx / base);
            any[a] = 1;
            lo = fmin(lo, mn / base);
            hi = fmax(hi, mx / base);
        }
        fputc('\n', dat);
        rows++;
    }
    fclose(dat);
    if (rows == 0) {
        note(R, "no relative-time chart: the baseline %s has no ok cell with %s", R->baseline,
             R->metric);
        return;
    }
    snprintf(c.title, sizeof c.title,
             "Relative %s per workload against %s (median; bars show min..max; lower is better)",
             strcmp(R->metric, "wall_s") == 0 ? "wall time" : "time per operation", R->baseline);
    FILE *f = gp_begin(R, &c);
    if (!f) return;
    fprintf(f,
            "set logscale y\nset yrange [%.4g:%.4g]\nset ylabel 'relative to %s (log scale)'\n"
            "set ytics (\"1/64\" 0.015625, \"1/16\" 0.0625, \"1/8\" 0.125, \"1/4\" 0.25, "
            "\"1/2\" 0.5, \"0.7\" 0.7, \"1\" 1, \"1.4\" 1.4, \"2\" 2, \"4\" 4, \"8\" 8, "
            "\"16\" 16, \"64\" 64)\n"
            "set style data histograms\nset style histogram errorbars gap 1 lw 1\n"
            "set style fill solid 0.8 border -1\nset boxwidth 0.9\nset xtics rotate by -30\nset "
            "bmargin 9\n"
            "set datafile missing 'NaN'\nplot ",
            fmin(lo, 1) / 1.3, fmax(hi, 1) * 1.3, R->baseline);
    for (size_t a = 0; a < R->nallocs; a++) {
        if (!any[a]) { /* nothing to draw: say so instead of an empty series */
            note(R, "relative-time chart: %s has no cell with the parameters of a %s cell",
                 R->allocs[a], R->baseline);
            continue;
        }
        fprintf(f, "%s'%s.dat' using %zu:%zu:%zu%s lc rgb '%s' title ", a ? ", \\\n     " : "",
                c.name, 2 + 3 * a, 3 + 3 * a, 4 + 3 * a, a ? "" : ":xtic(1)", color(a));
        gp_str(f, R->allocs[a]);
    }
    fputs("\n", f);
    gp_end(f, &c);
    finish_chart(R, &c);
}

/* Box plots of each cell's repetitions relative to the mean of the allocators' medians.
 * Long: positions every (cell key, allocator) box on the x axis, writes one data block per
 * box and one plot clause per block (titled once per allocator). */
static void chart_boxes(rep *R)
{
    chart c;
    snprintf(c.name, sizeof c.name, "boxplot_time");
    FILE *dat = open_in(R, c.name, "dat");
    if (!dat) return;
    double v[4096];
    size_t nblocks = 0, nshown = 0;
    struct blk {
        size_t a;
        double x;
    } *blk = calloc(R->nkeys * R->nallocs + 1, sizeof *blk);
    double width = 0.8 / (double)R->nallocs;
    int few = 0; /* gnuplot draws a box only from 4 values on; fewer appear as points */
    char(*labels)[400] = calloc(R->nkeys + 1, sizeof *labels);
    for (size_t k = 0; k < R->nkeys; k++) {
        double med[MAX_ALLOCS], sum = 0;
        size_t m = 0;
        for (size_t a = 0; a < R->nallocs; a++) {
            size_t n = cell_values(R, &R->keys[k], R->allocs[a], R->metric, NULL, v, 4096);
            if (n) {
                med[a] = hn_median(v, n);
                sum += med[a];
                m++;
            }
        }
        if (m == 0 || !(sum > 0)) continue;
        double mean = sum / (double)m;
        key_label(R, labels[nshown], sizeof labels[nshown], &R->keys[k]);
        for (size_t a = 0; a < R->nallocs; a++) {
            size_t n = cell_values(R, &R->keys[k], R->allocs[a], R->metric, NULL, v, 4096);
            if (n == 0) continue;
            double x = (double)nshown - 0.4 + width * ((double)a + 0.5);
            fprintf(dat, "%s# %s %s: x relative_to_cross_allocator_mean\n", nblocks ? "\n\n" : "",
                    R->allocs[a], labels[nshown]);
            for (size_t i = 0; i < n; i++)
                fprintf(dat, "%.4f %.6g\n", x, v[i] / mean);
            few |= n < 4;
            blk[nblocks++] = (struct blk){a, x};
        }
        nshown++;
    }
    fclose(dat);
    if (nblocks == 0) {
        free(blk);
        free(labels);
        return;
    }
    if (few) note(R, "box plots: cells with fewer than 4 ok repetitions are drawn as points only");
    snprintf(c.title, sizeof c.title,
             "Spread over repetitions: %s relative to the cross-allocator mean (box plots)",
             strcmp(R->metric, "wall_s") == 0 ? "wall time" : "time per operation");
    FILE *f = gp_begin(R, &c);
    if (!f) {
        free(blk);
        free(labels);
        return;
    }
    fprintf(f,
            "set style fill solid 0.5 border -1\nset style boxplot outliers pointtype 7\nset "
            "pointsize 0.6\n"
            "set boxwidth %.4f absolute\nset ylabel 'relative to the mean of the allocators'\n"
            "set xrange [-0.6:%zu.4]\nset bmargin 9\nset xtics rotate by -30 (",
            width * 0.8, nshown - 1);
    for (size_t i = 0; i < nshown; i++) {
        fprintf(f, "%s", i ? ", " : "");
        gp_str(f, labels[i]);
        fprintf(f, " %zu", i);
    }
    fputs(")\nplot ", f);
    int titled[MAX_ALLOCS] = {0};
    for (size_t i = 0; i < nblocks; i++) {
        size_t a = blk[i].a;
        fprintf(f, "%s'%s.dat' index %zu using (%.4f):2 with boxplot lc rgb '%s' ",
                i ? ", \\\n     " : "", c.name, i, blk[i].x, color(a));
        if (titled[a]) {
            fputs("notitle", f);
        } else {
            fputs("title ", f);
            gp_str(f, R->allocs[a]);
            titled[a] = 1;
        }
    }
    fputs("\n", f);
    gp_end(f, &c);
    free(blk);
    free(labels);
    finish_chart(R, &c);
}

/* ---- GC timeline ---- */

/* GC rows of events.csv have kind gc_start / gc_end (harness/runner/measure.c). */
static int is_gc_kind(const char *kind)
{
    return strncmp(kind, "gc_", 3) == 0;
}

/* One chart per representative cell whose events.csv holds GC events. */
/* Writes the GC table of one cell: one row per GC event (t, heap, goal, limit, pause) and,
 * when the events carry no heap size, the timeline's live bytes as a stand-in. Columns:
 * 1 t_s, 2 heap_MiB, 3 goal_MiB, 4 limit_MiB, 5 pause_ms, 6 live_MiB (nan = none). has[k]
 * says whether column k holds any value. Returns 0, or -1 when it could not write. */
static int gc_table_dat(rep *R, const hn_row *r, const hn_csv *t, FILE *dat, int has[7])
{
    int ct = hn_csv_col(t, "t_s"), ck = hn_csv_col(t, "kind"), chb = hn_csv_col(t, "heap_before"),
        cha = hn_csv_col(t, "heap_after"), cg = hn_csv_col(t, "heap_goal"),
        cl = hn_csv_col(t, "mem_limit"), cp = hn_csv_col(t, "pause_ns");
    fprintf(dat,
            "# %s %s (cell %s, rep %ld)\n# t_s heap_MiB goal_MiB limit_MiB pause_ms "
            "live_MiB\n",
            r->alloc, r->workload, r->cell_id, r->rep);
    for (size_t i = 0; i < t->nrows; i++) {
        const char *kind = t->cell[i * t->ncols + (size_t)ck];
        if (!is_gc_kind(kind)) continue;
        double v[5] = {hn_csv_num(t, i, strcmp(kind, "gc_start") == 0 ? chb : cha),
                       hn_csv_num(t, i, cg), hn_csv_num(t, i, cl), hn_csv_num(t, i, cp), 0};
        fprintf(dat, "%.6f", hn_csv_num(t, i, ct));
        for (int k = 0; k < 4; k++) {
            int ok = isfinite(v[k]) && v[k] > 0; /* -1: the backend cannot tell */
            has[k + 2] |= ok;
            fprintf(dat, ok ? " %.6f" : " nan", k == 3 ? v[k] / 1e6 : v[k] / 1048576.0);
        }
        fputs(" nan\n", dat);
    }
    if (has[2]) return 0;
    hn_csv tl;
    char err[512];
    if (hn_results_cell_csv(&R->res, r, "timeline.csv", &tl, err, sizeof err) <= 0) return 0;
    int tt = hn_csv_col(&tl, "t_s"), tlive = hn_csv_col(&tl, "live_bytes");
    for (size_t i = 0; tt >= 0 && tlive >= 0 && i < tl.nrows; i++) {
        double lv = hn_csv_num(&tl, i, tlive);
        if (!isfinite(lv)) continue;
        fprintf(dat, "%.6f nan nan nan nan %.6f\n", hn_csv_num(&tl, i, tt), lv / 1048576.0);
        has[6] = 1;
    }
    hn_csv_free(&tl);
    return 0;
}

/* One chart per representative cell whose events.csv holds GC events; only the series that
 * have data are drawn (a backend that cannot tell its heap size gets the live bytes). */
static void chart_gc(rep *R, const char *workload, const char *alloc)
{
    static const char *const series[7] = {NULL,
                                          NULL,
                                          "with linespoints lw 2 pt 7 ps 0.5 title 'heap'",
                                          "with steps lw 1 dt 2 title 'heap goal'",
                                          "with lines lw 1 dt 4 title 'memory limit'",
                                          "axes x1y2 with impulses lw 2 title 'GC pause'",
                                          "with lines lw 1 title 'live bytes (timeline)'"};
    const hn_row *r = representative(R, workload, alloc);
    if (!r) return;
    hn_csv t;
    char err[512];
    int rc = hn_results_cell_csv(&R->res, r, "events.csv", &t, err, sizeof err);
    if (rc < 0) note(R, "GC timeline of %s/%s: %s", workload, alloc, err);
    if (rc <= 0) return;
    int ck = hn_csv_col(&t, "kind");
    size_t ngc = 0;
    for (size_t i = 0; ck >= 0 && i < t.nrows; i++)
        ngc += is_gc_kind(t.cell[i * t.ncols + (size_t)ck]);
    chart c;
    char sw[120], sa[60];
    sanitize(sw, sizeof sw, workload);
    sanitize(sa, sizeof sa, alloc);
    snprintf(c.name, sizeof c.name, "gc_%s_%s", sw, sa);
    FILE *dat = (ngc && hn_csv_col(&t, "t_s") >= 0) ? open_in(R, c.name, "dat") : NULL;
    int has[7] = {0};
    if (dat) {
        gc_table_dat(R, r, &t, dat, has);
        fclose(dat);
    }
    hn_csv_free(&t);
    if (!dat) return;
    snprintf(c.title, sizeof c.title, "GC timeline: %s on %s (heap, goal, limit, pauses; rep %ld)",
             alloc, workload, r->rep);
    FILE *f = gp_begin(R, &c);
    if (!f) return;
    fputs("set datafile missing 'nan'\nset xlabel 'time (s)'\nset ylabel 'MiB'\n"
          "set yrange [0:*]\n",
          f);
    if (has[5]) fputs("set y2label 'pause (ms)'\nset y2tics\nset y2range [0:*]\n", f);
    fputs("plot ", f);
    int first = 1;
    for (int k = 2; k < 7; k++) {
        if (!has[k]) continue;
        fprintf(f, "%s'%s.dat' using 1:%d %s", first ? "" : ", \\\n     ", c.name, k, series[k]);
        first = 0;
    }
    fputs(first ? "NaN notitle\n" : "\n", f);
    gp_end(f, &c);
    finish_chart(R, &c);
}

/* ---- goalloc size-class waste ---- */

/* Long: runs goalloc-sizeclasses, reads its CSV, then writes data and script. */
static void chart_sizeclasses(rep *R)
{
    const char *bindir = hn_bindir();
    char tool[4200], cmd[8600];
    snprintf(tool, sizeof tool, "%s/goalloc-sizeclasses", bindir ? bindir : ".");
    if (access(tool, X_OK) != 0) {
        note(R, "no size-class waste chart: %s is not built", "goalloc-sizeclasses");
        return;
    }
    snprintf(cmd, sizeof cmd, "'%s'", tool);
    FILE *p = popen(cmd, "r");
    if (!p) return;
    size_t cap = 65536, len = 0;
    char *buf = malloc(cap);
    size_t got;
    while (buf && (got = fread(buf + len, 1, cap - len - 1, p)) > 0) {
        len += got;
        if (len + 1 == cap) {
            char *nb = realloc(buf, cap *= 2);
            if (!nb) break;
            buf = nb;
        }
    }
    int st = pclose(p);
    hn_csv t;
    char err[512];
    if (!buf || st != 0 || hn_csv_parse(buf, len, "goalloc-sizeclasses", &t, err, sizeof err)) {
        note(R, "no size-class waste chart: goalloc-sizeclasses failed");
        free(buf);
        return;
    }
    free(buf);
    int cc = hn_csv_col(&t, "class"), cs = hn_csv_col(&t, "bytes_span"),
        ctw = hn_csv_col(&t, "tail_waste"), cm = hn_csv_col(&t, "max_waste"),
        cb = hn_csv_col(&t, "bytes_obj");
    chart c;
    snprintf(c.name, sizeof c.name, "sizeclass_waste");
    FILE *dat = (cc >= 0 && cs >= 0 && ctw >= 0 && cm >= 0) ? open_in(R, c.name, "dat") : NULL;
    if (!dat) {
        note(R, "no size-class waste chart: goalloc-sizeclasses output lacks the expected columns");
        hn_csv_free(&t);
        return;
    }
    fprintf(dat, "# class bytes_obj tail_waste_pct_of_span max_waste_pct\n");
    for (size_t i = 0; i < t.nrows; i++) {
        double span = hn_csv_num(&t, i, cs);
        fprintf(dat, "%g %g %.4f %.4f\n", hn_csv_num(&t, i, cc), hn_csv_num(&t, i, cb),
                span > 0 ? hn_csv_num(&t, i, ctw) / span * 100 : NAN, hn_csv_num(&t, i, cm));
    }
    fclose(dat);
    hn_csv_free(&t);
    snprintf(c.title, sizeof c.title, "goalloc size classes: waste per class");
    FILE *f = gp_begin(R, &c);
    if (!f) return;
    fprintf(
        f,
        "set xlabel 'size class'\nset ylabel 'waste (%% of span)'\nset yrange [0:*]\n"
        "plot '%s.dat' using 1:4 with linespoints lw 2 pt 7 title 'max waste (worst case)', \\\n"
        "     '%s.dat' using 1:3 with impulses lw 3 title 'tail waste'\n",
        c.name, c.name);
    gp_end(f, &c);
    finish_chart(R, &c);
}

/* ---- report.md and report.html, written side by side ---- */

typedef struct doc {
    FILE *md, *html;
} doc;

static void html_esc(FILE *f, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '<':
            fputs("&lt;", f);
            break;
        case '>':
            fputs("&gt;", f);
            break;
        case '&':
            fputs("&amp;", f);
            break;
        case '"':
            fputs("&quot;", f);
            break;
        default:
            fputc(*s, f);
        }
    }
}

static void md_esc(FILE *f, const char *s)
{
    for (; *s; s++) {
        if (*s == '|') fputc('\\', f);
        fputc(*s == '\n' ? ' ' : *s, f);
    }
}

static void doc_h(doc *d, int level, const char *text)
{
    fprintf(d->md, "\n%.*s ", level, "######");
    md_esc(d->md, text);
    fputs("\n\n", d->md);
    fprintf(d->html, "<h%d>", level);
    html_esc(d->html, text);
    fprintf(d->html, "</h%d>\n", level);
}

static void doc_p(doc *d, const char *text)
{
    md_esc(d->md, text);
    fputs("\n\n", d->md);
    fputs("<p>", d->html);
    html_esc(d->html, text);
    fputs("</p>\n", d->html);
}

static void doc_code(doc *d, const char *text)
{
    fprintf(d->md, "```\n%s\n```\n\n", text);
    fputs("<pre>", d->html);
    html_esc(d->html, text);
    fputs("</pre>\n", d->html);
}

/* A table row; header != 0 for the first row. */
static void doc_row(doc *d, const char **cells, size_t n, int header)
{
    fputs(header ? "<tr>" : "<tr>", d->html);
    for (size_t i = 0; i < n; i++) {
        fputs("| ", d->md);
        md_esc(d->md, cells[i]);
        fputc(' ', d->md);
        fputs(header ? "<th>" : "<td>", d->html);
        html_esc(d->html, cells[i]);
        fputs(header ? "</th>" : "</td>", d->html);
    }
    fputs("|\n", d->md);
    fputs("</tr>\n", d->html);
    if (header) {
        for (size_t i = 0; i < n; i++)
            fputs("|---", d->md);
        fputs("|\n", d->md);
    }
}

static void doc_table_begin(doc *d)
{
    fputs("<table>\n", d->html);
}

static void doc_table_end(doc *d)
{
    fputs("</table>\n", d->html);
    fputs("\n", d->md);
}

/* Inlines plots/<name>.svg without its XML prolog; 0 when the SVG is missing. */
static int inline_svg(FILE *html, const rep *R, const char *name)
{
    char path[4400];
    snprintf(path, sizeof path, "%s/%s.svg", R->plots, name);
    size_t len;
    char *svg = hn_read_file(path, &len);
    if (!svg) return 0;
    char *start = strstr(svg, "<svg");
    if (start) fprintf(html, "<figure id=\"%s\">\n%s\n</figure>\n", name, start);
    free(svg);
    return start != NULL;
}

static void fmt_num(char *buf, size_t len, double v, const char *unit)
{
    if (!isfinite(v))
        snprintf(buf, len, "-");
    else if (strcmp(unit, "B") == 0)
        snprintf(buf, len, "%.1f MiB", v / 1048576.0);
    else
        snprintf(buf, len, "%.4g%s%s", v, *unit ? " " : "", unit);
}

static void summary_table(rep *R, doc *d)
{
    const char *hdr[] = {"workload", "threads",           "params",      "alloc",    "n ok",
                         R->metric,  "spread (min..max)", "vs baseline", "peak RSS", "p99 latency"};
    const char *unit = strcmp(R->metric, "wall_s") == 0 ? "s" : "ns";
    doc_table_begin(d);
    doc_row(d, hdr, 10, 1);
    double v[4096], b[4096];
    for (size_t k = 0; k < R->nkeys; k++) {
        const rkey *key = &R->keys[k];
        size_t nb = cell_values(R, key, R->baseline, R->metric, NULL, b, 4096);
        double base = nb ? hn_median(b, nb) : NAN;
        for (size_t a = 0; a < R->nallocs; a++) {
            size_t total = 0;
            for (size_t i = 0; i < R->res.nrows; i++) {
                const hn_row *r = &R->res.rows[i];
                total += !strcmp(r->alloc, R->allocs[a]) && !strcmp(r->workload, key->workload) &&
                         !strcmp(r->params, key->params) && r->threads == key->threads;
            }
            if (total == 0) continue;
            size_t n = cell_values(R, key, R->allocs[a], R->metric, NULL, v, 4096);
            char thr[32], nok[64], med[64], spread[128], rel[64], rss[64], p99[512] = "";
            snprintf(thr, sizeof thr, "%ld", key->threads);
            snprintf(nok, sizeof nok, "%zu/%zu", n, total);
            double m = n ? hn_median(v, n) : NAN, lo = n ? v[0] : NAN, hi = lo;
            for (size_t i = 1; i < n; i++) {
                lo = fmin(lo, v[i]);
                hi = fmax(hi, v[i]);
            }
            fmt_num(med, sizeof med, m, unit);
            if (n)
                snprintf(spread, sizeof spread, "%.4g..%.4g %s", lo, hi, unit);
            else
                snprintf(spread, sizeof spread, "-");
            if (base > 0 && isfinite(m))
                snprintf(rel, sizeof rel, "%.3fx", m / base);
            else
                snprintf(rel, sizeof rel, "-");
            size_t nr = cell_values(R, key, R->allocs[a], "peak_rss_bytes", NULL, v, 4096);
            fmt_num(rss, sizeof rss, nr ? hn_median(v, nr) : NAN, "B");
            const char *ops[16];
            size_t nops = workload_ops(R, key->workload, ops, 16);
            for (size_t o = 0; o < nops; o++) {
                size_t np = cell_values(R, key, R->allocs[a], "p99", ops[o], v, 4096);
                if (np == 0) continue;
                size_t l = strlen(p99);
                snprintf(p99 + l, sizeof p99 - l, "%s%s %.4g ns", l ? ", " : "", ops[o],
                         hn_median(v, np));
            }
            const char *cells[] = {key->workload,   thr, *key->params ? key->params : "-",
                                   R->allocs[a],    nok, med,
                                   spread,          rel, rss,
                                   *p99 ? p99 : "-"};
            doc_row(d, cells, 10, 0);
        }
    }
    doc_table_end(d);
}

/* GC figures of the rows that have them (results/README.md `gc`), medians over ok reps. */
static void gc_table(rep *R, doc *d)
{
    static const char *const f[] = {"gc_cycles", "gc_pause_p50_ns", "gc_pause_p99_ns",
                                    "gc_pause_max_ns", "gc_cpu_fraction"};
    size_t with = 0;
    for (size_t i = 0; i < R->res.nrows; i++)
        with += R->res.rows[i].has_gc;
    if (with == 0) return;
    doc_h(d, 2, "Garbage collection");
    const char *hdr[] = {"workload",  "threads",   "alloc",     "GC cycles",
                         "pause p50", "pause p99", "pause max", "GC CPU fraction"};
    doc_table_begin(d);
    doc_row(d, hdr, 8, 1);
    double v[4096];
    for (size_t k = 0; k < R->nkeys; k++)
        for (size_t a = 0; a < R->nallocs; a++) {
            char c[5][64], thr[32];
            int any = 0;
            for (int j = 0; j < 5; j++) {
                size_t n = cell_values(R, &R->keys[k], R->allocs[a], f[j], NULL, v, 4096);
                double m = n ? hn_median(v, n) : NAN;
                any |= n > 0;
                if (!n)
                    snprintf(c[j], sizeof c[j], "-");
                else if (j == 0 || j == 4)
                    snprintf(c[j], sizeof c[j], "%.4g", m);
                else
                    snprintf(c[j], sizeof c[j], "%.4g ms", m / 1e6);
            }
            if (!any) continue;
            snprintf(thr, sizeof thr, "%ld", R->keys[k].threads);
            const char *cells[] = {
                R->keys[k].workload, thr, R->allocs[a], c[0], c[1], c[2], c[3], c[4]};
            doc_row(d, cells, 8, 0);
        }
    doc_table_end(d);
}

static void failed_cells(rep *R, doc *d)
{
    size_t bad = 0;
    for (size_t i = 0; i < R->res.nrows; i++)
        bad += !is_ok(&R->res.rows[i]);
    if (bad == 0) return;
    doc_h(d, 2, "Cells that did not finish ok");
    const char *hdr[] = {"cell", "alloc", "workload", "threads", "status", "reason"};
    doc_table_begin(d);
    doc_row(d, hdr, 6, 1);
    for (size_t i = 0; i < R->res.nrows; i++) {
        const hn_row *r = &R->res.rows[i];
        if (is_ok(r)) continue;
        char thr[32];
        snprintf(thr, sizeof thr, "%ld", r->threads);
        const char *cells[] = {r->cell_id, r->alloc,  r->workload,
                               thr,        r->status, r->error ? r->error : "-"};
        doc_row(d, cells, 6, 0);
    }
    doc_table_end(d);
}

/* The run's environment from meta.json: one row per scalar field of interest. */
static void environment(rep *R, doc *d)
{
    static const char *const keys[] = {"host",        "cpu_model", "ncpu",       "kernel",
                                       "thp",         "compiler",  "build_type", "build_flags",
                                       "git_commit",  "git_dirty", "started",    "finished",
                                       "tool_version"};
    json_t *m = R->res.meta;
    doc_h(d, 2, "Environment");
    if (!m) {
        doc_p(d, "No meta.json: the environment is unknown.");
        return;
    }
    const char *hdr[] = {"field", "value"};
    doc_table_begin(d);
    doc_row(d, hdr, 2, 1);
    for (size_t i = 0; i < sizeof keys / sizeof *keys; i++) {
        json_t *v = json_object_get(m, keys[i]);
        if (!v) continue;
        char *txt = json_is_string(v) ? strdup(json_string_value(v))
                                      : json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
        const char *cells[] = {keys[i], txt ? txt : "?"};
        doc_row(d, cells, 2, 0);
        free(txt);
    }
    static const char *const objs[] = {"allocators", "env", "timer", "matrix"};
    for (size_t i = 0; i < sizeof objs / sizeof *objs; i++) {
        json_t *o = json_object_get(m, objs[i]);
        if (!json_is_object(o)) continue;
        const char *k;
        json_t *v;
        json_object_foreach(o, k, v)
        {
            char name[256];
            snprintf(name, sizeof name, "%s.%s", objs[i], k);
            char *txt = json_is_string(v) ? strdup(json_string_value(v))
                                          : json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
            const char *cells[] = {name, txt ? txt : "?"};
            doc_row(d, cells, 2, 0);
            free(txt);
        }
    }
    doc_table_end(d);
}

static void command_line(rep *R, doc *d)
{
    json_t *cmd = R->res.meta ? json_object_get(R->res.meta, "command") : NULL;
    doc_h(d, 2, "Command");
    if (!json_is_array(cmd)) {
        doc_p(d, "Unknown (meta.json has no command).");
        return;
    }
    char line[8192] = "";
    size_t i;
    json_t *v;
    json_array_foreach(cmd, i, v)
    {
        const char *s = json_is_string(v) ? json_string_value(v) : "?";
        size_t l = strlen(line);
        int quote = strpbrk(s, " \t'\"$`\\;&|<>*?") != NULL || !*s;
        snprintf(line + l, sizeof line - l, "%s%s%s%s", i ? " " : "", quote ? "'" : "", s,
                 quote ? "'" : "");
    }
    doc_code(d, line);
}

/* Long: the document is a fixed sequence of sections written to both formats at once; it
 * reads top to bottom like the report it writes. */
static int write_reports(rep *R)
{
    char md[4400], html[4400], mdt[4500], htmlt[4500];
    snprintf(md, sizeof md, "%s/report.md", R->dir);
    snprintf(html, sizeof html, "%s/report.html", R->dir);
    snprintf(mdt, sizeof mdt, "%s.tmp", md);
    snprintf(htmlt, sizeof htmlt, "%s.tmp", html);
    doc d = {fopen(mdt, "w"), fopen(htmlt, "w")};
    if (!d.md || !d.html) {
        hn_error("report", "cannot write %s: %s", d.md ? html : md, strerror(errno));
        if (d.md) fclose(d.md);
        if (d.html) fclose(d.html);
        return HN_EXIT_FAIL;
    }
    const char *slash = strrchr(R->dir, '/');
    const char *base = (slash && slash[1]) ? slash + 1 : R->dir;
    char title[600];
    snprintf(title, sizeof title, "abench report: %s", base);
    fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>", d.html);
    html_esc(d.html, title);
    fputs("</title>\n<style>body{font-family:sans-serif;max-width:1100px;margin:auto;padding:1em}"
          "table{border-collapse:collapse;font-size:90%}td,th{border:1px solid #bbb;padding:2px "
          "6px;text-align:left}pre{background:#f4f4f4;padding:6px;white-space:pre-wrap}"
          "figure{margin:1em 0}figure svg{max-width:100%;height:auto}</style>\n</head><body>\n",
          d.html);
    fprintf(d.md, "# ");
    md_esc(d.md, title);
    fputs("\n", d.md);
    fputs("<h1>", d.html);
    html_esc(d.html, title);
    fputs("</h1>\n", d.html);
    char intro[1024];
    snprintf(intro, sizeof intro,
             "%zu cells, %zu allocators, %zu workloads. Baseline: %s. Time metric: %s (median "
             "over ok repetitions; spread min..max). Timeline and latency charts show one "
             "repetition per allocator: the lowest repetition of the workload's first parameter "
             "set at its lowest thread count.",
             R->res.nrows, R->nallocs, R->nworkloads, R->baseline, R->metric);
    doc_p(&d, intro);
    command_line(R, &d);
    doc_h(&d, 2, "Summary");
    summary_table(R, &d);
    gc_table(R, &d);
    failed_cells(R, &d);
    doc_h(&d, 2, "Charts");
    for (size_t i = 0; i < R->ncharts; i++) {
        const chart *c = &R->charts[i];
        doc_h(&d, 3, c->title);
        fprintf(d.md, "![");
        md_esc(d.md, c->title);
        fprintf(d.md,
                "](plots/%s.svg)\n\nData: `plots/%s.dat`, script: `plots/%s.gp`, PNG: "
                "`plots/%s.png`.\n\n",
                c->name, c->name, c->name, c->name);
        if (!inline_svg(d.html, R, c->name))
            fprintf(d.html,
                    "<p>Chart not drawn (plots/%s.gp and plots/%s.dat are there to "
                    "draw it).</p>\n",
                    c->name, c->name);
    }
    if (R->ncharts == 0) doc_p(&d, "No chart: the run has no ok cell with data to plot.");
    if (R->nnotes) {
        doc_h(&d, 2, "Notes");
        for (size_t i = 0; i < R->nnotes; i++)
            doc_p(&d, R->notes[i]);
    }
    environment(R, &d);
    fputs("</body></html>\n", d.html);
    int bad = ferror(d.md) || ferror(d.html);
    bad |= fclose(d.md) != 0;
    bad |= fclose(d.html) != 0;
    if (bad || rename(mdt, md) != 0 || rename(htmlt, html) != 0) {
        hn_error("report", "cannot write %s / %s: %s", md, html, strerror(errno));
        return HN_EXIT_FAIL;
    }
    return HN_EXIT_OK;
}

/* ---- Entry points ---- */

/* Removes what an earlier `abench report` wrote into plots/ (the chart files and the log);
 * anything else in the folder is left alone. */
static void clear_plots(const char *plots)
{
    static const char *const ext[] = {".gp", ".dat", ".svg", ".png", ".log"};
    DIR *d = opendir(plots);
    struct dirent *e;
    while (d && (e = readdir(d))) {
        const char *dot = strrchr(e->d_name, '.');
        for (size_t i = 0; dot && i < sizeof ext / sizeof *ext; i++)
            if (strcmp(dot, ext[i]) == 0) {
                char p[4400];
                snprintf(p, sizeof p, "%s/%s", plots, e->d_name);
                unlink(p);
                break;
            }
    }
    if (d) closedir(d);
}

static void rep_free(rep *R)
{
    hn_results_free(&R->res);
    free(R->workloads);
    free(R->keys);
    free(R->charts);
    for (size_t i = 0; i < R->nnotes; i++)
        free(R->notes[i]);
    free(R->notes);
}

static int has_alloc(const hn_results *res, const char *alloc)
{
    for (size_t i = 0; i < res->nrows; i++)
        if (strcmp(res->rows[i].alloc, alloc) == 0) return 1;
    return 0;
}

/* Long: argument checks, then the fixed list of charts, then the documents. */
int hn_report_run(const char *run_dir, const char *baseline)
{
    rep R;
    memset(&R, 0, sizeof R);
    char err[1024];
    struct stat st;
    if (stat(run_dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        hn_error("report", "%s: not a run folder", run_dir);
        return HN_EXIT_EX_USAGE;
    }
    if (hn_results_load(run_dir, &R.res, err, sizeof err) != 0) {
        hn_error("report", "%s", err);
        return HN_EXIT_EX_USAGE;
    }
    R.dir = run_dir;
    if (R.res.nrows == 0) {
        hn_error("report", "%s: no rows to report", run_dir);
        rep_free(&R);
        return HN_EXIT_EX_USAGE;
    }
    if (baseline && !has_alloc(&R.res, baseline)) {
        hn_error("report", "--baseline: allocator '%s' is not in %s", baseline, run_dir);
        rep_free(&R);
        return HN_EXIT_EX_USAGE;
    }
    R.baseline = baseline ? baseline : (has_alloc(&R.res, "sys") ? "sys" : R.res.rows[0].alloc);
    group(&R);
    snprintf(R.plots, sizeof R.plots, "%s/plots", run_dir);
    if (mkdir(R.plots, 0777) != 0 && errno != EEXIST) {
        hn_error("report", "cannot create %s: %s", R.plots, strerror(errno));
        rep_free(&R);
        return HN_EXIT_EX_USAGE;
    }
    clear_plots(R.plots); /* plots/ holds this report's charts only, never stale ones */
    R.gnuplot_ok = 1;
    for (size_t w = 0; w < R.nworkloads; w++)
        chart_frag(&R, R.workloads[w]);
    for (size_t w = 0; w < R.nworkloads; w++) {
        const char *ops[16];
        size_t n = workload_ops(&R, R.workloads[w], ops, 16);
        for (size_t o = 0; o < n; o++)
            chart_latency(&R, R.workloads[w], ops[o]);
    }
    for (size_t w = 0; w < R.nworkloads; w++)
        chart_throughput(&R, R.workloads[w]);
    chart_relative(&R);
    chart_boxes(&R);
    for (size_t w = 0; w < R.nworkloads; w++)
        for (size_t a = 0; a < R.nallocs; a++)
            chart_gc(&R, R.workloads[w], R.allocs[a]);
    if (has_alloc(&R.res, "goalloc")) chart_sizeclasses(&R); /* goalloc's own property */
    char log[4200];
    struct stat lst;
    snprintf(log, sizeof log, "%s/gnuplot.log", R.plots);
    if (stat(log, &lst) == 0 && lst.st_size == 0) unlink(log);
    int drawn = R.gnuplot_ok;
    int rc = write_reports(&R);
    if (rc == HN_EXIT_OK)
        printf("abench report: %zu charts in %s, report in %s/report.md and %s/report.html\n",
               R.ncharts, R.plots, run_dir, run_dir);
    rep_free(&R);
    return rc != HN_EXIT_OK ? rc : (drawn ? HN_EXIT_OK : HN_EXIT_FAIL);
}

int hn_cmd_report(int argc, char **argv)
{
    static const struct option opts[] = {{"baseline", required_argument, NULL, 'b'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *baseline = NULL;
    int c;
    while ((c = hn_getopt("report", argc, argv, ":b:h", opts)) != -1) {
        if (c == 'b') {
            baseline = optarg;
        } else if (c == 'h') {
            puts("usage: abench report DIR [--baseline ALLOC]\n"
                 "Draws the charts of a run folder into DIR/plots/ (<chart>.gp, .dat, .svg, "
                 ".png)\nand writes DIR/report.md and DIR/report.html. Baseline default: sys.\n"
                 "Exit: 0 done, 1 a chart could not be drawn, 64 bad usage or input.");
            return HN_EXIT_OK;
        } else {
            return HN_EXIT_EX_USAGE;
        }
    }
    if (optind >= argc) {
        hn_error("report", "needs a run folder: abench report DIR [--baseline ALLOC]");
        return HN_EXIT_EX_USAGE;
    }
    if (optind + 1 < argc) {
        hn_error("report", "unexpected argument '%s' (one run folder)", argv[optind + 1]);
        return HN_EXIT_EX_USAGE;
    }
    return hn_report_run(argv[optind], baseline);
}
