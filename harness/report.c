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
 * A chart holds the cells of one parameter set and thread count (hn_rep_groups): gc and
 * manual cells are never mixed, and its title names the parameters it plots.
 *
 * This file: grouping the rows into cell keys and chart groups, and the entry points. The
 * charts are in report_charts.c and report_gc.c, the documents in report_doc.c (hn_report.h).
 */
#include "hn.h"
#include "hn_report.h"
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
#include <unistd.h>

/* ---- The run, grouped ---- */

int hn_rep_is_ok(const hn_row *r)
{
    return strcmp(r->status, "ok") == 0;
}

__attribute__((format(printf, 2, 3))) void hn_rep_note(rep *R, const char *fmt, ...)
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
        ok += hn_rep_is_ok(r);
        with_nsop += hn_rep_is_ok(r) && isfinite(r->ns_per_op);
    }
    R->metric = (ok && with_nsop == ok) ? "ns_per_op" : "wall_s";
}

/* Values of `metric` (op for latency) over the ok repetitions of one cell. */
size_t hn_rep_cell_values(const rep *R, const rkey *k, const char *alloc, const char *metric,
                          const char *op, double *out, size_t max)
{
    size_t n = 0;
    for (size_t i = 0; i < R->res.nrows && n < max; i++) {
        const hn_row *r = &R->res.rows[i];
        if (!hn_rep_is_ok(r) || strcmp(r->alloc, alloc) || strcmp(r->workload, k->workload) ||
            strcmp(r->params, k->params) || r->threads != k->threads)
            continue;
        double v = hn_row_metric(r, metric, op);
        if (isfinite(v)) out[n++] = v;
    }
    return n;
}

/* The ok row of (workload, alloc) that stands for it in timeline charts: the first key of the
 * workload (lowest threads among those of its first params), lowest repetition. */
const hn_row *hn_rep_representative(const rep *R, const char *workload, const char *alloc)
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
        found = hn_rep_is_ok(r) && !strcmp(r->workload, workload) && !strcmp(r->alloc, alloc) &&
                !strcmp(r->params, params ? params : "");
    }
    for (size_t i = 0; i < R->res.nrows && !found; i++) {
        const hn_row *r = &R->res.rows[i];
        if (hn_rep_is_ok(r) && !strcmp(r->workload, workload) && !strcmp(r->alloc, alloc)) {
            params = r->params;
            found = 1;
        }
    }
    for (size_t i = 0; i < R->res.nrows; i++) {
        const hn_row *r = &R->res.rows[i];
        if (!hn_rep_is_ok(r) || strcmp(r->workload, workload) || strcmp(r->alloc, alloc) ||
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
void hn_rep_key_label(const rep *R, char *buf, size_t len, const rkey *k)
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
void hn_rep_workload_label(const rep *R, const char *workload, char *buf, size_t len)
{
    for (size_t i = 0; i < R->nkeys; i++)
        if (strcmp(R->keys[i].workload, workload) == 0) {
            rkey k = R->keys[i];
            k.threads = 0;
            hn_rep_key_label(R, buf, len, &k);
            return;
        }
    snprintf(buf, len, "%s", workload);
}

void hn_rep_sanitize(char *dst, size_t len, const char *src)
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

/* Groups the workload's representative rows (one per allocator) by (params, threads), in
 * allocator order. Returns the number of groups (at most max). */
size_t hn_rep_groups(const rep *R, const char *workload, rgroup *g, size_t max)
{
    size_t ng = 0;
    for (size_t a = 0; a < R->nallocs; a++) {
        const hn_row *r = hn_rep_representative(R, workload, R->allocs[a]);
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
void hn_rep_group_label(const rep *R, const char *workload, const rgroup *all, size_t ng, size_t gi,
                        char *buf, size_t len, char *suffix, size_t slen)
{
    const rgroup *g = &all[gi];
    rkey k = {workload, g->params, 0};
    hn_rep_key_label(R, buf, len, &k);
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
    hn_rep_sanitize(suffix, slen, tmp);
}

/* 1 when the cell is collected by a GC (mode=gc or variant=gc): the cells whose GC timeline
 * and pauses mean something. A manual cell on a GC backend (boehm's malloc/free, goalloc's
 * manual mode) may still collect, but its chart would describe a GC the workload does not ask
 * for. */
int hn_rep_is_gc_cell(const hn_row *r)
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
        hn_rep_chart_frag(&R, R.workloads[w]);
    for (size_t w = 0; w < R.nworkloads; w++) {
        const char *ops[16];
        size_t n = hn_rep_workload_ops(&R, R.workloads[w], ops, 16);
        for (size_t o = 0; o < n; o++)
            hn_rep_chart_latency(&R, R.workloads[w], ops[o]);
    }
    for (size_t w = 0; w < R.nworkloads; w++)
        hn_rep_chart_throughput(&R, R.workloads[w]);
    hn_rep_chart_relative(&R);
    hn_rep_chart_boxes(&R);
    for (size_t w = 0; w < R.nworkloads; w++)
        for (size_t a = 0; a < R.nallocs; a++)
            hn_rep_chart_gc(&R, R.workloads[w], R.allocs[a]);
    for (size_t w = 0; w < R.nworkloads; w++)
        hn_rep_chart_pauses(&R, R.workloads[w]);
    for (size_t w = 0; w < R.nworkloads; w++)
        hn_rep_chart_memclasses(&R, R.workloads[w]);
    if (has_alloc(&R.res, "goalloc")) hn_rep_chart_sizeclasses(&R); /* goalloc's own property */
    char log[4200];
    struct stat lst;
    snprintf(log, sizeof log, "%s/gnuplot.log", R.plots);
    if (stat(log, &lst) == 0 && lst.st_size == 0) unlink(log);
    int drawn = R.gnuplot_ok;
    int rc = hn_rep_write_docs(&R);
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
