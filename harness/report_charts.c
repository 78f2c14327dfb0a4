/* report_charts.c - `abench report`'s gnuplot plumbing (one .gp and .dat per chart, drawn to
 * SVG and PNG inside plots/) and its charts of time: fragmentation timelines, latency
 * percentile distributions, throughput against threads, relative time and box plots over
 * repetitions. Each chart writes only its own files; the invariants are report.c's.
 */
#include "hn.h"
#include "hn_report.h"
#include "hn_results.h"
#include "hn_stats.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* ---- Writing charts ---- */

/* Writes s as a single-quoted gnuplot string (a quote is doubled). */
void hn_rep_gp_str(FILE *f, const char *s)
{
    fputc('\'', f);
    for (; *s; s++) {
        if (*s == '\'') fputc('\'', f);
        if (*s != '\n') fputc(*s, f);
    }
    fputc('\'', f);
}

FILE *hn_rep_open(const rep *R, const char *name, const char *ext)
{
    char path[4400];
    snprintf(path, sizeof path, "%s/%s.%s", R->plots, name, ext);
    FILE *f = fopen(path, "w");
    if (!f) hn_error("report", "cannot write %s: %s", path, strerror(errno));
    return f;
}

/* Opens <name>.gp with the shared preamble (SVG first; gp_end adds the PNG). */
FILE *hn_rep_gp_begin(const rep *R, const chart *c)
{
    FILE *f = hn_rep_open(R, c->name, "gp");
    if (!f) return NULL;
    fprintf(f,
            "# %s.gp - written by `abench report` from %s.dat (in this folder).\n"
            "# Redraw: gnuplot %s.gp  (writes %s.svg and %s.png)\n"
            "set terminal svg size 960,%d dynamic noenhanced font 'sans,11' background "
            "'#ffffff'\n"
            "set output '%s.svg'\n"
            "set title ",
            c->name, c->name, c->name, c->name, c->name, c->height ? c->height : 540, c->name);
    hn_rep_gp_str(f, c->title);
    fputs("\nset key outside right top\nset grid\n", f);
    return f;
}

void hn_rep_gp_end(FILE *f, const chart *c)
{
    fprintf(f,
            "set terminal pngcairo size 960,%d noenhanced font 'sans,10' background "
            "'#ffffff'\n"
            "set output '%s.png'\nreplot\nunset output\n",
            c->height ? c->height : 540, c->name);
    fclose(f);
}

/* Ends a chart whose body (what follows hn_rep_gp_begin's preamble) is a multiplot, which
 * gnuplot cannot replot: the body, then the PNG terminal and the body once more. Closes f. */
void hn_rep_gp_end_multiplot(FILE *f, const chart *c, const char *body)
{
    fprintf(f,
            "%s"
            "reset\nset terminal pngcairo size 960,%d noenhanced font 'sans,10' background "
            "'#ffffff'\nset output '%s.png'\nset grid\n%s\nunset output\n",
            body, c->height ? c->height : 540, c->name, body);
    fclose(f);
}

/* Labels of a log time axis whose values are µs: one per power of ten from 1 ns to 1 s, those
 * at or above lo_us. */
void hn_rep_gp_time_tics(FILE *f, const char *axis, double lo_us)
{
    static const struct {
        double us;
        const char *text;
    } tics[] = {{1e-3, "1 ns"},  {1e-2, "10 ns"}, {0.1, "100 ns"}, {1, "1 µs"},     {10, "10 µs"},
                {100, "100 µs"}, {1e3, "1 ms"},   {1e4, "10 ms"},  {1e5, "100 ms"}, {1e6, "1 s"}};
    int first = 1;
    fprintf(f, "set %stics (", axis);
    for (size_t i = 0; i < sizeof tics / sizeof tics[0]; i++)
        if (tics[i].us >= lo_us * (1 - 1e-9)) {
            fprintf(f, "%s\"%s\" %g", first ? "" : ", ", tics[i].text, tics[i].us);
            first = 0;
        }
    fputs(")\n", f);
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
void hn_rep_finish_chart(rep *R, const chart *c)
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

/* Rotation and margins for category labels so that none is cut and neighbours do not
 * overlap: 30 degrees up to 12 categories, steeper when they are denser; the bottom margin
 * from the longest label (character heights), the left one from the first label's reach to
 * the left of its tick (character widths); the chart grows in height instead of squeezing
 * the plot. */
static void label_margins(chart *c, size_t ncat, size_t maxlab, size_t firstlab, int *angle,
                          double *bmargin, double *lmargin)
{
    *angle = ncat <= 12 ? 30 : ncat <= 20 ? 45 : 60;
    double rad = *angle * 3.14159265358979 / 180;
    /* a character is about 0.55 of its height wide */
    *bmargin = 2 + 0.47 * sin(rad) * (double)maxlab;
    *lmargin = fmax(10, cos(rad) * (double)firstlab - 2);
    if (*bmargin > 9) c->height = 540 + (int)((*bmargin - 9) * 15);
}

/* Line colour of allocator i, stable across charts. */
const char *hn_rep_color(size_t i)
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

/* What a fragmentation chart plots, shared by the whole chart and its zoom on a spike. */
typedef struct frag_plot {
    size_t n;
    const char *series[MAX_ALLOCS];
    size_t color[MAX_ALLOCS];
    int has_live[MAX_ALLOCS];
    double marks[32];
    char mark_name[32][32];
    size_t nmarks;
} frag_plot;

/* Writes and draws <c->name>.gp over <c->name>.dat; xlo < xhi zooms the time axis. */
static void frag_gp(rep *R, const chart *c, const frag_plot *p, double xlo, double xhi)
{
    FILE *f = hn_rep_gp_begin(R, c);
    if (!f) return;
    /* the legend goes under the plot in columns, so the plot keeps the width */
    fputs("set key below horizontal maxcols 4 samplen 3\nset xlabel 'time (s)'\n"
          "set autoscale xfix\nset format x '%g'\n"
          "set ylabel 'MiB'\nset yrange [0:*]\nset offsets 0, 0, graph 0.08, 0\n"
          "set datafile missing 'NaN'\n",
          f);
    if (xlo < xhi) fprintf(f, "set xrange [%.6f:%.6f]\n", xlo, xhi);
    for (size_t i = 0, shown = 0; i < p->nmarks; i++) {
        if (xlo < xhi && (p->marks[i] < xlo || p->marks[i] > xhi)) continue;
        fprintf(f, "set arrow from %.6f, graph 0 to %.6f, graph 1 nohead lc rgb '#999999' dt 3\n",
                p->marks[i], p->marks[i]);
        fprintf(f, "set label %zu ", i + 1);
        hn_rep_gp_str(f, p->mark_name[i]);
        /* staggered in three rows: phases close in time would print over each other */
        fprintf(f, " at %.6f, graph %.2f left offset 0.3,0 font 'sans,9' tc rgb '#555555'\n",
                p->marks[i], 0.97 - 0.05 * (double)(shown++ % 3));
    }
    fputs("plot ", f);
    for (size_t i = 0; i < p->n; i++) {
        char t1[300], t2[300];
        snprintf(t1, sizeof t1, "%s resident", p->series[i]);
        snprintf(t2, sizeof t2, "%s live", p->series[i]);
        fprintf(
            f,
            "%s'%s.dat' index %zu using 1:2 with linespoints lw 2 pt 7 ps 0.4 lc rgb '%s' title ",
            i ? ", \\\n     " : "", c->name, i, hn_rep_color(p->color[i]));
        hn_rep_gp_str(f, t1);
        if (!p->has_live[i]) continue;
        /* live lines differ by dash pattern and marker as well as colour: they often overlap */
        fprintf(f,
                ", \\\n     '%s.dat' index %zu using 1:3 with linespoints lw 1.5 dt %zu pt %zu "
                "ps 0.5 lc rgb '%s' title ",
                c->name, i, 2 + i % 4, 4 + 2 * (i % 4), hn_rep_color(p->color[i]));
        hn_rep_gp_str(f, t2);
    }
    fputs("\n", f);
    hn_rep_gp_end(f, c);
    hn_rep_finish_chart(R, c);
}

/* Copies plots/<from>.dat to plots/<to>.dat (each script reads only its own .dat). */
static int copy_dat(const rep *R, const char *from, const char *to)
{
    char path[4400];
    snprintf(path, sizeof path, "%s/%s.dat", R->plots, from);
    size_t len;
    char *text = hn_read_file(path, &len);
    if (!text) return -1;
    FILE *f = hn_rep_open(R, to, "dat");
    int rc = f && fwrite(text, 1, len, f) == len ? 0 : -1;
    if (f && fclose(f) != 0) rc = -1;
    free(text);
    return rc;
}

/* Long because it reads every cell's timeline into one .dat (one block per allocator) and
 * then draws the whole run and, when a spike phase is short against the run, a zoom on it.
 * One chart per group of cells (hn_rep_groups). */
static void chart_frag_group(rep *R, const char *workload, const rgroup *g, size_t ng, size_t gi)
{
    chart c = {0};
    char sw[60], wl[300], suffix[100];
    hn_rep_sanitize(sw, sizeof sw, workload);
    hn_rep_group_label(R, workload, g - gi, ng, gi, wl, sizeof wl, suffix, sizeof suffix);
    snprintf(c.name, sizeof c.name, "frag_%s%s", sw, suffix);
    FILE *dat = NULL;
    size_t idx = 0, nsamples = SIZE_MAX;
    frag_plot p;
    memset(&p, 0, sizeof p);
    double tmax = 0;
    long rp = -1;
    for (size_t m = 0; m < g->n; m++) {
        const hn_row *r = g->row[m];
        hn_csv t;
        char err[512];
        int rc = hn_results_cell_csv(&R->res, r, "timeline.csv", &t, err, sizeof err);
        if (rc < 0) hn_rep_note(R, "fragmentation chart of %s: %s", workload, err);
        if (rc <= 0) continue;
        int ct = hn_csv_col(&t, "t_s"), cr = hn_csv_col(&t, "rss_bytes"),
            cl = hn_csv_col(&t, "live_bytes");
        if (ct < 0 || cr < 0 || t.nrows == 0) {
            hn_csv_free(&t);
            continue;
        }
        if (!dat && !(dat = hn_rep_open(R, c.name, "dat"))) {
            hn_csv_free(&t);
            return;
        }
        fprintf(dat, "%s# %s (cell %s, rep %ld, threads %ld): t_s rss_MiB live_MiB\n",
                idx ? "\n\n" : "", r->alloc, r->cell_id, r->rep, r->threads);
        for (size_t i = 0; i < t.nrows; i++) {
            double ts = hn_csv_num(&t, i, ct), rs = hn_csv_num(&t, i, cr),
                   lv = cl >= 0 ? hn_csv_num(&t, i, cl) : NAN;
            if (!isfinite(ts) || !isfinite(rs)) continue;
            tmax = fmax(tmax, ts);
            fprintf(dat, "%.6f %.6f ", ts, rs / 1048576.0);
            if (isfinite(lv) && lv > 0) {
                fprintf(dat, "%.6f\n", lv / 1048576.0);
                p.has_live[idx] = 1;
            } else {
                fprintf(dat, "NaN\n");
            }
        }
        if (t.nrows < nsamples) nsamples = t.nrows;
        hn_csv_free(&t);
        if (p.nmarks == 0) p.nmarks = phase_marks(R, r, p.marks, p.mark_name, 32);
        p.series[idx] = r->alloc;
        p.color[idx++] = g->alloc[m];
        rp = r->rep;
    }
    if (!dat) return;
    fclose(dat);
    long thr = g->threads;
    char thr_text[48] = "";
    if (thr > 0) snprintf(thr_text, sizeof thr_text, ", %ld thread%s", thr, thr == 1 ? "" : "s");
    snprintf(c.title, sizeof c.title, "Fragmentation: %s - resident and live memory (rep %ld%s)",
             wl, rp, thr_text);
    p.n = idx;
    frag_gp(R, &c, &p, 0, 0);
    /* a spike much shorter than the run (burst holds its steady state for seconds) gets a
     * second chart zoomed on the first spike and what follows it */
    for (size_t i = 0; i + 1 < p.nmarks; i++) {
        double t0 = p.marks[i], t1 = p.marks[i + 1], w = t1 - t0;
        if (strcmp(p.mark_name[i], "spike") != 0 || !(w > 0) || w > 0.1 * tmax) continue;
        chart z = {0};
        snprintf(z.name, sizeof z.name, "%.180s_spike", c.name);
        snprintf(z.title, sizeof z.title,
                 "Fragmentation: %.250s - resident and live memory around the first spike "
                 "(rep %ld%.40s)",
                 wl, rp, thr_text);
        if (copy_dat(R, c.name, z.name) == 0)
            frag_gp(R, &z, &p, fmax(0, t0 - w), fmin(tmax, t1 + 3 * w));
        break;
    }
    if (nsamples < 20)
        hn_rep_note(R,
                    "%s: only %zu timeline samples per cell (the run's --sampler-ms sets the rate)",
                    c.name, nsamples);
}

void hn_rep_chart_frag(rep *R, const char *workload)
{
    rgroup g[8];
    size_t ng = hn_rep_groups(R, workload, g, 8);
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
    chart c = {0};
    char sw[60], so[40], wl[300], suffix[80];
    hn_rep_sanitize(sw, sizeof sw, workload);
    hn_rep_sanitize(so, sizeof so, op);
    hn_rep_group_label(R, workload, g - gi, ng, gi, wl, sizeof wl, suffix, sizeof suffix);
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
        if (rc < 0) hn_rep_note(R, "latency chart of %s/%s: %s", workload, op, err);
        if (rc <= 0) continue;
        if (h.n == 0) {
            hn_hgrm_free(&h);
            continue;
        }
        if (!dat && !(dat = hn_rep_open(R, c.name, "dat"))) {
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
    FILE *f = hn_rep_gp_begin(R, &c);
    if (!f) return;
    /* x runs to the next power of ten above the deepest percentile measured (at least 99.99%,
     * so the axis always shows the labels of BENCH_METHOD.md); the 0% label would collide
     * with 50%, so the axis is labelled from 50% on */
    double xmax = fmin(1e7, fmax(1e4, pow(10, ceil(log10(maxinv)))));
    fprintf(f,
            "set logscale x\nset logscale y\nset xrange [1:%g]\n"
            "set xtics (\"50%%%%\" 2, \"90%%%%\" 10, \"99%%%%\" 100, \"99.9%%%%\" 1000, "
            "\"99.99%%%%\" 10000, \"99.999%%%%\" 100000, \"99.9999%%%%\" 1000000, "
            "\"99.99999%%%%\" 10000000)\n",
            xmax);
    hn_rep_gp_time_tics(f, "y", 1e-3);
    fprintf(f,
            "set yrange [%g:%g]\n"
            "set xlabel 'percentile'\nset ylabel 'latency'\nset key inside top left\n",
            pow(10, floor(log10(vmin / 1e3))), pow(10, ceil(log10(vmax / 1e3 * 1.01))));
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
                i ? ", \\\n     " : "", c.name, i, hn_rep_color(sidx[i]));
        hn_rep_gp_str(f, series[i]);
    }
    fputs("\n", f);
    hn_rep_gp_end(f, &c);
    hn_rep_finish_chart(R, &c);
    if (nmin < 1000)
        hn_rep_note(R,
                    "%s: as few as %.0f samples behind a curve: its tail percentiles are single "
                    "samples",
                    c.name, nmin);
}

void hn_rep_chart_latency(rep *R, const char *workload, const char *op)
{
    rgroup g[8];
    size_t ng = hn_rep_groups(R, workload, g, 8);
    for (size_t i = 0; i < ng; i++)
        chart_latency_group(R, workload, op, &g[i], ng, i);
}

/* Operation kinds seen in a workload's rows (lat objects), at most max. */
size_t hn_rep_workload_ops(const rep *R, const char *workload, const char **ops, size_t max)
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
void hn_rep_chart_throughput(rep *R, const char *workload)
{
    chart c = {0};
    char sw[120];
    hn_rep_sanitize(sw, sizeof sw, workload);
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
    /* the axis unit from the largest median: ops/s, thousands, millions or billions */
    double top = 0, v[4096];
    for (size_t a = 0; a < R->nallocs; a++)
        for (size_t t = 0; t < nt; t++) {
            rkey k = {workload, params, threads[t]};
            size_t n = hn_rep_cell_values(R, &k, R->allocs[a], "ops_per_s", NULL, v, 4096);
            if (n) top = fmax(top, hn_median(v, n));
        }
    if (!(top > 0)) return; /* no throughput measured (exec runs) */
    if (nt < 2) {
        /* one thread count: a line chart of single points says nothing the summary table
         * and the relative-time chart do not */
        hn_rep_note(R,
                    "no throughput chart for %s: it ran at one thread count only (give --threads "
                    "1,2,... to draw throughput against threads)",
                    workload);
        return;
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
            size_t n = hn_rep_cell_values(R, &k, R->allocs[a], "ops_per_s", NULL, v, 4096);
            if (n == 0) continue;
            if (!dat && !(dat = hn_rep_open(R, c.name, "dat"))) return;
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
    hn_rep_workload_label(R, workload, wl, sizeof wl);
    snprintf(c.title, sizeof c.title, "Throughput vs threads: %s (median, min..max bars)", wl);
    FILE *f = hn_rep_gp_begin(R, &c);
    if (!f) return;
    fprintf(f,
            "set xlabel 'threads'\nset ylabel 'operations per second%s, all threads'\n"
            "set xtics 1\nset xrange [0.5:%ld.5]\nset yrange [0:*]\nset format y '%%g'\n"
            "set offsets 0, 0, graph 0.1, 0\nplot ",
            scale_name[si], threads[nt - 1]);
    for (size_t i = 0; i < idx; i++) {
        fprintf(f, "%s'%s.dat' index %zu using 1:2:3:4 with yerrorlines lw 2 lc rgb '%s' title ",
                i ? ", \\\n     " : "", c.name, i, hn_rep_color(sidx[i]));
        hn_rep_gp_str(f, R->allocs[sidx[i]]);
    }
    fputs("\n", f);
    hn_rep_gp_end(f, &c);
    hn_rep_finish_chart(R, &c);
}

/* ---- Relative time against the baseline, and box plots over repetitions ---- */

/* Bars of each allocator's median relative to the baseline's, min..max error bars, log axis.
 * Long: the .dat table (one row per cell key, three columns per allocator), the axis
 * range from the data, and the script, which skips allocators without any ratio. */
void hn_rep_chart_relative(rep *R)
{
    chart c = {0};
    snprintf(c.name, sizeof c.name, "relative_time");
    FILE *dat = hn_rep_open(R, c.name, "dat");
    if (!dat) return;
    double v[4096], b[4096], lo = INFINITY, hi = 0;
    size_t rows = 0, maxlab = 4, firstlab = 0;
    int any[MAX_ALLOCS] = {0};
    fprintf(dat,
            "# %s relative to %s's median; per allocator: ratio min_ratio max_ratio\n"
            "# cell",
            R->metric, R->baseline);
    for (size_t a = 0; a < R->nallocs; a++)
        fprintf(dat, " %s %s_min %s_max", R->allocs[a], R->allocs[a], R->allocs[a]);
    fputc('\n', dat);
    for (size_t k = 0; k < R->nkeys; k++) {
        size_t nb = hn_rep_cell_values(R, &R->keys[k], R->baseline, R->metric, NULL, b, 4096);
        double base = nb ? hn_median(b, nb) : NAN;
        if (!(base > 0)) continue;
        char label[400];
        hn_rep_key_label(R, label, sizeof label, &R->keys[k]);
        if (strlen(label) > maxlab) maxlab = strlen(label);
        if (rows == 0) firstlab = strlen(label);
        fputc('"', dat);
        for (const char *p = label; *p; p++)
            fputc(*p == '"' ? '\'' : *p, dat);
        fputc('"', dat);
        for (size_t a = 0; a < R->nallocs; a++) {
            size_t n = hn_rep_cell_values(R, &R->keys[k], R->allocs[a], R->metric, NULL, v, 4096);
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
        hn_rep_note(R, "no relative-time chart: the baseline %s has no ok cell with %s",
                    R->baseline, R->metric);
        return;
    }
    snprintf(c.title, sizeof c.title,
             "Relative %s per workload against %s (median; bars show min..max; lower is better)",
             strcmp(R->metric, "wall_s") == 0 ? "wall time" : "time per operation", R->baseline);
    double bm, lm;
    int angle;
    label_margins(&c, rows, maxlab, firstlab, &angle, &bm, &lm);
    FILE *f = hn_rep_gp_begin(R, &c);
    if (!f) return;
    fprintf(f,
            "set lmargin %.0f\nset logscale y\nset yrange [%.4g:%.4g]\nset ylabel 'relative to %s "
            "(log scale)'\n"
            "set ytics (\"1/64\" 0.015625, \"1/16\" 0.0625, \"1/8\" 0.125, \"1/4\" 0.25, "
            "\"1/2\" 0.5, \"0.7\" 0.7, \"1\" 1, \"1.4\" 1.4, \"2\" 2, \"4\" 4, \"8\" 8, "
            "\"16\" 16, \"64\" 64)\n"
            "set style data histograms\nset style histogram errorbars gap 1 lw 1\n"
            "set style fill solid 0.8 border -1\nset boxwidth 0.9\n"
            "set xtics rotate by %d right nomirror\nset bmargin %.0f\n"
            "set datafile missing 'NaN'\nplot ",
            lm, fmin(lo, 1) / 1.3, fmax(hi, 1) * 1.3, R->baseline, angle, bm);
    for (size_t a = 0; a < R->nallocs; a++) {
        if (!any[a]) { /* nothing to draw: say so instead of an empty series */
            hn_rep_note(R, "relative-time chart: %s has no cell with the parameters of a %s cell",
                        R->allocs[a], R->baseline);
            continue;
        }
        fprintf(f, "%s'%s.dat' using %zu:%zu:%zu%s lc rgb '%s' title ", a ? ", \\\n     " : "",
                c.name, 2 + 3 * a, 3 + 3 * a, 4 + 3 * a, a ? "" : ":xtic(1)", hn_rep_color(a));
        hn_rep_gp_str(f, R->allocs[a]);
    }
    fputs("\n", f);
    hn_rep_gp_end(f, &c);
    hn_rep_finish_chart(R, &c);
}

/* Box plots of each cell's repetitions relative to the mean of the allocators' medians.
 * Long: positions every (cell key, allocator) box on the x axis, writes one data block per
 * box and one plot clause per block (titled once per allocator). */
void hn_rep_chart_boxes(rep *R)
{
    chart c = {0};
    snprintf(c.name, sizeof c.name, "boxplot_time");
    FILE *dat = hn_rep_open(R, c.name, "dat");
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
            size_t n = hn_rep_cell_values(R, &R->keys[k], R->allocs[a], R->metric, NULL, v, 4096);
            if (n) {
                med[a] = hn_median(v, n);
                sum += med[a];
                m++;
            }
        }
        if (m == 0 || !(sum > 0)) continue;
        double mean = sum / (double)m;
        hn_rep_key_label(R, labels[nshown], sizeof labels[nshown], &R->keys[k]);
        if (strlen(labels[nshown]) > maxlab) maxlab = strlen(labels[nshown]);
        for (size_t a = 0; a < R->nallocs; a++) {
            size_t n = hn_rep_cell_values(R, &R->keys[k], R->allocs[a], R->metric, NULL, v, 4096);
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
        hn_rep_note(R,
                    "box plots: cells with fewer than 5 ok repetitions are drawn as their points "
                    "(a box of 3 or 4 values is no distribution)");
    snprintf(c.title, sizeof c.title,
             "Spread over repetitions: %s relative to the cross-allocator mean (%s)",
             strcmp(R->metric, "wall_s") == 0 ? "wall time" : "time per operation",
             few ? "boxes from 5 repetitions, points below" : "box plots");
    double bm, lm;
    int angle;
    label_margins(&c, nshown, maxlab, strlen(labels[0]), &angle, &bm, &lm);
    FILE *f = hn_rep_gp_begin(R, &c);
    if (!f) {
        free(blk);
        free(labels);
        free(npts);
        return;
    }
    /* a log axis once the values span more than 4x, so one outlier does not flatten the rest */
    int logy = vhi > 4 * vlo;
    fprintf(f, "set lmargin %.0f\n", lm);
    fprintf(f,
            "set style fill solid 0.5 border -1\nset style boxplot outliers pointtype 7\nset "
            "pointsize 0.6\n"
            "set boxwidth %.4f absolute\nset ylabel 'relative to the mean of the allocators%s'\n"
            "%s"
            "set xrange [-0.6:%zu.4]\nset bmargin %.0f\nset xtics rotate by %d right nomirror (",
            width * 0.8, logy ? " (log scale)" : "", logy ? "set logscale y\n" : "", nshown - 1, bm,
            angle);
    for (size_t i = 0; i < nshown; i++) {
        fprintf(f, "%s", i ? ", " : "");
        hn_rep_gp_str(f, labels[i]);
        fprintf(f, " %zu", i);
    }
    fputs(")\nplot ", f);
    int titled[MAX_ALLOCS] = {0};
    for (size_t i = 0; i < nblocks; i++) {
        size_t a = blk[i].a;
        if (npts[i] >= 5)
            fprintf(f, "%s'%s.dat' index %zu using (%.4f):2 with boxplot lc rgb '%s' ",
                    i ? ", \\\n     " : "", c.name, i, blk[i].x, hn_rep_color(a));
        else
            fprintf(f, "%s'%s.dat' index %zu using 1:2 with points pt 7 ps 0.7 lc rgb '%s' ",
                    i ? ", \\\n     " : "", c.name, i, hn_rep_color(a));
        if (titled[a]) {
            fputs("notitle", f);
        } else {
            fputs("title ", f);
            hn_rep_gp_str(f, R->allocs[a]);
            titled[a] = 1;
        }
    }
    fputs("\n", f);
    hn_rep_gp_end(f, &c);
    free(blk);
    free(labels);
    free(npts);
    hn_rep_finish_chart(R, &c);
}
