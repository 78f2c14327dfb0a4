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
#include <stdint.h>
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

/* The allocators of one timeline chart: representative rows that share their parameters and
 * thread count, so a chart never mixes gc and manual cells (or two variants) under one title. */
typedef struct rgroup {
    const char *params;
    long threads;
    size_t n;
    size_t alloc[MAX_ALLOCS]; /* index into R->allocs */
    const hn_row *row[MAX_ALLOCS];
} rgroup;

/* Groups the workload's representative rows (one per allocator) by (params, threads), in
 * allocator order. Returns the number of groups (at most max). */
static size_t rep_groups(const rep *R, const char *workload, rgroup *g, size_t max)
{
    size_t ng = 0;
    for (size_t a = 0; a < R->nallocs; a++) {
        const hn_row *r = representative(R, workload, R->allocs[a]);
        if (!r) continue;
        size_t k;
        for (k = 0; k < ng; k++)
            if (strcmp(g[k].params, r->params) == 0 && g[k].threads == r->threads) break;
        if (k == ng) {
            if (ng == max) continue;
            memset(&g[ng], 0, sizeof g[ng]);
            g[ng].params = r->params;
            g[ng].threads = r->threads;
            ng++;
        }
        g[k].alloc[g[k].n] = a;
        g[k].row[g[k].n++] = r;
    }
    return ng;
}

/* Title text of a group: the workload and the parameters that tell its cells apart from the
 * workload's other cells (e.g. "churn-gc mode=gc"); the chart name gets the same as a suffix
 * when the workload has more than one group. */
static void group_label(const rep *R, const char *workload, const rgroup *all, size_t ng, size_t gi,
                        char *buf, size_t len, char *suffix, size_t slen)
{
    const rgroup *g = &all[gi];
    rkey k = {workload, g->params, 0};
    key_label(R, buf, len, &k);
    suffix[0] = 0;
    if (ng < 2) return;
    int thr_differs = 0; /* another group with these parameters at another thread count */
    for (size_t i = 0; i < ng; i++)
        thr_differs |= i != gi && strcmp(all[i].params, g->params) == 0;
    const char *extra = buf + strlen(workload);
    char tmp[300];
    snprintf(tmp, sizeof tmp, "_%s", *extra ? extra + 1 : "");
    if (thr_differs && g->threads > 0) {
        size_t l = strlen(tmp);
        snprintf(tmp + l, sizeof tmp - l, "_t%ld", g->threads);
    }
    for (char *p = tmp; *p; p++)
        if (*p == '=') *p = '-';
    sanitize(suffix, slen, tmp);
}

/* 1 when the cell is collected by a GC (mode=gc or variant=gc): the cells whose GC timeline
 * and pauses mean something. A manual cell on a GC backend (boehm's malloc/free, goalloc's
 * manual mode) may still collect, but its chart would describe a GC the workload does not ask
 * for. */
static int is_gc_cell(const hn_row *r)
{
    for (const char *p = r->params; *p;) {
        size_t l = strcspn(p, ";");
        if ((l == 7 && strncmp(p, "mode=gc", 7) == 0) ||
            (l == 10 && strncmp(p, "variant=gc", 10) == 0))
            return 1;
        p += l + (p[l] == ';');
    }
    return 0;
}

/* ---- Writing charts ---- */

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

/* Phase events of a cell (events.csv rows of kind "phase"): their times and names, so a
 * timeline can mark where the workload changed phase. Returns how many (at most max). */
static size_t phase_marks(const rep *R, const hn_row *r, double *t, char (*name)[32], size_t max)
{
    hn_csv e;
    char err[512];
    size_t n = 0;
    if (hn_results_cell_csv(&R->res, r, "events.csv", &e, err, sizeof err) <= 0) return 0;
    int ct = hn_csv_col(&e, "t_s"), ck = hn_csv_col(&e, "kind"), cn = hn_csv_col(&e, "name");
    for (size_t i = 0; ct >= 0 && ck >= 0 && cn >= 0 && i < e.nrows && n < max; i++) {
        if (strcmp(e.cell[i * e.ncols + (size_t)ck], "phase") != 0) continue;
        const char *nm = e.cell[i * e.ncols + (size_t)cn];
        /* consecutive repeats of one phase (a phase per worker) mark once */
        if (n && strcmp(name[n - 1], nm) == 0) continue;
        t[n] = hn_csv_num(&e, i, ct);
        snprintf(name[n], sizeof name[n], "%s", nm);
        n += isfinite(t[n]);
    }
    hn_csv_free(&e);
    return n;
}

/* Long because it writes the .dat (one block per allocator) and the .gp in one pass; the
 * two halves share the list of series. One chart per group of cells (rep_groups). */
static void chart_frag_group(rep *R, const char *workload, const rgroup *g, size_t ng, size_t gi)
{
    chart c;
    char sw[60], wl[300], suffix[100];
    sanitize(sw, sizeof sw, workload);
    group_label(R, workload, g - gi, ng, gi, wl, sizeof wl, suffix, sizeof suffix);
    snprintf(c.name, sizeof c.name, "frag_%s%s", sw, suffix);
    FILE *dat = NULL;
    size_t idx = 0, nsamples = SIZE_MAX;
    const char *series[MAX_ALLOCS];
    size_t sidx[MAX_ALLOCS];
    int has_live[MAX_ALLOCS] = {0};
    double marks[32];
    char mark_name[32][32];
    size_t nmarks = 0;
    long rp = -1;
    for (size_t m = 0; m < g->n; m++) {
        const hn_row *r = g->row[m];
        hn_csv t;
        char err[512];
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
            if (isfinite(lv) && lv > 0) {
                fprintf(dat, "%.6f\n", lv / 1048576.0);
                has_live[idx] = 1;
            } else {
                fprintf(dat, "NaN\n");
            }
        }
        if (t.nrows < nsamples) nsamples = t.nrows;
        hn_csv_free(&t);
        if (nmarks == 0) nmarks = phase_marks(R, r, marks, mark_name, 32);
        series[idx] = r->alloc;
        sidx[idx++] = g->alloc[m];
        rp = r->rep;
    }
    if (!dat) return;
    fclose(dat);
    long thr = g->threads;
    char thr_text[48] = "";
    if (thr > 0) snprintf(thr_text, sizeof thr_text, ", %ld thread%s", thr, thr == 1 ? "" : "s");
    snprintf(c.title, sizeof c.title, "Fragmentation: %s - resident and live memory (rep %ld%s)",
             wl, rp, thr_text);
    FILE *f = gp_begin(R, &c);
    if (!f) return;
    /* the legend goes under the plot in columns, so the plot keeps the width */
    fputs("set key below horizontal maxcols 4 samplen 3\nset xlabel 'time (s)'\n"
          "set autoscale xfix\nset format x '%g'\n"
          "set ylabel 'MiB'\nset yrange [0:*]\nset offsets 0, 0, graph 0.08, 0\n"
          "set datafile missing 'NaN'\n",
          f);
    for (size_t i = 0; i < nmarks; i++) {
        fprintf(f, "set arrow from %.6f, graph 0 to %.6f, graph 1 nohead lc rgb '#999999' dt 3\n",
                marks[i], marks[i]);
        fprintf(f, "set label %zu ", i + 1);
        gp_str(f, mark_name[i]);
        /* staggered in three rows: phases close in time would print over each other */
        fprintf(f, " at %.6f, graph %.2f left offset 0.3,0 font 'sans,9' tc rgb '#555555'\n",
                marks[i], 0.97 - 0.05 * (double)(i % 3));
    }
    fputs("plot ", f);
    for (size_t i = 0; i < idx; i++) {
        char t1[300], t2[300];
        snprintf(t1, sizeof t1, "%s resident", series[i]);
        snprintf(t2, sizeof t2, "%s live", series[i]);
        fprintf(
            f,
            "%s'%s.dat' index %zu using 1:2 with linespoints lw 2 pt 7 ps 0.4 lc rgb '%s' title ",
            i ? ", \\\n     " : "", c.name, i, color(sidx[i]));
        gp_str(f, t1);
        if (!has_live[i]) continue;
        /* live lines differ by dash pattern and marker as well as colour: they often overlap */
        fprintf(f,
                ", \\\n     '%s.dat' index %zu using 1:3 with linespoints lw 1.5 dt %zu pt %zu "
                "ps 0.5 lc rgb '%s' title ",
                c.name, i, 2 + i % 4, 4 + 2 * (i % 4), color(sidx[i]));
        gp_str(f, t2);
    }
    fputs("\n", f);
    gp_end(f, &c);
    finish_chart(R, &c);
    if (nsamples < 20)
        note(R, "%s: only %zu timeline samples per cell (the run's --sampler-ms sets the rate)",
             c.name, nsamples);
}

static void chart_frag(rep *R, const char *workload)
{
    rgroup g[8];
    size_t ng = rep_groups(R, workload, g, 8);
    for (size_t i = 0; i < ng; i++)
        chart_frag_group(R, workload, &g[i], ng, i);
}

/* ---- Latency percentile distribution ---- */

/* The timer's resolution from meta.json (timer.resolution_ns), NAN when unknown. */
static double timer_resolution_ns(const rep *R)
{
    json_t *t = R->res.meta ? json_object_get(R->res.meta, "timer") : NULL;
    json_t *v = t ? json_object_get(t, "resolution_ns") : NULL;
    return json_is_number(v) ? json_number_value(v) : NAN;
}

/* Samples behind one operation's histogram (the row's lat.<op>.count), 0 when unknown. */
static double lat_count(const hn_row *r, const char *op)
{
    for (size_t k = 0; k < r->nlat; k++)
        if (strcmp(r->lat[k].op, op) == 0 && isfinite(r->lat[k].count)) return r->lat[k].count;
    return 0;
}

/* Long: data blocks per allocator, then the axes (percentiles on x, latency with time units
 * on a log y axis, the timer's quantisation band) and the series. */
static void chart_latency_group(rep *R, const char *workload, const char *op, const rgroup *g,
                                size_t ng, size_t gi)
{
    chart c;
    char sw[60], so[40], wl[300], suffix[80];
    sanitize(sw, sizeof sw, workload);
    sanitize(so, sizeof so, op);
    group_label(R, workload, g - gi, ng, gi, wl, sizeof wl, suffix, sizeof suffix);
    snprintf(c.name, sizeof c.name, "latency_%s%s_%s", sw, suffix, so);
    FILE *dat = NULL;
    size_t idx = 0, sidx[MAX_ALLOCS];
    char series[MAX_ALLOCS][96];
    double maxinv = 1, vmin = INFINITY, vmax = 0, nmin = INFINITY;
    for (size_t m = 0; m < g->n; m++) {
        const hn_row *r = g->row[m];
        hn_hgrm h;
        char err[512];
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
        fprintf(dat, "%s# %s (cell %s, rep %ld): 1/(1-p) latency_us percentile\n",
                idx ? "\n\n" : "", r->alloc, r->cell_id, r->rep);
        for (size_t i = 0; i < h.n; i++)
            if (h.inv[i] >= 1 && h.value[i] > 0) {
                fprintf(dat, "%.6g %.6g %.12g\n", h.inv[i], h.value[i] / 1e3, h.pct[i]);
                maxinv = fmax(maxinv, h.inv[i]);
                vmin = fmin(vmin, h.value[i]);
                vmax = fmax(vmax, h.value[i]);
            }
        hn_hgrm_free(&h);
        double n = lat_count(r, op);
        nmin = fmin(nmin, n);
        if (n > 0)
            snprintf(series[idx], sizeof series[idx], "%s (n=%.0f)", r->alloc, n);
        else
            snprintf(series[idx], sizeof series[idx], "%s", r->alloc);
        sidx[idx++] = g->alloc[m];
    }
    if (!dat) return;
    fclose(dat);
    long thr = g->threads;
    char thr_text[48] = "";
    if (thr > 0) snprintf(thr_text, sizeof thr_text, ", %ld thread%s", thr, thr == 1 ? "" : "s");
    snprintf(c.title, sizeof c.title, "Latency: %s, %s (percentile distribution%s)", wl, op,
             thr_text);
    FILE *f = gp_begin(R, &c);
    if (!f) return;
    /* x runs to the next power of ten above the deepest percentile measured (at least 99.99%,
     * so the axis always shows the labels of BENCH_METHOD.md); the 0% label would collide
     * with 50%, so the axis is labelled from 50% on */
    double xmax = fmin(1e7, fmax(1e4, pow(10, ceil(log10(maxinv)))));
    fprintf(f,
            "set logscale x\nset logscale y\nset xrange [1:%g]\n"
            "set xtics (\"50%%%%\" 2, \"90%%%%\" 10, \"99%%%%\" 100, \"99.9%%%%\" 1000, "
            "\"99.99%%%%\" 10000, \"99.999%%%%\" 100000, \"99.9999%%%%\" 1000000, "
            "\"99.99999%%%%\" 10000000)\n"
            "set ytics (\"1 ns\" 0.001, \"10 ns\" 0.01, \"100 ns\" 0.1, \"1 µs\" 1, \"10 µs\" 10, "
            "\"100 µs\" 100, \"1 ms\" 1000, \"10 ms\" 10000, \"100 ms\" 100000, \"1 s\" 1e6)\n"
            "set yrange [%g:%g]\n"
            "set xlabel 'percentile'\nset ylabel 'latency'\nset key inside top left\n",
            xmax, pow(10, floor(log10(vmin / 1e3))), pow(10, ceil(log10(vmax / 1e3 * 1.01))));
    double res = timer_resolution_ns(R);
    if (isfinite(res) && res > 0 && 10 * res > vmin) {
        /* below ten timer steps a value is quantised by 10% or more */
        fprintf(f,
                "set object 1 rect from graph 0, graph 0 to graph 1, first %g fc rgb '#eeeeee' "
                "fs solid noborder behind\n"
                "set label 100 'below 10 timer steps (%.3g ns each): quantised' at graph 0.99, "
                "first %g right offset 0,-0.7 font 'sans,9' tc rgb '#777777'\n",
                10 * res / 1e3, res, 10 * res / 1e3);
    }
    fputs("plot ", f);
    for (size_t i = 0; i < idx; i++) {
        fprintf(f, "%s'%s.dat' index %zu using 1:2 with steps lw 2 lc rgb '%s' title ",
                i ? ", \\\n     " : "", c.name, i, color(sidx[i]));
        gp_str(f, series[i]);
    }
    fputs("\n", f);
    gp_end(f, &c);
    finish_chart(R, &c);
    if (nmin < 1000)
        note(R,
             "%s: as few as %.0f samples behind a curve: its tail percentiles are single "
             "samples",
             c.name, nmin);
}

static void chart_latency(rep *R, const char *workload, const char *op)
{
    rgroup g[8];
    size_t ng = rep_groups(R, workload, g, 8);
    for (size_t i = 0; i < ng; i++)
        chart_latency_group(R, workload, op, &g[i], ng, i);
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
    if (nt < 2) {
        /* one thread count: a line chart of single points says nothing the summary table
         * and the relative-time chart do not */
        note(R,
             "no throughput chart for %s: it ran at one thread count only (give --threads "
             "1,2,... to draw throughput against threads)",
             workload);
        return;
    }
    /* the axis unit from the largest median: ops/s, thousands, millions or billions */
    double top = 0, v[4096];
    for (size_t a = 0; a < R->nallocs; a++)
        for (size_t t = 0; t < nt; t++) {
            rkey k = {workload, params, threads[t]};
            size_t n = cell_values(R, &k, R->allocs[a], "ops_per_s", NULL, v, 4096);
            if (n) top = fmax(top, hn_median(v, n));
        }
    static const char *const scale_name[] = {"", " (thousands)", " (millions)", " (billions)"};
    int si = top >= 1e9 ? 3 : top >= 1e6 ? 2 : top >= 1e3 ? 1 : 0;
    double scale = pow(1e3, si);
    FILE *dat = NULL;
    size_t idx = 0, sidx[MAX_ALLOCS];
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
            fprintf(dat, "%ld %.6g %.6g %.6g %zu\n", threads[t], hn_median(v, n) / scale,
                    lo / scale, hi / scale, n);
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
            "set xlabel 'threads'\nset ylabel 'operations per second%s, all threads'\n"
            "set xtics 1\nset xrange [0.5:%ld.5]\nset yrange [0:*]\nset format y '%%g'\n"
            "set offsets 0, 0, graph 0.1, 0\nplot ",
            scale_name[si], threads[nt - 1]);
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
    size_t rows = 0, maxlab = 4;
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
        if (strlen(label) > maxlab) maxlab = strlen(label);
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
            "set style fill solid 0.8 border -1\nset boxwidth 0.9\n"
            "set xtics rotate by 30 right nomirror\nset bmargin %.0f\n"
            "set datafile missing 'NaN'\nplot ",
            fmin(lo, 1) / 1.3, fmax(hi, 1) * 1.3, R->baseline, 2 + 0.26 * (double)maxlab);
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
    double width = 0.8 / (double)R->nallocs, vlo = INFINITY, vhi = 0;
    int few = 0; /* a box needs 5 values to mean anything; fewer are drawn as points */
    size_t maxlab = 4;
    int *npts = calloc(R->nkeys * R->nallocs + 1, sizeof *npts);
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
        if (strlen(labels[nshown]) > maxlab) maxlab = strlen(labels[nshown]);
        for (size_t a = 0; a < R->nallocs; a++) {
            size_t n = cell_values(R, &R->keys[k], R->allocs[a], R->metric, NULL, v, 4096);
            if (n == 0) continue;
            double x = (double)nshown - 0.4 + width * ((double)a + 0.5);
            fprintf(dat, "%s# %s %s: x relative_to_cross_allocator_mean\n", nblocks ? "\n\n" : "",
                    R->allocs[a], labels[nshown]);
            for (size_t i = 0; i < n; i++) {
                fprintf(dat, "%.4f %.6g\n", x, v[i] / mean);
                if (v[i] > 0) {
                    vlo = fmin(vlo, v[i] / mean);
                    vhi = fmax(vhi, v[i] / mean);
                }
            }
            few |= n < 5;
            npts[nblocks] = (int)n;
            blk[nblocks++] = (struct blk){a, x};
        }
        nshown++;
    }
    fclose(dat);
    if (nblocks == 0) {
        free(blk);
        free(labels);
        free(npts);
        return;
    }
    if (few)
        note(R, "box plots: cells with fewer than 5 ok repetitions are drawn as their points "
                "(a box of 3 or 4 values is no distribution)");
    snprintf(c.title, sizeof c.title,
             "Spread over repetitions: %s relative to the cross-allocator mean (%s)",
             strcmp(R->metric, "wall_s") == 0 ? "wall time" : "time per operation",
             few ? "boxes from 5 repetitions, points below" : "box plots");
    FILE *f = gp_begin(R, &c);
    if (!f) {
        free(blk);
        free(labels);
        free(npts);
        return;
    }
    /* a log axis once the values span more than 4x, so one outlier does not flatten the rest */
    int logy = vhi > 4 * vlo;
    fprintf(f,
            "set style fill solid 0.5 border -1\nset style boxplot outliers pointtype 7\nset "
            "pointsize 0.6\n"
            "set boxwidth %.4f absolute\nset ylabel 'relative to the mean of the allocators%s'\n"
            "%s"
            "set xrange [-0.6:%zu.4]\nset bmargin %.0f\nset xtics rotate by 30 right nomirror (",
            width * 0.8, logy ? " (log scale)" : "", logy ? "set logscale y\n" : "", nshown - 1,
            2 + 0.26 * (double)maxlab);
    for (size_t i = 0; i < nshown; i++) {
        fprintf(f, "%s", i ? ", " : "");
        gp_str(f, labels[i]);
        fprintf(f, " %zu", i);
    }
    fputs(")\nplot ", f);
    int titled[MAX_ALLOCS] = {0};
    for (size_t i = 0; i < nblocks; i++) {
        size_t a = blk[i].a;
        if (npts[i] >= 5)
            fprintf(f, "%s'%s.dat' index %zu using (%.4f):2 with boxplot lc rgb '%s' ",
                    i ? ", \\\n     " : "", c.name, i, blk[i].x, color(a));
        else
            fprintf(f, "%s'%s.dat' index %zu using 1:2 with points pt 7 ps 0.7 lc rgb '%s' ",
                    i ? ", \\\n     " : "", c.name, i, color(a));
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
    free(npts);
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

/* A size parameter's value in bytes ("64M", "64MiB", "1048576"), NAN when absent or not a
 * size. */
static double param_bytes(const char *params, const char *key)
{
    size_t kl = strlen(key);
    for (const char *p = params; *p;) {
        size_t l = strcspn(p, ";");
        if (l > kl && strncmp(p, key, kl) == 0 && p[kl] == '=') {
            char buf[64], *end;
            snprintf(buf, sizeof buf, "%.*s", (int)(l - kl - 1), p + kl + 1);
            double v = strtod(buf, &end);
            static const char units[] = "KMGT";
            const char *u = *end ? strchr(units, *end) : NULL;
            if (u) v *= pow(1024, (double)(u - units + 1));
            return end != buf ? v : NAN;
        }
        p += l + (p[l] == ';');
    }
    return NAN;
}

/* One chart per GC cell (is_gc_cell) whose events.csv holds GC events; only the series that
 * have data are drawn and named in the title (a backend that cannot tell its heap size gets
 * the live bytes). The y range leaves headroom above the highest line, so a constant heap goal
 * or limit is not hidden in the frame. */
static void chart_gc(rep *R, const char *workload, const char *alloc)
{
    static const char *const series[7] = {
        NULL,
        NULL,
        "with linespoints lw 2 pt 7 ps 0.5 lc rgb '#1f77b4' title 'heap'",
        "with steps lw 2 dt 2 lc rgb '#ff7f0e' title 'heap goal'",
        "with lines lw 2 dt 4 lc rgb '#d62728' title 'memory limit'",
        "axes x1y2 with points pt 7 ps 0.4 lc rgb '#2ca02c' title 'GC pause'",
        "with lines lw 1.5 lc rgb '#9467bd' title 'live bytes (timeline)'"};
    static const char *const what[7] = {NULL, NULL, "heap", "goal", "limit", "pauses", "live"};
    const hn_row *r = representative(R, workload, alloc);
    if (!r || !is_gc_cell(r)) return;
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
    double limit = param_bytes(r->params, "memlimit");
    int const_limit = !has[4] && isfinite(limit) && limit > 0;
    char wl[300], parts[100] = "";
    rkey k = {workload, r->params, 0};
    key_label(R, wl, sizeof wl, &k);
    for (int j = 2; j < 7; j++)
        if (has[j] || (j == 4 && const_limit)) {
            size_t l = strlen(parts);
            snprintf(parts + l, sizeof parts - l, "%s%s", l ? ", " : "", what[j]);
        }
    snprintf(c.title, sizeof c.title, "GC timeline: %s on %s (%s; rep %ld)", alloc, wl, parts,
             r->rep);
    FILE *f = gp_begin(R, &c);
    if (!f) return;
    fputs("set datafile missing 'nan'\nset xlabel 'time (s)'\nset ylabel 'MiB'\n"
          "set yrange [0:*]\nset offsets 0, 0, graph 0.15, 0\nset key below horizontal\n",
          f);
    if (has[5])
        fputs("set y2label 'pause (ms)'\nset y2tics\nset y2range [0:*]\nset ytics nomirror\n", f);
    fputs("plot ", f);
    int first = 1;
    for (int j = 2; j < 7; j++) {
        if (!has[j]) continue;
        fprintf(f, "%s'%s.dat' using 1:%d %s", first ? "" : ", \\\n     ", c.name, j, series[j]);
        first = 0;
    }
    if (const_limit) {
        fprintf(f, "%s%.6f with lines lw 2 dt 4 lc rgb '#d62728' title 'memory limit'",
                first ? "" : ", \\\n     ", limit / 1048576.0);
        first = 0;
    }
    fputs(first ? "NaN notitle\n" : "\n", f);
    gp_end(f, &c);
    finish_chart(R, &c);
}

/* ---- GC pauses: over time and their distribution, per backend ---- */

/* One chart per GC workload group: left, each pause (events.csv gc_end pause_ns) at its time;
 * right, the pauses' CDF per backend. Log y/x: pauses span orders of magnitude. */
static void chart_pauses(rep *R, const char *workload)
{
    rgroup g[8];
    size_t ng = rep_groups(R, workload, g, 8);
    for (size_t gi = 0; gi < ng; gi++) {
        if (!is_gc_cell(g[gi].row[0])) continue;
        chart c;
        char sw[60], wl[300], suffix[80];
        sanitize(sw, sizeof sw, workload);
        group_label(R, workload, g, ng, gi, wl, sizeof wl, suffix, sizeof suffix);
        snprintf(c.name, sizeof c.name, "gc_pauses_%s%s", sw, suffix);
        FILE *dat = NULL;
        size_t idx = 0, sidx[MAX_ALLOCS], counts[MAX_ALLOCS];
        for (size_t m = 0; m < g[gi].n; m++) {
            const hn_row *r = g[gi].row[m];
            hn_csv t;
            char err[512];
            if (hn_results_cell_csv(&R->res, r, "events.csv", &t, err, sizeof err) <= 0) continue;
            int ct = hn_csv_col(&t, "t_s"), ck = hn_csv_col(&t, "kind"),
                cp = hn_csv_col(&t, "pause_ns");
            double *p = calloc(t.nrows + 1, sizeof *p), *ts = calloc(t.nrows + 1, sizeof *ts);
            size_t n = 0;
            for (size_t i = 0; p && ts && ct >= 0 && ck >= 0 && cp >= 0 && i < t.nrows; i++) {
                double v = hn_csv_num(&t, i, cp);
                if (strcmp(t.cell[i * t.ncols + (size_t)ck], "gc_end") != 0 || !(v > 0)) continue;
                ts[n] = hn_csv_num(&t, i, ct);
                p[n++] = v;
            }
            hn_csv_free(&t);
            if (n && (dat || (dat = open_in(R, c.name, "dat")))) {
                /* block 2i: time-ordered pauses; block 2i+1: sorted, with the CDF */
                fprintf(dat, "%s# %s (cell %s, rep %ld): t_s pause_us\n", idx ? "\n\n" : "",
                        r->alloc, r->cell_id, r->rep);
                for (size_t i = 0; i < n; i++)
                    fprintf(dat, "%.6f %.6g\n", ts[i], p[i] / 1e3);
                for (size_t i = 1; i < n; i++) /* insertion sort: a run has few pauses */
                    for (size_t j = i; j > 0 && p[j - 1] > p[j]; j--) {
                        double x = p[j];
                        p[j] = p[j - 1];
                        p[j - 1] = x;
                    }
                fprintf(dat, "\n\n# %s sorted: pause_us cumulative_fraction\n", r->alloc);
                for (size_t i = 0; i < n; i++)
                    fprintf(dat, "%.6g %.6g\n", p[i] / 1e3, (double)(i + 1) / (double)n);
                counts[idx] = n;
                sidx[idx++] = g[gi].alloc[m];
            }
            free(p);
            free(ts);
        }
        if (!dat) continue;
        fclose(dat);
        snprintf(c.title, sizeof c.title, "GC pauses: %s (each pause over time, and their CDF)",
                 wl);
        FILE *out = gp_begin(R, &c);
        if (!out) continue;
        /* a multiplot cannot be replotted: the body is written once per terminal */
        char *text = NULL;
        size_t tlen = 0;
        FILE *f = open_memstream(&text, &tlen);
        if (!f) {
            fclose(out);
            continue;
        }
        fputs("set multiplot layout 1,2 title ", f);
        gp_str(f, c.title);
        fputs("\nunset title\nset key below horizontal\nset logscale y\n"
              "set ytics (\"1 µs\" 1, \"10 µs\" 10, \"100 µs\" 100, \"1 ms\" 1000, "
              "\"10 ms\" 10000, \"100 ms\" 100000, \"1 s\" 1e6)\n"
              "set xlabel 'time (s)'\nset ylabel 'pause'\nplot ",
              f);
        for (size_t i = 0; i < idx; i++) {
            char t1[120];
            snprintf(t1, sizeof t1, "%s (%zu pauses)", R->allocs[sidx[i]], counts[i]);
            fprintf(f, "%s'%s.dat' index %zu using 1:2 with points pt 7 ps 0.5 lc rgb '%s' title ",
                    i ? ", \\\n     " : "", c.name, 2 * i, color(sidx[i]));
            gp_str(f, t1);
        }
        fputs("\nunset logscale y\nset logscale x\nset yrange [0:1]\nset ytics auto\n"
              "set format y '%g'\n"
              "set xtics (\"1 µs\" 1, \"10 µs\" 10, \"100 µs\" 100, \"1 ms\" 1000, "
              "\"10 ms\" 10000, \"100 ms\" 100000, \"1 s\" 1e6)\n"
              "set xlabel 'pause'\nset ylabel 'fraction of pauses <= x'\nplot ",
              f);
        for (size_t i = 0; i < idx; i++) {
            fprintf(f, "%s'%s.dat' index %zu using 1:2 with steps lw 2 lc rgb '%s' title ",
                    i ? ", \\\n     " : "", c.name, 2 * i + 1, color(sidx[i]));
            gp_str(f, R->allocs[sidx[i]]);
        }
        fputs("\nunset multiplot\n", f);
        fclose(f);
        fprintf(out, "%s", text ? text : "");
        fprintf(out,
                "reset\nset terminal pngcairo size 960,540 noenhanced font 'sans,10' background "
                "'#ffffff'\nset output '%s.png'\nset grid\n%s\nunset output\n",
                c.name, text ? text : "");
        free(text);
        fclose(out);
        finish_chart(R, &c);
    }
}

/* ---- goalloc's memory classes over time against RSS ---- */

/* "Why RSS is not HeapAlloc": per goalloc cell, stacked over time from the timeline's MemStats
 * columns: allocated (HeapAlloc), active - allocated (HeapInuse - HeapAlloc: free slots in
 * in-use spans), resident - active (HeapIdle not yet released, plus goalloc's metadata: the
 * timeline does not split them), against the process RSS; retained (HeapReleased: returned
 * to the OS, not resident) as a dashed line. */
static void chart_memclasses(rep *R, const char *workload)
{
    size_t a;
    for (a = 0; a < R->nallocs && strcmp(R->allocs[a], "goalloc") != 0; a++)
        ;
    if (a == R->nallocs) return;
    const hn_row *r = representative(R, workload, "goalloc");
    if (!r) return;
    hn_csv t;
    char err[512];
    if (hn_results_cell_csv(&R->res, r, "timeline.csv", &t, err, sizeof err) <= 0) return;
    int ct = hn_csv_col(&t, "t_s"), crss = hn_csv_col(&t, "rss_bytes"),
        cal = hn_csv_col(&t, "allocated"), cac = hn_csv_col(&t, "active"),
        cre = hn_csv_col(&t, "resident"), crt = hn_csv_col(&t, "retained");
    chart c;
    char sw[60], wl[300];
    sanitize(sw, sizeof sw, workload);
    snprintf(c.name, sizeof c.name, "memclasses_%s_goalloc", sw);
    FILE *dat = NULL;
    size_t rows = 0;
    for (size_t i = 0; ct >= 0 && crss >= 0 && cal >= 0 && cac >= 0 && cre >= 0 && i < t.nrows;
         i++) {
        double ts = hn_csv_num(&t, i, ct), rss = hn_csv_num(&t, i, crss),
               al = hn_csv_num(&t, i, cal), ac = hn_csv_num(&t, i, cac),
               re = hn_csv_num(&t, i, cre), rt = crt >= 0 ? hn_csv_num(&t, i, crt) : NAN;
        if (!isfinite(ts) || !isfinite(al) || !isfinite(ac) || !isfinite(re)) continue;
        if (!dat && !(dat = open_in(R, c.name, "dat"))) break;
        if (!rows)
            fprintf(dat,
                    "# goalloc %s (cell %s, rep %ld), MiB: t_s allocated "
                    "allocated+inuse_free resident rss retained\n",
                    workload, r->cell_id, r->rep);
        const double M = 1048576.0;
        fprintf(dat, "%.6f %.6f %.6f %.6f %.6f %.6f\n", ts, al / M, fmax(ac, al) / M,
                fmax(re, fmax(ac, al)) / M, rss / M, isfinite(rt) ? rt / M : NAN);
        rows++;
    }
    hn_csv_free(&t);
    if (!dat) return;
    fclose(dat);
    rkey k = {workload, r->params, 0};
    key_label(R, wl, sizeof wl, &k);
    snprintf(c.title, sizeof c.title,
             "goalloc memory classes: %s - why RSS is not HeapAlloc (rep %ld)", wl, r->rep);
    FILE *f = gp_begin(R, &c);
    if (!f) return;
    fprintf(f,
            "set key below horizontal maxcols 3\nset xlabel 'time (s)'\nset ylabel 'MiB'\n"
            "set yrange [0:*]\nset autoscale xfix\nset format x '%%g'\n"
            "set offsets 0, 0, graph 0.08, 0\nset datafile missing 'NaN'\n"
            "set style fill solid 0.6 noborder\n"
            "plot '%s.dat' using 1:4:3 with filledcurves lc rgb '#bbbbbb' "
            "title 'idle not released + metadata (resident - HeapInuse)', \\\n"
            "     '%s.dat' using 1:3:2 with filledcurves lc rgb '#ff7f0e' "
            "title 'free slots in in-use spans (HeapInuse - HeapAlloc)', \\\n"
            "     '%s.dat' using 1:2:(0) with filledcurves lc rgb '#1f77b4' title 'HeapAlloc', \\\n"
            "     '%s.dat' using 1:5 with lines lw 2 lc rgb '#000000' title 'RSS (process)', \\\n"
            "     '%s.dat' using 1:6 with lines lw 2 dt 2 lc rgb '#2ca02c' "
            "title 'HeapReleased (returned, not resident)'\n",
            c.name, c.name, c.name, c.name, c.name);
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

/* A value for the tables: bytes in MiB, times in the unit that keeps 1..999 (ns, µs, ms, s),
 * 4 significant digits. */
static void fmt_num(char *buf, size_t len, double v, const char *unit)
{
    if (!isfinite(v)) {
        snprintf(buf, len, "-");
    } else if (strcmp(unit, "B") == 0) {
        snprintf(buf, len, "%.1f MiB", v / 1048576.0);
    } else if (strcmp(unit, "ns") == 0 || strcmp(unit, "s") == 0) {
        double ns = strcmp(unit, "s") == 0 ? v * 1e9 : v;
        double a = fabs(ns);
        if (a >= 1e9)
            snprintf(buf, len, "%.4g s", ns / 1e9);
        else if (a >= 1e6)
            snprintf(buf, len, "%.4g ms", ns / 1e6);
        else if (a >= 1e3)
            snprintf(buf, len, "%.4g µs", ns / 1e3);
        else
            snprintf(buf, len, "%.4g ns", ns);
    } else {
        snprintf(buf, len, "%.4g%s%s", v, *unit ? " " : "", unit);
    }
}

/* Status of every row of a cell: 1 when there are rows and none is ok and all are "na". */
static int cell_all_na(const rep *R, const rkey *key, const char *alloc, const char **why)
{
    size_t total = 0, na = 0;
    for (size_t i = 0; i < R->res.nrows; i++) {
        const hn_row *r = &R->res.rows[i];
        if (strcmp(r->alloc, alloc) || strcmp(r->workload, key->workload) ||
            strcmp(r->params, key->params) || r->threads != key->threads)
            continue;
        total++;
        if (strcmp(r->status, "na") == 0) {
            na++;
            if (why && r->error) *why = r->error;
        }
    }
    return total > 0 && na == total;
}

/* One row per (cell, allocator) that ran; cells an allocator cannot run (status na) are
 * collapsed into one line per allocator under the table. The cell column carries the
 * workload, threads and the parameters that tell the workload's cells apart (the full
 * parameter sets are in runs.jsonl). */
static void summary_table(rep *R, doc *d)
{
    const char *hdr[] = {"cell",     "alloc",       "n ok",     R->metric,
                         "min..max", "vs baseline", "peak RSS", "p99 latency"};
    const char *unit = strcmp(R->metric, "wall_s") == 0 ? "s" : "ns";
    doc_table_begin(d);
    doc_row(d, hdr, 8, 1);
    double v[4096], b[4096];
    for (size_t k = 0; k < R->nkeys; k++) {
        const rkey *key = &R->keys[k];
        size_t nb = cell_values(R, key, R->baseline, R->metric, NULL, b, 4096);
        double base = nb ? hn_median(b, nb) : NAN;
        char label[400];
        key_label(R, label, sizeof label, key);
        for (size_t a = 0; a < R->nallocs; a++) {
            size_t total = 0;
            for (size_t i = 0; i < R->res.nrows; i++) {
                const hn_row *r = &R->res.rows[i];
                total += !strcmp(r->alloc, R->allocs[a]) && !strcmp(r->workload, key->workload) &&
                         !strcmp(r->params, key->params) && r->threads == key->threads;
            }
            if (total == 0 || cell_all_na(R, key, R->allocs[a], NULL)) continue;
            size_t n = cell_values(R, key, R->allocs[a], R->metric, NULL, v, 4096);
            char nok[64], med[64], lo_s[64], hi_s[64], spread[160], rel[64], rss[64], p99[512] = "";
            snprintf(nok, sizeof nok, "%zu/%zu", n, total);
            double m = n ? hn_median(v, n) : NAN, lo = n ? v[0] : NAN, hi = lo;
            for (size_t i = 1; i < n; i++) {
                lo = fmin(lo, v[i]);
                hi = fmax(hi, v[i]);
            }
            fmt_num(med, sizeof med, m, unit);
            fmt_num(lo_s, sizeof lo_s, lo, unit);
            fmt_num(hi_s, sizeof hi_s, hi, unit);
            if (n)
                snprintf(spread, sizeof spread, "%s..%s", lo_s, hi_s);
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
                char t[64];
                fmt_num(t, sizeof t, hn_median(v, np), "ns");
                size_t l = strlen(p99);
                snprintf(p99 + l, sizeof p99 - l, "%s%s %s", l ? ", " : "", ops[o], t);
            }
            const char *cells[] = {label,  R->allocs[a], nok, med,
                                   spread, rel,          rss, *p99 ? p99 : "-"};
            doc_row(d, cells, 8, 0);
        }
    }
    doc_table_end(d);
    /* n/a: one line per allocator, naming the workloads and the runner's reason */
    for (size_t a = 0; a < R->nallocs; a++) {
        char line[2048] = "", wls[1024] = "";
        const char *why = NULL;
        size_t nna = 0;
        for (size_t k = 0; k < R->nkeys; k++) {
            if (!cell_all_na(R, &R->keys[k], R->allocs[a], &why)) continue;
            nna++;
            if (strstr(wls, R->keys[k].workload)) continue; /* one mention per workload */
            size_t l = strlen(wls);
            snprintf(wls + l, sizeof wls - l, "%s%s", l ? ", " : "", R->keys[k].workload);
        }
        if (!nna) continue;
        snprintf(line, sizeof line, "n/a: %s cannot run %s (%zu cell%s)%s%s", R->allocs[a], wls,
                 nna, nna == 1 ? "" : "s", why ? ": " : "", why ? why : "");
        doc_p(d, line);
    }
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
    const char *hdr[] = {"cell",      "alloc",     "GC cycles",      "pause p50",
                         "pause p99", "pause max", "GC CPU fraction"};
    doc_table_begin(d);
    doc_row(d, hdr, 7, 1);
    double v[4096];
    for (size_t k = 0; k < R->nkeys; k++)
        for (size_t a = 0; a < R->nallocs; a++) {
            char c[5][64], label[400];
            int any = 0;
            for (int j = 0; j < 5; j++) {
                size_t n = cell_values(R, &R->keys[k], R->allocs[a], f[j], NULL, v, 4096);
                double m = n ? hn_median(v, n) : NAN;
                any |= n > 0;
                if (!n)
                    snprintf(c[j], sizeof c[j], "-");
                else if (j == 0)
                    snprintf(c[j], sizeof c[j], "%.0f", m);
                else if (j == 4)
                    snprintf(c[j], sizeof c[j], "%.1f%%", m * 100);
                else
                    fmt_num(c[j], sizeof c[j], m, "ns");
            }
            /* a manual cell of a GC backend reports zero cycles: not a GC row */
            if (!any || strcmp(c[0], "0") == 0) continue;
            key_label(R, label, sizeof label, &R->keys[k]);
            const char *cells[] = {label, R->allocs[a], c[0], c[1], c[2], c[3], c[4]};
            doc_row(d, cells, 7, 0);
        }
    doc_table_end(d);
}

static void failed_cells(rep *R, doc *d)
{
    size_t bad = 0;
    for (size_t i = 0; i < R->res.nrows; i++)
        bad += !is_ok(&R->res.rows[i]) && strcmp(R->res.rows[i].status, "na") != 0;
    if (bad == 0) return;
    doc_h(d, 2, "Cells that failed (crash, timeout, error)");
    const char *hdr[] = {"cell", "alloc", "workload", "threads", "status", "reason"};
    doc_table_begin(d);
    doc_row(d, hdr, 6, 1);
    for (size_t i = 0; i < R->res.nrows; i++) {
        const hn_row *r = &R->res.rows[i];
        if (is_ok(r) || strcmp(r->status, "na") == 0) continue;
        char thr[32];
        snprintf(thr, sizeof thr, r->threads > 0 ? "%ld" : "-", r->threads);
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
        char *txt = json_is_string(v)
                        ? strdup(json_string_value(v))
                        : json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT | JSON_REAL_PRECISION(10));
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
            char *txt =
                json_is_string(v)
                    ? strdup(json_string_value(v))
                    : json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT | JSON_REAL_PRECISION(10));
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
    fputs("</title>\n<style>body{font-family:sans-serif;max-width:1360px;margin:auto;padding:1em}"
          "table{border-collapse:collapse;font-size:88%;max-width:100%}"
          "td,th{border:1px solid #bbb;padding:2px 6px;text-align:left;vertical-align:top;"
          "overflow-wrap:anywhere}"
          "td:nth-child(n+3){white-space:nowrap}td:last-child{white-space:normal}"
          "pre{background:#f4f4f4;padding:6px;white-space:pre-wrap;overflow-wrap:anywhere}"
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
        /* the title is drawn in the chart itself: the documents do not repeat it */
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
    for (size_t w = 0; w < R.nworkloads; w++)
        chart_pauses(&R, R.workloads[w]);
    for (size_t w = 0; w < R.nworkloads; w++)
        chart_memclasses(&R, R.workloads[w]);
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
