/* stats.c - the statistics of the benchstat method (BENCH_METHOD.md): median, its
 * distribution-free confidence interval, the two-sided Mann-Whitney U test, geometric mean.
 *
 * Hand-written on purpose: no Debian C library offers these (GSL has no Mann-Whitney U test
 * and no order-statistic interval for the median). Invariants: every function is a pure
 * function of its arguments (callers' arrays are never modified), probabilities are in
 * [0, 1], and the exact U distribution is computed in exact integer arithmetic (int64 counts,
 * bounded by C(n1+n2, n1) <= C(60, 30) < 2^57, so no overflow).
 */
#include "hn_stats.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* ---- Sorting helpers ---- */

static int cmp_double(const void *pa, const void *pb)
{
    double a = *(const double *)pa, b = *(const double *)pb;
    return (a > b) - (a < b);
}

/* Sorted copy of x[0..n) (NULL on allocation failure or n == 0). */
static double *sorted_copy(const double *x, size_t n)
{
    if (n == 0) return NULL;
    double *s = malloc(n * sizeof *s);
    if (!s) return NULL;
    memcpy(s, x, n * sizeof *s);
    qsort(s, n, sizeof *s, cmp_double);
    return s;
}

/* ---- Median and its confidence interval ---- */

double hn_median(const double *x, size_t n)
{
    double *s = sorted_copy(x, n);
    if (!s) return NAN;
    double m = (n % 2) ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
    free(s);
    return m;
}

/* P(B <= k) for B ~ Binomial(n, 1/2), summed from the exact point probabilities. */
static double binom_half_cdf(size_t n, size_t k)
{
    double sum = 0;
    for (size_t j = 0; j <= k && j <= n; j++)
        sum += exp(lgamma((double)n + 1) - lgamma((double)j + 1) - lgamma((double)(n - j) + 1) -
                   (double)n * log(2.0));
    return sum > 1 ? 1 : sum;
}

/* The rank k (1-based) of the lower bound x_(k) of the interval [x_(k), x_(n+1-k)], or 0 when
 * even k = 1 (the sample range) does not reach `confidence`. Coverage of rank k is
 * P(x_(k) <= median <= x_(n+1-k)) = 1 - 2 P(B <= k-1). */
static size_t ci_rank(size_t n, double confidence, double *coverage)
{
    size_t best = 0;
    for (size_t k = 1; 2 * k <= n; k++) {
        double cov = 1 - 2 * binom_half_cdf(n, k - 1);
        if (cov < confidence) break;
        best = k;
        *coverage = cov;
    }
    return best;
}

int hn_median_ci(const double *x, size_t n, double confidence, double *lo, double *hi,
                 double *coverage)
{
    double cov = NAN;
    size_t k = ci_rank(n, confidence, &cov);
    *lo = *hi = NAN;
    if (coverage) *coverage = NAN;
    if (k == 0) return -1;
    double *s = sorted_copy(x, n);
    if (!s) return -1;
    *lo = s[k - 1];
    *hi = s[n - k];
    if (coverage) *coverage = cov;
    free(s);
    return 0;
}

size_t hn_median_ci_min_n(double confidence)
{
    double cov;
    for (size_t n = 2; n < 1000; n++)
        if (ci_rank(n, confidence, &cov) > 0) return n;
    return 0;
}

/* ---- Mann-Whitney U ---- */

/* Fills cnt[0..n1*n2] with the number of arrangements of n1 + n2 distinct values in which the
 * first sample's U equals u. Those counts are the coefficients of the Gaussian binomial
 * [n1+n2 choose n1]_q, built as prod_{i=1..n1} (1 - q^(n2+i)) / (1 - q^i); every partial
 * product is again a polynomial with integer coefficients, so the division is exact. */
static void u_null_counts(size_t n1, size_t n2, int64_t *cnt)
{
    size_t deg = n1 * n2;
    memset(cnt, 0, (deg + 1) * sizeof *cnt);
    cnt[0] = 1;
    for (size_t i = 1; i <= n1; i++) {
        size_t m = n2 + i;
        for (size_t u = deg; u >= m; u--) /* multiply by (1 - q^m) */
            cnt[u] -= cnt[u - m];
        for (size_t u = i; u <= deg; u++) /* divide by (1 - q^i) */
            cnt[u] += cnt[u - i];
    }
}

/* Exact two-sided p for U = u (an integer: no ties). */
static double u_exact_p(size_t n1, size_t n2, double u)
{
    size_t deg = n1 * n2;
    int64_t *cnt = malloc((deg + 1) * sizeof *cnt);
    if (!cnt) return NAN;
    u_null_counts(n1, n2, cnt);
    double total = 0, below = 0, above = 0;
    for (size_t k = 0; k <= deg; k++) {
        total += (double)cnt[k];
        if ((double)k <= u) below += (double)cnt[k];
        if ((double)k >= u) above += (double)cnt[k];
    }
    free(cnt);
    double p = 2 * fmin(below, above) / total;
    return p > 1 ? 1 : p;
}

/* Ranks (average ranks for ties) of the pooled sample; returns the tie term sum(t^3 - t). */
static double pooled_rank_sum(const double *a, size_t n1, const double *b, size_t n2,
                              double *rank_sum_a)
{
    size_t n = n1 + n2;
    struct item {
        double v;
        int from_a;
    } *it = malloc(n * sizeof *it);
    if (!it) return NAN;
    for (size_t i = 0; i < n1; i++)
        it[i] = (struct item){a[i], 1};
    for (size_t i = 0; i < n2; i++)
        it[n1 + i] = (struct item){b[i], 0};
    /* insertion sort: samples are small (tens), and this keeps the struct sort local */
    for (size_t i = 1; i < n; i++) {
        struct item t = it[i];
        size_t j = i;
        for (; j > 0 && it[j - 1].v > t.v; j--)
            it[j] = it[j - 1];
        it[j] = t;
    }
    double ties = 0, ra = 0;
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j + 1 < n && it[j + 1].v == it[i].v)
            j++;
        double t = (double)(j - i + 1), avg = ((double)i + (double)j) / 2 + 1;
        ties += t * t * t - t;
        for (size_t k = i; k <= j; k++)
            if (it[k].from_a) ra += avg;
        i = j + 1;
    }
    free(it);
    *rank_sum_a = ra;
    return ties;
}

int hn_utest(const double *a, size_t n1, const double *b, size_t n2, hn_utest_result *out)
{
    memset(out, 0, sizeof *out);
    out->n1 = n1;
    out->n2 = n2;
    out->p = NAN;
    if (n1 == 0 || n2 == 0) return -1;
    double ra;
    double ties = pooled_rank_sum(a, n1, b, n2, &ra);
    if (isnan(ties)) return -1;
    double d1 = (double)n1, d2 = (double)n2, n = d1 + d2;
    out->u = ra - d1 * (d1 + 1) / 2;
    if (ties == 0 && n1 + n2 <= HN_UTEST_EXACT_MAX) {
        out->exact = 1;
        out->p = u_exact_p(n1, n2, out->u);
        return isnan(out->p) ? -1 : 0;
    }
    double mu = d1 * d2 / 2;
    double var = d1 * d2 / 12 * ((n + 1) - ties / (n * (n - 1)));
    if (var <= 0) { /* every value equal: no evidence of any difference */
        out->p = 1;
        return 0;
    }
    double z = fmax(0, fabs(out->u - mu) - 0.5) / sqrt(var);
    out->p = fmin(1, erfc(z / sqrt(2.0)));
    return 0;
}

/* ---- Geometric mean ---- */

double hn_geomean(const double *x, size_t n)
{
    if (n == 0) return NAN;
    double s = 0;
    for (size_t i = 0; i < n; i++) {
        if (!(x[i] > 0)) return NAN;
        s += log(x[i]);
    }
    return exp(s / (double)n);
}
