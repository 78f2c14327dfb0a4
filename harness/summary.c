/* summary.c - the table `abench run` prints at the end: per variant x threads x allocator, the
 * median ns/op over the ok repetitions with its spread (min..max), the median peak RSS, the
 * median GC pause p99 where some backend of the variant paused (n/a for a backend that cannot
 * report pauses), and the cells that were not ok.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hn_run.h"

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

typedef struct sum_line {
    const char *workload, *alloc;
    char params[256], med[32], spread[64], rss[32], p99[32], notes[160];
    unsigned threads;
    int n, vi, paused; /* paused: some ok rep reported GC pauses */
} sum_line;

/* A duration in the unit that keeps it readable. */
static void fmt_ns(char *buf, size_t len, double ns)
{
    if (ns >= 1e9)
        snprintf(buf, len, "%.3g s", ns / 1e9);
    else if (ns >= 1e6)
        snprintf(buf, len, "%.3g ms", ns / 1e6);
    else if (ns >= 1e3)
        snprintf(buf, len, "%.3g us", ns / 1e3);
    else
        snprintf(buf, len, "%.0f ns", ns);
}

/* One summary line per variant x threads x alloc that has cells; returns 0 when none. */
static int summarize(const hn_run_opts *o, const hn_variant *v, unsigned threads, int ai,
                     const hn_cell *cells, json_t *const *rows, unsigned ncells, int vi, double *ns,
                     double *rss, double *p99, sum_line *L)
{
    int n = 0, nr = 0, np = 0, bad = 0, nogc = 0;
    char kinds[64] = "";
    for (unsigned k = 0; k < ncells; k++) {
        const hn_cell *c = &cells[k];
        if (c->variant != vi || c->alloc != ai || c->threads != threads || !rows[k]) continue;
        const char *st = json_string_value(json_object_get(rows[k], "status"));
        json_t *x = json_object_get(rows[k], o->instructions ? "instr_per_op" : "ns_per_op");
        if (json_is_true(json_object_get(rows[k], "warmup"))) continue; /* a failed warm-up */
        if (!strcmp(st, "ok") && x && n < (int)o->reps) {
            ns[n++] = json_number_value(x);
            rss[nr++] = json_number_value(json_object_get(rows[k], "peak_rss_bytes"));
            json_t *gc = json_object_get(rows[k], "gc");
            json_t *pp = json_object_get(gc, "pause_p99_ns");
            if (pp) p99[np++] = json_number_value(pp);
            nogc += !gc; /* the backend has no collector to ask */
        } else if (strcmp(st, "ok") != 0) {
            bad++;
            if (!strstr(kinds, st) && strlen(kinds) + strlen(st) + 2 < sizeof kinds)
                strcat(strcat(kinds, kinds[0] ? "," : ""), st);
        }
    }
    if (n + bad == 0) return 0;
    memset(L, 0, sizeof *L);
    L->workload = v->workload;
    L->alloc = o->allocs[ai];
    L->threads = threads;
    L->n = n;
    L->vi = vi;
    snprintf(L->params, sizeof L->params, "-");
    for (int i = 0, used = 0; i < v->nkv && used < (int)sizeof L->params; i++)
        used += snprintf(L->params + used, sizeof L->params - (size_t)used, "%s%s", i ? "," : "",
                         v->kv[i]);
    snprintf(L->med, sizeof L->med, "-");
    snprintf(L->rss, sizeof L->rss, "-");
    snprintf(L->p99, sizeof L->p99, nogc && nogc == n ? "n/a" : "-");
    L->paused = np > 0;
    if (np > 0) fmt_ns(L->p99, sizeof L->p99, median(p99, np));
    if (n > 0) {
        snprintf(L->med, sizeof L->med, "%.2f", median(ns, n)); /* median() sorts ns */
        snprintf(L->spread, sizeof L->spread, "%.2f..%.2f", ns[0], ns[n - 1]);
        snprintf(L->rss, sizeof L->rss, "%.1f MiB", median(rss, nr) / 1048576.0);
    }
    if (bad) snprintf(L->notes, sizeof L->notes, "%d %s", bad, kinds);
    return 1;
}

void hn_run_summary(const hn_run_opts *o, const hn_variant *vs, int nv, const hn_cell *cells,
                    json_t *const *rows, unsigned ncells)
{
    int cap = 0, nl = 0;
    for (int vi = 0; vi < nv; vi++)
        cap += vs[vi].nthreads * o->nallocs;
    sum_line *L = calloc((size_t)cap + 1, sizeof *L);
    double *ns = malloc(sizeof(double) * o->reps), *rss = malloc(sizeof(double) * o->reps),
           *p99 = malloc(sizeof(double) * o->reps);
    int ww = 8, pw = 6, aw = 5, sw = 6;
    for (int vi = 0; vi < nv; vi++)
        for (int ti = 0; ti < vs[vi].nthreads; ti++)
            for (int ai = 0; ai < o->nallocs; ai++) {
                sum_line *l = &L[nl];
                if (!summarize(o, &vs[vi], vs[vi].threads[ti], ai, cells, rows, ncells, vi, ns, rss,
                               p99, l))
                    continue;
                nl++;
                if ((int)strlen(l->workload) > ww) ww = (int)strlen(l->workload);
                if ((int)strlen(l->params) > pw) pw = (int)strlen(l->params);
                if ((int)strlen(l->alloc) > aw) aw = (int)strlen(l->alloc);
                if ((int)strlen(l->spread) > sw) sw = (int)strlen(l->spread);
            }
    /* the pause column only where some backend of the variant paused */
    int gc = 0;
    for (int i = 0; i < nl; i++) {
        int any = 0;
        for (int j = 0; j < nl; j++)
            any |= L[j].vi == L[i].vi && L[j].paused;
        if (!any) L[i].p99[0] = '\0';
        gc |= any;
    }
    const char *what = o->instructions ? "instr/op" : "ns/op";
    printf("\nSummary: %s = median over ok reps (per thread); spread = min..max over ok reps;\n"
           "peak RSS = median of the runner processes' ru_maxrss; n = ok reps%s%s\n",
           what, o->instructions ? " (under valgrind)" : "",
           gc ? ";\nGC p99 = median GC pause p99 (n/a: the backend cannot report pauses)" : "");
    printf("%-*s  %-*s  %7s  %-*s  %3s  %12s  %-*s  %10s  ", ww, "workload", pw, "params",
           "threads", aw, "alloc", "n", what, sw, "spread", "peak RSS");
    if (gc) printf("%9s  ", "GC p99");
    printf("not ok\n");
    for (int i = 0; i < nl; i++) {
        printf("%-*s  %-*s  %7u  %-*s  %3d  %12s  %-*s  %10s  ", ww, L[i].workload, pw, L[i].params,
               L[i].threads, aw, L[i].alloc, L[i].n, L[i].med, sw, L[i].spread, L[i].rss);
        if (gc) printf("%9s  ", L[i].p99);
        printf("%s\n", L[i].notes);
    }
    free(ns);
    free(rss);
    free(p99);
    free(L);
}
