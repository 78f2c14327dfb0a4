/* hist.c - the latency histogram (log-linear buckets) and its HdrHistogram text output.
 *
 * Hand-written: Debian packages no HdrHistogram library for C (HdrHistogram_c is not in
 * Debian 12), and we need only record, merge, percentile and the percentile-distribution text
 * format. Layout and error bound are stated at hn_hist in hn_measure.h: values below 256 are
 * exact, larger ones fall in buckets at most 1/128 of their value wide. Percentiles report the
 * highest value equivalent to the ranked sample (as HdrHistogram does), clamped to the max.
 */
#include <math.h>
#include <string.h>

#include "hn_measure.h"

/* ---- Bucket arithmetic ---- */

unsigned hn_hist_index(uint64_t v)
{
    if (v < HN_HIST_SUB) return (unsigned)v;
    unsigned e = 63u - (unsigned)__builtin_clzll(v); /* v in [2^e, 2^(e+1)), e >= SUB_BITS */
    if (e >= HN_HIST_MAX_EXP) return HN_HIST_NBUCKETS - 1;
    unsigned shift = e - (HN_HIST_SUB_BITS - 1);
    unsigned sub = (unsigned)(v >> shift) - HN_HIST_SUB / 2; /* 0 .. SUB/2-1 */
    return HN_HIST_SUB + (e - HN_HIST_SUB_BITS) * (HN_HIST_SUB / 2) + sub;
}

uint64_t hn_hist_bucket_lo(unsigned idx)
{
    if (idx < HN_HIST_SUB) return idx;
    unsigned k = idx - HN_HIST_SUB;
    unsigned e = HN_HIST_SUB_BITS + k / (HN_HIST_SUB / 2);
    uint64_t sub = HN_HIST_SUB / 2 + k % (HN_HIST_SUB / 2);
    return sub << (e - (HN_HIST_SUB_BITS - 1));
}

uint64_t hn_hist_bucket_hi(unsigned idx)
{
    if (idx < HN_HIST_SUB) return idx;
    if (idx == HN_HIST_NBUCKETS - 1) return UINT64_MAX; /* the top bucket also takes overflow */
    unsigned e = HN_HIST_SUB_BITS + (idx - HN_HIST_SUB) / (HN_HIST_SUB / 2);
    return hn_hist_bucket_lo(idx) + (1ull << (e - (HN_HIST_SUB_BITS - 1))) - 1;
}

/* ---- Recording ---- */

void hn_hist_init(hn_hist *h)
{
    memset(h, 0, sizeof *h);
    h->min = UINT64_MAX;
}

void hn_hist_record(hn_hist *h, uint64_t v)
{
    h->counts[hn_hist_index(v)]++;
    h->total++;
    if (v < h->min) h->min = v;
    if (v > h->max) h->max = v;
    h->sum += (double)v;
    h->sumsq += (double)v * (double)v;
}

void hn_hist_merge(hn_hist *dst, const hn_hist *src)
{
    if (src->total == 0) return;
    for (unsigned i = 0; i < HN_HIST_NBUCKETS; i++)
        dst->counts[i] += src->counts[i];
    dst->total += src->total;
    if (src->min < dst->min) dst->min = src->min;
    if (src->max > dst->max) dst->max = src->max;
    dst->sum += src->sum;
    dst->sumsq += src->sumsq;
}

/* ---- Queries ---- */

/* Rank (1-based) of the sample at percentile pct: ceil(pct% of total), within [1, total]. The
 * small epsilon keeps 99.9% of 10000 at 9990 despite binary rounding. */
static uint64_t rank_of(double pct, uint64_t total)
{
    double r = ceil(pct / 100.0 * (double)total - 1e-7);
    if (r < 1) return 1;
    if (r > (double)total) return total;
    return (uint64_t)r;
}

uint64_t hn_hist_value_at(const hn_hist *h, double pct)
{
    if (h->total == 0) return 0;
    uint64_t need = rank_of(pct, h->total), seen = 0;
    for (unsigned i = 0; i < HN_HIST_NBUCKETS; i++) {
        seen += h->counts[i];
        if (seen >= need) {
            uint64_t hi = hn_hist_bucket_hi(i);
            return hi < h->max ? hi : h->max;
        }
    }
    return h->max;
}

uint64_t hn_hist_count_upto(const hn_hist *h, uint64_t v)
{
    unsigned last = hn_hist_index(v);
    uint64_t n = 0;
    for (unsigned i = 0; i <= last; i++)
        n += h->counts[i];
    return n;
}

double hn_hist_mean(const hn_hist *h)
{
    return h->total ? h->sum / (double)h->total : 0.0;
}

/* ---- HdrHistogram percentile-distribution text ---- */

int hn_hist_write_hgrm(const hn_hist *h, FILE *f, const char *title)
{
    const int ticks_per_half = 5;
    fprintf(f, "%12s %14s %10s %14s\n\n", "Value", "Percentile", "TotalCount", "1/(1-Percentile)");
    if (h->total > 0) {
        double pct = 0.0;
        for (int guard = 0; guard < 100000; guard++) {
            uint64_t v = hn_hist_value_at(h, pct);
            uint64_t cnt = hn_hist_count_upto(h, v);
            if (cnt >= h->total) break;
            fprintf(f, "%12.3f %14.12f %10llu %14.2f\n", (double)v, pct / 100.0,
                    (unsigned long long)cnt, 1.0 / (1.0 - pct / 100.0));
            /* HdrHistogram's stepping: each halving of the remaining distance gets
             * ticks_per_half reporting points. */
            double level = floor(log2(100.0 / (100.0 - pct))) + 1.0;
            pct += 100.0 / (ticks_per_half * pow(2.0, level));
        }
        fprintf(f, "%12.3f %14.12f %10llu\n", (double)h->max, 1.0, (unsigned long long)h->total);
    }
    double mean = hn_hist_mean(h), var = 0.0;
    if (h->total > 0) var = h->sumsq / (double)h->total - mean * mean;
    fprintf(f, "#[Mean    = %12.3f, StdDeviation   = %12.3f]\n", mean, var > 0 ? sqrt(var) : 0.0);
    fprintf(f, "#[Max     = %12.3f, Total count    = %12llu]\n", (double)h->max,
            (unsigned long long)h->total);
    fprintf(f, "#[Buckets = %12u, SubBuckets     = %12u]\n", HN_HIST_MAX_EXP - HN_HIST_SUB_BITS + 1,
            HN_HIST_SUB);
    fprintf(f, "#[Unit = ns, %s]\n", title ? title : "abench latency");
    return ferror(f) ? -1 : 0;
}
