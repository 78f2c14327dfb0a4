/* report_doc.c - report.md and report.html of `abench report`, written side by side from the
 * grouped run and the charts drawn: command, summary (one row per cell and allocator, n/a cells
 * in one line per allocator), GC table, failed cells, the charts (title drawn in each chart,
 * not repeated), notes, environment. report.html is self-contained (SVGs inlined). Both files
 * are written to .tmp names and renamed, so a failed write leaves the previous report.
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
        size_t nb = hn_rep_cell_values(R, key, R->baseline, R->metric, NULL, b, 4096);
        double base = nb ? hn_median(b, nb) : NAN;
        char label[400];
        hn_rep_key_label(R, label, sizeof label, key);
        for (size_t a = 0; a < R->nallocs; a++) {
            size_t total = 0;
            for (size_t i = 0; i < R->res.nrows; i++) {
                const hn_row *r = &R->res.rows[i];
                total += !strcmp(r->alloc, R->allocs[a]) && !strcmp(r->workload, key->workload) &&
                         !strcmp(r->params, key->params) && r->threads == key->threads;
            }
            if (total == 0 || cell_all_na(R, key, R->allocs[a], NULL)) continue;
            size_t n = hn_rep_cell_values(R, key, R->allocs[a], R->metric, NULL, v, 4096);
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
            size_t nr = hn_rep_cell_values(R, key, R->allocs[a], "peak_rss_bytes", NULL, v, 4096);
            fmt_num(rss, sizeof rss, nr ? hn_median(v, nr) : NAN, "B");
            const char *ops[16];
            size_t nops = hn_rep_workload_ops(R, key->workload, ops, 16);
            for (size_t o = 0; o < nops; o++) {
                size_t np = hn_rep_cell_values(R, key, R->allocs[a], "p99", ops[o], v, 4096);
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

/* The harness's own cost per cell: the `overhead` backend's figure (a trivial allocator), and
 * its share of the fastest real backend's, so a reader sees how much of each figure is the
 * harness and the workload loop rather than the allocator (results/README.md). */
static void overhead_table(rep *R, doc *d)
{
    const char *unit = strcmp(R->metric, "wall_s") == 0 ? "s" : "ns";
    double v[4096];
    int any = 0;
    for (size_t k = 0; k < R->nkeys; k++) {
        const rkey *key = &R->keys[k];
        size_t n = hn_rep_cell_values(R, key, "overhead", R->metric, NULL, v, 4096);
        if (n == 0) continue;
        double oh = hn_median(v, n), best = NAN;
        const char *best_alloc = "-";
        for (size_t a = 0; a < R->nallocs; a++) {
            if (!strcmp(R->allocs[a], "overhead")) continue;
            size_t m = hn_rep_cell_values(R, key, R->allocs[a], R->metric, NULL, v, 4096);
            if (m && !(hn_median(v, m) >= best)) {
                best = hn_median(v, m);
                best_alloc = R->allocs[a];
            }
        }
        if (!any) {
            doc_h(d, 2, "Harness overhead");
            doc_p(d, "What the harness and the workload's own loop cost per operation: the "
                     "`overhead` backend's median (a trivial allocator: per-thread LIFO lists), "
                     "beside the fastest real backend. The allocator's own cost is the "
                     "difference.");
            const char *hdr[] = {"cell", "harness cost", "fastest backend", "its figure",
                                 "harness share"};
            doc_table_begin(d);
            doc_row(d, hdr, 5, 1);
            any = 1;
        }
        char label[400], o_s[64], b_s[64], share[32];
        hn_rep_key_label(R, label, sizeof label, key);
        fmt_num(o_s, sizeof o_s, oh, unit);
        fmt_num(b_s, sizeof b_s, best, unit);
        if (best > 0)
            snprintf(share, sizeof share, "%.0f%%", 100 * oh / best);
        else
            snprintf(share, sizeof share, "-");
        const char *cells[] = {label, o_s, best_alloc, b_s, share};
        doc_row(d, cells, 5, 0);
    }
    if (any) doc_table_end(d);
}

/* 1 when some row of workload w collects (a GC workload: its manual cells get n/a rows). */
static int gc_workload(const rep *R, const char *w)
{
    for (size_t i = 0; i < R->res.nrows; i++)
        if (!strcmp(R->res.rows[i].workload, w) && hn_rep_is_gc_cell(&R->res.rows[i])) return 1;
    return 0;
}

/* GC figures of the rows that have them (results/README.md `gc`), medians over ok reps. On a
 * GC workload, a backend whose ok rows carry no GC figures (no collector to ask) gets a row
 * of n/a: it cannot report pauses, which is not the same as pausing 0 ns. */
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
                size_t n = hn_rep_cell_values(R, &R->keys[k], R->allocs[a], f[j], NULL, v, 4096);
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
            if (!any && gc_workload(R, R->keys[k].workload) &&
                hn_rep_cell_values(R, &R->keys[k], R->allocs[a], "ops", NULL, v, 4096) > 0) {
                for (int j = 0; j < 5; j++)
                    snprintf(c[j], sizeof c[j], "n/a");
                any = 1;
            }
            /* a manual cell of a GC backend reports zero cycles: not a GC row */
            if (!any || strcmp(c[0], "0") == 0) continue;
            hn_rep_key_label(R, label, sizeof label, &R->keys[k]);
            const char *cells[] = {label, R->allocs[a], c[0], c[1], c[2], c[3], c[4]};
            doc_row(d, cells, 7, 0);
        }
    doc_table_end(d);
}

static void failed_cells(rep *R, doc *d)
{
    size_t bad = 0;
    for (size_t i = 0; i < R->res.nrows; i++)
        bad += !hn_rep_is_ok(&R->res.rows[i]) && strcmp(R->res.rows[i].status, "na") != 0;
    if (bad == 0) return;
    doc_h(d, 2, "Cells that failed (crash, timeout, error)");
    const char *hdr[] = {"cell", "alloc", "workload", "threads", "status", "reason"};
    doc_table_begin(d);
    doc_row(d, hdr, 6, 1);
    for (size_t i = 0; i < R->res.nrows; i++) {
        const hn_row *r = &R->res.rows[i];
        if (hn_rep_is_ok(r) || strcmp(r->status, "na") == 0) continue;
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
int hn_rep_write_docs(rep *R)
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
    overhead_table(R, &d);
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
