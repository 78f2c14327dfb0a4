/* hn_measure.h - the runner's measurement library (ab_measure): latency histogram, timer
 * calibration, and the per-run measurement context behind the wl_* hooks of wl_workload.h.
 *
 * Files: hist.c (log-linear histogram, HdrHistogram text output), timer.c (fenced rdtsc,
 * calibration), measure.c (the wl_* hooks, sampler thread, events, settle).
 *
 * Memory used by measurement comes from mmap, never from the allocator under test, so the
 * allocator's own statistics and resident memory are not inflated by the harness.
 */
#ifndef HN_MEASURE_H
#define HN_MEASURE_H

#include <stdint.h>
#include <stdio.h>

#include "wl_workload.h"

/* ---- hist.c: log-linear latency histogram ----
 *
 * Values below HN_HIST_SUB are counted exactly; above, each power of two [2^e, 2^(e+1)) is split
 * into HN_HIST_SUB/2 equal buckets, so a bucket is at most 1/128 of its values wide (relative
 * error < 0.8%). Values >= 2^HN_HIST_MAX_EXP land in the top bucket (max stays exact).
 * Invariant: total == sum of counts[]; min <= every recorded value <= max (when total > 0).
 */
#define HN_HIST_SUB_BITS 8
#define HN_HIST_SUB (1u << HN_HIST_SUB_BITS) /* 256 exact values, then 128 buckets per octave */
#define HN_HIST_MAX_EXP 48                   /* 2^48 ns is about 3.3 days */
#define HN_HIST_NBUCKETS (HN_HIST_SUB + (HN_HIST_MAX_EXP - HN_HIST_SUB_BITS) * (HN_HIST_SUB / 2))

typedef struct hn_hist {
    uint64_t total;
    uint64_t min, max;
    double sum, sumsq; /* for mean and standard deviation */
    uint64_t counts[HN_HIST_NBUCKETS];
} hn_hist;

void hn_hist_init(hn_hist *h);
void hn_hist_record(hn_hist *h, uint64_t v);
void hn_hist_merge(hn_hist *dst, const hn_hist *src);
/* Bucket index of v, and the lowest / highest value that bucket holds. */
unsigned hn_hist_index(uint64_t v);
uint64_t hn_hist_bucket_lo(unsigned idx);
uint64_t hn_hist_bucket_hi(unsigned idx);
/* Value at percentile pct (0..100): the highest value equivalent to the ceil(pct% * total)-th
 * smallest recorded value, clamped to max. 0 when empty. */
uint64_t hn_hist_value_at(const hn_hist *h, double pct);
/* Count of recorded values <= v's bucket (cumulative count up to v). */
uint64_t hn_hist_count_upto(const hn_hist *h, uint64_t v);
double hn_hist_mean(const hn_hist *h);
/* Writes the percentile distribution in HdrHistogram's text format (columns Value, Percentile,
 * TotalCount, 1/(1-Percentile); 5 reporting ticks per half distance; values in ns; the final
 * 100% line has no inverse column). `title` goes in a trailing `#[...]` comment line.
 * Returns 0, or -1 on a write error. */
int hn_hist_write_hgrm(const hn_hist *h, FILE *f, const char *title);

/* ---- timer.c: fenced rdtsc, calibrated against CLOCK_MONOTONIC ---- */

typedef struct hn_timer_cal {
    double ticks_per_ns;       /* rdtsc ticks per CLOCK_MONOTONIC nanosecond (1 when no TSC) */
    uint64_t overhead_ticks;   /* minimum cost of an empty timed region, subtracted */
    double overhead_ns;        /* the same in ns */
    double clock_gettime_ns;   /* cost of one clock_gettime(CLOCK_MONOTONIC), for reference */
    uint64_t resolution_ticks; /* smallest step the counter moves by (VMs may step coarsely) */
    const char *source;        /* "rdtsc-lfence" or "clock_gettime" */
} hn_timer_cal;

uint64_t hn_ticks(void);
uint64_t hn_now_ns(void); /* CLOCK_MONOTONIC */
/* Measures ticks per ns over a few short windows (~30 ms in total) and the empty-region
 * overhead. Call once per process, before timing anything. */
void hn_timer_calibrate(hn_timer_cal *cal);
/* Ticks of a timed region -> ns, overhead subtracted, never below 0. */
uint64_t hn_ticks_to_ns(const hn_timer_cal *cal, uint64_t dticks);

/* ---- measure.c: the per-run measurement context ---- */

typedef struct hn_measure_opts {
    double sample_mean_ops; /* mean operations between timed ones (exponential); 0: off */
    unsigned sampler_ms;    /* timeline period, default 5 */
    unsigned settle_ms;     /* wl_settle delay, default 200 */
    int instructions;       /* under callgrind (--instr-atstart=no): instrument the measured
                             * region only, and run no sampler thread (its reads of /proc and
                             * of the backend's stats would be counted, and vary with time) */
} hn_measure_opts;

/* Creates run->m and per-thread samplers for run->threads[0..nthreads) (which must exist),
 * installs the GC event hook when the backend has AB_CAP_GC. */
int hn_measure_init(wl_run *run, const hn_measure_opts *o, const hn_timer_cal *cal);
/* Start / stop the measured region (starts / stops the sampler thread). */
void hn_measure_start(wl_run *run);
void hn_measure_stop(wl_run *run);
/* Each worker thread calls begin after the start barrier and end when its workload returns
 * (they bracket callgrind's count under --instructions). */
void hn_measure_thread_begin(wl_run *run);
void hn_measure_thread_end(wl_run *run);
/* Wall ns of the measured region, settle delays excluded. */
uint64_t hn_measure_wall_ns(const wl_run *run);
/* 1 and *out = the value the workload reported with wl_metric(name), or 0 when it did not. */
int hn_measure_metric(const wl_run *run, const char *name, double *out);
/* Writes timeline.csv, events.csv, lat_<op>.hgrm into dir (skipped when dir is NULL), and the
 * measurement fields of result.json (each starting with `,`, no braces) into json. */
int hn_measure_write(wl_run *run, const char *dir, FILE *json);
void hn_measure_free(wl_run *run);

/* Clears the valid bit of every neutral stats field above INT64_MAX (a negative figure wrapped
 * to unsigned by the backend: not a measurement) and returns the bits it cleared. */
unsigned hn_stats_drop_wrapped(ab_stats *st);
/* Writes s as a JSON string literal (quotes and escapes). */
void hn_json_str(FILE *f, const char *s);
/* Exponential countdown with mean `mean` (>= 1), drawn from rng. */
uint32_t hn_exp_countdown(uint64_t rng[4], double mean);
/* Resident bytes of this process (/proc/self/statm), 0 on error. */
uint64_t hn_rss_bytes(void);

#endif /* HN_MEASURE_H */
