/* hn_report.h - what the files of `abench report` share (report.c: the run grouped and the
 * entry points; report_charts.c: gnuplot plumbing and the time, latency and throughput charts;
 * report_gc.c: GC timelines, pauses, goalloc's memory classes and size classes; report_doc.c:
 * report.md and report.html). Not used outside them. The invariants of the report are in
 * report.c's file comment.
 */
#ifndef HN_REPORT_H
#define HN_REPORT_H

#include <stdio.h>

#include "hn_results.h"

#define MAX_ALLOCS 32

/* A cell key without the allocator: (workload, threads, params). */
typedef struct rkey {
    const char *workload, *params;
    long threads;
} rkey;

typedef struct chart {
    char name[200];  /* file stem under plots/ */
    char title[400]; /* chart title, also the heading in the reports */
    int height;      /* pixels; 0: the default 540 (a chart with long axis labels grows) */
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

/* The allocators of one timeline chart: representative rows that share their parameters and
 * thread count, so a chart never mixes gc and manual cells (or two variants) under one title. */
typedef struct rgroup {
    const char *params;
    long threads;
    size_t n;
    size_t alloc[MAX_ALLOCS]; /* index into R->allocs */
    const hn_row *row[MAX_ALLOCS];
} rgroup;

/* ---- report.c: the run, grouped ---- */
__attribute__((format(printf, 2, 3))) void hn_rep_note(rep *R, const char *fmt, ...);
int hn_rep_is_ok(const hn_row *r);
/* Values of `metric` (op for latency) over the ok repetitions of one cell; returns how many. */
size_t hn_rep_cell_values(const rep *R, const rkey *k, const char *alloc, const char *metric,
                          const char *op, double *out, size_t max);
/* The ok row of (workload, alloc) that stands for it in timeline charts. */
const hn_row *hn_rep_representative(const rep *R, const char *workload, const char *alloc);
/* Label of a cell key: workload, t=threads, the parameters that tell the workload's cells apart. */
void hn_rep_key_label(const rep *R, char *buf, size_t len, const rkey *k);
void hn_rep_workload_label(const rep *R, const char *workload, char *buf, size_t len);
/* A file-name-safe copy of src ([A-Za-z0-9.-], anything else '_'). */
void hn_rep_sanitize(char *dst, size_t len, const char *src);
size_t hn_rep_groups(const rep *R, const char *workload, rgroup *g, size_t max);
void hn_rep_group_label(const rep *R, const char *workload, const rgroup *all, size_t ng, size_t gi,
                        char *buf, size_t len, char *suffix, size_t slen);
int hn_rep_is_gc_cell(const hn_row *r);

/* ---- report_charts.c: gnuplot plumbing and charts ---- */
void hn_rep_gp_str(FILE *f, const char *s);
FILE *hn_rep_open(const rep *R, const char *name, const char *ext);
FILE *hn_rep_gp_begin(const rep *R, const chart *c);
void hn_rep_gp_end(FILE *f, const chart *c);
void hn_rep_gp_end_multiplot(FILE *f, const chart *c, const char *body);
void hn_rep_gp_time_tics(FILE *f, const char *axis, double lo_us);
void hn_rep_finish_chart(rep *R, const chart *c);
const char *hn_rep_color(size_t i);
/* Operation kinds seen in a workload's rows (lat objects), at most max. */
size_t hn_rep_workload_ops(const rep *R, const char *workload, const char **ops, size_t max);
void hn_rep_chart_frag(rep *R, const char *workload);
void hn_rep_chart_latency(rep *R, const char *workload, const char *op);
void hn_rep_chart_throughput(rep *R, const char *workload);
void hn_rep_chart_relative(rep *R);
void hn_rep_chart_boxes(rep *R);

/* ---- report_gc.c ---- */
void hn_rep_chart_gc(rep *R, const char *workload, const char *alloc);
void hn_rep_chart_pauses(rep *R, const char *workload);
void hn_rep_chart_memclasses(rep *R, const char *workload);
void hn_rep_chart_sizeclasses(rep *R);

/* ---- report_doc.c ---- */
/* Writes report.md and report.html side by side; an hn_exit code. */
int hn_rep_write_docs(rep *R);

#endif /* HN_REPORT_H */
