/* report_gc.c - `abench report`'s charts of collectors and of goalloc's own memory: GC
 * timelines (heap, goal, limit, pauses) and GC pauses (over time and their CDF) for gc cells,
 * goalloc's memory classes against RSS, goalloc's size-class waste.
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
#include <unistd.h>

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
void hn_rep_chart_gc(rep *R, const char *workload, const char *alloc)
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
    const hn_row *r = hn_rep_representative(R, workload, alloc);
    if (!r || !hn_rep_is_gc_cell(r)) return;
    hn_csv t;
    char err[512];
    int rc = hn_results_cell_csv(&R->res, r, "events.csv", &t, err, sizeof err);
    if (rc < 0) hn_rep_note(R, "GC timeline of %s/%s: %s", workload, alloc, err);
    if (rc <= 0) return;
    int ck = hn_csv_col(&t, "kind");
    size_t ngc = 0;
    for (size_t i = 0; ck >= 0 && i < t.nrows; i++)
        ngc += is_gc_kind(t.cell[i * t.ncols + (size_t)ck]);
    chart c = {0};
    char sw[120], sa[60];
    hn_rep_sanitize(sw, sizeof sw, workload);
    hn_rep_sanitize(sa, sizeof sa, alloc);
    snprintf(c.name, sizeof c.name, "gc_%s_%s", sw, sa);
    FILE *dat = (ngc && hn_csv_col(&t, "t_s") >= 0) ? hn_rep_open(R, c.name, "dat") : NULL;
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
    hn_rep_key_label(R, wl, sizeof wl, &k);
    for (int j = 2; j < 7; j++)
        if (has[j] || (j == 4 && const_limit)) {
            size_t l = strlen(parts);
            snprintf(parts + l, sizeof parts - l, "%s%s", l ? ", " : "", what[j]);
        }
    snprintf(c.title, sizeof c.title, "GC timeline: %.40s on %.200s (%.99s; rep %ld)", alloc, wl,
             parts, r->rep);
    FILE *f = hn_rep_gp_begin(R, &c);
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
    hn_rep_gp_end(f, &c);
    hn_rep_finish_chart(R, &c);
}

/* ---- GC pauses: over time and their distribution, per backend ---- */

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* The pauses of one cell: events.csv's gc_end rows with a pause, in time order (t in s since
 * the region began, pause in ns; both calloc'd, caller frees). Returns how many (0: none or
 * unreadable, nothing allocated). */
static size_t cell_pauses(rep *R, const hn_row *r, double **t_out, double **p_out)
{
    hn_csv t;
    char err[512];
    *t_out = *p_out = NULL;
    if (hn_results_cell_csv(&R->res, r, "events.csv", &t, err, sizeof err) <= 0) return 0;
    int ct = hn_csv_col(&t, "t_s"), ck = hn_csv_col(&t, "kind"), cp = hn_csv_col(&t, "pause_ns");
    double *p = calloc(t.nrows + 1, sizeof *p), *ts = calloc(t.nrows + 1, sizeof *ts);
    size_t n = 0;
    for (size_t i = 0; p && ts && ct >= 0 && ck >= 0 && cp >= 0 && i < t.nrows; i++) {
        double v = hn_csv_num(&t, i, cp);
        if (strcmp(t.cell[i * t.ncols + (size_t)ck], "gc_end") != 0 || !(v > 0)) continue;
        ts[n] = hn_csv_num(&t, i, ct);
        p[n++] = v;
    }
    hn_csv_free(&t);
    if (!n) {
        free(p);
        free(ts);
        return 0;
    }
    *t_out = ts;
    *p_out = p;
    return n;
}

/* One chart per GC workload group, one series per backend (its representative cell): left,
 * each pause at its time; right, the pauses' CDF. Log axes: pauses span orders of magnitude
 * (a stop-the-world mark against the short phases of a concurrent one). */
void hn_rep_chart_pauses(rep *R, const char *workload)
{
    rgroup g[8];
    size_t ng = hn_rep_groups(R, workload, g, 8);
    for (size_t gi = 0; gi < ng; gi++) {
        if (!hn_rep_is_gc_cell(g[gi].row[0])) continue;
        chart c = {0};
        char sw[60], wl[300], suffix[80];
        hn_rep_sanitize(sw, sizeof sw, workload);
        hn_rep_group_label(R, workload, g, ng, gi, wl, sizeof wl, suffix, sizeof suffix);
        snprintf(c.name, sizeof c.name, "gc_pauses_%s%s", sw, suffix);
        FILE *dat = NULL;
        size_t idx = 0, sidx[MAX_ALLOCS], counts[MAX_ALLOCS];
        for (size_t m = 0; m < g[gi].n; m++) {
            const hn_row *r = g[gi].row[m];
            double *ts, *p;
            size_t n = cell_pauses(R, r, &ts, &p);
            if (n && (dat || (dat = hn_rep_open(R, c.name, "dat")))) {
                /* block 2i: time-ordered pauses; block 2i+1: sorted, with the CDF */
                fprintf(dat, "%s# %s (cell %s, rep %ld): t_s pause_us\n", idx ? "\n\n" : "",
                        r->alloc, r->cell_id, r->rep);
                for (size_t i = 0; i < n; i++)
                    fprintf(dat, "%.6f %.6g\n", ts[i], p[i] / 1e3);
                qsort(p, n, sizeof *p, cmp_double);
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
        FILE *out = hn_rep_gp_begin(R, &c);
        char *text = NULL;
        size_t tlen = 0;
        FILE *f = out ? open_memstream(&text, &tlen) : NULL;
        if (!f) {
            if (out) fclose(out);
            continue;
        }
        fputs("set multiplot layout 1,2 title ", f);
        hn_rep_gp_str(f, c.title);
        fputs("\nunset title\nset key below horizontal\nset logscale y\n", f);
        hn_rep_gp_time_tics(f, "y", 1);
        fputs("set xlabel 'time (s)'\nset ylabel 'pause'\nplot ", f);
        for (size_t i = 0; i < idx; i++) {
            char t1[120];
            snprintf(t1, sizeof t1, "%s (%zu pauses)", R->allocs[sidx[i]], counts[i]);
            fprintf(f, "%s'%s.dat' index %zu using 1:2 with points pt 7 ps 0.5 lc rgb '%s' title ",
                    i ? ", \\\n     " : "", c.name, 2 * i, hn_rep_color(sidx[i]));
            hn_rep_gp_str(f, t1);
        }
        fputs("\nunset logscale y\nset logscale x\nset yrange [0:1]\nset ytics auto\n"
              "set format y '%g'\n",
              f);
        hn_rep_gp_time_tics(f, "x", 1);
        fputs("set xlabel 'pause'\nset ylabel 'fraction of pauses <= x'\nplot ", f);
        for (size_t i = 0; i < idx; i++) {
            fprintf(f, "%s'%s.dat' index %zu using 1:2 with steps lw 2 lc rgb '%s' title ",
                    i ? ", \\\n     " : "", c.name, 2 * i + 1, hn_rep_color(sidx[i]));
            hn_rep_gp_str(f, R->allocs[sidx[i]]);
        }
        fputs("\nunset multiplot\n", f);
        fclose(f);
        hn_rep_gp_end_multiplot(out, &c, text ? text : "");
        free(text);
        hn_rep_finish_chart(R, &c);
    }
}

/* ---- goalloc's memory classes over time against RSS ---- */

/* "Why RSS is not HeapAlloc": per goalloc cell, stacked over time from the timeline's MemStats
 * columns: allocated (HeapAlloc), active - allocated (HeapInuse - HeapAlloc: free slots in
 * in-use spans), resident - active (HeapIdle not yet released, plus goalloc's metadata: the
 * timeline does not split them), against the process RSS; retained (HeapReleased: returned
 * to the OS, not resident) as a dashed line. */
void hn_rep_chart_memclasses(rep *R, const char *workload)
{
    size_t a;
    for (a = 0; a < R->nallocs && strcmp(R->allocs[a], "goalloc") != 0; a++)
        ;
    if (a == R->nallocs) return;
    const hn_row *r = hn_rep_representative(R, workload, "goalloc");
    if (!r) return;
    hn_csv t;
    char err[512];
    if (hn_results_cell_csv(&R->res, r, "timeline.csv", &t, err, sizeof err) <= 0) return;
    int ct = hn_csv_col(&t, "t_s"), crss = hn_csv_col(&t, "rss_bytes"),
        cal = hn_csv_col(&t, "allocated"), cac = hn_csv_col(&t, "active"),
        cre = hn_csv_col(&t, "resident"), crt = hn_csv_col(&t, "retained");
    chart c = {0};
    char sw[60], wl[300];
    hn_rep_sanitize(sw, sizeof sw, workload);
    snprintf(c.name, sizeof c.name, "memclasses_%s_goalloc", sw);
    FILE *dat = NULL;
    size_t rows = 0;
    for (size_t i = 0; ct >= 0 && crss >= 0 && cal >= 0 && cac >= 0 && cre >= 0 && i < t.nrows;
         i++) {
        double ts = hn_csv_num(&t, i, ct), rss = hn_csv_num(&t, i, crss),
               al = hn_csv_num(&t, i, cal), ac = hn_csv_num(&t, i, cac),
               re = hn_csv_num(&t, i, cre), rt = crt >= 0 ? hn_csv_num(&t, i, crt) : NAN;
        if (!isfinite(ts) || !isfinite(al) || !isfinite(ac) || !isfinite(re)) continue;
        if (!dat && !(dat = hn_rep_open(R, c.name, "dat"))) break;
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
    hn_rep_key_label(R, wl, sizeof wl, &k);
    snprintf(c.title, sizeof c.title,
             "goalloc memory classes: %s - why RSS is not HeapAlloc (rep %ld)", wl, r->rep);
    FILE *f = hn_rep_gp_begin(R, &c);
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
    hn_rep_gp_end(f, &c);
    hn_rep_finish_chart(R, &c);
}

/* ---- goalloc size-class waste ---- */

/* Long: runs goalloc-sizeclasses, reads its CSV, then writes data and script. */
void hn_rep_chart_sizeclasses(rep *R)
{
    const char *bindir = hn_bindir();
    char tool[4200], cmd[8600];
    snprintf(tool, sizeof tool, "%s/goalloc-sizeclasses", bindir ? bindir : ".");
    if (access(tool, X_OK) != 0) {
        hn_rep_note(R, "no size-class waste chart: %s is not built", "goalloc-sizeclasses");
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
        hn_rep_note(R, "no size-class waste chart: goalloc-sizeclasses failed");
        free(buf);
        return;
    }
    free(buf);
    int cc = hn_csv_col(&t, "class"), cs = hn_csv_col(&t, "bytes_span"),
        ctw = hn_csv_col(&t, "tail_waste"), cm = hn_csv_col(&t, "max_waste"),
        cb = hn_csv_col(&t, "bytes_obj");
    chart c = {0};
    snprintf(c.name, sizeof c.name, "sizeclass_waste");
    FILE *dat = (cc >= 0 && cs >= 0 && ctw >= 0 && cm >= 0) ? hn_rep_open(R, c.name, "dat") : NULL;
    if (!dat) {
        hn_rep_note(
            R, "no size-class waste chart: goalloc-sizeclasses output lacks the expected columns");
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
    FILE *f = hn_rep_gp_begin(R, &c);
    if (!f) return;
    fprintf(
        f,
        "set xlabel 'size class'\nset ylabel 'waste (%% of span)'\nset yrange [0:*]\n"
        "plot '%s.dat' using 1:4 with linespoints lw 2 pt 7 title 'max waste (worst case)', \\\n"
        "     '%s.dat' using 1:3 with impulses lw 3 title 'tail waste'\n",
        c.name, c.name);
    hn_rep_gp_end(f, &c);
    hn_rep_finish_chart(R, &c);
}
