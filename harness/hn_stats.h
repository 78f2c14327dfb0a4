/* hn_stats.h - the statistics behind `abench compare` and `abench report` (defined in stats.c):
 * median, a distribution-free confidence interval for the median, the two-sided Mann-Whitney U
 * test and the geometric mean. Pure functions of their inputs, no allocation visible to callers,
 * no global state: safe from any thread. See BENCH_METHOD.md, "Statistics for comparisons".
 */
#ifndef HN_STATS_H
#define HN_STATS_H

#include <stddef.h>

/* Median of x[0..n) (x is not modified). NAN when n == 0. */
double hn_median(const double *x, size_t n);

/* Distribution-free confidence interval for the median from order statistics.
 * Fills *lo and *hi with x_(k) and x_(n+1-k) (1-based, sorted), k the largest rank whose
 * binomial(n, 1/2) coverage 1 - 2 P(B <= k-1) is still >= `confidence`, and *coverage with
 * that exact coverage. Returns 0, or -1 (and NAN bounds) when n is too small for any pair of
 * order statistics to reach the confidence (n < 6 for 0.95). */
int hn_median_ci(const double *x, size_t n, double confidence, double *lo, double *hi,
                 double *coverage);

/* Smallest n for which hn_median_ci() succeeds at `confidence` (6 for 0.95). */
size_t hn_median_ci_min_n(double confidence);

typedef struct hn_utest_result {
    double u;  /* U statistic of the first sample: pairs (a, b) with a > b, ties count 1/2 */
    double p;  /* two-sided p-value */
    int exact; /* 1: exact null distribution (no ties, small n); 0: normal approximation */
    size_t n1, n2;
} hn_utest_result;

/* Two-sided Mann-Whitney U test of a[0..n1) against b[0..n2). Exact null distribution when
 * there are no ties and n1 + n2 <= HN_UTEST_EXACT_MAX; otherwise the normal approximation with
 * tie correction and continuity correction. Returns 0, or -1 when a sample is empty. */
int hn_utest(const double *a, size_t n1, const double *b, size_t n2, hn_utest_result *out);
#define HN_UTEST_EXACT_MAX 60

/* Geometric mean of the positive values of x[0..n). NAN when any value is <= 0 or n == 0. */
double hn_geomean(const double *x, size_t n);

#endif /* HN_STATS_H */
